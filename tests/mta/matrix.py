#!/usr/bin/env python3
"""matrix.py: the end-to-end case matrix, through a private Postfix AND a
private Sendmail, from one case list (tests/data/mta/cases/*.json).

Started by tests/mta/matrix.test, which starts both MTAs (once each) and
hands their directories and ports over; this script starts milter-guard
itself (it kills and restarts it for the milter-down case, and reloads it
with SIGHUP between phases), runs every case through every MTA the case
names, and checks the SMTP replies, delivery, queue state and audit events.

Usage: matrix.py DATADIR WORK MILTER_GUARD POSTFIX_DIR POSTFIX_PORT
                 SENDMAIL_DIR SENDMAIL_PORT [CASE-NAME-SUBSTRING...]

The case format is described in tests/data/mta/README.
"""

import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

DATA, WORK, MG = sys.argv[1], sys.argv[2], sys.argv[3]
MTAS = {
    "postfix": {"dir": sys.argv[4], "port": int(sys.argv[5])},
    "sendmail": {"dir": sys.argv[6], "port": int(sys.argv[7])},
}
ONLY = sys.argv[8:]
SOCK = os.path.join(WORK, "milter-guard.sock")
AUDIT = os.path.join(WORK, "audit.json")
CONF = os.path.join(WORK, "milter-guard.conf")
PIDFILE = os.path.join(WORK, "milter-guard.pid")
MGLOG = os.path.join(WORK, "milter-guard.log")
DECIDED = ("reject", "tempfail", "quarantine", "discard")
WAIT = 10          # seconds to wait for a delivery or an event

# ----------------------------------------------------------------------------
# milter-guard: started, reloaded, killed and restarted here


