/* Item-kNN and EASE baselines (base.h). */
#include "base/base.h"

#include <math.h>
#include <string.h>

/* LAPACK of OpenBLAS (Fortran: column-major, arguments by reference, a hidden string length).
 * G is symmetric, so column-major lower is row-major upper and the result is symmetrised. */
extern void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info, size_t uplo_len);
extern void spotri_(const char *uplo, const int *n, float *a, const int *lda, int *info, size_t uplo_len);

static int check_rows(const base_rows *x, int nitems, hp_error *err)
{
    if (nitems <= 0) return hp_fail(err, HP_ERR_INVAL, "baseline: %d items (need at least 1)", nitems);
    if (!x || x->nrows < 0 || (x->nrows > 0 && (!x->off || (!x->ids && x->off[x->nrows] > 0))))
        return hp_fail(err, HP_ERR_INVAL, "baseline: no rows given");
    for (int r = 0; r < x->nrows; r++) {
        if (x->off[r + 1] < x->off[r]) return hp_fail(err, HP_ERR_INVAL, "baseline: row %d: offsets decrease", r);
        for (int64_t k = x->off[r]; k < x->off[r + 1]; k++)
            if (x->ids[k] < 0 || x->ids[k] >= nitems)
                return hp_fail(err, HP_ERR_INVAL, "baseline: row %d: item %d is outside 0..%d", r, (int)x->ids[k], nitems - 1);
    }
    return HP_OK;
}

/* g (P, P) = X'X: co-occurrence counts (exact in float below 2^24 rows), each row's
 * duplicates counted once (stamp marks the items seen in the current row). */
static int gram(const base_rows *x, int P, float *g)
{
    int *stamp = hp_malloc((size_t)P * sizeof *stamp);
    int32_t *uniq = hp_malloc((size_t)P * sizeof *uniq);
    if (!stamp || !uniq) {
        hp_free(stamp);
        hp_free(uniq);
        return HP_ERR_NOMEM;
    }
    for (int i = 0; i < P; i++) stamp[i] = -1;
    memset(g, 0, (size_t)P * (size_t)P * sizeof *g);
    for (int r = 0; r < x->nrows; r++) {
        int n = 0;
        for (int64_t k = x->off[r]; k < x->off[r + 1]; k++)
            if (stamp[x->ids[k]] != r) stamp[x->ids[k]] = r, uniq[n++] = x->ids[k];
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++) g[(size_t)uniq[a] * (size_t)P + (size_t)uniq[b]] += 1.0f;
    }
    hp_free(stamp);
    hp_free(uniq);
    return HP_OK;
}

static int alloc_model(base_model *m, int P)
{
    m->P = P;
    m->w = hp_malloc((size_t)P * (size_t)P * sizeof *m->w);
    return m->w ? HP_OK : HP_ERR_NOMEM;
}

static int fail_model(base_model *m, int rc, hp_error *err)
{
    base_model_free(m);
    if (rc == HP_ERR_NOMEM && err && !err->msg[0]) hp_fail(err, rc, "baseline: out of memory");
    return rc;
}

int base_knn_fit(base_model *m, const base_rows *x, int nitems, hp_error *err)
{
    memset(m, 0, sizeof *m);
    int rc = check_rows(x, nitems, err);
    if (rc) return rc;
    size_t P = (size_t)nitems;
    double *norm = hp_malloc(P * sizeof *norm);
    rc = norm ? alloc_model(m, nitems) : HP_ERR_NOMEM;
    if (!rc) rc = gram(x, nitems, m->w);
    for (size_t i = 0; !rc && i < P; i++) norm[i] = sqrt((double)m->w[i * P + i]);
    for (size_t i = 0; !rc && i < P; i++)
        for (size_t j = 0; j < P; j++) {
            double d = norm[i] * norm[j];
            m->w[i * P + j] = i == j || d == 0 ? 0.0f : (float)(m->w[i * P + j] / d);
        }
    hp_free(norm);
    return rc ? fail_model(m, rc, err) : HP_OK;
}

