# tests/check/lib.sh -- shared by the milter-guard-check tests (sourced)
# shellcheck shell=bash
#
#   chk_init NAME       sets T (the test's name), W (a fresh work directory,
#                       removed on exit) and CHECK (the built tool); runs
#                       chk_cleanup_hook (if defined) on exit
#   chk_need CMD...     root and commands: missing ones fail under CI, else skip
#   chk_expect WANT_RC OUTFILE PATTERN... -- CMD...
#                       run CMD, require its exit code and each grep -E pattern
#                       (CHK_VALGRIND=1 runs the tool under valgrind memcheck)
#   chk_start_mg CONF [NETNS]   start milter-guard (PID in MG_PID, log in
#                       MG_LOG), wait until it says it started
#   chk_stop_mg         SIGKILL it (a clean exit is not what is tested here)

chk_init() {
	T=$1
	CHECK="${top_builddir:?}/src/milter-guard-check"
	MG="${top_builddir:?}/src/milter-guard"
	PASSED=0
	MG_PID=""
	W=$(mktemp -d "/tmp/mg-$T.XXXXXX") || exit 1
	chmod 0755 "$W"
	trap chk_exit EXIT
	trap 'exit 1' INT TERM
}

chk_exit() {
	local rc=$?
	chk_stop_mg
	if command -v chk_cleanup_hook >/dev/null 2>&1; then
		chk_cleanup_hook
	fi
	rm -rf "$W"
	exit $rc
}

chk_fail() {
	echo "$T: FAIL: $*" >&2
	if command -v chk_fail_hook >/dev/null 2>&1; then
		chk_fail_hook >&2
	fi
	exit 1
}

chk_need() {
	local c missing=""
	[ "$(id -u)" -eq 0 ] || missing="root"
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
	done
	[ -z "$missing" ] && return 0
	if [ -n "${CI:-}" ]; then
		echo "$T: needs$missing (CI is set): FAIL" >&2
		exit 1
	fi
	echo "$T: needs$missing; skipped"
	exit 77
}

# chk_expect RC NAME PATTERN... -- CMD...: NAME names the case in messages.
chk_expect() {
	local want=$1 name=$2 rc pats=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		pats+=("$1")
		shift
	done
	shift
	# CHK_VALGRIND=1: the tool under memcheck (an error exits 99)
	if [ -n "${CHK_VALGRIND:-}" ] && [ "$1" = "$CHECK" ]; then
		set -- valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
			--error-exitcode=99 "$@"
	fi
	"$@" >"$W/out" 2>&1
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		sed 's/^/    /' "$W/out" >&2
		chk_fail "$name: exit code $rc, expected $want"
	fi
	local p
	for p in "${pats[@]}"; do
		if ! grep -qE -- "$p" "$W/out"; then
			sed 's/^/    /' "$W/out" >&2
			chk_fail "$name: output lacks /$p/"
		fi
	done
	PASSED=$((PASSED + 1))
}

chk_start_mg() {
	local conf=$1 ns=${2:-} i
	# a fresh log per start: "started" in an old one would not mean this one
	MG_STARTS=$((${MG_STARTS:-0} + 1))
	MG_LOG=$W/mg-$MG_STARTS.log
	if [ -n "$ns" ]; then
		# ip netns exec execs the program: $! is milter-guard's PID
		ip netns exec "$ns" "$MG" -f -c "$conf" 2>"$MG_LOG" &
	else
		"$MG" -f -c "$conf" 2>"$MG_LOG" &
	fi
	MG_PID=$!
	for ((i = 0; i < 500; i++)); do
		grep -q "started" "$MG_LOG" 2>/dev/null && return 0
		kill -0 "$MG_PID" 2>/dev/null || break
		sleep 0.01
	done
	cat "$MG_LOG" >&2
	chk_fail "milter-guard did not start ($conf)"
}

chk_stop_mg() {
	[ -n "${MG_PID:-}" ] || return 0
	kill -KILL "$MG_PID" 2>/dev/null
	wait "$MG_PID" 2>/dev/null
	MG_PID=""
}

chk_done() {
	echo "$T: $PASSED passed, 0 failed"
}
