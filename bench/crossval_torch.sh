#!/usr/bin/env bash
# Cross-validation of the PyTorch twin (bench/torch_model.py) over the same fixed folds as
# scripts/crossval.sh: for each test fold, bench/export_model_data writes what rec_train
# starts from for that fold (split, encoded customers/catalogue, training examples, C initial
# weights, the config's hyper-parameters), torch trains with the config's early stopping and
# evaluates the test customers. Prints the same aggregate as scripts/crossval.sh: ranking
# configs, customer-weighted HR@1, HR@K, NDCG@K, MRR over all folds (model, and popularity
# among training customers computed on the torch side as a same-split check); propensity
# configs, test AUC mean +- sd over folds.
# usage: bench/crossval_torch.sh CONFIG [FOLDS=5] [K=7]      (after make)
# Not a benchmark script run by bench/run.sh (it is not named bench_*.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
config=$1
folds=${2:-5}
k=${3:-7}
PY=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE    # torch_model.py: torch.set_num_threads(THREADS=1)
name=$(basename "$config" .json)
out=artifacts/cv_torch/$name
mkdir -p "$out"
CFLAGS="-std=c11 -O2 -g -Isrc -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(pkg-config --cflags jansson)"
LIBS="lib/libhyperp.a $(pkg-config --libs jansson sqlite3 libsodium 2>/dev/null || echo -ljansson -lsqlite3 -lsodium) -lopenblas -lm -lpthread"
gcc $CFLAGS bench/export_model_data.c $LIBS -o "$out/export_model_data"
for ((f = 0; f < folds; f++)); do
    echo "== $name fold $f/$folds (torch)"
    "$out/export_model_data" "$config" "$out/fold$f.bin" "$f" 2> "$out/fold$f.log"
    $PY bench/torch_model.py "$out/fold$f.bin" 1 train 0 "$k" > "$out/fold$f.txt" 2>> "$out/fold$f.log"
    rm -f "$out/fold$f.bin"
    awk '{ v[$1] = $2 } END { printf "torch: %d epochs, best validation %.4f at epoch %d, %.0f examples/s\n",
         v["epochs_run"], v["best_valid"], v["best_epoch"], v["examples_per_s"] }' "$out/fold$f.txt"
done
# fold*.txt: "key value" lines; ranking metrics weighted by test_customers, AUC per fold.
awk -v k="$k" '
    FNR == 1 { n = 0 }
    $1 == "test_customers" { n = $2 }
    $1 == "auc" { auc += $2; auc2 += $2 ^ 2; na++ }
    $1 == "hr1" { hr1 += n * $2; w += n } $1 == "hr_at_k" { hrk += n * $2 } $1 == "ndcg_at_k" { nd += n * $2 } $1 == "mrr" { mrr += n * $2 }
    $1 == "pop_hr1" { phr1 += n * $2 } $1 == "pop_hr_at_k" { phrk += n * $2 } $1 == "pop_ndcg_at_k" { pnd += n * $2 } $1 == "pop_mrr" { pmrr += n * $2 }
    END {
        if (na) { m = auc / na; v = na > 1 ? (auc2 - na * m * m) / (na - 1) : 0; sd = sqrt(v > 0 ? v : 0)  # sample sd (ddof 1), as crossval.sh and the peers
                   printf "%-11s AUC %.4f +- %.4f over %d folds\n", "torch", m, sd, na }
        if (w) {
            printf "%-11s HR@1 %.4f  HR@%d %.4f  NDCG@%d %.4f  MRR %.4f  (%d customers)\n", "torch", hr1 / w, k, hrk / w, k, nd / w, mrr / w, w
            printf "%-11s HR@1 %.4f  HR@%d %.4f  NDCG@%d %.4f  MRR %.4f  (%d customers)\n", "popularity", phr1 / w, k, phrk / w, k, pnd / w, pmrr / w, w
        }
    }' $(ls "$out"/fold*.txt) | sort | tee "$out/summary.txt"
