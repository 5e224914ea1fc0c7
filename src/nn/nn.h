/* nn: the neural-network core of hyperp (float32, CPU, llm.c style).
 *
 * Conventions
 *  - A layer is two functions. nn_<layer>_forward(out, saved..., inp, weights..., sizes)
 *    writes (overwrites) its outputs and whatever it saves for backward.
 *    nn_<layer>_backward(dinp, dweights..., dout, saved/inputs..., sizes) ADDS into every
 *    gradient buffer (`dw[i] += ...`), so a gradient that two paths reach is simply summed;
 *    the caller zeroes gradients explicitly (nn_params_zero_grad, memset on activations).
 *    Any gradient pointer may be NULL when the caller does not need that gradient (a frozen
 *    weight, an input that is data).
 *  - Unless a function says otherwise, outputs must not alias inputs.
 *  - Shapes are given in comments as (rows, cols) row-major; sizes are int (element counts
 *    beyond 2^31 are not a use case here), CSR offsets are int64_t.
 *  - Nothing in a forward, backward, loss or optimiser step allocates; buffers come from an
 *    nn_params block or an nn_arena sized once.
 *  - Integer inputs (ids, offsets) are trusted: the data layer validates them once at the
 *    edge; here they are only assert()ed.
 *  - This is the only module that calls BLAS (cblas_sgemm from OpenBLAS).
 *  - Randomness (init, dropout) comes only from an hp_rng the caller seeds, so a run is
 *    reproducible for a given seed and thread count (see nn_set_threads). */
#ifndef NN_H
#define NN_H

#include <stddef.h>
#include <stdint.h>

#include "core/hp.h"

/* ================================================================== parameter block */

#define NN_MAX_DIMS 4
#define NN_NAME_MAX 48

enum {
    NN_PARAM_NO_DECAY = 1u << 0 /* AdamW applies no weight decay (biases, norms) */
};

/* One named tensor; the caller fills name, ndim, shape, flags; nn_params_init fills
 * size and offset. */
typedef struct {
    char name[NN_NAME_MAX];
    int ndim;                 /* 1..NN_MAX_DIMS */
    int shape[NN_MAX_DIMS];   /* unused dims ignored */
    unsigned flags;           /* NN_PARAM_* */
    size_t size;              /* product of shape (set by init) */
    size_t offset;            /* in floats from the block start, 16-float aligned (set by init) */
} nn_tensor;

/* All parameters of a model. Parameters, gradients and the two AdamW moments each live
 * in ONE allocation of `total` floats, carved by the same offsets, so tensor i is
 * data + t[i].offset, grad + t[i].offset, and so on. */
typedef struct {
    int n;            /* number of tensors */
    nn_tensor *t;     /* (n) table, owned */
    size_t total;     /* floats per block, including alignment padding (which stays 0) */
    float *data;      /* (total) parameters */
    float *grad;      /* (total) gradients */
    float *m;         /* (total) AdamW first moment */
    float *v;         /* (total) AdamW second moment */
} nn_params;

/* Copies the table defs[0..n) and allocates the four blocks, all zeroed. Names must be
 * unique and non-empty, every dim > 0. Returns HP_OK, HP_ERR_INVAL (with the offending
 * tensor named in err) or HP_ERR_NOMEM; on failure *p is left empty (safe to free). */
int nn_params_init(nn_params *p, const nn_tensor *defs, int n, hp_error *err);

/* Frees all blocks; p may be NULL or already freed. */
void nn_params_free(nn_params *p);

/* Index of the tensor called name, or -1. */
int nn_params_find(const nn_params *p, const char *name);

/* Parameter / gradient of tensor `name`, pointing into the blocks (owned by p), or NULL
 * when there is no such tensor. */
float *nn_params_get(const nn_params *p, const char *name);
float *nn_params_grad(const nn_params *p, const char *name);

/* Sets every gradient to 0 (call before each backward pass). */
void nn_params_zero_grad(nn_params *p);

/* Sets both AdamW moments to 0 (a fresh optimiser). */
void nn_params_zero_state(nn_params *p);

/* ---- initialisers: fill w[0..n) ---- */
void nn_init_zeros(float *w, size_t n);
void nn_init_const(float *w, size_t n, float value);
void nn_init_normal(float *w, size_t n, float mean, float std, hp_rng *rng);
void nn_init_uniform(float *w, size_t n, float lo, float hi, hp_rng *rng);
/* Glorot/Xavier uniform for a (fan_out, fan_in) weight: U(-a, a), a = sqrt(6/(in+out)). */
void nn_init_xavier(float *w, int fan_out, int fan_in, hp_rng *rng);

