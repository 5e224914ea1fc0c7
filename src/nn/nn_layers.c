/* nn layers: linear, embedding, embedding bag, layer norm, ReLU, GELU, dropout, softmax.
 * Forward overwrites its outputs; backward adds into gradients (see nn.h). */
#include "nn/nn.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ linear */

void nn_linear_forward(float *out, const float *inp, const float *weight, const float *bias,
                       int N, int IC, int OC)
{
    if (N <= 0 || OC <= 0) return;
    float beta = 0.0f;
    if (bias) {
        /* Seed out with the bias so sgemm adds the product in one pass (beta = 1). */
        for (int n = 0; n < N; n++) memcpy(out + (size_t)n * OC, bias, (size_t)OC * sizeof *out);
        beta = 1.0f;
    }
    if (IC <= 0) {
        if (!bias) memset(out, 0, (size_t)N * OC * sizeof *out);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, IC, 1.0f, inp, IC, weight, IC,
                beta, out, OC);
}

void nn_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, int N, int IC, int OC)
{
    if (N <= 0 || OC <= 0) return;
    if (dinp && IC > 0) /* dinp (N,IC) += dout (N,OC) @ W (OC,IC) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, IC, OC, 1.0f, dout, OC,
                    weight, IC, 1.0f, dinp, IC);
    if (dweight && IC > 0) /* dW (OC,IC) += dout^T (OC,N) @ inp (N,IC) */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, IC, N, 1.0f, dout, OC, inp,
                    IC, 1.0f, dweight, IC);
    if (dbias)
        for (int n = 0; n < N; n++) {
            const float *d = dout + (size_t)n * OC;
            for (int o = 0; o < OC; o++) dbias[o] += d[o];
        }
}

/* ------------------------------------------------------------------ embedding */

void nn_embedding_forward(float *out, const int32_t *ids, const float *table, int N, int C)
{
    for (int i = 0; i < N; i++) {
        assert(ids[i] >= 0);
        memcpy(out + (size_t)i * C, table + (size_t)ids[i] * C, (size_t)C * sizeof *out);
    }
}

void nn_embedding_backward(float *dtable, const float *dout, const int32_t *ids, int N, int C)
{
    if (!dtable) return;
    for (int i = 0; i < N; i++) {
        float *dt = dtable + (size_t)ids[i] * C;
        const float *d = dout + (size_t)i * C;
        for (int c = 0; c < C; c++) dt[c] += d[c];
    }
}

/* ------------------------------------------------------------------ embedding bag */

/* The factor every item of bag [s, e) is multiplied by besides its own weight. */
static float bag_scale(int64_t s, int64_t e, nn_bag_mode mode)
{
    return (mode == NN_BAG_MEAN && e > s) ? 1.0f / (float)(e - s) : 1.0f;
}

void nn_embedding_bag_forward(float *out, const int32_t *ids, const int64_t *offsets,
                              const float *weights, const float *table, int B, int C,
                              nn_bag_mode mode)
{
    for (int b = 0; b < B; b++) {
        int64_t s = offsets[b], e = offsets[b + 1];
        assert(s <= e);
        float *o = out + (size_t)b * C;
        memset(o, 0, (size_t)C * sizeof *o);
        for (int64_t i = s; i < e; i++) {
            assert(ids[i] >= 0);
            const float *row = table + (size_t)ids[i] * C;
            float w = weights ? weights[i] : 1.0f;
            for (int c = 0; c < C; c++) o[c] += w * row[c];
        }
        float scale = bag_scale(s, e, mode);
        if (scale != 1.0f)
            for (int c = 0; c < C; c++) o[c] *= scale;
    }
}

void nn_embedding_bag_backward(float *dtable, float *dweights, const float *dout,
                               const int32_t *ids, const int64_t *offsets,
                               const float *weights, const float *table, int B, int C,
                               nn_bag_mode mode)
{
    for (int b = 0; b < B; b++) {
        int64_t s = offsets[b], e = offsets[b + 1];
        float scale = bag_scale(s, e, mode);
        const float *d = dout + (size_t)b * C;
        for (int64_t i = s; i < e; i++) {
            size_t row = (size_t)ids[i] * C;
            if (dtable) {
                float w = scale * (weights ? weights[i] : 1.0f);
                for (int c = 0; c < C; c++) dtable[row + c] += w * d[c];
            }
            if (dweights) {
                float dot = 0.0f;
                for (int c = 0; c < C; c++) dot += d[c] * table[row + c];
                dweights[i] += scale * dot;
            }
        }
    }
}

