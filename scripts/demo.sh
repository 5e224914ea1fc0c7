#!/usr/bin/env bash
# The main job on built-in defaults: synthetic data -> ingest -> summary.
# (The recommender issue extends this to train -> recommend -> evaluate.)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${HYPERP_DEMO_CUSTOMERS:-20000}
out=artifacts/demo
mkdir -p "$out"
echo "== 1/2 synthetic data: $N customers"
bin/hyperp synth --customers "$N" --seed 42 --out "$out/data"
echo "== 2/2 ingest + summary"
bin/hyperp ingest --data "$out/data" --rejects "$out/rejects.csv" | tee "$out/summary.txt"
bin/hyperp ingest --data "$out/data" --rejects "$out/rejects.csv" --json > "$out/summary.json"
echo
echo "results: $out/summary.txt, $out/summary.json (rejected rows, if any: $out/rejects.csv)"
