/* Finite-difference gradient checks for every nn layer (w.r.t. inputs and weights) and
 * every loss, plus a test that the checker rejects a wrong gradient.
 *
 * Method: a layer's output `out` is reduced to the scalar objective f = sum_i r_i out_i
 * (r fixed and random, accumulated in double), so the analytic gradient is the layer's
 * backward with dout = r. Each input element x is moved by +-H and the central difference
 * (f(x+H) - f(x-H)) / (actual step) is compared with the analytic value. The forward is
 * float32, so H is large enough (1e-2) that float rounding (~1e-6 in f) stays far below the
 * tolerance, and small enough that the O(H^2) truncation error does too; the objective and
 * the difference are taken in double.
 * An element passes when |analytic - numeric| <= ATOL + RTOL * max(|analytic|, |numeric|),
 * ATOL = 1e-4, RTOL = 1e-3 (the worst layer uses ~17% of that; a gradient 1% off fails). */
#include "check.h"
#include "nn/nn.h"

#include <stdint.h>
#include <stdlib.h>

#define H 1e-2f
#define ATOL 1e-4
#define RTOL 1e-3

typedef double (*objective_fn)(void *ctx);

static hp_rng g_rng;

static void randn(float *x, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++) x[i] = scale * (float)hp_rng_normal(&g_rng);
}

static double project(const float *out, const float *r, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)out[i] * r[i];
    return s;
}

/* Worst normalised error over x[0..n) (<= 1 passes); *max_num gets the largest |numeric|
 * so a check where f does not depend on x at all cannot pass vacuously. */
static double gradcheck(objective_fn f, void *ctx, float *x, const float *ana, size_t n,
                        double *max_num)
{
    double worst = 0.0;
    *max_num = 0.0;
    for (size_t i = 0; i < n; i++) {
        float x0 = x[i], xp = x0 + H, xm = x0 - H;
        x[i] = xp;
        double fp = f(ctx);
        x[i] = xm;
        double fm = f(ctx);
        x[i] = x0;
        double num = (fp - fm) / ((double)xp - (double)xm);
        double a = ana[i];
        double err = fabs(a - num) / (ATOL + RTOL * fmax(fabs(a), fabs(num)));
        worst = fmax(worst, err);
        *max_num = fmax(*max_num, fabs(num));
    }
    return worst;
}

#define CHECK_GRAD(label, f, ctx, x, ana, n)                                              \
    do {                                                                                  \
        double max_num_;                                                                  \
        double worst_ = gradcheck((f), (ctx), (x), (ana), (n), &max_num_);                \
        printf("     %-28s worst %.3f of tolerance (max |grad| %.3g)\n", (label), worst_,  \
               max_num_);                                                                 \
        CHECKF(worst_ <= 1.0 && max_num_ > 0.0, "%s: worst error %.3g x tolerance, max "   \
               "|numeric grad| %.3g", (label), worst_, max_num_);                         \
    } while (0)

/* ------------------------------------------------------------------ linear */

enum { LN_N = 3, LN_IC = 4, LN_OC = 5 };
typedef struct {
    float x[LN_N * LN_IC], w[LN_OC * LN_IC], b[LN_OC], out[LN_N * LN_OC], r[LN_N * LN_OC];
    float dx[LN_N * LN_IC], dw[LN_OC * LN_IC], db[LN_OC];
} linear_ctx;

static double linear_f(void *p)
{
    linear_ctx *c = p;
    nn_linear_forward(c->out, c->x, c->w, c->b, LN_N, LN_IC, LN_OC);
    return project(c->out, c->r, LN_N * LN_OC);
}

static void linear_setup(linear_ctx *c)
{
    memset(c, 0, sizeof *c);
    randn(c->x, LN_N * LN_IC, 1.0f);
    randn(c->w, LN_OC * LN_IC, 0.5f);
    randn(c->b, LN_OC, 0.5f);
    randn(c->r, LN_N * LN_OC, 1.0f);
    linear_f(c);
    nn_linear_backward(c->dx, c->dw, c->db, c->r, c->x, c->w, LN_N, LN_IC, LN_OC);
}