/* ------------------------------------------------------------------ layer norm */

void nn_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                          const float *weight, const float *bias, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *o = out + (size_t)n * C;
        /* Statistics in double: cheap here and keeps the biased variance exact enough to
         * match torch to float rounding. */
        double m = 0.0, v = 0.0;
        for (int c = 0; c < C; c++) m += x[c];
        m /= C;
        for (int c = 0; c < C; c++) v += (x[c] - m) * (x[c] - m);
        v /= C;
        float s = (float)(1.0 / sqrt(v + (double)NN_LAYERNORM_EPS));
        float mf = (float)m;
        for (int c = 0; c < C; c++) o[c] = (x[c] - mf) * s * weight[c] + bias[c];
        mean[n] = mf;
        rstd[n] = s;
    }
}

void nn_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                           const float *inp, const float *weight, const float *mean,
                           const float *rstd, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *d = dout + (size_t)n * C, *x = inp + (size_t)n * C;
        float m = mean[n], s = rstd[n];
        /* dinp = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm)) */
        float dnorm_mean = 0.0f, dnorm_norm_mean = 0.0f;
        for (int c = 0; c < C; c++) {
            float dnorm = weight[c] * d[c];
            dnorm_mean += dnorm;
            dnorm_norm_mean += dnorm * (x[c] - m) * s;
        }
        dnorm_mean /= (float)C;
        dnorm_norm_mean /= (float)C;
        for (int c = 0; c < C; c++) {
            float norm = (x[c] - m) * s;
            if (dbias) dbias[c] += d[c];
            if (dweight) dweight[c] += norm * d[c];
            if (dinp) dinp[(size_t)n * C + c] +=
                s * (weight[c] * d[c] - dnorm_mean - norm * dnorm_norm_mean);
        }
    }
}

/* ------------------------------------------------------------------ ReLU, GELU */

void nn_relu_forward(float *out, const float *inp, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

void nn_relu_backward(float *dinp, const float *dout, const float *inp, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (inp[i] > 0.0f) dinp[i] += dout[i];
}

#define NN_INV_SQRT2 0.70710678118654752440f
#define NN_INV_SQRT_2PI 0.39894228040143267794f

void nn_gelu_forward(float *out, const float *inp, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + erff(x * NN_INV_SQRT2));
    }
}

void nn_gelu_backward(float *dinp, const float *dout, const float *inp, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        float cdf = 0.5f * (1.0f + erff(x * NN_INV_SQRT2));
        float pdf = NN_INV_SQRT_2PI * expf(-0.5f * x * x);
        dinp[i] += dout[i] * (cdf + x * pdf);
    }
}

/* ------------------------------------------------------------------ dropout */

void nn_dropout_forward(float *out, uint8_t *mask, const float *inp, size_t n, float p,
                        int training, hp_rng *rng)
{
    assert(p >= 0.0f && p < 1.0f);
    if (!training || p <= 0.0f) {
        memmove(out, inp, n * sizeof *out);
        if (mask) memset(mask, 1, n);
        return;
    }
    float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        mask[i] = hp_rng_uniform(rng) >= (double)p;
        out[i] = mask[i] ? inp[i] * scale : 0.0f;
    }
}

void nn_dropout_backward(float *dinp, const float *dout, const uint8_t *mask, size_t n,
                         float p)
{
    float scale = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
    for (size_t i = 0; i < n; i++)
        if (mask[i]) dinp[i] += dout[i] * scale;
}

/* ------------------------------------------------------------------ softmax */

void nn_softmax_forward(float *out, const float *inp, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *o = out + (size_t)n * C;
        float max = -INFINITY;
        for (int c = 0; c < C; c++) max = x[c] > max ? x[c] : max;
        double sum = 0.0;
        for (int c = 0; c < C; c++) {
            o[c] = expf(x[c] - max);
            sum += o[c];
        }
        float inv = (float)(1.0 / sum);
        for (int c = 0; c < C; c++) o[c] *= inv;
    }
}

void nn_softmax_backward(float *dinp, const float *dout, const float *out, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *d = dout + (size_t)n * C, *y = out + (size_t)n * C;
        float dot = 0.0f;
        for (int c = 0; c < C; c++) dot += d[c] * y[c];
        for (int c = 0; c < C; c++) dinp[(size_t)n * C + c] += y[c] * (d[c] - dot);
    }
}
