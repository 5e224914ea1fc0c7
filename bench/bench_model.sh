#!/usr/bin/env bash
# Recommender: hyperp (C) beside the PyTorch baseline (bench/torch_model.py) on the same
# exported tensors. Called by bench/run.sh; writes the table to artifacts/bench/model.txt.
# BENCH_CUSTOMERS (20000), BENCH_CALLS (5000), BENCH_THREADS ("1 2") override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1            # torch.set_num_threads / openblas_set_num_threads set the count
export OMP_WAIT_POLICY=PASSIVE           # torch's OpenMP threads sleep at barriers: on a shared 2-core box
                                         # spinning made torch 2-thread runs ~25x slower
A=artifacts/bench
N=${BENCH_CUSTOMERS:-20000} CALLS=${BENCH_CALLS:-5000} THREADS=${BENCH_THREADS:-"1 2"}
mkdir -p $A/c_model
# release lib (make bench built it) + this bench at -O3 -march=native
CFLAGS="-std=c11 -O3 -march=native -g -Isrc -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(pkg-config --cflags jansson)"
LIBS="lib/libhyperp.a $(pkg-config --libs jansson sqlite3 libsodium 2>/dev/null || echo -ljansson -lsqlite3 -lsodium) -lopenblas -lm -lpthread"
gcc $CFLAGS bench/bench_model.c $LIBS -o $A/bench_model
gcc $CFLAGS bench/export_model_data.c $LIBS -o $A/export_model_data

[ -f $A/synth/customers.csv ] && [ "$(($(wc -l < $A/synth/customers.csv) - 1))" -eq "$N" ] ||
    bin/hyperp synth --customers "$N" --out $A/synth >/dev/null
$A/export_model_data $A/synth $A/model_data.bin

get() { awk -v k="$1" '$1 == k { print $2 }' <<< "$2"; }
out=$A/model.txt
f=$($A/bench_model flops $A/synth)      # analytic FLOPs per training example
p=$($A/bench_model peak)                # sgemm 512^3, best of 20, 1 and 2 threads
{
echo "== recommender: hyperp (C) vs PyTorch $($PY -c 'import torch; print(torch.__version__)'), synthetic $N customers"
# 1. accuracy + 1-thread throughput: the config's full run (early stopping on validation NDCG)
c=$($A/bench_model train $A/synth 1 0 $A/c_model)
t=$($PY bench/torch_model.py $A/model_data.bin 1 train 0 2>/dev/null)
printf "%-34s %12s %12s %8s\n" "" hyperp torch "hyperp/torch"
# the last column: how many times better hyperp is (a/b for rates and metrics, b/a for latencies)
row() { awk -v n="$1" -v a="$2" -v b="$3" -v f="$4" -v inv="${5:-0}" 'BEGIN {
    printf "%-34s %12" f " %12" f " %7.2fx\n", n, a, b, inv ? b / a : a / b }'; }
row "train ex/s, 1 thread (full run)" "$(get examples_per_s "$c")" "$(get examples_per_s "$t")" .0f
printf "%-34s %12s %12s\n" "epochs run (best epoch)" "$(get epochs_run "$c") ($(get best_epoch "$c"))" "$(get epochs_run "$t") ($(get best_epoch "$t"))"
row "test NDCG@10" "$(get ndcg10 "$c")" "$(get ndcg10 "$t")" .4f
row "test HR@10" "$(get hr10 "$c")" "$(get hr10 "$t")" .4f
# 2. throughput at each thread count: 3 epochs, no validation in the timed steps
for th in $THREADS; do
    c=$($A/bench_model train $A/synth "$th" 3 $A/c_model)
    t=$($PY bench/torch_model.py $A/model_data.bin "$th" train 3 2>/dev/null)
    row "train ex/s, $th thread(s), 3 epochs" "$(get examples_per_s "$c")" "$(get examples_per_s "$t")" .0f
done
# 3. serving: one customer per call, top-10 of 1000 products
for th in $THREADS; do
    c=$($A/bench_model serve $A/synth "$th" "$CALLS")
    t=$($PY bench/torch_model.py $A/model_data.bin "$th" serve "$CALLS")
    row "top-10 p50 us, $th thread(s)" "$(get p50_us "$c")" "$(get p50_us "$t")" .1f 1
    row "top-10 p99 us, $th thread(s)" "$(get p99_us "$c")" "$(get p99_us "$t")" .1f 1
done
# 4. FLOPs and the machine's sgemm peak
awk -v ft="$(get flops_train "$f")" -v fo="$(get flops_opt "$f")" -v p1="$(get sgemm_gflops_1t "$p")" \
    -v p2="$(get sgemm_gflops_2t "$p")" -v np="$(get params "$f")" 'BEGIN {
    printf "FLOPs/example: model %.0f (3 x forward), AdamW+clip %.0f (%d params, dense, per step / batch)\n", ft, fo, np
    printf "sgemm 512^3 peak: %.1f GFLOP/s (1 thread), %.1f GFLOP/s (2 threads)\n", p1, p2 }'
} | tee $out.tmp
# fraction of the 1-thread peak reached by the 1-thread 3-epoch training run
ex=$(awk '/train ex\/s, 1 thread\(s\)/ { print $(NF-2) }' $out.tmp)
awk -v ex="$ex" -v ft="$(get flops_train "$f")" -v fo="$(get flops_opt "$f")" -v p1="$(get sgemm_gflops_1t "$p")" 'BEGIN {
    printf "hyperp training at 1 thread: %.3f GFLOP/s model (%.2f%% of sgemm peak), %.3f GFLOP/s with the optimiser (%.2f%%)\n",
        ex * ft / 1e9, 100 * ex * ft / (p1 * 1e9), ex * (ft + fo) / 1e9, 100 * ex * (ft + fo) / (p1 * 1e9) }' | tee -a $out.tmp
echo "targets: training >= 5x torch examples/s; p99 top-10 < 50 us in process" | tee -a $out.tmp
mv $out.tmp $out