TEST(test_linear)
{
    linear_ctx c;
    linear_setup(&c);
    /* the forward itself against the definition y = x W^T + b */
    for (int n = 0; n < LN_N; n++)
        for (int o = 0; o < LN_OC; o++) {
            double y = c.b[o];
            for (int i = 0; i < LN_IC; i++) y += (double)c.x[n * LN_IC + i] * c.w[o * LN_IC + i];
            CHECK_NEAR(c.out[n * LN_OC + o], y, 1e-5);
        }
    CHECK_GRAD("linear dinp", linear_f, &c, c.x, c.dx, LN_N * LN_IC);
    CHECK_GRAD("linear dweight", linear_f, &c, c.w, c.dw, LN_OC * LN_IC);
    CHECK_GRAD("linear dbias", linear_f, &c, c.b, c.db, LN_OC);
}

/* ------------------------------------------------------------------ embedding */

enum { EM_V = 6, EM_C = 3, EM_N = 5 };
typedef struct {
    int32_t ids[EM_N];
    float table[EM_V * EM_C], out[EM_N * EM_C], r[EM_N * EM_C], dtable[EM_V * EM_C];
} embed_ctx;

static double embed_f(void *p)
{
    embed_ctx *c = p;
    nn_embedding_forward(c->out, c->ids, c->table, EM_N, EM_C);
    return project(c->out, c->r, EM_N * EM_C);
}

TEST(test_embedding)
{
    embed_ctx c = { .ids = { 1, 3, 1, 5, 0 } }; /* id 1 twice: gradients must add */
    randn(c.table, EM_V * EM_C, 1.0f);
    randn(c.r, EM_N * EM_C, 1.0f);
    embed_f(&c);
    CHECK(c.out[2 * EM_C + 1] == c.table[1 * EM_C + 1]);
    nn_embedding_backward(c.dtable, c.r, c.ids, EM_N, EM_C);
    CHECK_GRAD("embedding dtable", embed_f, &c, c.table, c.dtable, EM_V * EM_C);
}

/* ------------------------------------------------------------------ embedding bag */

enum { EB_V = 7, EB_C = 4, EB_B = 4, EB_NNZ = 7 };
typedef struct {
    int32_t ids[EB_NNZ];
    int64_t off[EB_B + 1];
    float w[EB_NNZ], table[EB_V * EB_C], out[EB_B * EB_C], r[EB_B * EB_C];
    float dtable[EB_V * EB_C], dw[EB_NNZ];
    int use_weights;
    nn_bag_mode mode;
} bag_ctx;

static double bag_f(void *p)
{
    bag_ctx *c = p;
    nn_embedding_bag_forward(c->out, c->ids, c->off, c->use_weights ? c->w : NULL, c->table,
                             EB_B, EB_C, c->mode);
    return project(c->out, c->r, EB_B * EB_C);
}

static void bag_case(nn_bag_mode mode, int use_weights, const char *label)
{
    /* bags: {2, 0, 2}, {}, {6}, {3, 4, 1} -- an empty bag and a repeated id */
    bag_ctx c = { .ids = { 2, 0, 2, 6, 3, 4, 1 }, .off = { 0, 3, 3, 4, 7 },
                  .use_weights = use_weights, .mode = mode };
    randn(c.w, EB_NNZ, 1.0f);
    randn(c.table, EB_V * EB_C, 1.0f);
    randn(c.r, EB_B * EB_C, 1.0f);
    bag_f(&c);
    for (int k = 0; k < EB_C; k++) CHECK(c.out[1 * EB_C + k] == 0.0f);
    double want = (c.table[2 * EB_C] * (use_weights ? c.w[0] : 1.0f) +
                   c.table[0 * EB_C] * (use_weights ? c.w[1] : 1.0f) +
                   c.table[2 * EB_C] * (use_weights ? c.w[2] : 1.0f)) /
                  (mode == NN_BAG_MEAN ? 3.0 : 1.0);
    CHECK_NEAR(c.out[0], want, 1e-5);
    nn_embedding_bag_backward(c.dtable, c.dw, c.r, c.ids, c.off, use_weights ? c.w : NULL,
                              c.table, EB_B, EB_C, mode);
    char name[64];
    snprintf(name, sizeof name, "%s dtable", label);
    CHECK_GRAD(name, bag_f, &c, c.table, c.dtable, EB_V * EB_C);
    if (use_weights) {
        snprintf(name, sizeof name, "%s dweights", label);
        CHECK_GRAD(name, bag_f, &c, c.w, c.dw, EB_NNZ);
    }
}