class Milter:
    def __init__(self):
        self.proc = None

    def start(self):
        log = open(MGLOG, "ab")
        self.proc = subprocess.Popen(
            [MG, "-f", "-c", CONF, "-p", "unix:" + SOCK, "-P", PIDFILE],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()
        end = time.time() + 15
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("milter-guard exited with %d; see %s" % (self.proc.returncode, MGLOG))
            if os.path.exists(SOCK) and connectable(SOCK):
                return
            time.sleep(0.05)
        raise RuntimeError("milter-guard did not listen on %s within 15 s" % SOCK)

    def kill(self):
        """SIGKILL: the milter vanishes as in a crash (and no 5 s libmilter exit)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        """SIGTERM, as an administrator stops it; returns the exit status."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                return self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode if self.proc else None

    def reload(self, phase):
        """Write the phase's config and SIGHUP; wait for its reload event."""
        write_conf(phase)
        start = audit_lines()
        self.proc.send_signal(signal.SIGHUP)
        ev = wait_for(lambda: [e for e in events(start) if e.get("type") in ("reload", "reload_failed")])
        if not ev or ev[0].get("type") != "reload":
            raise RuntimeError("reload to phase %s: %s" % (phase, ev or "no reload event"))


def connectable(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def write_conf(phase):
    with open(os.path.join(DATA, "phases", phase + ".conf")) as f:
        text = f.read()
    with open(CONF + ".new", "w") as f:
        f.write(text.replace("@SOCK@", SOCK).replace("@AUDIT@", AUDIT))
    os.rename(CONF + ".new", CONF)


# ----------------------------------------------------------------------------
# audit log


def audit_lines():
    try:
        with open(AUDIT, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def events(start):
    out = []
    try:
        with open(AUDIT, "rb") as f:
            for i, raw in enumerate(f):
                if i >= start and raw.endswith(b"\n"):
                    try:
                        out.append(json.loads(raw))
                    except ValueError:
                        out.append({"type": "unparsable", "raw": raw[:200].decode("ascii", "replace")})
    except FileNotFoundError:
        pass
    return out


def rules(ev):
    return [f.get("rule") for f in ev.get("findings") or [] if isinstance(f, dict)]


def summary(e):
    if e.get("type") != "decision":
        return str(e.get("type"))
    r = e.get("reply") or {}
    return "decision %s (applied %s, mode %s) at %s%s: %s" % (
        e.get("action"), e.get("applied"), e.get("mode"), e.get("stage"),
        " -> %s %s" % (r.get("code"), r.get("xcode")) if r else "",
        ", ".join(map(str, rules(e))) or "no findings")


def wait_for(pred, secs=WAIT):
    end = time.time() + secs
    while True:
        v = pred()
        if v or time.time() > end:
            return v
        time.sleep(0.05)


# ----------------------------------------------------------------------------
# SMTP client: one command at a time (Sendmail refuses pipelining before the
# EHLO reply); strings are sent as Latin-1, so "\u00ff" in a case is byte 0xFF


class Smtp:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.f = self.s.makefile("rb")
        self.closed = False

    def reply(self):
        last = None
        while True:
            line = self.f.readline()
            if not line:
                self.closed = True
                return last or "(connection closed)"
            last = line.decode("latin-1").rstrip("\r\n")
            if len(last) < 4 or last[3] != "-":
                if last.startswith("421"):
                    self.closed = True      # 421: the server closes the connection
                return last

    def cmd(self, text):
        if self.closed:
            return None
        try:
            self.s.sendall(text.encode("latin-1") + b"\r\n")
            return self.reply()
        except OSError as e:
            self.closed = True
            return "(%s)" % e

    def close(self):
        if not self.closed:
            try:
                self.s.sendall(b"QUIT\r\n")
                self.reply()
            except OSError:
                pass
        self.s.close()


def expand(v):
    """'{a*286}' -> 286 a's; lists and dicts expanded element-wise."""
    if isinstance(v, str):
        return re.sub(r"\{(.)\*(\d+)\}", lambda m: m.group(1) * int(m.group(2)), v)
    if isinstance(v, list):
        return [expand(x) for x in v]
    if isinstance(v, dict):
        return {k: expand(x) for k, x in v.items()}
    return v


def ok(reply):
    return reply is not None and reply.startswith("2")


def session(port, sess, mid):
    """Run one SMTP session; return the final reply line of every step."""
    r = {"banner": None, "ehlo": None, "xclient": None, "commands": [], "mail": None,
         "rcpt": [], "data": None, "dot": None, "sent": None}
    c = Smtp(port)
    try:
        r["banner"] = c.reply()
        r["ehlo"] = c.cmd("EHLO " + sess.get("helo", "client.example.org"))
        if "xclient" in sess:
            r["xclient"] = c.cmd("XCLIENT " + sess["xclient"])
            if r["xclient"] and r["xclient"].startswith("220"):
                c.cmd("EHLO " + sess.get("helo", "client.example.org"))
        for x in sess.get("commands", []):
            r["commands"].append(c.cmd(x))
        if "mail" not in sess:
            return r
        r["mail"] = c.cmd("MAIL FROM:" + sess["mail"])
        if not ok(r["mail"]):
            return r
        for a in sess.get("rcpt", ["<bob@example.com>"]):
            r["rcpt"].append(c.cmd("RCPT TO:" + a))
        if not any(ok(x) for x in r["rcpt"]):
            return r
        r["data"] = c.cmd("DATA")
        if not (r["data"] or "").startswith("354"):
            return r
        msg = message(sess, mid)
        r["sent"] = msg
        # dot-stuffing (RFC 5321 4.5.2): the MTA removes the added dot
        wire = "\n".join("." + x if x.startswith(".") else x for x in msg.split("\n"))
        r["dot"] = c.cmd(wire.replace("\n", "\r\n") + "\r\n.")
    finally:
        c.close()
    return r


def message(sess, mid):
    if "headers" in sess:
        hdr = list(sess["headers"])
    else:
        hdr = ["From: Alice <alice@example.org>", "To: Bob <bob@example.com>",
               "Subject: milter-guard matrix", "Date: Mon, 23 Nov 2026 21:00:00 +0000",
               "Message-ID: <%s@client.example.org>" % mid]
    hdr += sess.get("extra_headers", []) + ["X-Matrix-Id: %s" % mid]
    body = sess.get("body", "Hello Bob,\n\nthis is a test.\n-- \nAlice\n")
    return "\n".join(hdr) + "\n\n" + body.rstrip("\n")


# ----------------------------------------------------------------------------
# what each MTA did with the message


def sink_files(mta, mid):
    d = os.path.join(MTAS[mta]["dir"], "sink")
    out = []
    try:
        names = sorted(os.listdir(d))
    except FileNotFoundError:
        return out
    for n in names:
        try:
            with open(os.path.join(d, n), "rb") as f:
                text = f.read().decode("latin-1")
        except OSError:
            continue
        head = text.split("\n\n", 1)[0]
        # anywhere, not only in the header: Sendmail may move it to the body
        if re.search(r"(?mi)X-Matrix-Id: %s$" % re.escape(mid), text):
            out.append({"name": n, "text": text,
                        "rcpts": re.findall(r"(?m)^X-Rcpt-Args: <([^>]*)>", head)})
    return out


def queue_id(mta, dot):
    pat = r"queued as (\S+)" if mta == "postfix" else r"^250 2\.0\.0 (\S+) "
    m = re.search(pat, dot or "")
    return m.group(1) if m else None


def run(argv, timeout=30):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, errors="replace")
    return p.returncode, p.stdout + p.stderr


def held(mta, qid):
    """Where the queue has qid: 'hold', 'quarantine', another queue, or None."""
    d = MTAS[mta]["dir"]
    if mta == "postfix":
        _, out = run(["postqueue", "-c", os.path.join(d, "etc"), "-j"])
        for line in out.splitlines():
            try:
                q = json.loads(line)
            except ValueError:
                continue
            if q.get("queue_id") == qid:
                return q.get("queue_name")
        return None
    _, out = run([os.path.join(d, "sm"), "-bp", "-qQ"])
    block = re.search(r"(?ms)^%s\b.*?(?=^\S|\Z)" % re.escape(qid), out)
    if block and "QUARANTINE:" in block.group(0):
        return "quarantine"
    _, out = run([os.path.join(d, "sm"), "-bp"])
    return "active" if re.search(r"(?m)^%s\b" % re.escape(qid), out) else None


def quarantine_reason(qid):
    """Sendmail keeps the reason in the q line of the hf queue file (its
    -bp -qQ listing cuts it at 60 characters)."""
    try:
        with open(os.path.join(MTAS["sendmail"]["dir"], "mqueue", "hf" + qid), "rb") as f:
            for line in f.read().decode("latin-1").splitlines():
                if line.startswith("q"):
                    return line[1:]
    except OSError:
        pass
    return None


def release(mta, qid):
    d = MTAS[mta]["dir"]
    if mta == "postfix":
        return [run(["postsuper", "-c", os.path.join(d, "etc"), "-H", qid]),
                run(["postqueue", "-c", os.path.join(d, "etc"), "-i", qid])]
    return [run([os.path.join(d, "sm"), "-qQ", "-qI" + qid, "-Q"]),
            run([os.path.join(d, "sm"), "-qI" + qid])]


def delete(mta, qid):
    d = MTAS[mta]["dir"]
    if mta == "postfix":
        return [run(["postsuper", "-c", os.path.join(d, "etc"), "-d", qid])]
    # Sendmail has no delete command: remove the quarantined queue files
    # (hf = quarantined qf, df = body), as docs/sendmail.md says
    rc = 0
    for p in ("hf", "df"):
        try:
            os.unlink(os.path.join(d, "mqueue", p + qid))
        except OSError:
            rc = 1
    return [(rc, "")]


def mta_log(mta):
    d = MTAS[mta]["dir"]
    p = os.path.join(d, "maillog" if mta == "postfix" else "syslog")
    try:
        with open(p, "rb") as f:
            return f.read().decode("latin-1")
    except FileNotFoundError:
        return ""


# ----------------------------------------------------------------------------
# checks


def code(reply):
    return (reply or "").split(" ", 1)[0]


def xcode(reply):
    p = (reply or "").split(" ")
    return p[1] if len(p) > 1 and re.match(r"^[245]\.\d{1,3}\.\d{1,3}$", p[1]) else None


def step_reply(r, where):
    k, _, i = where.partition(":")
    v = r.get(k)
    if isinstance(v, list):
        v = v[int(i or 0)] if len(v) > int(i or 0) else None
    return v


def check_replies(r, want, problems):
    for k, pat in want.items():
        got = r.get(k)
        if isinstance(pat, list):
            got = got or []
            if len(got) != len(pat):
                problems.append("%s: %d replies %r, expected %d" % (k, len(got), got, len(pat)))
                continue
            for i, (g, p) in enumerate(zip(got, pat)):
                if p is None and g is None:
                    continue
                if g is None or p is None or not re.search(p, g):
                    problems.append("%s %d: reply %r does not match %r" % (k, i + 1, short(g), p))
        elif pat is None:
            if got is not None:
                problems.append("%s: expected no such step, got %r" % (k, short(got)))
        elif got is None or not re.search(pat, got):
            problems.append("%s: reply %r does not match %r" % (k, short(got), pat))


def short(s):
    if s is None or len(s) < 160:
        return s
    return "%s...(%d octets)...%s" % (s[:90], len(s), s[-40:])


def check_event(evs, want, r, problems):
    dec = [e for e in evs if e.get("type") == "decision"]
    if want is None:
        for e in dec:
            problems.append("unexpected event: %s" % summary(e))
        return None
    m = [e for e in dec if e.get("action") == want["action"] and want["rule"] in rules(e)
         and all(e.get(k) == want[k] for k in ("stage", "applied", "mode") if k in want)]
    if len(m) != 1:
        problems.append("%d decision events with %s, expected 1" % (
            len(m), " ".join("%s=%s" % kv for kv in sorted(want.items()) if kv[0] not in ("reply_of", "client"))))
        return None
    e = m[0]
    for other in dec:
        if other is not e and other.get("applied") in DECIDED:
            problems.append("unexpected event: %s" % summary(other))
    if "reply_of" in want:
        smtp = step_reply(r, want["reply_of"])
        rp = e.get("reply") or {}
        if rp.get("code") != code(smtp) or rp.get("xcode") != xcode(smtp):
            problems.append("audit reply %s %s differs from the SMTP reply %r" % (
                rp.get("code"), rp.get("xcode"), short(smtp)))
        elif rp.get("text") and rp["text"] not in (smtp or ""):
            problems.append("the milter's text %r is not in the SMTP reply %r" % (rp["text"], short(smtp)))
    if "queue_id" in want:
        q = e.get("queue_id")
        if want["queue_id"] == "none" and q is not None:
            problems.append("event queue_id %r, expected none (the MTA has no queue file yet)" % q)
        elif want["queue_id"] == "set" and not q:
            problems.append("event queue_id is %r, expected the MTA's queue id" % q)
        elif want["queue_id"] == "dot" and q != queue_id(MTA_OF[0], r.get("dot")):
            problems.append("event queue_id %r differs from the queue id in %r" % (q, r.get("dot")))
    for k, v in (want.get("client") or {}).items():
        if (e.get("client") or {}).get(k) != v:
            problems.append("event client.%s is %r, expected %r" % (k, (e.get("client") or {}).get(k), v))
    return e


def check_delivery(mta, mid, want, r, exp, problems, notes):
    if want is False:
        time.sleep(0.3)
        if sink_files(mta, mid):
            problems.append("delivered, expected not")
        return
    got = wait_for(lambda: sink_files(mta, mid))
    if not got:
        problems.append("not delivered (no file in the sink)")
        return
    f = got[0]
    notes.append("delivered: %s to %s" % (f["name"], ", ".join(f["rcpts"])))
    if sorted(f["rcpts"]) != sorted(want):
        problems.append("delivered to %s, expected %s" % (f["rcpts"], want))
    head, _, body = f["text"].partition("\n\n")
    if exp.get("unchanged"):
        sent_head, _, sent_body = r["sent"].partition("\n\n")
        lines = head.split("\n")
        for h in sent_head.split("\n"):
            if h not in lines:
                problems.append("header line %r not delivered unchanged" % short(h))
        if body.rstrip("\n") != sent_body.rstrip("\n"):
            problems.append("body changed: sent %r, delivered %r" % (short(sent_body), short(body)))
    if "body_has" in exp:
        if exp["body_has"] in body:
            notes.append("the body holds %r" % short(exp["body_has"]))
        else:
            problems.append("the body lacks %r" % short(exp["body_has"]))
    tags = re.findall(r"(?mi)^X-Milter-Guard:[ \t]*(.*)$", head)
    if "tag" in exp:
        if tags != [exp["tag"]]:
            problems.append("X-Milter-Guard fields %r, expected exactly [%r]" % (tags, exp["tag"]))
        else:
            notes.append("tag in the delivered file: X-Milter-Guard: %s" % tags[0])
    elif tags:
        problems.append("unexpected X-Milter-Guard fields %r" % tags)


def check_quarantine(mta, r, exp, mid, problems, notes):
    qid = queue_id(mta, r.get("dot"))
    if not qid:
        problems.append("no queue id in %r" % r.get("dot"))
        return
    want_q = "hold" if mta == "postfix" else "quarantine"
    q = wait_for(lambda: held(mta, qid) == want_q, 5) and want_q or held(mta, qid)
    if q != want_q:
        problems.append("%s is in queue %r, expected %r" % (qid, q, want_q))
        return
    notes.append("%s is in the %s queue (%s)" % (qid, q, "postqueue -j" if mta == "postfix" else "sm -bp -qQ"))
    if "reason" in exp and mta == "sendmail":
        why = quarantine_reason(qid)
        if why != exp["reason"]:
            problems.append("quarantine reason %r, expected %r" % (why, exp["reason"]))
    time.sleep(0.3)
    if sink_files(mta, mid):
        problems.append("the held message was delivered")
    then = exp.get("then")
    if then == "release":
        out = release(mta, qid)
        if any(rc != 0 for rc, _ in out):
            problems.append("release failed: %r" % out)
        check_delivery(mta, mid, exp.get("released_to", ["bob@example.com"]), r, {"tag": exp["tag"]} if "tag" in exp else {}, problems, notes)
        if held(mta, qid) is not None:
            problems.append("%s still in the queue after release and delivery" % qid)
        else:
            notes.append("released: %s delivered and gone from the queue" % qid)
    elif then == "delete":
        out = delete(mta, qid)
        if any(rc != 0 for rc, _ in out):
            problems.append("delete failed: %r" % out)
        if held(mta, qid) is not None:
            problems.append("%s still in the queue after delete" % qid)
        else:
            notes.append("deleted: %s gone from the queue, never delivered" % qid)
        time.sleep(0.3)
        if sink_files(mta, mid):
            problems.append("the deleted message was delivered")


# ----------------------------------------------------------------------------
# conditions around a session: the milter killed, its socket unreachable


def around(cond, milter):
    """Return an undo function after putting cond in place."""
    if cond is None:
        return lambda: None
    if cond == "milter-killed":
        milter.kill()
        return milter.start
    if cond == "socket-0600":
        os.chmod(SOCK, 0o600)
        return lambda: os.chmod(SOCK, 0o777)
    if cond == "chroot-socket":
        # the chrooted smtpd sees DIR/spool as /: the socket, hard-linked
        # below it (the same listening socket), is /milter-guard/milter-guard.sock
        d = os.path.join(MTAS["postfix"]["dir"], "spool", "milter-guard")
        os.makedirs(d, exist_ok=True)
        link = os.path.join(d, "milter-guard.sock")
        if os.path.lexists(link):
            os.unlink(link)
        os.link(SOCK, link)
        return lambda: os.unlink(link)
    if cond == "socket-moved":
        os.rename(SOCK, SOCK + ".away")
        return lambda: os.rename(SOCK + ".away", SOCK)
    if cond == "milter-busy":
        held = HeldSession()

        def undo():
            held.close()
            # both places come free: the one held here and the one the
            # MTA's refused session took; a new session is admitted
            HeldSession().close()
        return undo
    raise RuntimeError("unknown condition %r" % cond)


class HeldSession:
    """A milter session of our own (OPTNEG and CONNECT, then nothing), held
    open so that the MTA's session is past MaxConnections 1.  A session that
    gets 421 (busy, the place of an earlier one not yet released) is tried
    again for up to 5 s."""

    def __init__(self):
        end = time.time() + 5
        while True:
            cmd = self.open()
            if cmd == b"c":
                return
            self.s.close()
            if cmd != b"y" or time.time() > end:
                raise RuntimeError("held session: CONNECT answered %r, not continue" % cmd)
            time.sleep(0.05)

    def open(self):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(SOCK)
        # version 6, every action, every protocol step up to HDR_LEADSPC (as Postfix)
        self.send(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF))
        cmd, _ = self.packet()
        if cmd != b"O":
            raise RuntimeError("held session: OPTNEG answered %r" % cmd)
        self.send(b"C", b"held.test.example\0" + b"4" + struct.pack(">H", 50123) + b"192.0.2.7\0")
        return self.packet()[0]

    def send(self, cmd, data):
        self.s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def recv(self, n):
        b = b""
        while len(b) < n:
            x = self.s.recv(n - len(b))
            if not x:
                raise RuntimeError("held session: the milter closed the connection")
            b += x
        return b

    def packet(self):
        n = struct.unpack(">I", self.recv(4))[0]
        body = self.recv(n)
        return body[:1], body[1:]

    def close(self):
        try:
            self.send(b"Q", b"")
        except OSError:
            pass
        self.s.close()


def traffic(mta, case, exp, milter, problems, notes):
    """Sessions from several threads while the milter is reloaded."""
    t = case["traffic"]
    sess = expand(case["session"])
    results, lock = [], threading.Lock()

    def worker(w):
        for i in range(t["sessions"] // t["threads"]):
            mid = "%s-%s-%d-%d-%d" % (case["name"], mta, os.getpid(), w, i)
            r = session(MTAS[mta]["port"], sess, mid)
            with lock:
                results.append((mid, r))

    start = audit_lines()
    th = [threading.Thread(target=worker, args=(w,)) for w in range(t["threads"])]
    for x in th:
        x.start()
    reloads = 0
    while any(x.is_alive() for x in th) or reloads < t["reloads"]:
        if reloads < t["reloads"]:
            time.sleep(t.get("interval", 0.3))
            milter.reload(case.get("phase", "enforce"))
            reloads += 1
        else:
            time.sleep(0.05)
    for x in th:
        x.join()
    evs = events(start)
    n_reload = len([e for e in evs if e.get("type") == "reload"])
    if n_reload != t["reloads"]:
        problems.append("%d reload events, expected %d" % (n_reload, t["reloads"]))
    for mid, r in results:
        p = []
        check_replies(r, exp.get("replies", {}), p)
        problems += ["%s: %s" % (mid, x) for x in p]
    ok_n = 0
    for mid, r in results:
        if wait_for(lambda: sink_files(mta, mid)):
            ok_n += 1
    if ok_n != len(results):
        problems.append("%d of %d messages delivered" % (ok_n, len(results)))
    dec = [e for e in evs if e.get("type") == "decision" and e.get("applied") in DECIDED]
    for e in dec:
        problems.append("unexpected event: %s" % summary(e))
    notes.append("%d sessions in %d threads, %d reloads meanwhile: %d delivered, %d reload events" % (
        len(results), t["threads"], reloads, ok_n, n_reload))


# ----------------------------------------------------------------------------
# the runner


def merged(case, mta):
    exp = dict(case.get("expect", {}))
    over = case.get(mta, {})
    for k, v in over.items():
        if k == "replies":
            exp["replies"] = dict(exp.get("replies", {}), **v)
        else:
            exp[k] = v
    return expand(exp)


MTA_OF = [None]     # the MTA of the case being checked


def run_case(case, mta, milter):
    exp = merged(case, mta)
    MTA_OF[0] = mta
    problems, notes = [], []
    if "traffic" in case:
        traffic(mta, case, exp, milter, problems, notes)
        return problems, notes, {}, []
    mid = "%s-%s-%d" % (case["name"], mta, int(time.time() * 1000))
    logoff = len(mta_log(mta))
    start = audit_lines()
    undo = around(case.get("condition"), milter)
    try:
        port = MTAS[mta]["port"]
        if case.get("port") == "chroot":
            port = int(os.environ["MATRIX_PF_CHROOT_PORT"])
        r = session(port, expand(case["session"]), mid)
    finally:
        undo()
    check_replies(r, exp.get("replies", {}), problems)
    if "event" in exp and exp["event"] is not None:
        wait_for(lambda: [e for e in events(start) if e.get("type") == "decision"
                          and e.get("action") == exp["event"]["action"]
                          and exp["event"]["rule"] in rules(e)])
    else:
        time.sleep(0.3)
    evs = events(start)
    if "event" in exp:
        check_event(evs, exp["event"], r, problems)
    if exp.get("held"):
        check_quarantine(mta, r, exp, mid, problems, notes)
    elif "delivered" in exp:
        check_delivery(mta, mid, exp["delivered"], r, exp, problems, notes)
    if "log" in exp:
        text = wait_for(lambda: re.search(exp["log"], mta_log(mta)[logoff:]) and True, 3)
        if not text:
            problems.append("the %s log has no line matching %r" % (mta, exp["log"]))
        else:
            line = re.search(r"[^\n]*(?:%s)[^\n]*" % exp["log"], mta_log(mta)[logoff:]).group(0)
            notes.append("%s log: %s" % (mta, short(line.strip())))
    return problems, notes, r, evs


def load_cases():
    d = os.path.join(DATA, "cases")
    out = []
    for n in sorted(os.listdir(d)):
        if not n.endswith(".json"):
            continue
        with open(os.path.join(d, n)) as f:
            c = json.load(f)
        c["name"] = n[:-5]
        if ONLY and not any(s in c["name"] for s in ONLY):
            continue
        out.append(c)
    return out


def main():
    t0 = time.time()
    cases = load_cases()
    if not cases:
        print("matrix: no cases")
        return 1
    phase = cases[0].get("phase", "enforce")
    write_conf(phase)
    milter = Milter()
    milter.start()
    passed = failed = 0
    results = {}
    try:
        for case in cases:
            want_phase = case.get("phase", "enforce")
            if want_phase != phase:
                print("\n== reload (SIGHUP) to phase %s ==" % want_phase)
                milter.reload(want_phase)
                phase = want_phase
            for mta in case.get("mtas", ["postfix", "sendmail"]):
                t1 = time.time()
                print("\n[%s via %s] %s" % (case["name"], mta, case["title"]))
                try:
                    problems, notes, r, evs = run_case(case, mta, milter)
                except Exception as e:          # a broken case is a failure, not a crash
                    problems, notes, r, evs = ["exception: %r" % e], [], {}, []
                for k in ("banner", "ehlo", "xclient", "commands", "mail", "rcpt", "data", "dot"):
                    v = r.get(k)
                    for i, x in enumerate(v if isinstance(v, list) else [v]):
                        if x is not None:
                            print("    %-8s <- %s" % (k if not isinstance(v, list) else "%s %d" % (k, i + 1), short(x)))
                for e in evs:
                    print("    audit: %s" % summary(e))
                for n in notes:
                    print("    %s" % n)
                for p in problems:
                    print("    FAIL: %s" % p)
                if problems:
                    failed += 1
                    with open(MGLOG, errors="replace") as f:
                        for line in f.read().splitlines()[-4:]:
                            print("    milter-guard log: %s" % line)
                else:
                    passed += 1
                    print("    PASS (%.2f s)" % (time.time() - t1))
                results.setdefault(case["name"], {})[mta] = "FAIL" if problems else "PASS"
        # the stop event: written on SIGTERM, exit status 0
        start = audit_lines()
        rc = milter.stop()
        stop_ok = rc == 0 and any(e.get("type") == "stop" for e in events(start))
        print("\n[stop] milter-guard SIGTERM: exit status %s, stop event %s" % (
            rc, "written" if stop_ok else "MISSING"))
        if stop_ok:
            passed += 1
        else:
            failed += 1
    finally:
        milter.kill()
    print("\n== matrix: case x MTA ==")
    for name in results:
        print("  %-34s %s" % (name, "  ".join("%s %s" % (m, v) for m, v in sorted(results[name].items()))))
    print("\nmatrix: %d passed, %d failed, %.1f s (cases and milter; MTA start/stop not included)" % (
        passed, failed, time.time() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
