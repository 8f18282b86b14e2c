#!/usr/bin/env python3
"""Recount an audit log the way milter-guard-audit summary --json documents
its counts, with Python's json module instead of the tool's parser, and
compare with the tool's output.  Usage: recount.py SUMMARY.json LOG...
(plain or gzip-compressed).  Exit 0 if every count agrees."""
import gzip
import json
import sys
from collections import Counter, defaultdict

REFUSALS = {"reject", "tempfail", "discard"}


def lines(path):
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    with opener(path, "rt", encoding="ascii") as f:
        yield from f


def key(v):
    return "-" if v is None or v == "" else v


def recount(paths):
    types, applied, countries, hours = Counter(), Counter(), Counter(), Counter()
    rules = defaultdict(lambda: {"events": 0, "refused": 0})
    clients = defaultdict(lambda: {"events": 0, "refused": 0})
    findings = defaultdict(lambda: {"findings": 0, "monitor": 0})
    would = defaultdict(Counter)
    monitored = defaultdict(Counter)
    events = decisions = 0
    times = []
    for path in paths:
        for line in lines(path):
            ev = json.loads(line)
            events += 1
            times.append(ev["time"])
            types[ev["type"]] += 1
            if ev["type"] != "decision":
                continue
            decisions += 1
            refused = ev["applied"] in REFUSALS
            applied[ev["applied"]] += 1
            r = rules[key(ev.get("rule"))]
            r["events"] += 1
            r["refused"] += refused
            client = ev.get("client", {})
            ip = client.get("ip")
            c = clients[key(ip if ip is not None else client.get("name"))]
            c["events"] += 1
            c["refused"] += refused
            countries[key(client.get("country"))] += 1
            hours[ev["time"][:13]] += 1
            if ev["action"] != ev["applied"]:
                would[key(ev.get("rule"))][ev["action"]] += 1
            for f in ev.get("findings", []):
                findings[key(f.get("rule"))]["findings"] += 1
                findings[key(f.get("rule"))]["monitor"] += bool(f.get("monitor"))
                if f.get("monitor"):
                    monitored[key(f.get("rule"))][f["action"]] += 1
    offenders = sorted((c for c in clients.items() if c[1]["refused"] > 0),
                       key=lambda c: (-c[1]["refused"], c[0]))[:10]
    out = {
        "events": events, "files": len(paths), "skipped": 0, "decisions": decisions,
        "types": dict(types), "applied": dict(applied), "rules": dict(rules),
        "findings": dict(findings), "clients": dict(clients),
        "countries": dict(countries), "hours": dict(hours),
        "offenders": [{"client": k, "refused": v["refused"], "events": v["events"]}
                      for k, v in offenders],
        "would_have": {k: dict(v) for k, v in would.items()},
        "monitored_findings": {k: dict(v) for k, v in monitored.items()},
    }
    if times:
        out["first"], out["last"] = min(times), max(times)
    return out


def main():
    with open(sys.argv[1], encoding="ascii") as f:
        tool = json.load(f)
    mine = recount(sys.argv[2:])
    bad = [k for k in sorted(set(tool) | set(mine)) if tool.get(k) != mine.get(k)]
    for k in bad:
        print(f"recount.py: {k}: the tool says {json.dumps(tool.get(k))[:300]}, "
              f"the recount {json.dumps(mine.get(k))[:300]}", file=sys.stderr)
    if mine["decisions"] == 0 or not mine["would_have"] or not mine["offenders"]:
        print("recount.py: the log has nothing to count", file=sys.stderr)
        return 1
    return 1 if bad else 0


sys.exit(main())