TEST(test_embedding_bag)
{
    bag_case(NN_BAG_SUM, 0, "bag sum");
    bag_case(NN_BAG_SUM, 1, "bag sum weighted");
    bag_case(NN_BAG_MEAN, 0, "bag mean");
    bag_case(NN_BAG_MEAN, 1, "bag mean weighted");
}

/* ------------------------------------------------------------------ layer norm */

enum { LY_N = 3, LY_C = 6 };
typedef struct {
    float x[LY_N * LY_C], w[LY_C], b[LY_C], out[LY_N * LY_C], mean[LY_N], rstd[LY_N];
    float r[LY_N * LY_C], dx[LY_N * LY_C], dw[LY_C], db[LY_C];
} lnorm_ctx;

static double lnorm_f(void *p)
{
    lnorm_ctx *c = p;
    nn_layernorm_forward(c->out, c->mean, c->rstd, c->x, c->w, c->b, LY_N, LY_C);
    return project(c->out, c->r, LY_N * LY_C);
}

TEST(test_layernorm)
{
    lnorm_ctx c;
    memset(&c, 0, sizeof c);
    randn(c.x, LY_N * LY_C, 1.0f);
    for (int i = 0; i < LY_C; i++) c.w[i] = 1.0f + 0.3f * (float)hp_rng_normal(&g_rng);
    randn(c.b, LY_C, 0.3f);
    randn(c.r, LY_N * LY_C, 1.0f);
    lnorm_f(&c);
    /* with unit weight and zero bias each row would have mean 0, variance ~1 */
    double m = 0.0;
    for (int i = 0; i < LY_C; i++) m += (c.out[i] - c.b[i]) / c.w[i];
    CHECK_NEAR(m / LY_C, 0.0, 1e-5);
    nn_layernorm_backward(c.dx, c.dw, c.db, c.r, c.x, c.w, c.mean, c.rstd, LY_N, LY_C);
    CHECK_GRAD("layernorm dinp", lnorm_f, &c, c.x, c.dx, LY_N * LY_C);
    CHECK_GRAD("layernorm dweight", lnorm_f, &c, c.w, c.dw, LY_C);
    CHECK_GRAD("layernorm dbias", lnorm_f, &c, c.b, c.db, LY_C);
}

/* ------------------------------------------------------------------ pointwise */

enum { PW_N = 12 };
typedef struct {
    float x[PW_N], out[PW_N], r[PW_N], dx[PW_N];
    uint8_t mask[PW_N];
    int kind; /* 0 relu, 1 gelu, 2 dropout */
} pw_ctx;

static double pw_f(void *p)
{
    pw_ctx *c = p;
    hp_rng rng;
    switch (c->kind) {
    case 0: nn_relu_forward(c->out, c->x, PW_N); break;
    case 1: nn_gelu_forward(c->out, c->x, PW_N); break;
    default:
        hp_rng_seed(&rng, 7); /* the same mask on every evaluation */
        nn_dropout_forward(c->out, c->mask, c->x, PW_N, 0.3f, 1, &rng);
        break;
    }
    return project(c->out, c->r, PW_N);
}

static void pw_setup(pw_ctx *c, int kind)
{
    memset(c, 0, sizeof *c);
    c->kind = kind;
    for (int i = 0; i < PW_N; i++) {
        /* spread over [-3, 3] but never within 2H of ReLU's kink at 0 */
        c->x[i] = -3.0f + 6.0f * (float)i / (PW_N - 1) + 0.05f;
    }
    randn(c->r, PW_N, 1.0f);
    pw_f(c);
}

