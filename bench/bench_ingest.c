/* Ingest throughput: rows/s of data_ingest over a config, best of R runs, in process.
 * usage: bench_ingest CONFIG [RUNS]   prints "ingest_rows_per_s <value>" */
#include "data/data.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_ingest CONFIG [RUNS]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    double best = 1e30;
    size_t rows = 0;
    for (int r = 0; r < runs; r++) {
        data_dataset ds;
        hp_error err = { 0 };
        data_ingest_report rep;
        if (data_config_load(&ds, argv[1], &err) || data_ingest(&ds, NULL, &rep, &err)) {
            fprintf(stderr, "bench_ingest: %s\n", err.msg);
            return 1;
        }
        if (rep.total_rejected) fprintf(stderr, "bench_ingest: %zu rows rejected\n", rep.total_rejected);
        rows = rep.rows[DATA_T_CUSTOMERS];
        if (rep.seconds < best) best = rep.seconds;
        data_dataset_free(&ds);
    }
    printf("ingest_rows %zu\ningest_seconds %.4f\ningest_rows_per_s %.0f\n", rows, best, (double)rows / best);
    return 0;
}
