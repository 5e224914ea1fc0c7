#!/usr/bin/env bash
# The main job on built-in defaults: synthetic data -> ingest -> train -> recommend -> evaluate.
set -euo pipefail

usage() {
    cat <<EOF2
usage: scripts/demo.sh
The main job on built-in defaults (what \`make demo\` runs after deps and the build):
synthetic data -> ingest -> train -> recommend -> evaluate, everything under artifacts/demo/.
Takes no arguments. Environment: HYPERP_DEMO_CUSTOMERS, the number of synthetic
customers (default 20000); HYPERP, the binary (default bin/hyperp).
  -h, --help  this text
EOF2
}
die_usage() {
    echo "demo.sh: $1" >&2
    usage >&2
    exit 2
}
case ${1:-} in
    -h | --help) usage; exit 0 ;;
esac
[ $# -eq 0 ] || case $1 in
    -?*) die_usage "unknown option '$1'" ;;
    *) die_usage "takes no arguments, got $#" ;;
esac
case ${HYPERP:-} in /*) ;; */*) HYPERP=$PWD/$HYPERP ;; esac
cd "$(dirname "$0")/.."
hyperp=${HYPERP:-bin/hyperp}
command -v "$hyperp" > /dev/null || { echo "demo.sh: $hyperp not found or not executable (run \`make\` first)" >&2; exit 2; }
N=${HYPERP_DEMO_CUSTOMERS:-20000}
[[ $N =~ ^[1-9][0-9]*$ ]] || die_usage "HYPERP_DEMO_CUSTOMERS '$N' is not a positive integer"
out=artifacts/demo
mkdir -p "$out"
start=$(date +%s)
echo "== 1/5 synthetic data: $N customers"
"$hyperp" synth --customers "$N" --seed 42 --out "$out/data"
echo "== 2/5 ingest"
"$hyperp" ingest --data "$out/data" --rejects "$out/rejects.csv" > "$out/summary.txt"
tail -n 1 "$out/summary.txt"
echo "== 3/5 train"
"$hyperp" train --data "$out/data" --out "$out/model" --no-consent-check  # synthetic customers have no consent records
echo "== 4/5 recommend (top 5 for every customer)"
"$hyperp" recommend --model "$out/model" --customers "$out/data/customers.csv" \
    --interactions "$out/data/interactions.csv" --top-k 5 --out "$out/recommendations.jsonl" --no-consent-check
echo "wrote $(wc -l < "$out/recommendations.jsonl") lines to $out/recommendations.jsonl; the first:"
head -n 1 "$out/recommendations.jsonl"
echo "== 5/5 evaluate on unseen test customers"
"$hyperp" evaluate --model "$out/model" --data "$out/data" --out "$out/results" --no-consent-check
echo
echo "done in $(( $(date +%s) - start )) s. Data summary: $out/summary.txt; model: $out/model/;"
echo "recommendations: $out/recommendations.jsonl; metrics: $out/results/ (metrics.json, metrics.csv, summary.txt)"