TEST(test_relu)
{
    pw_ctx c;
    pw_setup(&c, 0);
    nn_relu_backward(c.dx, c.r, c.x, PW_N);
    CHECK_GRAD("relu dinp", pw_f, &c, c.x, c.dx, PW_N);
}

TEST(test_gelu)
{
    pw_ctx c;
    pw_setup(&c, 1);
    /* torch.nn.GELU()(tensor([1.0, -0.5])) = [0.8413447, -0.1542687] (exact erf form) */
    float v[2] = { 1.0f, -0.5f }, y[2];
    nn_gelu_forward(y, v, 2);
    CHECK_NEAR(y[0], 0.8413447, 1e-6);
    CHECK_NEAR(y[1], -0.1542687, 1e-6);
    nn_gelu_backward(c.dx, c.r, c.x, PW_N);
    CHECK_GRAD("gelu dinp", pw_f, &c, c.x, c.dx, PW_N);
}

TEST(test_dropout)
{
    pw_ctx c;
    pw_setup(&c, 2);
    int kept = 0;
    for (int i = 0; i < PW_N; i++) {
        kept += c.mask[i];
        CHECK_NEAR(c.out[i], c.mask[i] ? c.x[i] / 0.7f : 0.0f, 1e-6);
    }
    CHECK(kept > 0 && kept < PW_N);
    nn_dropout_backward(c.dx, c.r, c.mask, PW_N, 0.3f);
    CHECK_GRAD("dropout dinp", pw_f, &c, c.x, c.dx, PW_N);
    /* eval: identity, all-ones mask, rng untouched (NULL) */
    float out[PW_N];
    nn_dropout_forward(out, c.mask, c.x, PW_N, 0.3f, 0, NULL);
    for (int i = 0; i < PW_N; i++) CHECK(out[i] == c.x[i] && c.mask[i] == 1);
}

/* ------------------------------------------------------------------ softmax */

enum { SM_N = 3, SM_C = 5 };
typedef struct {
    float x[SM_N * SM_C], out[SM_N * SM_C], r[SM_N * SM_C], dx[SM_N * SM_C];
} softmax_ctx;

static double softmax_f(void *p)
{
    softmax_ctx *c = p;
    nn_softmax_forward(c->out, c->x, SM_N, SM_C);
    return project(c->out, c->r, SM_N * SM_C);
}

TEST(test_softmax)
{
    softmax_ctx c;
    memset(&c, 0, sizeof c);
    randn(c.x, SM_N * SM_C, 2.0f);
    randn(c.r, SM_N * SM_C, 1.0f);
    softmax_f(&c);
    double s = 0.0;
    for (int i = 0; i < SM_C; i++) s += c.out[i];
    CHECK_NEAR(s, 1.0, 1e-6);
    /* stability: huge logits must not overflow */
    float big[2] = { 1000.0f, 999.0f }, pb[2];
    nn_softmax_forward(pb, big, 1, 2);
    CHECK_NEAR(pb[0], 1.0 / (1.0 + exp(-1.0)), 1e-6);
    nn_softmax_backward(c.dx, c.r, c.out, SM_N, SM_C);
    CHECK_GRAD("softmax dinp", softmax_f, &c, c.x, c.dx, SM_N * SM_C);
}

/* ------------------------------------------------------------------ attention pooling */

enum { AP_G = 4, AP_R = 8, AP_C = 5 };
typedef struct {
    int64_t off[AP_G + 1];
    float rows[AP_R * AP_C], q[AP_C], out[AP_G * AP_C], w[AP_R], r[AP_G * AP_C];
    float drows[AP_R * AP_C], dq[AP_C];
    float scale;
} attn_ctx;

static double attn_f(void *p)
{
    attn_ctx *c = p;
    nn_attnpool_forward(c->out, c->w, c->rows, c->off, c->q, c->scale, AP_G, AP_C);
    return project(c->out, c->r, AP_G * AP_C);
}

