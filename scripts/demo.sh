#!/usr/bin/env bash
# The main job on built-in defaults: synthetic data -> ingest -> train -> recommend -> evaluate.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${HYPERP_DEMO_CUSTOMERS:-20000}
out=artifacts/demo
mkdir -p "$out"
start=$(date +%s)
echo "== 1/5 synthetic data: $N customers"
bin/hyperp synth --customers "$N" --seed 42 --out "$out/data"
echo "== 2/5 ingest"
bin/hyperp ingest --data "$out/data" --rejects "$out/rejects.csv" > "$out/summary.txt"
tail -n 1 "$out/summary.txt"
echo "== 3/5 train"
bin/hyperp train --data "$out/data" --out "$out/model" --no-consent-check  # synthetic customers have no consent records
echo "== 4/5 recommend (top 5 for every customer)"
bin/hyperp recommend --model "$out/model" --customers "$out/data/customers.csv" \
    --interactions "$out/data/interactions.csv" --top-k 5 --out "$out/recommendations.jsonl" --no-consent-check
echo "wrote $(wc -l < "$out/recommendations.jsonl") lines to $out/recommendations.jsonl; the first:"
head -n 1 "$out/recommendations.jsonl"
echo "== 5/5 evaluate on unseen test customers"
bin/hyperp evaluate --model "$out/model" --data "$out/data" --out "$out/results" --no-consent-check
echo
echo "done in $(( $(date +%s) - start )) s. Data summary: $out/summary.txt; model: $out/model/;"
echo "recommendations: $out/recommendations.jsonl; metrics: $out/results/ (metrics.json, metrics.csv, summary.txt)"