/* ================================================================== activation arena */

/* One block, bump-allocated, reset between passes, sized by measurement: cap is a first
 * guess; an allocation that does not fit comes from the heap instead (correct, just not
 * free), and the next reset grows the block to the largest pass seen. So after one pass of
 * the largest batch no pass allocates, and no estimate can be too small. An allocation
 * fails only when memory is exhausted: it returns NULL and sets `failed` until the next
 * reset, and every pass that allocates from an arena must report that as HP_ERR_NOMEM. */
typedef struct {
    unsigned char *base; /* (cap) bytes, owned */
    size_t cap;
    size_t used;         /* bytes of the block handed out in this pass */
    size_t pass;         /* bytes handed out in this pass, block and heap */
    size_t peak;         /* largest `pass` seen: the block's size after the next reset */
    void **over;         /* heap allocations of this pass (freed by reset) */
    size_t nover, over_cap;
    int failed;          /* an allocation of this pass failed (out of memory) */
} nn_arena;

/* Allocates cap bytes (a first guess: see above). HP_OK or HP_ERR_NOMEM (message in err). */
int nn_arena_init(nn_arena *a, size_t cap, hp_error *err);
void nn_arena_free(nn_arena *a);
/* n floats, 64-byte aligned, NOT zeroed; NULL only when out of memory. */
float *nn_arena_floats(nn_arena *a, size_t n);
/* Same, zeroed (for gradient buffers that backward adds into). */
float *nn_arena_zeros(nn_arena *a, size_t n);
/* n bytes, 64-byte aligned, not zeroed, or NULL (out of memory). */
void *nn_arena_alloc(nn_arena *a, size_t n);
/* Forgets every allocation (heap ones are freed) and grows the block to the peak; the
 * memory is reused by the next pass. */
void nn_arena_reset(nn_arena *a);
/* 1 when an allocation since the last reset failed. */
int nn_arena_failed(const nn_arena *a);
/* Bytes an allocation of n bytes takes in the arena (with alignment), for sizing. */
size_t nn_arena_need(size_t n);

/* ================================================================== layers */

/* Linear, y = x W^T + b, W stored (OC, IC) like torch.nn.Linear.
 * out (N,OC), inp (N,IC), weight (OC,IC), bias (OC) or NULL. */
void nn_linear_forward(float *out, const float *inp, const float *weight, const float *bias,
                       int N, int IC, int OC);
/* dinp (N,IC), dweight (OC,IC), dbias (OC): each may be NULL; dout (N,OC). */
void nn_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, int N, int IC, int OC);

/* Embedding lookup: out[i] = table[ids[i]]. out (N,C), ids (N) in [0,V), table (V,C). */
void nn_embedding_forward(float *out, const int32_t *ids, const float *table, int N, int C);
/* dtable (V,C) += scatter of dout (N,C). */
void nn_embedding_backward(float *dtable, const float *dout, const int32_t *ids, int N, int C);

typedef enum { NN_BAG_SUM = 0, NN_BAG_MEAN = 1 } nn_bag_mode;

/* Embedding bag: bag b holds ids[offsets[b] .. offsets[b+1]) (CSR, B+1 int64 offsets,
 * offsets[0] = 0, offsets[B] = nnz; like torch include_last_offset=True).
 * SUM: out[b] = sum_i w_i table[id_i]; MEAN: the same divided by the NUMBER of items
 * (not the sum of weights). w_i = weights[i], or 1 when weights is NULL. An empty bag
 * gives a zero vector. out (B,C), ids (nnz), weights (nnz) or NULL, table (V,C). */
void nn_embedding_bag_forward(float *out, const int32_t *ids, const int64_t *offsets,
                              const float *weights, const float *table, int B, int C,
                              nn_bag_mode mode);
/* dtable (V,C) and dweights (nnz) (either may be NULL); dout (B,C). table is read only
 * for dweights (may be NULL otherwise), weights as in forward. */
void nn_embedding_bag_backward(float *dtable, float *dweights, const float *dout,
                               const int32_t *ids, const int64_t *offsets,
                               const float *weights, const float *table, int B, int C,
                               nn_bag_mode mode);

#define NN_LAYERNORM_EPS 1e-5f /* torch.nn.LayerNorm default */