static void attn_case(float scale, const char *label)
{
    attn_ctx c = { .off = { 0, 3, 3, 4, 8 }, .scale = scale }; /* sizes 3, 0 (empty), 1, 4 */
    randn(c.rows, AP_R * AP_C, 1.0f);
    randn(c.q, AP_C, 1.0f);
    randn(c.r, AP_G * AP_C, 1.0f);
    attn_f(&c);
    CHECK_NEAR(c.w[0] + c.w[1] + c.w[2], 1.0, 1e-6);
    CHECK_NEAR(c.w[3], 1.0, 1e-6); /* a group of one row gives it weight 1 */
    for (int k = 0; k < AP_C; k++) CHECK(c.out[1 * AP_C + k] == 0.0f);
    nn_attnpool_backward(c.drows, c.dq, c.r, c.w, c.rows, c.off, c.q, c.scale, AP_G, AP_C);
    char name[64];
    snprintf(name, sizeof name, "%s drows", label);
    CHECK_GRAD(name, attn_f, &c, c.rows, c.drows, AP_R * AP_C);
    snprintf(name, sizeof name, "%s dq", label);
    CHECK_GRAD(name, attn_f, &c, c.q, c.dq, AP_C);
}

TEST(test_attnpool)
{
    attn_case(1.0f / sqrtf((float)AP_C), "attnpool scaled");
    attn_case(1.0f, "attnpool unscaled");
}

/* ------------------------------------------------------------------ scoring */

enum { SC_B = 3, SC_M = 6, SC_C = 4, SC_K = 4 };
typedef struct {
    float u[SC_B * SC_C], v[SC_M * SC_C], bias[SC_M], rb[SC_B];
    float out[SC_B * SC_M], r[SC_B * SC_M];
    float du[SC_B * SC_C], dv[SC_M * SC_C], dbias[SC_M], drb[SC_B];
    int32_t cand[SC_B * SC_K];
    int gather;
} score_ctx;

static double score_f(void *p)
{
    score_ctx *c = p;
    if (c->gather) {
        nn_score_gather_forward(c->out, c->u, c->v, c->cand, c->bias, c->rb, SC_B, SC_K, SC_C);
        return project(c->out, c->r, SC_B * SC_K);
    }
    nn_score_forward(c->out, c->u, c->v, c->bias, c->rb, SC_B, SC_M, SC_C);
    return project(c->out, c->r, SC_B * SC_M);
}

static void score_setup(score_ctx *c, int gather)
{
    static const int32_t cand[SC_B * SC_K] = { 0, 2, 2, 5, 1, 0, 3, 4, 5, 5, 2, 1 };
    memset(c, 0, sizeof *c);
    c->gather = gather;
    memcpy(c->cand, cand, sizeof cand);
    randn(c->u, SC_B * SC_C, 1.0f);
    randn(c->v, SC_M * SC_C, 1.0f);
    randn(c->bias, SC_M, 0.5f);
    randn(c->rb, SC_B, 0.5f);
    randn(c->r, SC_B * SC_M, 1.0f);
    score_f(c);
}

static void score_checks(score_ctx *c, const char *label)
{
    const char *what[4] = { "du", "dv", "dbias", "drow_bias" };
    float *x[4] = { c->u, c->v, c->bias, c->rb }, *g[4] = { c->du, c->dv, c->dbias, c->drb };
    size_t n[4] = { SC_B * SC_C, SC_M * SC_C, SC_M, SC_B };
    for (int i = 0; i < 4; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s %s", label, what[i]);
        CHECK_GRAD(name, score_f, c, x[i], g[i], n[i]);
    }
}

TEST(test_score_full)
{
    score_ctx c;
    score_setup(&c, 0);
    double s = c.bias[4] + c.rb[1];
    for (int k = 0; k < SC_C; k++) s += (double)c.u[1 * SC_C + k] * c.v[4 * SC_C + k];
    CHECK_NEAR(c.out[1 * SC_M + 4], s, 1e-5);
    nn_score_backward(c.du, c.dv, c.dbias, c.drb, c.r, c.u, c.v, SC_B, SC_M, SC_C);
    score_checks(&c, "score");
}

