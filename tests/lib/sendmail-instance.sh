#!/bin/bash
# sendmail-instance.sh: run a PRIVATE Sendmail 8.17 daemon for tests.
#
# Sendmail is not installed as a package (it conflicts with postfix): its
# Debian packages are downloaded and extracted into ROOT, and the binary is
# run from there.  Everything else (cf, queue, pid, aliases, log, sink) lives
# under DIR; the daemon listens on 127.0.0.1 only.  Needs root, m4, unshare
# (util-linux), python3 and smtp-sink (from the postfix package).
#
# Usage (executable):
#   sendmail-instance.sh fetch ROOT
#   sendmail-instance.sh start DIR ROOT SMTPPORT MILTERSPEC SINKPORT
#   sendmail-instance.sh stop DIR
#   sendmail-instance.sh status DIR
#   sendmail-instance.sh free-port
#
#   ROOT        absolute path; "fetch" runs apt-get download of sendmail-bin
#               sendmail-base sendmail-cf libwrap0 and dpkg-deb -x of each
#               into ROOT.  Reused as is when ROOT/.complete exists; one
#               fetch at a time (flock on ROOT.lock).
#   DIR         absolute path, created if missing
#   SMTPPORT    the daemon listens on 127.0.0.1:SMTPPORT
#   MILTERSPEC  Sendmail S= syntax: local:/abs/path or inet:PORT@127.0.0.1
#               (Sendmail connects as root); "none" runs without a milter.
#               F=T: a milter that is down makes Sendmail tempfail.
#   SINKPORT    mail is relayed to smtp-sink on 127.0.0.1:SINKPORT, which
#               stores each message as one file in DIR/sink/
#
# Usage (sourced, from bash):  . tests/lib/sendmail-instance.sh
#   smi_fetch ROOT; smi_start DIR ROOT SMTPPORT MILTERSPEC SINKPORT;
#   smi_stop DIR; smi_status DIR; free_port
#   These return non-zero on failure (they never exit the caller's shell).
#
# After start, DIR/sm runs the private sendmail with DIR/sendmail.cf, e.g.
#   DIR/sm -bp -qQ      list the quarantine queue
#   DIR/sm -bs          an SMTP session on stdin/stdout
#
# Workarounds built in (see /work/shared/notes/mta-testing.md section 3):
#  - sendmail sleeps 60 s per invocation when the host name is unqualified:
#    DIR/sm runs it under "unshare --uts --mount" with the host name
#    mx.test.example and DIR/hosts, DIR/nsswitch.conf bind-mounted over
#    /etc/hosts and /etc/nsswitch.conf (hosts: files; no DNS).  The
#    machine's host name and files are not touched.
#  - the packaged binary is setgid (ld.so would ignore LD_LIBRARY_PATH, which
#    libwrap.so.0 needs): DIR/bin/sendmail is a 0755 copy.
#  - DontBlameSendmail=TrustStickyBit (DIR may be under /tmp); queue dir 0700
#    root; QueueLA/RefuseLA 100; listeners only on 127.0.0.1:SMTPPORT.
#  - Sendmail logs only through syslog (/dev/log): a small python syslog
#    sink on DIR/devlog writes DIR/syslog, and DIR/sm gives sendmail a
#    private /dev in its namespace (a tmpfs with the host's null, zero,
#    full, random, urandom and tty bind-mounted, and DIR/devlog as log).
#    So the log is this instance's whether or not the machine has a
#    /dev/log (CI machines have none), and the host's /dev is not touched.
#
# Files: DIR/sendmail.{mc,cf,pid}, DIR/mqueue, DIR/aliases(.db), DIR/sm,
# DIR/bin/sendmail, DIR/syslog, DIR/sink/, DIR/smtp-sink.{pid,log},
# DIR/syslog-sink.pid, DIR/devlog, DIR/hostdev, DIR/smtp.port, DIR/start.log.

SMI_WAIT_SECS=${SMI_WAIT_SECS:-15}
SMI_HOSTNAME=${SMI_HOSTNAME:-mx.test.example}
SMI_PACKAGES="sendmail-bin sendmail-base sendmail-cf libwrap0"

smi_err() {
	echo "sendmail-instance: $*" >&2
}

