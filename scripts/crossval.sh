#!/usr/bin/env bash
# Cross-validation over the fixed folds of ../shared/data/splits: trains one model per test
# fold and evaluates it, then prints the metrics over all folds (customer-weighted means for
# ranking metrics; mean and sd over folds for AUC, as the peers report them).
# usage: scripts/crossval.sh CONFIG [FOLDS=5] [K=7]
set -euo pipefail
cd "$(dirname "$0")/.."
config=$1
folds=${2:-5}
k=${3:-7}
name=$(basename "$config" .json)
out=artifacts/cv/$name
mkdir -p "$out"
for ((f = 0; f < folds; f++)); do
    echo "== $name fold $f/$folds"
    bin/hyperp train --config "$config" --test-fold "$f" --out "$out/fold$f" --quiet --no-consent-check | head -1
    bin/hyperp evaluate --no-consent-check --model "$out/fold$f" --config "$config" --k "$k" --out "$out/fold$f/k$k" > /dev/null
    bin/hyperp evaluate --no-consent-check --model "$out/fold$f" --config "$config" --k 1 --out "$out/fold$f/k1" > /dev/null
done
# metrics.csv: header "label,..." then one row per system; columns found by name.
awk -v folds="$folds" -v k="$k" -F, '
    FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; kk = (FILENAME ~ /\/k1\//) ? 1 : k; next }
    {
        sys = $1; n = $col["rank_users_relevant"] + 0
        if ($col["binary_roc_auc"] != "" && kk == k) { auc[sys] += $col["binary_roc_auc"]; auc2[sys] += $col["binary_roc_auc"]^2; na[sys]++ }
        if (n > 0) {
            w[sys, kk] += n
            hr[sys, kk] += n * $col["rank_hit_rate"]; ndcg[sys, kk] += n * $col["rank_ndcg"]
            if (kk == k) mrr[sys] += n * $col["rank_mrr"]
            seen[sys] = 1
        }
    }
    END {
        for (s in na) { m = auc[s] / na[s]; sd = sqrt(auc2[s] / na[s] - m * m); printf "%-11s AUC %.4f +- %.4f over %d folds\n", s, m, sd, na[s] }
        for (s in seen) printf "%-11s HR@1 %.4f  HR@%d %.4f  NDCG@%d %.4f  MRR %.4f  (%d customers)\n", s, hr[s, 1] / w[s, 1], k, hr[s, k] / w[s, k], k, ndcg[s, k] / w[s, k], mrr[s] / w[s, k], w[s, k]
    }' $(ls "$out"/fold*/k*/metrics.csv) | sort | tee "$out/summary.txt"
