#!/usr/bin/env bash
# Cross-validation over the fixed folds of ../shared/data/splits: trains one model per test
# fold and evaluates it, then prints the metrics over all folds (customer-weighted means for
# ranking metrics; for propensity models the per-fold AUC, Brier score and log loss and their
# mean and sample standard deviation (ddof 1) over folds, as the peers report them).
set -euo pipefail

usage() {
    cat <<EOF
usage: scripts/crossval.sh [--out DIR] [--summary-only] CONFIG [FOLDS] [K]
Trains and evaluates one model per test fold of CONFIG (a dataset config whose split
method is "folds") and prints the metrics over all folds; also written to DIR/summary.txt.
  CONFIG          the dataset config, e.g. examples/santander.json
  FOLDS           number of folds, a positive integer (default 5)
  K               cut-off of the ranking metrics, a positive integer (default 7)
  --out DIR       where the fold models and metrics go (default artifacts/cv/NAME, NAME the
                  config's file name without .json)
  --summary-only  train nothing: summarise DIR/fold*/k*/metrics.csv of an earlier run
  -h, --help      this text
The binary is \$HYPERP if set, else bin/hyperp (run \`make\` first).
EOF
}
# A usage error: the reason and the usage on stderr, exit status 2.
die_usage() {
    echo "crossval.sh: $1" >&2
    usage >&2
    exit 2
}

out=""
summary_only=0
args=()
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) usage; exit 0 ;;
        --out) [ $# -ge 2 ] && [ -n "$2" ] || die_usage "--out needs a directory"; out=$2; shift 2 ;;
        --out=?*) out=${1#--out=}; shift ;;
        --summary-only) summary_only=1; shift ;;
        --) shift; args+=("$@"); break ;;
        -?*) die_usage "unknown option '$1'" ;;
        *) args+=("$1"); shift ;;
    esac
done
[ ${#args[@]} -ge 1 ] && [ ${#args[@]} -le 3 ] ||
    die_usage "expected CONFIG [FOLDS] [K], got ${#args[@]} arguments"
config=${args[0]}
folds=${args[1]:-5}
k=${args[2]:-7}
[ -f "$config" ] || die_usage "config '$config': no such file"
[[ $folds =~ ^[1-9][0-9]*$ ]] || die_usage "FOLDS '$folds' is not a positive integer"
[[ $k =~ ^[1-9][0-9]*$ ]] || die_usage "K '$k' is not a positive integer"

# Paths given by the caller are taken from the caller's directory; the run itself happens at
# the repository root (the default output folder and bin/hyperp are there).
abspath() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
config=$(abspath "$config")
case ${HYPERP:-} in */*) HYPERP=$(abspath "$HYPERP") ;; esac
name=$(basename "$config" .json)
[ -z "$out" ] || out=$(abspath "$out")
cd "$(dirname "$0")/.."
out=${out:-artifacts/cv/$name}
hyperp=${HYPERP:-bin/hyperp}

# The summary of fold metrics files (metrics.csv: header "label,..." then one row per system,
# columns found by name; a file's cut-off k is its folder's name, .../k1/ or .../kK/).
summarize() {
    awk -v k="$k" -F, '
    function add(key, v) { val[key, ++cnt[key]] = v; sum[key] += v }
    # mean and sample standard deviation (ddof 1; two passes); "-" for one value
    function stat(s, key, label,   n, m, i, ss) {
        key = s SUBSEP key; n = cnt[key]; m = sum[key] / n
        for (i = 1; i <= n; i++) ss += (val[key, i] - m) ^ 2
        return sprintf("%s %.4f +- %s", label, m, n < 2 ? "-" : sprintf("%.4f", sqrt(ss / (n - 1))))
    }
    FNR == 1 {
        split("", col)
        for (i = 1; i <= NF; i++) col[$i] = i
        kk = (FILENAME ~ /\/k1\//) ? 1 : k
        fold = FILENAME; sub(/.*\/fold/, "", fold); sub(/\/.*/, "", fold)
        next
    }
    {
        sys = $1; n = $col["rank_users_relevant"] + 0
        if (!(sys in known)) { known[sys] = 1; systems[++nsys] = sys }
        if (kk == k && col["binary_roc_auc"] && $col["binary_roc_auc"] != "") {
            auc = $col["binary_roc_auc"] + 0; brier = $col["binary_brier"] + 0; ll = $col["binary_log_loss"] + 0
            add(sys SUBSEP "auc", auc); add(sys SUBSEP "brier", brier); add(sys SUBSEP "ll", ll)
            line = sprintf("%-11s fold %s  AUC %.4f  Brier %.4f  log loss %.4f", sys, fold, auc, brier, ll)
            nfold[sys]++; foldline[sys, nfold[sys]] = line; foldno[sys, nfold[sys]] = fold + 0
        }
        if (n > 0) {
            w[sys, kk] += n
            hr[sys, kk] += n * $col["rank_hit_rate"]; ndcg[sys, kk] += n * $col["rank_ndcg"]
            if (kk == k) mrr[sys] += n * $col["rank_mrr"]
            ranked[sys] = 1
        }
    }
    END {
        # systems and folds in a fixed order (mawk has no asort: insertion sorts)
        for (i = 2; i <= nsys; i++) for (j = i; j > 1 && systems[j - 1] > systems[j]; j--) {
            t = systems[j]; systems[j] = systems[j - 1]; systems[j - 1] = t }
        for (i = 1; i <= nsys; i++) {
            s = systems[i]
            if (nfold[s] > 0) {
                for (a = 2; a <= nfold[s]; a++) for (b = a; b > 1 && foldno[s, b - 1] > foldno[s, b]; b--) {
                    t = foldline[s, b]; foldline[s, b] = foldline[s, b - 1]; foldline[s, b - 1] = t
                    t = foldno[s, b]; foldno[s, b] = foldno[s, b - 1]; foldno[s, b - 1] = t }
                for (a = 1; a <= nfold[s]; a++) print foldline[s, a]
                printf "%-11s %s  %s  %s  (mean +- sample sd over %d folds)\n", s,
                    stat(s, "auc", "AUC"), stat(s, "brier", "Brier"), stat(s, "ll", "log loss"), nfold[s]
            }
            if (ranked[s] && w[s, 1] > 0 && w[s, k] > 0)
                printf "%-11s HR@1 %.4f  HR@%d %.4f  NDCG@%d %.4f  MRR %.4f  (%d customers)\n", s,
                    hr[s, 1] / w[s, 1], k, hr[s, k] / w[s, k], k, ndcg[s, k] / w[s, k], mrr[s] / w[s, k], w[s, k]
        }
    }' "$@"
}

if [ "$summary_only" -eq 0 ]; then
    command -v "$hyperp" > /dev/null || { echo "crossval.sh: $hyperp not found or not executable (run \`make\`)" >&2; exit 2; }
    mkdir -p "$out"
    for ((f = 0; f < folds; f++)); do
        echo "== $name fold $f/$folds"
        "$hyperp" train --config "$config" --test-fold "$f" --out "$out/fold$f" --quiet --no-consent-check | head -1
        "$hyperp" evaluate --no-consent-check --model "$out/fold$f" --config "$config" --k "$k" --out "$out/fold$f/k$k" > /dev/null
        "$hyperp" evaluate --no-consent-check --model "$out/fold$f" --config "$config" --k 1 --out "$out/fold$f/k1" > /dev/null
    done
fi
files=()
for ((f = 0; f < folds; f++)); do
    for kk in $k 1; do
        file=$out/fold$f/k$kk/metrics.csv
        [ -f "$file" ] || { echo "crossval.sh: $file: no such file (fold $f was not evaluated at k $kk)" >&2; exit 1; }
        files+=("$file")
        [ "$k" -ne 1 ] || break
    done
done
summarize "${files[@]}" | tee "$out/summary.txt"