TEST(test_score_gather)
{
    score_ctx c;
    score_setup(&c, 1);
    /* the gathered score equals the full score of the same pair */
    float full[SC_B * SC_M];
    nn_score_forward(full, c.u, c.v, c.bias, c.rb, SC_B, SC_M, SC_C);
    for (int b = 0; b < SC_B; b++)
        for (int k = 0; k < SC_K; k++)
            CHECK_NEAR(c.out[b * SC_K + k], full[b * SC_M + c.cand[b * SC_K + k]], 1e-5);
    nn_score_gather_backward(c.du, c.dv, c.dbias, c.drb, c.r, c.u, c.v, c.cand, SC_B, SC_K,
                             SC_C);
    score_checks(&c, "score gather");
}

/* ------------------------------------------------------------------ losses */

enum { LS_B = 3, LS_K1 = 5, LS_N = 8 };
typedef struct {
    float a[LS_B * LS_K1], b[LS_B * LS_K1], t[LS_N]; /* LS_B * LS_K1 >= LS_N */
    float da[LS_B * LS_K1], db[LS_B * LS_K1];
    int kind; /* 0 sampled softmax, 1 with logq, 2 bpr, 3 bce, 4 mse */
} loss_ctx;

static double loss_eval(loss_ctx *c, float *da, float *db)
{
    switch (c->kind) {
    case 0: return nn_sampled_softmax_loss(da, c->a, NULL, LS_B, LS_K1, 1.0f);
    case 1: return nn_sampled_softmax_loss(da, c->a, c->b, LS_B, LS_K1, 1.0f);
    case 2: return nn_bpr_loss(da, db, c->a, c->b, LS_B, 1.0f);
    case 3: return nn_bce_logits_loss(da, c->a, c->t, LS_N, 1.0f);
    default: return nn_mse_loss(da, c->a, c->t, LS_N, 1.0f);
    }
}

static double loss_f(void *p) { return loss_eval(p, NULL, NULL); }

static void loss_case(int kind, const char *label)
{
    loss_ctx c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    randn(c.a, LS_B * LS_K1, 2.0f);
    for (int i = 0; i < LS_B * LS_K1; i++) /* log-probabilities for logq, scores for BPR */
        c.b[i] = kind == 1 ? -1.0f - fabsf((float)hp_rng_normal(&g_rng))
                           : (float)hp_rng_normal(&g_rng);
    for (int i = 0; i < LS_N; i++)
        c.t[i] = kind == 3 ? (float)(i % 3) * 0.5f : (float)hp_rng_normal(&g_rng);
    loss_eval(&c, c.da, c.db);
    size_t n = kind <= 1 ? LS_B * LS_K1 : kind == 2 ? LS_B : LS_N;
    CHECK_GRAD(label, loss_f, &c, c.a, c.da, n);
    if (kind == 2) CHECK_GRAD("bpr dneg", loss_f, &c, c.b, c.db, LS_B);
}

TEST(test_losses)
{
    loss_case(0, "sampled softmax dlogits");
    loss_case(1, "sampled softmax+logQ dlogits");
    loss_case(2, "bpr dpos");
    loss_case(3, "bce dlogits");
    loss_case(4, "mse dpred");
}