# Show the end of the instance's logs after a failure.
smi_log_tail() {
	local dir=$1 f shown=0
	for f in "$dir/start.log" "$dir/syslog"; do
		if [ -s "$f" ]; then
			echo "sendmail-instance: last lines of $f:" >&2
			tail -n 20 "$f" | sed 's/^/    /' >&2
			shown=1
		fi
	done
	[ "$shown" -eq 1 ] || echo "sendmail-instance: (no log in $dir: start.log and syslog are empty or missing)" >&2
}

# free_port, smtp_banner, smtp_wait_banner
# shellcheck source=tests/lib/smtp-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/smtp-common.sh"

smi_check_dir() {
	case $1 in
	/*) ;;
	*) smi_err "$2 must be an absolute path, got '$1'"; return 1 ;;
	esac
}

smi_check_port() {
	case $1 in
	'' | *[!0-9]*) smi_err "$2 must be a port number, got '$1'"; return 1 ;;
	esac
	if [ "$1" -lt 1 ] || [ "$1" -gt 65535 ]; then
		smi_err "$2 out of range: $1"
		return 1
	fi
}

# smi_readpid FILE: print the PID on the first line of FILE.
smi_readpid() {
	local pid
	[ -r "$1" ] || return 1
	pid=$(head -n 1 "$1" | tr -dc '0-9')
	[ -n "$pid" ] || return 1
	echo "$pid"
}

# smi_alive PID: the process exists and is not a zombie (a process whose
# parent has gone is reaped by PID 1, which may take a while).
smi_alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	case $st in
	Z* | X* | '') return 1 ;;
	esac
	return 0
}

# smi_kill_wait PID SECS: SIGTERM, wait, then SIGKILL.
smi_kill_wait() {
	local pid=$1 secs=$2 i
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < secs * 10; i++)); do
		smi_alive "$pid" || return 0
		sleep 0.1
	done
	smi_err "PID $pid still running ${secs}s after SIGTERM; sending SIGKILL"
	kill -KILL "$pid" 2>/dev/null
	return 1
}

smi_bin() {
	echo "$1/usr/libexec/sendmail/sendmail"
}

smi_fetch() {
	if [ $# -ne 1 ]; then
		smi_err "usage: fetch ROOT"
		return 2
	fi
	local root=$1
	smi_check_dir "$root" ROOT || return 2
	if [ -f "$root/.complete" ] && [ -x "$(smi_bin "$root")" ]; then
		return 0
	fi
	command -v flock >/dev/null 2>&1 || { smi_err "flock not found"; return 1; }
	mkdir -p "$(dirname "$root")" || return 1
	# One fetch at a time (parallel test suites share the cache): the
	# second waits, then finds ROOT complete.
	(
		flock -w 300 9 || { smi_err "timed out waiting for $root.lock"; exit 1; }
		smi_fetch_locked "$root"
	) 9>"$root.lock"
}

smi_fetch_locked() {
	local root=$1 tmp d out
	if [ -f "$root/.complete" ] && [ -x "$(smi_bin "$root")" ]; then
		return 0
	fi
	for d in apt-get dpkg-deb; do
		command -v "$d" >/dev/null 2>&1 || { smi_err "$d not found"; return 1; }
	done
	mkdir -p "$(dirname "$root")" || return 1
	tmp=$(mktemp -d "$root.fetch.XXXXXX") || return 1
	mkdir "$tmp/debs" "$tmp/root" || { rm -rf "$tmp"; return 1; }
	# shellcheck disable=SC2086 # word splitting of the package list
	if ! out=$(cd "$tmp/debs" && timeout 120 apt-get -q -o APT::Sandbox::User=root \
		download $SMI_PACKAGES 2>&1); then
		smi_err "apt-get download $SMI_PACKAGES failed:"
		printf '%s\n' "$out" | tail -n 10 | sed 's/^/    /' >&2
		rm -rf "$tmp"
		return 1
	fi
	for d in "$tmp"/debs/*.deb; do
		if ! dpkg-deb -x "$d" "$tmp/root"; then
			smi_err "dpkg-deb -x $d failed"
			rm -rf "$tmp"
			return 1
		fi
	done
	if [ ! -x "$(smi_bin "$tmp/root")" ]; then
		smi_err "no $(smi_bin ROOT) in the extracted packages"
		rm -rf "$tmp"
		return 1
	fi
	mv "$tmp/debs" "$tmp/root/debs" || { rm -rf "$tmp"; return 1; }
	touch "$tmp/root/.complete"
	rm -rf "$root"
	if ! mv "$tmp/root" "$root"; then
		rm -rf "$tmp"
		return 1
	fi
	rm -rf "$tmp"
	return 0
}

smi_write_files() {
	local dir=$1 root=$2 port=$3 milter=$4 sink=$5 libdir milterline=""
	libdir=$(dirname "$(find "$root" -name 'libwrap.so.0' -print -quit)")
	[ "$milter" = none ] ||
		milterline="INPUT_MAIL_FILTER(\`milter-guard', \`S=$milter, F=T, T=C:5s;S:10s;R:10s;E:30s')"

	printf '127.0.0.1\t%s %s localhost\n::1\tlocalhost ip6-localhost\n' \
		"$SMI_HOSTNAME" "${SMI_HOSTNAME%%.*}" >"$dir/hosts"
	printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >"$dir/nsswitch.conf"
	printf 'hosts\tfiles\naliases\tfiles\n' >"$dir/service.switch"
	printf 'postmaster: root\nMAILER-DAEMON: postmaster\n' >"$dir/aliases"

	cat >"$dir/sendmail.mc" <<EOF
divert(-1)
# Private test instance written by tests/lib/sendmail-instance.sh.
divert(0)dnl
OSTYPE(\`linux')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`confDOMAIN_NAME', \`$SMI_HOSTNAME')dnl
define(\`QUEUE_DIR', \`$dir/mqueue')dnl
define(\`confPID_FILE', \`$dir/sendmail.pid')dnl
define(\`ALIAS_FILE', \`$dir/aliases')dnl
define(\`HELP_FILE', \`$root/etc/mail/helpfile')dnl
define(\`confSERVICE_SWITCH_FILE', \`$dir/service.switch')dnl
define(\`confHOSTS_FILE', \`$dir/hosts')dnl
define(\`confQUEUE_LA', \`100')dnl
define(\`confREFUSE_LA', \`100')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confLOG_LEVEL', \`14')dnl
define(\`SMART_HOST', \`relay:[127.0.0.1]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $sink')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`accept_unqualified_senders')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`no_default_msa')dnl
RELAY_DOMAIN(\`example.com')dnl
DAEMON_OPTIONS(\`Port=$port, Addr=127.0.0.1, Name=MTA')dnl
$milterline
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF

	# The wrapper: private host name, hosts and nsswitch (no 60 s hang, no
	# DNS), the non-setgid copy, libwrap from ROOT.
	cat >"$dir/sm" <<EOF
#!/bin/sh
# Written by tests/lib/sendmail-instance.sh: the private sendmail of $dir.
exec env LD_LIBRARY_PATH='$libdir' unshare --uts --mount sh -c '
	hostname "\$0" &&
	mount --bind "\$1/hosts" /etc/hosts &&
	mount --bind "\$1/nsswitch.conf" /etc/nsswitch.conf &&
	mount --rbind /dev "\$1/hostdev" &&
	mount -t tmpfs -o mode=0755 milter-guard-dev /dev &&
	for n in null zero full random urandom tty; do
		: >"/dev/\$n" && mount --bind "\$1/hostdev/\$n" "/dev/\$n" || exit 1
	done &&
	ln -s /proc/self/fd /dev/fd &&
	: >/dev/log && mount --bind "\$1/devlog" /dev/log &&
	shift && exec "\$@"' '$SMI_HOSTNAME' '$dir' \\
	'$dir/bin/sendmail' -C'$dir/sendmail.cf' "\$@"
EOF
	chmod 0755 "$dir/sm"
}

# The syslog sink on DIR/devlog (DIR/sm mounts it on its private /dev/log),
# writing DIR/syslog.
smi_start_syslog() {
	local dir=$1 pid i sock=$1/devlog
	: >>"$dir/syslog"
	rm -f "$sock"
	cat >"$dir/syslog-sink.py" <<'EOF'
import os, re, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
with open(out, "ab", buffering=0) as f:
    while True:
        data = s.recv(65536)
        # strip the <PRI> prefix; one line per message
        f.write(re.sub(rb"^<\d+>", b"", data).rstrip(b"\0\n") + b"\n")
EOF
	setsid python3 "$dir/syslog-sink.py" "$sock" "$dir/syslog" </dev/null \
		>"$dir/syslog-sink.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/syslog-sink.pid"
	for ((i = 0; i < 50; i++)); do
		[ -S "$sock" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	smi_err "the syslog sink did not create $sock:"
	sed 's/^/    /' "$dir/syslog-sink.log" >&2
	smi_stop_syslog "$dir"
	return 1
}

smi_stop_syslog() {
	local dir=$1 pid
	pid=$(smi_readpid "$dir/syslog-sink.pid") || return 0
	rm -f "$dir/syslog-sink.pid"
	smi_kill_wait "$pid" 5
	rm -f "$dir/devlog"
	return 0
}

smi_start_sink() {
	local dir=$1 sink=$2 pid
	if smtp_banner "$sink" >/dev/null 2>&1; then
		smi_err "something already listens on 127.0.0.1:$sink (sink port)"
		return 1
	fi
	install -d -m 0755 -o nobody "$dir/sink" || return 1
	setsid smtp-sink -u nobody -d "$dir/sink/%H%M%S." "127.0.0.1:$sink" 10 \
		</dev/null >"$dir/smtp-sink.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/smtp-sink.pid"
	if ! smtp_wait_banner "$sink" "$SMI_WAIT_SECS"; then
		smi_err "smtp-sink did not answer 220 on 127.0.0.1:$sink within ${SMI_WAIT_SECS}s"
		sed 's/^/    /' "$dir/smtp-sink.log" >&2
		smi_stop_sink "$dir"
		return 1
	fi
}

smi_stop_sink() {
	local dir=$1 pid
	pid=$(smi_readpid "$dir/smtp-sink.pid") || return 0
	rm -f "$dir/smtp-sink.pid"
	smi_kill_wait "$pid" 5
	return 0
}

smi_start() {
	if [ $# -ne 5 ]; then
		smi_err "usage: start DIR ROOT SMTPPORT MILTERSPEC SINKPORT"
		return 2
	fi
	local dir=$1 root=$2 port=$3 milter=$4 sink=$5 cmd out pid
	smi_check_dir "$dir" DIR || return 2
	smi_check_dir "$root" ROOT || return 2
	smi_check_port "$port" SMTPPORT || return 2
	smi_check_port "$sink" SINKPORT || return 2
	case $milter in
	none | local:/* | inet:[0-9]*@*) ;;
	*) smi_err "MILTERSPEC must be local:/abs/path or inet:PORT@HOST, got '$milter'"; return 2 ;;
	esac
	if [ "$(id -u)" -ne 0 ]; then
		smi_err "must run as root (unshare, private mounts, the daemon)"
		return 1
	fi
	for cmd in m4 unshare smtp-sink python3 setsid; do
		if ! command -v "$cmd" >/dev/null 2>&1; then
			smi_err "$cmd not found (run scripts/install-deps)"
			return 1
		fi
	done
	if [ ! -x "$(smi_bin "$root")" ] || [ ! -f "$root/usr/share/sendmail/cf/m4/cf.m4" ]; then
		smi_err "no sendmail in $root (run: $0 fetch $root)"
		return 1
	fi
	if pid=$(smi_readpid "$dir/sendmail.pid") && kill -0 "$pid" 2>/dev/null; then
		smi_err "an instance already runs in $dir (PID $pid); stop it first"
		return 1
	fi
	if smtp_banner "$port" >/dev/null 2>&1; then
		smi_err "something already listens on 127.0.0.1:$port (SMTP port)"
		return 1
	fi
	(umask 022 && install -d -m 0755 "$dir" "$dir/bin" "$dir/hostdev") || return 1
	install -d -m 0700 -o root "$dir/mqueue" || return 1
	chmod 0700 "$dir/mqueue" || return 1
	install -m 0755 "$(smi_bin "$root")" "$dir/bin/sendmail" || return 1
	: >"$dir/start.log"
	(umask 022 && smi_write_files "$dir" "$root" "$port" "$milter" "$sink") || return 1
	echo "$port" >"$dir/smtp.port"
	if ! m4 "$root/usr/share/sendmail/cf/m4/cf.m4" "$dir/sendmail.mc" \
		>"$dir/sendmail.cf" 2>>"$dir/start.log"; then
		smi_err "m4 failed to build $dir/sendmail.cf"
		smi_log_tail "$dir"
		return 1
	fi
	chmod 0644 "$dir/sendmail.cf"
	smi_start_syslog "$dir" || return 1
	if ! timeout 20 "$dir/sm" -bi </dev/null >>"$dir/start.log" 2>&1; then
		smi_err "'$dir/sm -bi' (aliases database) failed or hung"
		smi_log_tail "$dir"
		smi_stop_syslog "$dir"
		return 1
	fi
	smi_start_sink "$dir" "$sink" || { smi_stop_syslog "$dir"; return 1; }
	# -bd daemonises (the parent exits at once); the namespace lives on
	# with the daemon.  -q30m: a queue run every 30 minutes.
	if ! timeout 20 setsid "$dir/sm" -bd -q30m </dev/null >>"$dir/start.log" 2>&1; then
		smi_err "'$dir/sm -bd' failed or hung"
		smi_log_tail "$dir"
		smi_stop_sink "$dir"
		smi_stop_syslog "$dir"
		return 1
	fi
	if ! smtp_wait_banner "$port" "$SMI_WAIT_SECS"; then
		smi_err "no 220 banner on 127.0.0.1:$port within ${SMI_WAIT_SECS}s"
		smi_log_tail "$dir"
		smi_stop "$dir" >/dev/null 2>&1
		return 1
	fi
	return 0
}

smi_stop() {
	if [ $# -ne 1 ]; then
		smi_err "usage: stop DIR"
		return 2
	fi
	local dir=$1 pid rc=0
	smi_check_dir "$dir" DIR || return 2
	if [ ! -f "$dir/sendmail.mc" ]; then
		smi_err "no instance in $dir (no $dir/sendmail.mc)"
		rc=1
	fi
	if pid=$(smi_readpid "$dir/sendmail.pid"); then
		if kill -0 "$pid" 2>/dev/null; then
			if ! smi_kill_wait "$pid" "$SMI_WAIT_SECS"; then
				smi_log_tail "$dir"
				rc=1
			fi
		fi
		rm -f "$dir/sendmail.pid"
	fi
	smi_stop_sink "$dir"
	smi_stop_syslog "$dir"
	return $rc
}

smi_status() {
	if [ $# -ne 1 ]; then
		smi_err "usage: status DIR"
		return 2
	fi
	local dir=$1 pid port="" rc=0
	smi_check_dir "$dir" DIR || return 2
	if pid=$(smi_readpid "$dir/sendmail.pid") && kill -0 "$pid" 2>/dev/null; then
		echo "sendmail: running (PID $pid)"
	else
		echo "sendmail: not running"
		rc=1
	fi
	[ -f "$dir/smtp.port" ] && port=$(tr -dc '0-9' <"$dir/smtp.port")
	if [ -n "$port" ]; then
		if smtp_banner "$port" >/dev/null 2>&1; then
			echo "smtp: 127.0.0.1:$port answers 220"
		else
			echo "smtp: 127.0.0.1:$port not answering"
			rc=1
		fi
	fi
	if pid=$(smi_readpid "$dir/smtp-sink.pid"); then
		if kill -0 "$pid" 2>/dev/null; then
			echo "smtp-sink: running (PID $pid), messages in $dir/sink"
		else
			echo "smtp-sink: not running (stale PID $pid)"
			rc=1
		fi
	fi
	if pid=$(smi_readpid "$dir/syslog-sink.pid"); then
		echo "syslog sink: PID $pid on $dir/devlog, log in $dir/syslog"
	fi
	return $rc
}

smi_main() {
	local cmd=${1:-}
	[ $# -gt 0 ] && shift
	case $cmd in
	fetch) smi_fetch "$@" ;;
	start) smi_start "$@" ;;
	stop) smi_stop "$@" ;;
	status) smi_status "$@" ;;
	free-port) free_port ;;
	*)
		echo "usage: $0 fetch ROOT | start DIR ROOT SMTPPORT MILTERSPEC SINKPORT | stop DIR | status DIR | free-port" >&2
		return 2
		;;
	esac
}

# Run only when executed, not when sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	smi_main "$@"
	exit $?
fi
