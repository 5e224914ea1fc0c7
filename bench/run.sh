#!/usr/bin/env bash
# make bench: each figure beside a baseline run in the same script, printed as a ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
need=""
for p in python3-pandas python3-torch python3-numpy; do dpkg -s $p >/dev/null 2>&1 || need="$need $p"; done
if [ -n "$need" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need; fi
export OPENBLAS_NUM_THREADS=1
mkdir -p artifacts/bench
CC=${CC:-gcc}
CFLAGS="-std=c11 -O2 -g -Isrc -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(pkg-config --cflags jansson)"
LIBS="lib/libhyperp.a $(pkg-config --libs jansson) -lopenblas -lm -lpthread"
$CC $CFLAGS bench/bench_ingest.c $LIBS -o artifacts/bench/bench_ingest

ROWS=${BENCH_ROWS:-1000000}
wide=artifacts/bench/wide.csv
if [ ! -f "$wide" ] || [ "$(($(wc -l < "$wide") - 1))" -ne "$ROWS" ]; then
    echo "generating $ROWS-row 20-column CSV ..."
    awk -v N="$ROWS" -f bench/gen_wide.awk > "$wide"
fi
echo "== ingest: $ROWS rows x 20 columns ($(du -h "$wide" | cut -f1)), one core, best of 3"
ours=$(artifacts/bench/bench_ingest bench/wide.json 3)
theirs=$($PY bench/ingest_pandas.py "$wide" 3)
echo "$ours"
echo "$theirs"
a=$(echo "$ours" | awk '/ingest_rows_per_s/ {print $2}')
b=$(echo "$theirs" | awk '/pandas_rows_per_s/ {print $2}')
awk -v a="$a" -v b="$b" 'BEGIN { printf "ingest: hyperp %.2fM rows/s, pandas.read_csv %.2fM rows/s, ratio %.2fx\n", a/1e6, b/1e6, a/b }' \
    | tee artifacts/bench/ingest.txt

for extra in bench/bench_*.sh; do [ -x "$extra" ] && "$extra"; done
exit 0
