#!/usr/bin/env bash
# CLI end to end with the test build ($HYPERP): exit codes, messages, synth -> ingest.
# Ends with "test_cli.sh: N passed, M failed" like the C test binaries.
set -u
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

expect help 0 "synth" -- "$H" --help
expect unknown_command 2 "unknown command 'frobnicate'" -- "$H" frobnicate
expect synth_help 0 "--customers N" -- "$H" synth --help
expect ingest_help 0 "--rejects FILE" -- "$H" ingest --help
expect synth_too_few 2 "customers: 50 is outside" -- "$H" synth --customers 50 --out "$tmp/x"
expect synth_bad_number 2 "not a non-negative integer" -- "$H" synth --customers lots --out "$tmp/x"
expect synth_small 0 "wrote 300 customers" -- "$H" synth --customers 300 --seed 7 --out "$tmp/syn"
expect ingest_synth_zero_rejects 0 "rejected 0" -- "$H" ingest --data "$tmp/syn" --rejects "$tmp/rej.csv"
expect ingest_json_summary 0 '"rows": 300' -- "$H" ingest --data "$tmp/syn" --rejects "$tmp/rej.csv" --json

printf 'customer_id,industry,employees,revenue,financial_needs,preferences\nA,Retail,10-50,1M-5M,"Loans","Cards"\nB,Retail,ten,1M-5M,"Loans","Cards"\n' > "$tmp/faulty.csv"
expect ingest_reports_reject 0 "faulty.csv:3: column 'employees': 'ten' is not a band" -- \
    "$H" ingest --customers "$tmp/faulty.csv" --rejects "$tmp/rej2.csv" --quiet
if grep -q "faulty.csv\",3,employees\|faulty.csv,3,employees" "$tmp/rej2.csv" 2>/dev/null; then ok rejects_file_written; else fail rejects_file_written; fi
expect ingest_missing_file 2 "nope.csv" -- "$H" ingest --customers "$tmp/nope.csv" --rejects "$tmp/rej3.csv"
printf 'customer_id,industry\nA,Retail\n' > "$tmp/short.csv"
expect ingest_missing_column 2 "missing required column 'employees'" -- "$H" ingest --customers "$tmp/short.csv" --rejects "$tmp/rej4.csv"
printf '{"hyperp_dataset":1,"customers":{"file":"x.csv","columns":{"id":"idd"}}}' > "$tmp/bad.json"
expect ingest_bad_config 2 "customers.columns.id: unknown role 'idd'" -- "$H" ingest --config "$tmp/bad.json"
expect ingest_unexpected_arg 2 "unexpected argument" -- "$H" ingest stray

real=../shared/data/ewfx_aidhp_hackathon/org_profiles_recovered_from_team_pioneers_results.csv
if [ -r "$real" ]; then
    expect ingest_real_hackathon 0 "loaded 7 rows, rejected 0" -- "$H" ingest --customers "$real" --rejects "$tmp/rej5.csv"
else
    echo "skip: $real not found"
fi
echo "test_cli.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