TEST(test_loss_values)
{
    /* sampled softmax = cross entropy with target 0 */
    float z[3] = { 1.0f, 2.0f, -1.0f }, p[3];
    nn_softmax_forward(p, z, 1, 3);
    CHECK_NEAR(nn_sampled_softmax_loss(NULL, z, NULL, 1, 3, 1.0f), -log(p[0]), 1e-6);
    /* logQ: subtracting the same log q from every candidate changes nothing */
    float lq[3] = { -2.0f, -2.0f, -2.0f };
    CHECK_NEAR(nn_sampled_softmax_loss(NULL, z, lq, 1, 3, 1.0f), -log(p[0]), 1e-6);
    /* dloss scales the gradient and the gradient is added */
    float g1[3] = { 0 }, g2[3] = { 1.0f, 1.0f, 1.0f };
    nn_sampled_softmax_loss(g1, z, NULL, 1, 3, 1.0f);
    nn_sampled_softmax_loss(g2, z, NULL, 1, 3, 0.5f);
    for (int i = 0; i < 3; i++) CHECK_NEAR(g2[i], 1.0f + 0.5f * g1[i], 1e-6);
    /* BPR: -log sigmoid(0) = log 2; extreme gaps stay finite */
    float a = 3.0f, b = 3.0f, big = 200.0f, small = -200.0f;
    CHECK_NEAR(nn_bpr_loss(NULL, NULL, &a, &b, 1, 1.0f), log(2.0), 1e-6);
    CHECK_NEAR(nn_bpr_loss(NULL, NULL, &small, &big, 1, 1.0f), 400.0, 1e-3);
    CHECK_NEAR(nn_bpr_loss(NULL, NULL, &big, &small, 1, 1.0f), 0.0, 1e-6);
    /* BCE stable at extreme logits: x=100,t=1 -> ~0; x=-100,t=1 -> 100 */
    float x[2] = { 100.0f, -100.0f }, t[2] = { 1.0f, 1.0f }, dx[2] = { 0 };
    CHECK_NEAR(nn_bce_logits_loss(dx, x, t, 2, 1.0f), 50.0, 1e-4);
    CHECK(isfinite(dx[0]) && isfinite(dx[1]));
    CHECK_NEAR(dx[1], -0.5, 1e-6);
    float pr[2] = { 1.0f, 3.0f }, tg[2] = { 0.0f, 1.0f };
    CHECK_NEAR(nn_mse_loss(NULL, pr, tg, 2, 1.0f), 2.5, 1e-6);
}

/* ------------------------------------------------------------------ the checker itself */

/* A ReLU whose backward forgets the kink: passes every gradient through. */
static void bad_relu_backward(float *dinp, const float *dout, size_t n)
{
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i];
}

TEST(test_checker_catches_wrong_gradients)
{
    double max_num;
    /* 1. a correct linear gradient with one weight gradient off by 0.05 */
    linear_ctx c;
    linear_setup(&c);
    CHECK(gradcheck(linear_f, &c, c.w, c.dw, LN_OC * LN_IC, &max_num) <= 1.0);
    c.dw[7] += 0.05f;
    double e = gradcheck(linear_f, &c, c.w, c.dw, LN_OC * LN_IC, &max_num);
    printf("     linear dweight +0.05 on one  worst %.3f of tolerance (must be > 1)\n", e);
    CHECK(e > 1.0);
    /* 2. a ReLU backward that ignores the sign of the input */
    pw_ctx r;
    pw_setup(&r, 0);
    bad_relu_backward(r.dx, r.r, PW_N);
    e = gradcheck(pw_f, &r, r.x, r.dx, PW_N, &max_num);
    printf("     relu without kink            worst %.3f of tolerance (must be > 1)\n", e);
    CHECK(e > 1.0);
    /* 3. a gradient that is 1% too large everywhere (a wrong mean, say) */
    softmax_ctx s;
    memset(&s, 0, sizeof s);
    randn(s.x, SM_N * SM_C, 2.0f);
    randn(s.r, SM_N * SM_C, 1.0f);
    softmax_f(&s);
    nn_softmax_backward(s.dx, s.r, s.out, SM_N, SM_C);
    for (int i = 0; i < SM_N * SM_C; i++) s.dx[i] *= 1.01f;
    e = gradcheck(softmax_f, &s, s.x, s.dx, SM_N * SM_C, &max_num);
    printf("     softmax gradient x1.01       worst %.3f of tolerance (must be > 1)\n", e);
    CHECK(e > 1.0);
}

int main(void)
{
    hp_rng_seed(&g_rng, 1234);
    nn_set_threads(1);
    RUN(test_linear);
    RUN(test_embedding);
    RUN(test_embedding_bag);
    RUN(test_layernorm);
    RUN(test_relu);
    RUN(test_gelu);
    RUN(test_dropout);
    RUN(test_softmax);
    RUN(test_attnpool);
    RUN(test_score_full);
    RUN(test_score_gather);
    RUN(test_losses);
    RUN(test_loss_values);
    RUN(test_checker_catches_wrong_gradients);
    return check_summary("test_nn_grad");
}