/* w holds G + lambda I; becomes B in place. */
static int ease_from_gram(float *w, int n, hp_error *err)
{
    int info = 0;
    size_t P = (size_t)n;
    spotrf_("L", &n, w, &n, &info, 1);
    if (info != 0)
        return hp_fail(err, HP_ERR_RANGE, "EASE: the Cholesky factorisation failed (LAPACK spotrf info %d): "
                       "X'X + lambda I is not positive definite in float; try a larger lambda", info);
    spotri_("L", &n, w, &n, &info, 1);
    if (info != 0) return hp_fail(err, HP_ERR_RANGE, "EASE: the inverse failed (LAPACK spotri info %d)", info);
    /* column-major lower (i >= j) is w[j*P + i]: copy it to the other half */
    for (size_t j = 0; j < P; j++)
        for (size_t i = j + 1; i < P; i++) w[i * P + j] = w[j * P + i];
    float *diag = hp_malloc(P * sizeof *diag);
    if (!diag) return HP_ERR_NOMEM;
    for (size_t j = 0; j < P; j++) diag[j] = w[j * P + j];
    for (size_t i = 0; i < P; i++)
        for (size_t j = 0; j < P; j++) w[i * P + j] = i == j ? 0.0f : -w[i * P + j] / diag[j];
    hp_free(diag);
    return HP_OK;
}

int base_ease_fit(base_model *m, const base_rows *x, int nitems, double lambda, hp_error *err)
{
    memset(m, 0, sizeof *m);
    int rc = check_rows(x, nitems, err);
    if (rc) return rc;
    if (!(lambda > 0) || !isfinite(lambda)) return hp_fail(err, HP_ERR_INVAL, "EASE: lambda %g must be a number > 0", lambda);
    size_t P = (size_t)nitems;
    rc = alloc_model(m, nitems);
    if (!rc) rc = gram(x, nitems, m->w);
    for (size_t i = 0; !rc && i < P; i++) m->w[i * P + i] += (float)lambda;
    if (!rc) rc = ease_from_gram(m->w, nitems, err);
    return rc ? fail_model(m, rc, err) : HP_OK;
}

void base_score(const base_model *m, const int32_t *items, int n, float *scores)
{
    size_t P = (size_t)m->P;
    for (size_t j = 0; j < P; j++) scores[j] = 0.0f;
    for (int k = 0; k < n; k++) {
        if (items[k] < 0 || items[k] >= m->P) continue;
        const float *row = m->w + (size_t)items[k] * P;
        for (size_t j = 0; j < P; j++) scores[j] += row[j];
    }
}

void base_model_free(base_model *m)
{
    if (!m) return;
    hp_free(m->w);
    memset(m, 0, sizeof *m);
}

int base_ease_select(base_model *m, const base_rows *x, int nitems, const double *lambdas, int nl,
                     base_metric_fn metric, void *ctx, int *best, double *metrics, hp_error *err)
{
    memset(m, 0, sizeof *m);
    *best = 0;
    if (nl <= 0 || !lambdas || !metric) return hp_fail(err, HP_ERR_INVAL, "EASE: no lambda to choose from");
    double best_v = NAN;
    for (int l = 0; l < nl; l++) {
        base_model cand;
        double v = NAN;
        int rc = base_ease_fit(&cand, x, nitems, lambdas[l], err);
        if (!rc) rc = metric(&cand, ctx, &v, err);
        if (rc) {
            base_model_free(&cand);
            base_model_free(m);
            return rc;
        }
        if (metrics) metrics[l] = v;
        int better = !isnan(v) && (isnan(best_v) || v > best_v);
        if (l == 0 || better) {
            base_model_free(m);
            *m = cand;
            *best = l;
            if (better) best_v = v;
        } else {
            base_model_free(&cand);
        }
    }
    return HP_OK;
}
