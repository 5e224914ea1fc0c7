#!/usr/bin/env bash
# Runs every test binary given on the command line and ends with one line
# "N passed, M failed" over all of them. A binary that crashes or exits non-zero without
# reporting a failure (a sanitizer abort, say) counts as one failed test.
set -u
passed=0
failed=0
for bin in "$@"; do
    name=$(basename "$bin")
    out=$(mktemp)
    "$bin" > "$out"
    rc=$?
    cat "$out"
    line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed$" "$out" | tail -n 1)
    rm -f "$out"
    if [ -n "$line" ]; then
        p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
        f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
        passed=$((passed + p))
        failed=$((failed + f))
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
            echo "FAIL $name: exited with status $rc after reporting no failure"
            failed=$((failed + 1))
        fi
    else
        echo "FAIL $name: exited with status $rc before its summary (crash or sanitizer report above)"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
