#!/bin/bash
# postfix-instance.sh: run a PRIVATE Postfix instance for tests and the demo.
#
# Everything (config, queue, data, log, sink) lives under DIR; the system's
# /etc/postfix/main.cf is neither needed nor touched, and the instance listens
# on 127.0.0.1 only.  Needs root (the Postfix master runs as root and drops
# its daemons to user postfix) and the Debian postfix package.
#
# Usage (executable):
#   postfix-instance.sh start DIR SMTPPORT MILTERSPEC SINKPORT
#   postfix-instance.sh stop DIR
#   postfix-instance.sh status DIR
#   postfix-instance.sh free-port
#
#   DIR         absolute path; made 0755 so user postfix can traverse it
#               (needed when the milter socket lives under DIR)
#   SMTPPORT    smtpd listens on 127.0.0.1:SMTPPORT
#   MILTERSPEC  Postfix syntax: unix:/abs/path or inet:127.0.0.1:PORT;
#               "none" runs without a milter (a baseline)
#   SINKPORT    mail is relayed to smtp-sink on 127.0.0.1:SINKPORT, which
#               stores each message as one file in DIR/sink/;
#               "discard" uses Postfix's discard transport and no sink
#
# Usage (sourced, from bash):  . tests/lib/postfix-instance.sh
#   pfi_start DIR SMTPPORT MILTERSPEC SINKPORT;  pfi_stop DIR;  pfi_status DIR
#   free_port                       prints a free TCP port on 127.0.0.1
#   These return non-zero on failure (they never exit the caller's shell).
#
# Extra main.cf lines for a test: PFI_MAIN_CF_EXTRA (newline-separated
# "name = value" lines, appended last, so they override the defaults).
# Extra master.cf lines (another smtpd, chrooted, on another port, say):
# PFI_MASTER_CF_EXTRA.
#
# Files: DIR/etc/{main,master}.cf, DIR/spool (queue), DIR/data,
# DIR/maillog (Postfix log, via postlogd), DIR/sink/ (delivered messages),
# DIR/smtp-sink.pid, DIR/smtp-sink.log, DIR/smtp.port.

PFI_WAIT_SECS=${PFI_WAIT_SECS:-15}

pfi_err() {
	echo "postfix-instance: $*" >&2
}

# Show the end of the instance's log after a failure.
pfi_log_tail() {
	local dir=$1
	if [ -s "$dir/maillog" ]; then
		echo "postfix-instance: last lines of $dir/maillog:" >&2
		tail -n 20 "$dir/maillog" | sed 's/^/    /' >&2
	else
		echo "postfix-instance: ($dir/maillog is empty or missing)" >&2
	fi
}

# free_port, smtp_banner, smtp_wait_banner
# shellcheck source=tests/lib/smtp-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/smtp-common.sh"

pfi_master_pid() {
	local f=$1/spool/pid/master.pid pid
	[ -r "$f" ] || return 1
	pid=$(tr -dc '0-9' <"$f")
	[ -n "$pid" ] || return 1
	echo "$pid"
}

