# Shared by the CLI test scripts (source it): the binary under test, a temporary folder,
# counters, and `expect`. A script ends with `cli_summary NAME`, which prints
# "NAME: N passed, M failed" like the C test binaries and sets the exit status.
H=${HYPERP:-bin/hyperp}
tmp=$(mktemp -d /tmp/hyperp_cli_XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok()   { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1" >&2; failed=$((failed + 1)); }
# expect NAME STATUS PATTERN -- command...: runs it, checks exit status and that stdout+stderr match PATTERN
expect() {
    local name=$1 want=$2 pattern=$3
    shift 4
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$want" ]; then fail "$name (exit $rc, wanted $want): $out"; return; fi
    if [ -n "$pattern" ] && ! grep -qE -- "$pattern" <<<"$out"; then fail "$name (no '$pattern' in: $out)"; return; fi
    ok "$name"
}
# expect_line NAME STATUS LINE -- command...: the exact message line (not a pattern)
expect_line() {
    local name=$1 want=$2 line=$3
    shift 4
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$want" ]; then fail "$name (exit $rc, wanted $want): $out"; return; fi
    if ! grep -qxF -- "$line" <<<"$out"; then fail "$name (no line '$line' in: $out)"; return; fi
    ok "$name"
}
cli_summary() {
    echo "$1: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