/* Layer norm over the last dim. out (N,C), mean (N), rstd (N) saved for backward,
 * inp (N,C), weight (C), bias (C). */
void nn_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                          const float *weight, const float *bias, int N, int C);
/* dinp (N,C), dweight (C), dbias (C); dout (N,C); inp, mean, rstd from forward. */
void nn_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                           const float *inp, const float *weight, const float *mean,
                           const float *rstd, int N, int C);

/* ReLU. out, inp (n); out may alias inp. Backward uses inp (x > 0 passes, x <= 0 stops). */
void nn_relu_forward(float *out, const float *inp, size_t n);
void nn_relu_backward(float *dinp, const float *dout, const float *inp, size_t n);

/* GELU, the exact erf form, 0.5 x (1 + erf(x / sqrt 2)), as torch.nn.GELU() by default
 * (approximate='none'). out, inp (n); out may alias inp only if backward is not needed. */
void nn_gelu_forward(float *out, const float *inp, size_t n);
void nn_gelu_backward(float *dinp, const float *dout, const float *inp, size_t n);

/* Inverted dropout with drop probability p in [0,1): training keeps each element with
 * probability 1-p and scales it by 1/(1-p); mask (n) records 1 = kept, 0 = dropped.
 * When training is 0 (eval) or p == 0 it is the identity, mask (if not NULL) is set to all 1
 * and rng is not used (may be NULL). out, mask, inp (n); out may alias inp. */
void nn_dropout_forward(float *out, uint8_t *mask, const float *inp, size_t n, float p,
                        int training, hp_rng *rng);
/* dinp (n) += dout * mask / (1-p), with the mask and p of the forward call. */
void nn_dropout_backward(float *dinp, const float *dout, const uint8_t *mask, size_t n,
                         float p);

/* Row-wise softmax, max-subtracted for stability. out (N,C), inp (N,C); out may alias inp. */
void nn_softmax_forward(float *out, const float *inp, int N, int C);
/* dinp (N,C) += out * (dout - sum(dout * out)); out is the forward output. */
void nn_softmax_backward(float *dinp, const float *dout, const float *out, int N, int C);

/* Attention pooling over variable-size sets. Group g is rows[offsets[g] .. offsets[g+1])
 * (CSR, G+1 int64 offsets, offsets[G] = R). With keys = values = the rows:
 *   s_i = scale * (q . rows_i),  w = softmax(s) within the group,  out_g = sum_i w_i rows_i.
 * scale is usually 1/sqrtf(C) or 1. The weights (R) are returned so callers can show
 * them as explanations ("recommended because of these items"); they are also what
 * backward needs. An empty group gives a zero vector.
 * out (G,C), weights (R), rows (R,C), q (C). */
void nn_attnpool_forward(float *out, float *weights, const float *rows, const int64_t *offsets,
                         const float *q, float scale, int G, int C);
/* drows (R,C), dq (C) (either may be NULL); dout (G,C); weights from forward. */
void nn_attnpool_backward(float *drows, float *dq, const float *dout, const float *weights,
                          const float *rows, const int64_t *offsets, const float *q,
                          float scale, int G, int C);

/* Dot-product scoring against a whole catalogue, one sgemm:
 *   scores[b][j] = u_b . v_j + bias[j] + row_bias[b].
 * scores (B,M), u (B,C), v (M,C), bias (M) or NULL, row_bias (B) or NULL. */
void nn_score_forward(float *scores, const float *u, const float *v, const float *bias,
                      const float *row_bias, int B, int M, int C);
/* du (B,C), dv (M,C), dbias (M), drow_bias (B): each may be NULL; dscores (B,M). */
void nn_score_backward(float *du, float *dv, float *dbias, float *drow_bias,
                       const float *dscores, const float *u, const float *v, int B, int M,
                       int C);

/* Dot-product scoring for sampled candidates: cand (B,K) indexes rows of v (M,C):
 *   scores[b][k] = u_b . v[cand[b][k]] + bias[cand[b][k]] + row_bias[b].
 * scores (B,K), u (B,C), bias (M) or NULL, row_bias (B) or NULL. A candidate may repeat;
 * its gradients are summed. */
void nn_score_gather_forward(float *scores, const float *u, const float *v,
                             const int32_t *cand, const float *bias, const float *row_bias,
                             int B, int K, int C);