pfi_check_dir() {
	case $1 in
	/*) ;;
	*) pfi_err "DIR must be an absolute path, got '$1'"; return 1 ;;
	esac
}

pfi_check_port() {
	case $1 in
	'' | *[!0-9]*) pfi_err "$2 must be a port number, got '$1'"; return 1 ;;
	esac
	if [ "$1" -lt 1 ] || [ "$1" -gt 65535 ]; then
		pfi_err "$2 out of range: $1"
		return 1
	fi
}

pfi_write_config() {
	local dir=$1 port=$2 milter=$3 sink=$4 transport milters
	if [ "$sink" = discard ]; then
		transport="discard:"
	else
		transport="smtp:[127.0.0.1]:$sink"
	fi
	if [ "$milter" = none ]; then
		milters=""
	else
		milters=$milter
	fi

	cat >"$dir/etc/main.cf" <<EOF
# Private test instance written by tests/lib/postfix-instance.sh.
compatibility_level = 3.6
config_directory = $dir/etc
queue_directory = $dir/spool
data_directory = $dir/data
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
syslog_name = postfix-test

myhostname = mx.test.example
mydomain = test.example
myorigin = \$myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
# 0.0.0.0/0 and [::]/0 so that an XCLIENT-faked client address may relay;
# smtpd listens on 127.0.0.1 only, so no outside client can reach it.
mynetworks = 127.0.0.0/8 [::1]/128 0.0.0.0/0 [::]/0
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_authorized_xclient_hosts = 127.0.0.1 [::1]

mydestination =
local_recipient_maps =
alias_maps =
alias_database =
local_transport = error:5.1.1 local delivery disabled
relayhost =
default_transport = $transport
smtp_dns_support_level = disabled
biff = no
append_dot_mydomain = no

smtpd_milters = $milters
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
EOF
	if [ -n "${PFI_MAIN_CF_EXTRA:-}" ]; then
		printf '\n# PFI_MAIN_CF_EXTRA\n%s\n' "$PFI_MAIN_CF_EXTRA" >>"$dir/etc/main.cf"
	fi

	cat >"$dir/etc/master.cf" <<EOF
# Private test instance: minimal service list, nothing chrooted.
# service  type  private unpriv chroot wakeup maxproc command
127.0.0.1:$port inet n - n - - smtpd
pickup     unix  n       -       n       60      1       pickup
cleanup    unix  n       -       n       -       0       cleanup
qmgr       unix  n       -       n       300     1       qmgr
rewrite    unix  -       -       n       -       -       trivial-rewrite
bounce     unix  -       -       n       -       0       bounce
defer      unix  -       -       n       -       0       bounce
trace      unix  -       -       n       -       0       bounce
verify     unix  -       -       n       -       1       verify
flush      unix  n       -       n       1000?   0       flush
proxymap   unix  -       -       n       -       -       proxymap
proxywrite unix  -       -       n       -       1       proxymap
smtp       unix  -       -       n       -       -       smtp
relay      unix  -       -       n       -       -       smtp
showq      unix  n       -       n       -       -       showq
error      unix  -       -       n       -       -       error
retry      unix  -       -       n       -       -       error
discard    unix  -       -       n       -       -       discard
anvil      unix  -       -       n       -       1       anvil
scache     unix  -       -       n       -       1       scache
postlog    unix-dgram n  -       n       -       1       postlogd
EOF
	if [ -n "${PFI_MASTER_CF_EXTRA:-}" ]; then
		printf '# PFI_MASTER_CF_EXTRA\n%s\n' "$PFI_MASTER_CF_EXTRA" >>"$dir/etc/master.cf"
	fi
}

pfi_start_sink() {
	local dir=$1 sink=$2 pid
	[ "$sink" = discard ] && return 0
	if smtp_banner "$sink" >/dev/null 2>&1; then
		pfi_err "something already listens on 127.0.0.1:$sink (sink port)"
		return 1
	fi
	install -d -m 0755 -o nobody "$dir/sink" || return 1
	# Own session: a Ctrl-C in the caller's terminal does not reach it; stop
	# kills it by PID.  Output to a file, so a $(...) caller does not hang.
	setsid smtp-sink -u nobody -d "$dir/sink/%H%M%S." "127.0.0.1:$sink" 10 \
		</dev/null >"$dir/smtp-sink.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/smtp-sink.pid"
	if ! smtp_wait_banner "$sink" "$PFI_WAIT_SECS"; then
		pfi_err "smtp-sink did not answer 220 on 127.0.0.1:$sink within ${PFI_WAIT_SECS}s"
		sed 's/^/    /' "$dir/smtp-sink.log" >&2
		kill "$pid" 2>/dev/null
		rm -f "$dir/smtp-sink.pid"
		return 1
	fi
}

pfi_stop_sink() {
	local dir=$1 pid i
	[ -f "$dir/smtp-sink.pid" ] || return 0
	pid=$(tr -dc '0-9' <"$dir/smtp-sink.pid")
	rm -f "$dir/smtp-sink.pid"
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	return 0
}

pfi_start() {
	if [ $# -ne 4 ]; then
		pfi_err "usage: start DIR SMTPPORT MILTERSPEC SINKPORT"
		return 2
	fi
	local dir=$1 port=$2 milter=$3 sink=$4 out
	pfi_check_dir "$dir" || return 2
	pfi_check_port "$port" SMTPPORT || return 2
	[ "$sink" = discard ] || pfi_check_port "$sink" SINKPORT || return 2
	case $milter in
	none | unix:/* | inet:*:[0-9]*) ;;
	*) pfi_err "MILTERSPEC must be unix:/abs/path or inet:HOST:PORT, got '$milter'"; return 2 ;;
	esac
	if [ "$(id -u)" -ne 0 ]; then
		pfi_err "must run as root (the Postfix master runs as root)"
		return 1
	fi
	local cmd
	for cmd in postfix postconf smtp-sink python3 setsid; do
		if ! command -v "$cmd" >/dev/null 2>&1; then
			pfi_err "$cmd not found (run scripts/install-deps)"
			return 1
		fi
	done
	if ! id postfix >/dev/null 2>&1; then
		pfi_err "user postfix does not exist (run scripts/install-deps)"
		return 1
	fi
	if pfi_master_pid "$dir" >/dev/null && kill -0 "$(pfi_master_pid "$dir")" 2>/dev/null; then
		pfi_err "an instance already runs in $dir (master PID $(pfi_master_pid "$dir")); stop it first"
		return 1
	fi
	if smtp_banner "$port" >/dev/null 2>&1; then
		pfi_err "something already listens on 127.0.0.1:$port (SMTP port)"
		return 1
	fi
	install -d -m 0755 "$dir" "$dir/etc" || return 1
	chmod 0755 "$dir" || return 1
	case $milter in
	unix:*)
		# smtpd connects as user postfix: the path must be traversable
		# (and the socket writable: start the milter with umask 000).
		local sock=${milter#unix:} d
		d=$(dirname "$sock")
		if [ -d "$d" ] && ! runuser -u postfix -- test -x "$d" 2>/dev/null; then
			pfi_err "warning: user postfix cannot reach $d (milter socket dir): smtpd will tempfail"
		elif [ -S "$sock" ] && ! runuser -u postfix -- test -w "$sock" 2>/dev/null; then
			pfi_err "warning: user postfix cannot write to $sock: smtpd will tempfail"
		fi
		;;
	esac
	install -d -m 0755 -o root "$dir/spool" || return 1
	install -d -m 0700 -o postfix "$dir/data" || return 1
	: >>"$dir/maillog" || return 1
	pfi_write_config "$dir" "$port" "$milter" "$sink" || return 1
	echo "$port" >"$dir/smtp.port"

	if ! out=$(postfix -c "$dir/etc" check 2>&1); then
		pfi_err "'postfix -c $dir/etc check' failed:"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    /' >&2
		pfi_log_tail "$dir"
		return 1
	fi
	pfi_start_sink "$dir" "$sink" || return 1
	# postfix start: master daemonises; keep its output out of our stdout.
	if ! out=$(postfix -c "$dir/etc" start </dev/null 2>&1); then
		pfi_err "'postfix -c $dir/etc start' failed:"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    /' >&2
		pfi_log_tail "$dir"
		pfi_stop_sink "$dir"
		return 1
	fi
	if ! smtp_wait_banner "$port" "$PFI_WAIT_SECS"; then
		pfi_err "no 220 banner on 127.0.0.1:$port within ${PFI_WAIT_SECS}s"
		pfi_log_tail "$dir"
		postfix -c "$dir/etc" stop >/dev/null 2>&1
		pfi_stop_sink "$dir"
		return 1
	fi
	return 0
}

pfi_stop() {
	if [ $# -ne 1 ]; then
		pfi_err "usage: stop DIR"
		return 2
	fi
	local dir=$1 pid i rc=0
	pfi_check_dir "$dir" || return 2
	if [ ! -f "$dir/etc/main.cf" ]; then
		pfi_err "no instance in $dir (no $dir/etc/main.cf)"
		pfi_stop_sink "$dir"
		return 1
	fi
	pid=$(pfi_master_pid "$dir") || pid=""
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		postfix -c "$dir/etc" stop </dev/null >/dev/null 2>&1
		for ((i = 0; i < PFI_WAIT_SECS * 10; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			pfi_err "master (PID $pid) still running ${PFI_WAIT_SECS}s after 'postfix stop'"
			pfi_log_tail "$dir"
			rc=1
		fi
	fi
	pfi_stop_sink "$dir"
	return $rc
}

pfi_status() {
	if [ $# -ne 1 ]; then
		pfi_err "usage: status DIR"
		return 2
	fi
	local dir=$1 pid spid="" port="" rc=0
	pfi_check_dir "$dir" || return 2
	pid=$(pfi_master_pid "$dir") || pid=""
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		echo "postfix: running (master PID $pid)"
	else
		echo "postfix: not running"
		rc=1
	fi
	[ -f "$dir/smtp.port" ] && port=$(tr -dc '0-9' <"$dir/smtp.port")
	if [ -n "$port" ]; then
		if smtp_banner "$port" >/dev/null 2>&1; then
			echo "smtpd: 127.0.0.1:$port answers 220"
		else
			echo "smtpd: 127.0.0.1:$port not answering"
			rc=1
		fi
	fi
	[ -f "$dir/smtp-sink.pid" ] && spid=$(tr -dc '0-9' <"$dir/smtp-sink.pid")
	if [ -n "$spid" ] && kill -0 "$spid" 2>/dev/null; then
		echo "smtp-sink: running (PID $spid), messages in $dir/sink"
	elif [ -n "$spid" ]; then
		echo "smtp-sink: not running (stale PID $spid)"
		rc=1
	fi
	return $rc
}

pfi_main() {
	local cmd=${1:-}
	[ $# -gt 0 ] && shift
	case $cmd in
	start) pfi_start "$@" ;;
	stop) pfi_stop "$@" ;;
	status) pfi_status "$@" ;;
	free-port) free_port ;;
	*)
		echo "usage: $0 start DIR SMTPPORT MILTERSPEC SINKPORT | stop DIR | status DIR | free-port" >&2
		return 2
		;;
	esac
}

# Run only when executed, not when sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	pfi_main "$@"
	exit $?
fi
