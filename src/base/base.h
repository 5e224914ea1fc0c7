/* base: classic item-item baselines any model can be compared with (item-kNN, EASE).
 *
 * Input: a CSR of each customer's positive item indices (binary, implicit feedback) and the
 * item count P. Both baselines fit one item-item weight matrix W (P x P, row-major float),
 * and score a customer holding items H as score(j) = sum over i in H of W[i][j]:
 *  - item-kNN ("all neighbours"): W[i][j] = cosine of items i and j over the customers'
 *    binary vectors, |c holds i and j| / sqrt(|c holds i| |c holds j|); 0 when either item
 *    has no customer; W[i][i] = 0.
 *  - EASE (Steck 2019): G = X'X + lambda I, Pm = G^-1 (Cholesky, LAPACK spotrf/spotri of
 *    OpenBLAS), W = B with B[i][j] = -Pm[i][j] / Pm[j][j] for i != j, B[i][i] = 0.
 * Duplicated items in a row count once; rows may be empty.
 *
 * Memory: P*P floats for W (EASE needs no more; item-kNN P*P floats while fitting plus P
 * doubles). Time: sum over rows of |row|^2 for the co-occurrences; EASE adds P^3/3 for the
 * Cholesky and P^3/3 for the inverse. Callers limit P (rec: evaluate.ease_max_items).
 *
 * Ownership: the inputs are borrowed for the call; a fitted base_model owns W, freed with
 * base_model_free (on a zeroed or failed model too).
 * Failure: HP_OK, or HP_ERR_INVAL (nitems <= 0, a NULL array, an item outside [0, P) naming
 * the row, lambda not > 0), HP_ERR_NOMEM, HP_ERR_RANGE (the Cholesky failed: G not positive
 * definite in float, LAPACK's info in the message). On failure *m is zeroed.
 * Threading: fitting and scoring use no global state (OpenBLAS's own threads aside, see
 * OPENBLAS_NUM_THREADS); a fitted model may be scored from many threads at once. */
#ifndef BASE_H
#define BASE_H

#include "core/hp.h"

#include <stdint.h>

/* Each row's items: ids[off[r] .. off[r+1]) for r in [0, nrows). Borrowed. */
typedef struct {
    const int64_t *off;      /* (nrows + 1) */
    const int32_t *ids;
    int nrows;
} base_rows;

typedef struct {
    int P;
    float *w;                /* (P, P) row-major: w[i*P + j] = weight of held item i toward j */
} base_model;

int base_knn_fit(base_model *m, const base_rows *x, int nitems, hp_error *err);
int base_ease_fit(base_model *m, const base_rows *x, int nitems, double lambda, hp_error *err);

/* scores[0..P) = sum over items[0..n) of row items[i] of W (an item outside [0, P) is
 * ignored; an item given twice adds its row twice). Never fails. */
void base_score(const base_model *m, const int32_t *items, int n, float *scores);

void base_model_free(base_model *m);

/* Validation metric of a fitted model (higher is better; NaN: undefined). Non-zero status
 * stops the selection with it. */
typedef int (*base_metric_fn)(const base_model *m, void *ctx, double *metric, hp_error *err);

/* Fits EASE for each lambdas[0..nl) (each > 0), asks metric for its validation value,
 * and keeps the best in *m: the highest metric, the first (lowest index) on ties, NaN
 * metrics never chosen. *best = its index (all NaN: index 0 kept); metrics (nl, or NULL)
 * receives every value. Fails as base_ease_fit, or with metric's status, or HP_ERR_INVAL
 * for nl <= 0. */
int base_ease_select(base_model *m, const base_rows *x, int nitems, const double *lambdas, int nl,
                     base_metric_fn metric, void *ctx, int *best, double *metrics, hp_error *err);

#endif
