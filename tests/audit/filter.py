#!/usr/bin/env python3
"""The lines of audit logs that milter-guard-audit show should select,
computed with Python's json and ipaddress modules: an independent check of
the filters.  Usage: filter.py [--since T] [--until T] [--rule R]
[--action A] [--client NET] [--queue-id Q] [--type T] LOG..."""
import argparse
import ipaddress
import json

p = argparse.ArgumentParser()
for opt in ("since", "until", "rule", "action", "client", "queue-id", "type"):
    p.add_argument("--" + opt)
p.add_argument("logs", nargs="+")
a = p.parse_args()
net = ipaddress.ip_network(a.client) if a.client else None


def keep(ev):
    t = ev["time"]
    if a.since and t[:len(a.since)] < a.since:
        return False
    if a.until and t[:len(a.until)] >= a.until:
        return False
    if a.type and ev["type"] != a.type:
        return False
    if a.rule and ev.get("rule") != a.rule and \
            a.rule not in [f.get("rule") for f in ev.get("findings", [])]:
        return False
    if a.action and ev.get("applied") != a.action:
        return False
    if a.queue_id and ev.get("queue_id") != a.queue_id:
        return False
    if net is not None:
        ip = ev.get("client", {}).get("ip")
        if ip is None or ipaddress.ip_address(ip) not in net:
            return False
    return True


for path in a.logs:
    with open(path, encoding="ascii") as f:
        for line in f:
            if keep(json.loads(line)):
                print(line, end="")
