"""Baseline for the ingest benchmark: pandas.read_csv on the same file, best of R runs.
Run with Debian's /usr/bin/python3 (python3-pandas). Prints "pandas_rows_per_s <value>"."""
import sys
import time

import pandas

path = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
best = 1e30
rows = 0
for _ in range(runs):
    t0 = time.perf_counter()
    df = pandas.read_csv(path)
    best = min(best, time.perf_counter() - t0)
    rows = len(df)
print(f"pandas_rows {rows}\npandas_seconds {best:.4f}\npandas_rows_per_s {rows / best:.0f}")
