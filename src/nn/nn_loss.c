/* nn losses: value (mean over the batch, in double) and gradient added into the caller's
 * buffer, scaled by dloss (see nn.h). */
#include "nn/nn.h"

#include <math.h>

/* log(1 + exp(x)) without overflow for large x or loss of precision for very negative x. */
static double softplus(double x) { return (x > 0.0 ? x : 0.0) + log1p(exp(-fabs(x))); }

static double sigmoid(double x)
{
    if (x >= 0.0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

float nn_sampled_softmax_loss(float *dlogits, const float *logits, const float *logq, int B,
                              int K1, float dloss)
{
    if (B <= 0 || K1 <= 0) return 0.0f;
    double total = 0.0, g = (double)dloss / B;
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * K1;
        const float *lq = logq ? logq + (size_t)b * K1 : NULL;
        /* corrected logit k: z[k] - lq[k]; subtract the max before exp for stability */
        double max = -INFINITY;
        for (int k = 0; k < K1; k++) {
            double c = (double)z[k] - (lq ? lq[k] : 0.0);
            if (c > max) max = c;
        }
        double sum = 0.0;
        for (int k = 0; k < K1; k++) sum += exp((double)z[k] - (lq ? lq[k] : 0.0) - max);
        double lse = max + log(sum);
        total += lse - ((double)z[0] - (lq ? lq[0] : 0.0));
        if (!dlogits) continue;
        for (int k = 0; k < K1; k++) {
            double p = exp((double)z[k] - (lq ? lq[k] : 0.0) - lse);
            dlogits[(size_t)b * K1 + k] += (float)(g * (p - (k == 0)));
        }
    }
    return (float)(total / B);
}

float nn_bpr_loss(float *dpos, float *dneg, const float *pos, const float *neg, int B,
                  float dloss)
{
    if (B <= 0) return 0.0f;
    double total = 0.0, g = (double)dloss / B;
    for (int b = 0; b < B; b++) {
        double x = (double)pos[b] - neg[b];
        total += softplus(-x); /* -log sigmoid(x) */
        double d = -sigmoid(-x) * g; /* d loss / d x */
        if (dpos) dpos[b] += (float)d;
        if (dneg) dneg[b] -= (float)d;
    }
    return (float)(total / B);
}

float nn_bce_logits_loss(float *dlogits, const float *logits, const float *targets, size_t n,
                         float dloss)
{
    if (n == 0) return 0.0f;
    double total = 0.0, g = (double)dloss / (double)n;
    for (size_t i = 0; i < n; i++) {
        double x = logits[i], t = targets[i];
        total += (x > 0.0 ? x : 0.0) - x * t + log1p(exp(-fabs(x)));
        if (dlogits) dlogits[i] += (float)(g * (sigmoid(x) - t));
    }
    return (float)(total / (double)n);
}

float nn_mse_loss(float *dpred, const float *pred, const float *target, size_t n, float dloss)
{
    if (n == 0) return 0.0f;
    double total = 0.0, g = (double)dloss / (double)n;
    for (size_t i = 0; i < n; i++) {
        double r = (double)pred[i] - target[i];
        total += r * r;
        if (dpred) dpred[i] += (float)(g * 2.0 * r);
    }
    return (float)(total / (double)n);
}
