#!/usr/bin/env bash
# `hyperp evaluate` lists the item-kNN and EASE baselines beside the model (metrics.csv rows
# with metrics in [0, 1], metrics.json, summary.txt with EASE's lambda chosen on validation);
# EASE is skipped, and says so, above evaluate.ease_max_items; a bad ease_max_items is refused
# naming its JSON path.
# Ends with "test_base_cli.sh: N passed, M failed" like the C test binaries.
set -u
. "$(dirname "$0")/cli_lib.sh"

"$H" synth --customers 300 --seed 5 --out "$tmp/syn" > /dev/null || fail synth
expect train 0 "best validation" -- "$H" train --data "$tmp/syn" --out "$tmp/m" --epochs 2 --quiet --no-consent-check
ev() { "$H" evaluate --model "$tmp/m" --out "$tmp/res" --no-consent-check "$@"; }

# csv_in_unit SYSTEM: the system's row exists and its ndcg, precision and auc lie in [0, 1]
csv_in_unit() {
    awk -F, -v sys="$1" '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $1 == sys { found = 1
                    n = split("rank_ndcg rank_precision rank_auc", names, " ")
                    for (j = 1; j <= n; j++) { v = $(col[names[j]])
                        if (v == "" || v + 0 < 0 || v + 0 > 1) { print names[j] "=" v; bad = 1 } } }
        END { exit !(found && !bad) }' "$tmp/res/metrics.csv"
}

expect evaluate 0 "itemknn" -- ev --data "$tmp/syn"
for s in model popularity itemknn ease; do
    if out=$(csv_in_unit "$s"); then ok "csv_${s}_in_unit"; else fail "csv_${s}_in_unit ($out: $(cat "$tmp/res/metrics.csv"))"; fi
done
if grep -qE '^  ease +0\.[0-9]{4} ' "$tmp/res/summary.txt" && grep -qE '^  itemknn +0\.[0-9]{4} ' "$tmp/res/summary.txt"; then
    ok summary_rows; else fail "summary_rows: $(cat "$tmp/res/summary.txt")"; fi
lambda=$(sed -nE 's/^  ease: lambda ([0-9]+), chosen by validation NDCG@10: 50 [0-9.]+ 100 [0-9.]+ 200 [0-9.]+ 500 [0-9.]+ 1000 [0-9.]+ 2000 [0-9.]+$/\1/p' "$tmp/res/summary.txt")
case "$lambda" in
    50|100|200|500|1000|2000) ok summary_lambda_from_grid ;;
    *) fail "summary_lambda_from_grid ('$lambda' in: $(cat "$tmp/res/summary.txt"))" ;;
esac
if grep -qE "\"lambda\": $lambda(\.0)?," "$tmp/res/metrics.json" && grep -qF '"chosen_by": "validation ndcg"' "$tmp/res/metrics.json" &&
   grep -qF '"itemknn": {' "$tmp/res/metrics.json" && grep -qF '"ease": {' "$tmp/res/metrics.json"; then
    ok json_lists_baselines; else fail "json_lists_baselines: $(cat "$tmp/res/metrics.json")"; fi

# above evaluate.ease_max_items: no ease row, the reason in the summary and metrics.json
sed 's/"evaluate": { "k": 10,/"evaluate": { "k": 10, "ease_max_items": 5,/' examples/synthetic.json > "$tmp/syn/small.json"
grep -q '"ease_max_items": 5' "$tmp/syn/small.json" || fail "config_edit (examples/synthetic.json changed?)"
why="36 products is above evaluate.ease_max_items 5 (EASE holds products^2 floats)"
expect_line skip_in_stdout 0 "  ease: skipped: $why" -- ev --config "$tmp/syn/small.json"
if grep -qxF "  ease: skipped: $why" "$tmp/res/summary.txt" && grep -qF "\"skipped\": \"$why\"" "$tmp/res/metrics.json" &&
   ! grep -q '^ease,' "$tmp/res/metrics.csv" && grep -q '^itemknn,' "$tmp/res/metrics.csv"; then
    ok skip_in_files; else fail "skip_in_files: $(cat "$tmp/res/summary.txt" "$tmp/res/metrics.json")"; fi

sed 's/"evaluate": { "k": 10,/"evaluate": { "k": 10, "ease_max_items": -1,/' examples/synthetic.json > "$tmp/syn/bad.json"
expect bad_max_items 2 "evaluate\.ease_max_items: expected an integer in 0\.\.100000" -- ev --config "$tmp/syn/bad.json"

cli_summary test_base_cli.sh
