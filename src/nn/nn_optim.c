/* nn optimiser: AdamW as torch.optim.AdamW, global-norm clipping, the learning-rate
 * schedule and the BLAS thread count. */
#include "nn/nn.h"

#include <math.h>
#include <string.h>

/* OpenBLAS extensions; declared here because a netlib cblas.h does not have them. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

nn_adamw_config nn_adamw_defaults(void)
{
    return (nn_adamw_config){ .lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                              .weight_decay = 1e-2f };
}

/* One tensor of n floats. The operation order follows torch's _single_tensor_adamw so the
 * float rounding matches: decay, moments, then p += -step_size * m / denom. */
static void adamw_tensor(float *restrict p, float *restrict g, float *restrict m,
                         float *restrict v, size_t n, const nn_adamw_config *c, float decay,
                         float step_size, float bc2_sqrt)
{
    /* restrict and locals let the compiler vectorise this loop: it touches every parameter
     * every step, so it is the hottest loop of training. */
    const float b1 = c->beta1, b2 = c->beta2, eps = c->eps, ib1 = 1.0f - b1, ib2 = 1.0f - b2;
    for (size_t i = 0; i < n; i++) {
        p[i] *= decay;
        m[i] = m[i] * b1 + g[i] * ib1;
        v[i] = v[i] * b2 + ib2 * g[i] * g[i];
        float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        p[i] += -step_size * (m[i] / denom);
    }
    if (c->zero_grad) memset(g, 0, n * sizeof *g); /* still in cache: cheaper than a later sweep */
}

void nn_adamw_step(nn_params *p, const nn_adamw_config *cfg, float lr, long t)
{
    if (lr < 0.0f) lr = cfg->lr;
    if (t < 1) t = 1;
    double bc1 = 1.0 - pow((double)cfg->beta1, (double)t);
    double bc2 = 1.0 - pow((double)cfg->beta2, (double)t);
    float step_size = (float)((double)lr / bc1);
    float bc2_sqrt = (float)sqrt(bc2);
    for (int i = 0; i < p->n; i++) {
        const nn_tensor *ti = &p->t[i];
        double wd = (ti->flags & NN_PARAM_NO_DECAY) ? 0.0 : (double)cfg->weight_decay;
        float decay = (float)(1.0 - (double)lr * wd);
        size_t o = ti->offset;
        adamw_tensor(p->data + o, p->grad + o, p->m + o, p->v + o, ti->size, cfg, decay,
                     step_size, bc2_sqrt);
    }
}

float nn_grad_norm(const nn_params *p)
{
    /* Padding between tensors is never written, so the whole block can be summed. Eight
     * partial sums break the serial dependency (the order is fixed: results reproduce). */
    double s[8] = { 0 };
    const float *g = p->grad;
    size_t i = 0, n = p->total;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += (double)g[i + k] * g[i + k];
    for (; i < n; i++) s[0] += (double)g[i] * g[i];
    return (float)sqrt(((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])));
}

float nn_clip_grad_norm(nn_params *p, float max_norm)
{
    float norm = nn_grad_norm(p);
    if (max_norm <= 0.0f) return norm;
    double coef = (double)max_norm / ((double)norm + 1e-6);
    if (coef < 1.0) {
        float c = (float)coef;
        for (size_t i = 0; i < p->total; i++) p->grad[i] *= c;
    }
    return norm;
}

float nn_lr_at(const nn_lr_schedule *s, long step)
{
    if (step < 0) step = 0;
    if (step < s->warmup) return s->lr_max * (float)(step + 1) / (float)s->warmup;
    long span = s->total - s->warmup;
    if (span <= 0 || step >= s->total) return s->lr_min;
    double progress = (double)(step - s->warmup) / (double)span;
    double cosine = 0.5 * (1.0 + cos(3.14159265358979323846 * progress));
    return (float)(s->lr_min + (s->lr_max - s->lr_min) * cosine);
}

void nn_rng_stream(hp_rng *r, uint64_t seed, const char *purpose)
{
    hp_rng_seed(r, seed ^ hp_hash_bytes(purpose, strlen(purpose)));
}

int nn_set_threads(int n)
{
    if (n > 0) openblas_set_num_threads(n);
    return openblas_get_num_threads();
}
