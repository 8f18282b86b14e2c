# tests/audit/lib.sh -- shared by the milter-guard-audit tests (sourced)
#
# AUDIT and AUDITGEN: the built tool and the log generator; $tmp: a scratch
# directory removed on exit; $key: the test key, copied with mode 0600
# (git does not keep modes).
set -u
AUDIT="${top_builddir:?}/src/milter-guard-audit"
AUDITGEN="${top_builddir:?}/tests/audit/auditgen"
data="${srcdir:?}/tests/data/audit"
for p in "$AUDIT" "$AUDITGEN"; do
	[ -x "$p" ] || { echo "$0: $p is not built" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/mg-audit.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
key="$tmp/key"
cp "$data/key" "$key"
chmod 600 "$key"
failed=0
passed=0

# check NAME EXPECTED-FILE ACTUAL-FILE: compare exactly, count.
check() {
	if cmp -s "$2" "$3"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "$0: $1: output differs (expected, then actual):" >&2
		diff "$2" "$3" >&2
	fi
}

finish() {
	echo "$(basename "$0"): $passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}
