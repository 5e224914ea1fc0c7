/* nn set pooling and scoring: attention pooling over variable-size groups of rows and
 * dot-product scoring of users against items (full catalogue or sampled candidates). */
#include "nn/nn.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <string.h>

static float dot(const float *a, const float *b, int C)
{
    float s = 0.0f;
    for (int c = 0; c < C; c++) s += a[c] * b[c];
    return s;
}

/* y += a * x */
static void axpy(float *y, float a, const float *x, int C)
{
    for (int c = 0; c < C; c++) y[c] += a * x[c];
}

/* ------------------------------------------------------------------ attention pooling */

/* Softmax of the scaled scores of rows [s, e) against q, written to w[s..e). */
static void group_weights(float *w, const float *rows, int64_t s, int64_t e, const float *q,
                          float scale, int C)
{
    float max = -INFINITY;
    for (int64_t i = s; i < e; i++) {
        w[i] = scale * dot(q, rows + (size_t)i * C, C);
        if (w[i] > max) max = w[i];
    }
    double sum = 0.0;
    for (int64_t i = s; i < e; i++) {
        w[i] = expf(w[i] - max);
        sum += w[i];
    }
    float inv = (float)(1.0 / sum);
    for (int64_t i = s; i < e; i++) w[i] *= inv;
}

void nn_attnpool_forward(float *out, float *weights, const float *rows, const int64_t *offsets,
                         const float *q, float scale, int G, int C)
{
    for (int g = 0; g < G; g++) {
        int64_t s = offsets[g], e = offsets[g + 1];
        assert(s <= e);
        float *o = out + (size_t)g * C;
        memset(o, 0, (size_t)C * sizeof *o);
        if (s == e) continue;
        group_weights(weights, rows, s, e, q, scale, C);
        for (int64_t i = s; i < e; i++) axpy(o, weights[i], rows + (size_t)i * C, C);
    }
}

void nn_attnpool_backward(float *drows, float *dq, const float *dout, const float *weights,
                          const float *rows, const int64_t *offsets, const float *q,
                          float scale, int G, int C)
{
    for (int g = 0; g < G; g++) {
        int64_t s = offsets[g], e = offsets[g + 1];
        const float *d = dout + (size_t)g * C;
        /* The softmax backward needs sum_j w_j dw_j with dw_j = d . row_j; that sum is
         * d . out_g, recomputed here so no scratch buffer is needed. */
        float wsum = 0.0f;
        for (int64_t i = s; i < e; i++) wsum += weights[i] * dot(d, rows + (size_t)i * C, C);
        for (int64_t i = s; i < e; i++) {
            const float *row = rows + (size_t)i * C;
            float ds = weights[i] * (dot(d, row, C) - wsum); /* d loss / d score_i */
            if (drows) {
                float *dr = drows + (size_t)i * C;
                axpy(dr, weights[i], d, C);     /* value path */
                axpy(dr, scale * ds, q, C);     /* key path */
            }
            if (dq) axpy(dq, scale * ds, row, C);
        }
    }
}

/* ------------------------------------------------------------------ full scoring */

void nn_score_forward(float *scores, const float *u, const float *v, const float *bias,
                      const float *row_bias, int B, int M, int C)
{
    if (B <= 0 || M <= 0) return;
    for (int b = 0; b < B; b++) {
        float *s = scores + (size_t)b * M;
        float rb = row_bias ? row_bias[b] : 0.0f;
        for (int j = 0; j < M; j++) s[j] = (bias ? bias[j] : 0.0f) + rb;
    }
    if (C <= 0) return;
    if (B == 1) { /* serving one customer: sgemv, which does not re-pack v on every call */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, M, C, 1.0f, v, C, u, 1, 1.0f, scores, 1);
        return;
    }
    /* scores (B,M) += u (B,C) @ v^T (C,M) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, M, C, 1.0f, u, C, v, C, 1.0f,
                scores, M);
}

void nn_score_backward(float *du, float *dv, float *dbias, float *drow_bias,
                       const float *dscores, const float *u, const float *v, int B, int M,
                       int C)
{
    if (B <= 0 || M <= 0) return;
    if (du && C > 0) /* du (B,C) += dscores (B,M) @ v (M,C) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, C, M, 1.0f, dscores, M, v,
                    C, 1.0f, du, C);
    if (dv && C > 0) /* dv (M,C) += dscores^T (M,B) @ u (B,C) */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, C, B, 1.0f, dscores, M, u, C,
                    1.0f, dv, C);
    for (int b = 0; b < B; b++) {
        const float *d = dscores + (size_t)b * M;
        for (int j = 0; j < M; j++) {
            if (dbias) dbias[j] += d[j];
            if (drow_bias) drow_bias[b] += d[j];
        }
    }
}

/* ------------------------------------------------------------------ gathered scoring */

void nn_score_gather_forward(float *scores, const float *u, const float *v,
                             const int32_t *cand, const float *bias, const float *row_bias,
                             int B, int K, int C)
{
    for (int b = 0; b < B; b++) {
        const float *ub = u + (size_t)b * C;
        float rb = row_bias ? row_bias[b] : 0.0f;
        for (int k = 0; k < K; k++) {
            int32_t j = cand[(size_t)b * K + k];
            assert(j >= 0);
            scores[(size_t)b * K + k] =
                dot(ub, v + (size_t)j * C, C) + (bias ? bias[j] : 0.0f) + rb;
        }
    }
}

void nn_score_gather_backward(float *du, float *dv, float *dbias, float *drow_bias,
                              const float *dscores, const float *u, const float *v,
                              const int32_t *cand, int B, int K, int C)
{
    for (int b = 0; b < B; b++) {
        const float *ub = u + (size_t)b * C;
        for (int k = 0; k < K; k++) {
            int32_t j = cand[(size_t)b * K + k];
            float d = dscores[(size_t)b * K + k];
            if (du) axpy(du + (size_t)b * C, d, v + (size_t)j * C, C);
            if (dv) axpy(dv + (size_t)j * C, d, ub, C);
            if (dbias) dbias[j] += d;
            if (drow_bias) drow_bias[b] += d;
        }
    }
}