/* du (B,C), dv (M,C), dbias (M), drow_bias (B): each may be NULL; dscores (B,K). */
void nn_score_gather_backward(float *du, float *dv, float *dbias, float *drow_bias,
                              const float *dscores, const float *u, const float *v,
                              const int32_t *cand, int B, int K, int C);

/* ================================================================== losses
 * Each returns the loss, the MEAN over the batch (over all n elements for BCE and MSE),
 * computed in double. When the gradient pointer is not NULL it ADDS
 * dloss * d(loss)/d(input), so several weighted losses can share one gradient buffer;
 * pass dloss = 1 for a single loss. */

/* Sampled softmax: row b of logits (B,K1) holds the positive in column 0 followed by
 * K1-1 sampled negatives. With logq (B,K1) (log sampling probability of each candidate,
 * or NULL) the logits are corrected to logits - logq before the softmax (logQ
 * correction, Yi et al. 2019). loss = mean_b -log softmax(corrected_b)[0].
 * dlogits (B,K1) or NULL. */
float nn_sampled_softmax_loss(float *dlogits, const float *logits, const float *logq, int B,
                              int K1, float dloss);

/* BPR: mean_b -log sigmoid(pos_b - neg_b). pos, neg (B); dpos, dneg (B) or NULL. */
float nn_bpr_loss(float *dpos, float *dneg, const float *pos, const float *neg, int B,
                  float dloss);

/* Binary cross-entropy on logits, as torch.nn.BCEWithLogitsLoss (mean):
 * max(x,0) - x t + log(1 + exp(-|x|)), never overflowing. logits, targets (n) with
 * targets in [0,1]; dlogits (n) or NULL. */
float nn_bce_logits_loss(float *dlogits, const float *logits, const float *targets, size_t n,
                         float dloss);

/* Mean squared error, mean_i (pred_i - target_i)^2. pred, target (n); dpred (n) or NULL. */
float nn_mse_loss(float *dpred, const float *pred, const float *target, size_t n,
                  float dloss);

/* ================================================================== optimiser */

typedef struct {
    float lr;           /* used when nn_adamw_step gets lr < 0 */
    float beta1, beta2;
    float eps;
    float weight_decay; /* decoupled: p -= lr * weight_decay * p (skipped on NO_DECAY) */
    int zero_grad;      /* 1: set each gradient to 0 once used, in the same pass (saves the
                           separate nn_params_zero_grad sweep of a training loop) */
} nn_adamw_config;

/* torch.optim.AdamW defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2. */
nn_adamw_config nn_adamw_defaults(void);

/* One AdamW step over every tensor, exactly as torch.optim.AdamW (amsgrad off):
 *   p *= 1 - lr*wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *   p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
 * t is the 1-based step number (the caller keeps it, e.g. in its checkpoint); lr < 0 means
 * cfg->lr (pass the schedule's value otherwise). Uses p->grad as it is (clip first). */
void nn_adamw_step(nn_params *p, const nn_adamw_config *cfg, float lr, long t);

/* Global L2 norm over all gradients, in double. */
float nn_grad_norm(const nn_params *p);

/* Clips the global gradient norm like torch.nn.utils.clip_grad_norm_: scales every gradient
 * by min(1, max_norm / (norm + 1e-6)). Returns the norm BEFORE clipping (to log it).
 * max_norm <= 0 disables clipping (the norm is still returned). */
float nn_clip_grad_norm(nn_params *p, float max_norm);

/* Learning-rate schedule: linear warmup from lr_max/warmup to lr_max over `warmup` steps
 * (step 0 gives lr_max/warmup), then cosine decay from lr_max to lr_min until `total`
 * steps; lr_min after that. warmup 0 skips warmup. step is 0-based. */
typedef struct {
    float lr_max, lr_min;
    long warmup, total;
} nn_lr_schedule;
float nn_lr_at(const nn_lr_schedule *s, long step);

/* Seeds r for one purpose ("init", "dropout", "sampler", ...) of a run: the stream is
 * hp_rng_seed(seed ^ hash(purpose)), so adding a consumer of randomness does not shift the
 * numbers another one sees, and a run is reproduced from its single seed. */
void nn_rng_stream(hp_rng *r, uint64_t seed, const char *purpose);

/* Number of BLAS threads (openblas_set_num_threads); n <= 0 leaves it unchanged. Results
 * are reproducible for a fixed thread count. Returns the count now in effect. */
int nn_set_threads(int n);

#endif
