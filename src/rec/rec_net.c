/* The recommender's network: parameters, forward and backward of both towers.
 * llm.c style: every activation comes from the arena, backward adds into params.grad. */
#include "rec/rec.h"

#include <math.h>
#include <string.h>

static const char *k_modality_names[REC_MOD_COUNT] = { "numeric", "categorical", "interests", "text", "history" };

const char *rec_modality_name(int m) { return m >= 0 && m < REC_MOD_COUNT ? k_modality_names[m] : "?"; }

feat_opts rec_feat_opts(const rec_arch *arch)
{
    return (feat_opts){ .numeric = arch->enabled[REC_MOD_NUMERIC], .categorical = arch->enabled[REC_MOD_CATEGORICAL],
                        .multi = arch->enabled[REC_MOD_INTERESTS], .text = arch->enabled[REC_MOD_TEXT],
                        .text_buckets = arch->text_buckets, .max_tokens = arch->max_tokens,
                        .include_protected = arch->include_protected };
}

int rec_encode_customers(const rec_net *net, const data_table *t, feat_enc *out, hp_error *err)
{
    feat_opts fo = rec_feat_opts(&net->arch);
    return feat_encode(&net->cust_fs, t, &fo, out, err);
}

/* ------------------------------------------------------------------ parameters */

enum {
    W_NUM1, B_NUM1, W_NUM2, B_NUM2, E_CAT, E_MULTI, E_TEXT, Q_TEXT, E_HIST,
    LN_G, LN_B, TYPE, Q_FUSE, W_OUT, B_OUT,
    E_PID, B_PID, E_PCAT, W_PNUM, B_PNUM, N_PARAMS
};

static const char *k_param_names[N_PARAMS] = {
    "cust.num.w1", "cust.num.b1", "cust.num.w2", "cust.num.b2", "cust.cat.emb", "cust.multi.emb",
    "text.emb", "cust.text.q", "cust.hist.emb", "cust.ln.g", "cust.ln.b", "cust.type",
    "cust.fuse.q", "cust.out.w", "cust.out.b",
    "prod.id.emb", "prod.bias", "prod.cat.emb", "prod.num.w", "prod.num.b",
};

/* Rows of a (rows, cols) tensor; a table of 0 rows still gets 1 so shapes stay valid. */
static void def(nn_tensor *t, int id, int rows, int cols, unsigned flags)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", k_param_names[id]);
    t->ndim = cols ? 2 : 1;
    t->shape[0] = rows > 0 ? rows : 1;
    t->shape[1] = cols;
    t->flags = flags;
}

static float *P_(const rec_net *net, int id) { return net->params.data + net->params.t[id].offset; }
static float *G_(const rec_net *net, int id) { return net->params.grad + net->params.t[id].offset; }

int rec_net_init(rec_net *net, const rec_arch *arch, int P, hp_error *err)
{
    net->arch = *arch;
    net->P = P;
    net->P_trained = P;
    int d = arch->dim, H = arch->hidden, F = net->cust_fs.nnum, Fp = net->prod_fs.nnum;
    nn_tensor t[N_PARAMS];
    def(&t[W_NUM1], W_NUM1, H, F > 0 ? F : 1, 0);
    def(&t[B_NUM1], B_NUM1, H, 0, NN_PARAM_NO_DECAY);
    def(&t[W_NUM2], W_NUM2, d, H, 0);
    def(&t[B_NUM2], B_NUM2, d, 0, NN_PARAM_NO_DECAY);
    def(&t[E_CAT], E_CAT, net->cust_fs.cat_rows, d, 0);
    def(&t[E_MULTI], E_MULTI, net->cust_fs.multi_rows, d, 0);
    def(&t[E_TEXT], E_TEXT, arch->text_buckets, d, 0);
    def(&t[Q_TEXT], Q_TEXT, d, 0, NN_PARAM_NO_DECAY);
    def(&t[E_HIST], E_HIST, P, d, 0); /* history ids are training-catalogue indices */
    def(&t[LN_G], LN_G, d, 0, NN_PARAM_NO_DECAY);
    def(&t[LN_B], LN_B, d, 0, NN_PARAM_NO_DECAY);
    def(&t[TYPE], TYPE, REC_MOD_COUNT, d, NN_PARAM_NO_DECAY);
    def(&t[Q_FUSE], Q_FUSE, d, 0, NN_PARAM_NO_DECAY);
    def(&t[W_OUT], W_OUT, d, d, 0);
    def(&t[B_OUT], B_OUT, d, 0, NN_PARAM_NO_DECAY);
    def(&t[E_PID], E_PID, P + 1, d, 0);
    def(&t[B_PID], B_PID, P + 1, 0, NN_PARAM_NO_DECAY);
    def(&t[E_PCAT], E_PCAT, net->prod_fs.cat_rows, d, 0);
    def(&t[W_PNUM], W_PNUM, d, Fp > 0 ? Fp : 1, 0);
    def(&t[B_PNUM], B_PNUM, d, 0, NN_PARAM_NO_DECAY);
    return nn_params_init(&net->params, t, N_PARAMS, err);
}

void rec_net_init_weights(rec_net *net, uint64_t seed)
{
    hp_rng rng;
    nn_rng_stream(&rng, seed, "init");
    nn_params *p = &net->params;
    for (int i = 0; i < p->n; i++) {
        float *w = p->data + p->t[i].offset;
        nn_tensor *t = &p->t[i];
        if (t->flags & NN_PARAM_NO_DECAY) nn_init_zeros(w, t->size);
        else if (i == W_NUM1 || i == W_NUM2 || i == W_OUT || i == W_PNUM) nn_init_xavier(w, t->shape[0], t->shape[1], &rng);
        else nn_init_normal(w, t->size, 0.0f, 0.1f, &rng);
    }
    nn_init_const(P_(net, LN_G), (size_t)net->arch.dim, 1.0f);
    nn_init_normal(P_(net, Q_TEXT), (size_t)net->arch.dim, 0.0f, 0.1f, &rng);
    nn_init_normal(P_(net, Q_FUSE), (size_t)net->arch.dim, 0.0f, 0.1f, &rng);
    nn_init_normal(P_(net, TYPE), (size_t)net->arch.dim * REC_MOD_COUNT, 0.0f, 0.1f, &rng);
}

void rec_net_free(rec_net *net)
{
    nn_params_free(&net->params);
    feat_spec_free(&net->cust_fs);
    feat_spec_free(&net->prod_fs);
    feat_enc_free(&net->prod);
    hp_free(net->id_row);
    net->id_row = NULL;
}

/* ------------------------------------------------------------------ forward state */

struct rec_fwd {
    const rec_batch *b;
    int B, P, R;                /* batch rows, products, fused rows */
    int present[REC_MOD_COUNT];
    /* customer tower */
    float *h1, *g1;             /* (B,H) numeric hidden before/after GELU */
    float *mod[REC_MOD_COUNT];/* (B,d) each modality's vector */
    int64_t *cat_off;           /* (B+1) */
    float *tok;                 /* (T,d) text token embeddings */
    float *tok_w;               /* (T) text attention weights */
    int8_t *has;                /* (B, MOD) modality present for row */
    int32_t *row_mod, *row_b;   /* (R) which modality / batch row a fused row is */
    int64_t *fuse_off;          /* (B+1) */
    float *rows, *ln, *ln_mean, *ln_rstd, *rows2, *fuse_w; /* (R,d) (R,d) (R) (R) (R,d) (R) */
    float *f, *fd;              /* (B,d) fused, after dropout */
    uint8_t *mask;              /* (B*d) dropout */
    float dropout;
    float *u;                   /* (B,d) */
    /* product tower */
    int32_t *pid_row;           /* (P) row of prod.id.emb used (0 = unknown) */
    int64_t *pcat_off;          /* (P+1) */
    float *v, *bias;            /* (P,d) (P) */
    nn_arena *arena;
};

#define ALLOC(a, ptr, n) ((ptr) = nn_arena_alloc((a), (size_t)(n) * sizeof *(ptr)))

size_t rec_arena_bytes(const rec_net *net, int B, long T, long H, long M)
{
    size_t d = (size_t)net->arch.dim, P = (size_t)net->P, R = (size_t)B * REC_MOD_COUNT;
    size_t floats = 2 * (size_t)B * (size_t)net->arch.hidden + REC_MOD_COUNT * (size_t)B * d + (size_t)T * d + (size_t)T
                    + 3 * R * d + 3 * R + 4 * (size_t)B * d + 2 * P * d + P;
    floats *= 2; /* backward buffers of about the same size */
    size_t ints = 4 * ((size_t)B + P + R + 8) + (size_t)(H + M);
    return floats * sizeof(float) + ints * sizeof(int64_t) + (size_t)B * d + 64 * 64 + (1 << 16);
}

/* ------------------------------------------------------------------ customer tower */

static int bag_len(const int64_t *off, int b) { return off ? (int)(off[b + 1] - off[b]) : 0; }

static int forward_modalities(rec_net *net, rec_fwd *f, const rec_batch *b)
{
    nn_arena *a = f->arena;
    int B = b->B, d = net->arch.dim, H = net->arch.hidden, F = net->cust_fs.nnum, C = net->cust_fs.ncat;
    const rec_arch *ar = &net->arch;
    f->present[REC_MOD_NUMERIC] = ar->enabled[REC_MOD_NUMERIC] && F > 0;
    f->present[REC_MOD_CATEGORICAL] = ar->enabled[REC_MOD_CATEGORICAL] && C > 0;
    f->present[REC_MOD_INTERESTS] = ar->enabled[REC_MOD_INTERESTS] && net->cust_fs.nmulti > 0;
    f->present[REC_MOD_TEXT] = ar->enabled[REC_MOD_TEXT] && net->cust_fs.ntext > 0;
    f->present[REC_MOD_HISTORY] = ar->enabled[REC_MOD_HISTORY] && b->hist_off != NULL;
    for (int m = 0; m < REC_MOD_COUNT; m++)
        if (f->present[m]) f->mod[m] = nn_arena_floats(a, (size_t)B * (size_t)d);
    if (f->present[REC_MOD_NUMERIC]) {
        f->h1 = nn_arena_floats(a, (size_t)B * (size_t)H);
        f->g1 = nn_arena_floats(a, (size_t)B * (size_t)H);
    }
    if (f->present[REC_MOD_CATEGORICAL]) ALLOC(a, f->cat_off, B + 1);
    int T = f->present[REC_MOD_TEXT] ? (int)b->text_off[B] : 0;
    if (f->present[REC_MOD_TEXT]) {
        f->tok = nn_arena_floats(a, (size_t)(T ? T : 1) * (size_t)d);
        f->tok_w = nn_arena_floats(a, (size_t)(T ? T : 1));
    }
    if (nn_arena_failed(a)) return HP_ERR_NOMEM;
    if (f->present[REC_MOD_NUMERIC]) {
        nn_linear_forward(f->h1, b->num, P_(net, W_NUM1), P_(net, B_NUM1), B, F, H);
        nn_gelu_forward(f->g1, f->h1, (size_t)B * (size_t)H);
        nn_linear_forward(f->mod[REC_MOD_NUMERIC], f->g1, P_(net, W_NUM2), P_(net, B_NUM2), B, H, d);
    }
    if (f->present[REC_MOD_CATEGORICAL]) {
        for (int i = 0; i <= B; i++) f->cat_off[i] = (int64_t)i * C;
        nn_embedding_bag_forward(f->mod[REC_MOD_CATEGORICAL], b->cat, f->cat_off, NULL, P_(net, E_CAT), B, d, NN_BAG_SUM);
    }
    if (f->present[REC_MOD_INTERESTS])
        nn_embedding_bag_forward(f->mod[REC_MOD_INTERESTS], b->multi_ids, b->multi_off, NULL, P_(net, E_MULTI), B, d, NN_BAG_MEAN);
    if (f->present[REC_MOD_TEXT]) {
        nn_embedding_forward(f->tok, b->text_ids, P_(net, E_TEXT), T, d);
        nn_attnpool_forward(f->mod[REC_MOD_TEXT], f->tok_w, f->tok, b->text_off, P_(net, Q_TEXT),
                            1.0f / sqrtf((float)d), B, d);
    }
    if (f->present[REC_MOD_HISTORY])
        nn_embedding_bag_forward(f->mod[REC_MOD_HISTORY], b->hist_ids, b->hist_off, NULL, P_(net, E_HIST), B, d, NN_BAG_MEAN);
    return HP_OK;
}

/* Which modalities row b has: an empty list, text or history says nothing. */
static int row_has(const rec_fwd *f, const rec_batch *b, int row, int m)
{
    if (!f->present[m]) return 0;
    if (m == REC_MOD_INTERESTS) return bag_len(b->multi_off, row) > 0;
    if (m == REC_MOD_TEXT) return bag_len(b->text_off, row) > 0;
    if (m == REC_MOD_HISTORY) return bag_len(b->hist_off, row) > 0;
    return 1;
}

static int forward_fusion(rec_net *net, rec_fwd *f, const rec_batch *b, int training, hp_rng *rng)
{
    nn_arena *a = f->arena;
    int B = b->B, d = net->arch.dim;
    ALLOC(a, f->has, (size_t)B * REC_MOD_COUNT);
    ALLOC(a, f->fuse_off, B + 1);
    if (nn_arena_failed(a)) return HP_ERR_NOMEM;
    int R = 0;
    for (int i = 0; i < B; i++) {
        f->fuse_off[i] = R;
        for (int m = 0; m < REC_MOD_COUNT; m++) R += (f->has[i * REC_MOD_COUNT + m] = (int8_t)row_has(f, b, i, m));
    }
    f->fuse_off[B] = R;
    f->R = R;
    size_t Rs = (size_t)(R ? R : 1);
    ALLOC(a, f->row_mod, Rs);
    ALLOC(a, f->row_b, Rs);
    f->rows = nn_arena_floats(a, Rs * (size_t)d);
    f->ln = nn_arena_floats(a, Rs * (size_t)d);
    f->rows2 = nn_arena_floats(a, Rs * (size_t)d);
    f->ln_mean = nn_arena_floats(a, Rs);
    f->ln_rstd = nn_arena_floats(a, Rs);
    f->fuse_w = nn_arena_floats(a, Rs);
    f->f = nn_arena_floats(a, (size_t)B * (size_t)d);
    f->fd = nn_arena_floats(a, (size_t)B * (size_t)d);
    f->mask = nn_arena_alloc(a, (size_t)B * (size_t)d);
    f->u = nn_arena_floats(a, (size_t)B * (size_t)d);
    if (nn_arena_failed(a)) return HP_ERR_NOMEM;
    int r = 0;
    for (int i = 0; i < B; i++)
        for (int m = 0; m < REC_MOD_COUNT; m++) {
            if (!f->has[i * REC_MOD_COUNT + m]) continue;
            f->row_mod[r] = m;
            f->row_b[r] = i;
            memcpy(f->rows + (size_t)r * (size_t)d, f->mod[m] + (size_t)i * (size_t)d, (size_t)d * sizeof(float));
            r++;
        }
    nn_layernorm_forward(f->ln, f->ln_mean, f->ln_rstd, f->rows, P_(net, LN_G), P_(net, LN_B), R, d);
    const float *type = P_(net, TYPE);
    for (int k = 0; k < R; k++)
        for (int j = 0; j < d; j++)
            f->rows2[(size_t)k * (size_t)d + (size_t)j] = f->ln[(size_t)k * (size_t)d + (size_t)j] + type[f->row_mod[k] * d + j];
    nn_attnpool_forward(f->f, f->fuse_w, f->rows2, f->fuse_off, P_(net, Q_FUSE), 1.0f / sqrtf((float)d), B, d);
    nn_dropout_forward(f->fd, f->mask, f->f, (size_t)B * (size_t)d, f->dropout, training, rng);
    nn_linear_forward(f->u, f->fd, P_(net, W_OUT), P_(net, B_OUT), B, d, d);
    return HP_OK;
}

/* ------------------------------------------------------------------ product tower */

static int forward_products(rec_net *net, rec_fwd *f, const uint8_t *id_keep)
{
    nn_arena *a = f->arena;
    int P = net->P, d = net->arch.dim, Cp = net->prod_fs.ncat, Fp = net->prod_fs.nnum;
    const feat_enc *e = &net->prod;
    ALLOC(a, f->pid_row, P);
    f->v = nn_arena_floats(a, (size_t)P * (size_t)d);
    f->bias = nn_arena_floats(a, (size_t)P);
    float *tmp = nn_arena_floats(a, (size_t)P * (size_t)d);
    if (Cp > 0) ALLOC(a, f->pcat_off, P + 1);
    if (nn_arena_failed(a)) return HP_ERR_NOMEM;
    for (int p = 0; p < P; p++) {
        int32_t row = net->id_row ? net->id_row[p] : p + 1;
        f->pid_row[p] = !id_keep || id_keep[p] ? row : 0;
    }
    nn_embedding_forward(f->v, f->pid_row, P_(net, E_PID), P, d);
    const float *pb = P_(net, B_PID);
    for (int p = 0; p < P; p++) f->bias[p] = pb[f->pid_row[p]];
    if (Cp > 0) {
        for (int i = 0; i <= P; i++) f->pcat_off[i] = (int64_t)i * Cp;
        nn_embedding_bag_forward(tmp, e->cat, f->pcat_off, NULL, P_(net, E_PCAT), P, d, NN_BAG_SUM);
        for (size_t i = 0; i < (size_t)P * (size_t)d; i++) f->v[i] += tmp[i];
    }
    if (Fp > 0) {
        nn_linear_forward(tmp, e->num, P_(net, W_PNUM), P_(net, B_PNUM), P, Fp, d);
        for (size_t i = 0; i < (size_t)P * (size_t)d; i++) f->v[i] += tmp[i];
    }
    if (net->prod_fs.ntext > 0 && net->arch.enabled[REC_MOD_TEXT]) {
        nn_embedding_bag_forward(tmp, e->text_ids, e->text_off, NULL, P_(net, E_TEXT), P, d, NN_BAG_MEAN);
        for (size_t i = 0; i < (size_t)P * (size_t)d; i++) f->v[i] += tmp[i];
    }
    return HP_OK;
}

static rec_fwd *forward_customers(rec_net *net, nn_arena *a, const rec_batch *b, int training,
                                    float dropout, hp_rng *rng)
{
    rec_fwd *f = nn_arena_alloc(a, sizeof *f);
    if (!f) return NULL;
    memset(f, 0, sizeof *f);
    f->arena = a;
    f->b = b;
    f->B = b->B;
    f->P = net->P;
    f->dropout = training ? dropout : 0.0f;
    /* out of memory in the arena: no result (the caller reports HP_ERR_NOMEM) */
    if (forward_modalities(net, f, b) || forward_fusion(net, f, b, training, rng)) return NULL;
    return f;
}

rec_fwd *rec_forward(rec_net *net, nn_arena *a, const rec_batch *b, const uint8_t *id_keep,
                         int training, float dropout, hp_rng *rng)
{
    rec_fwd *f = forward_customers(net, a, b, training, dropout, rng);
    return f && !forward_products(net, f, id_keep) ? f : NULL;
}

rec_fwd *rec_forward_customers(rec_net *net, nn_arena *a, const rec_batch *b)
{
    return forward_customers(net, a, b, 0, 0.0f, NULL);
}

int rec_product_vectors(rec_net *net, const uint8_t *id_keep, float *v, float *bias, hp_error *err)
{
    nn_arena a;
    size_t P = (size_t)net->P, d = (size_t)net->arch.dim;
    int rc = nn_arena_init(&a, 4 * (P * d + P) * sizeof(float) + 8 * P * sizeof(int64_t) + (1 << 16), err);
    if (rc) return rc;
    rec_fwd f = { .arena = &a, .P = net->P };
    if (forward_products(net, &f, id_keep)) {
        nn_arena_free(&a);
        return hp_fail(err, HP_ERR_NOMEM, "product tower: out of memory");
    }
    memcpy(v, f.v, P * d * sizeof *v);
    memcpy(bias, f.bias, P * sizeof *bias);
    nn_arena_free(&a);
    return HP_OK;
}

const float *rec_fwd_u(const rec_fwd *f) { return f->u; }
const float *rec_fwd_v(const rec_fwd *f) { return f->v; }
const float *rec_fwd_bias(const rec_fwd *f) { return f->bias; }

void rec_fwd_weights(const rec_fwd *f, int b, float w[REC_MOD_COUNT])
{
    for (int m = 0; m < REC_MOD_COUNT; m++) w[m] = 0;
    for (int64_t r = f->fuse_off[b]; r < f->fuse_off[b + 1]; r++) w[f->row_mod[r]] = f->fuse_w[r];
}

/* ------------------------------------------------------------------ backward */

static void backward_products(rec_net *net, rec_fwd *f, const float *dv, const float *dbias)
{
    int P = net->P, d = net->arch.dim, Cp = net->prod_fs.ncat, Fp = net->prod_fs.nnum;
    const feat_enc *e = &net->prod;
    if (dbias) {
        float *g = G_(net, B_PID);
        for (int p = 0; p < P; p++) g[f->pid_row[p]] += dbias[p];
    }
    if (!dv) return;
    nn_embedding_backward(G_(net, E_PID), dv, f->pid_row, P, d);
    if (Cp > 0) nn_embedding_bag_backward(G_(net, E_PCAT), NULL, dv, e->cat, f->pcat_off, NULL, NULL, P, d, NN_BAG_SUM);
    if (Fp > 0) nn_linear_backward(NULL, G_(net, W_PNUM), G_(net, B_PNUM), dv, e->num, P_(net, W_PNUM), P, Fp, d);
    if (net->prod_fs.ntext > 0 && net->arch.enabled[REC_MOD_TEXT])
        nn_embedding_bag_backward(G_(net, E_TEXT), NULL, dv, e->text_ids, e->text_off, NULL, NULL, P, d, NN_BAG_MEAN);
}

static int backward_fusion(rec_net *net, rec_fwd *f, const float *du, float **dmod)
{
    nn_arena *a = f->arena;
    int B = f->B, d = net->arch.dim, R = f->R;
    size_t Rs = (size_t)(R ? R : 1);
    float *dfd = nn_arena_zeros(a, (size_t)B * (size_t)d), *df = nn_arena_zeros(a, (size_t)B * (size_t)d);
    float *drows2 = nn_arena_zeros(a, Rs * (size_t)d), *drows = nn_arena_zeros(a, Rs * (size_t)d);
    for (int m = 0; m < REC_MOD_COUNT; m++)
        dmod[m] = f->present[m] ? nn_arena_zeros(a, (size_t)B * (size_t)d) : NULL;
    if (nn_arena_failed(a)) return HP_ERR_NOMEM;
    nn_linear_backward(dfd, G_(net, W_OUT), G_(net, B_OUT), du, f->fd, P_(net, W_OUT), B, d, d);
    nn_dropout_backward(df, dfd, f->mask, (size_t)B * (size_t)d, f->dropout);
    nn_attnpool_backward(drows2, G_(net, Q_FUSE), df, f->fuse_w, f->rows2, f->fuse_off, P_(net, Q_FUSE),
                         1.0f / sqrtf((float)d), B, d);
    float *gtype = G_(net, TYPE);
    for (int k = 0; k < R; k++)
        for (int j = 0; j < d; j++) gtype[f->row_mod[k] * d + j] += drows2[(size_t)k * (size_t)d + (size_t)j];
    nn_layernorm_backward(drows, G_(net, LN_G), G_(net, LN_B), drows2, f->rows, P_(net, LN_G), f->ln_mean,
                          f->ln_rstd, R, d);
    for (int k = 0; k < R; k++) {
        float *dst = dmod[f->row_mod[k]] + (size_t)f->row_b[k] * (size_t)d;
        const float *src = drows + (size_t)k * (size_t)d;
        for (int j = 0; j < d; j++) dst[j] += src[j];
    }
    return HP_OK;
}

static int backward_modalities(rec_net *net, rec_fwd *f, float **dmod)
{
    const rec_batch *b = f->b;
    int B = f->B, d = net->arch.dim, H = net->arch.hidden, F = net->cust_fs.nnum;
    nn_arena *a = f->arena;
    int T = f->present[REC_MOD_TEXT] ? (int)b->text_off[B] : 0;
    float *dg = NULL, *dh = NULL, *dtok = NULL;
    if (f->present[REC_MOD_NUMERIC]) dg = nn_arena_zeros(a, (size_t)B * (size_t)H), dh = nn_arena_zeros(a, (size_t)B * (size_t)H);
    if (f->present[REC_MOD_TEXT]) dtok = nn_arena_zeros(a, (size_t)(T ? T : 1) * (size_t)d);
    if (nn_arena_failed(a)) return HP_ERR_NOMEM;
    if (f->present[REC_MOD_NUMERIC]) {
        nn_linear_backward(dg, G_(net, W_NUM2), G_(net, B_NUM2), dmod[REC_MOD_NUMERIC], f->g1, P_(net, W_NUM2), B, H, d);
        nn_gelu_backward(dh, dg, f->h1, (size_t)B * (size_t)H);
        nn_linear_backward(NULL, G_(net, W_NUM1), G_(net, B_NUM1), dh, b->num, P_(net, W_NUM1), B, F, H);
    }
    if (f->present[REC_MOD_CATEGORICAL])
        nn_embedding_bag_backward(G_(net, E_CAT), NULL, dmod[REC_MOD_CATEGORICAL], b->cat, f->cat_off, NULL, NULL, B, d, NN_BAG_SUM);
    if (f->present[REC_MOD_INTERESTS])
        nn_embedding_bag_backward(G_(net, E_MULTI), NULL, dmod[REC_MOD_INTERESTS], b->multi_ids, b->multi_off, NULL, NULL, B, d, NN_BAG_MEAN);
    if (f->present[REC_MOD_TEXT]) {
        nn_attnpool_backward(dtok, G_(net, Q_TEXT), dmod[REC_MOD_TEXT], f->tok_w, f->tok, b->text_off,
                             P_(net, Q_TEXT), 1.0f / sqrtf((float)d), B, d);
        nn_embedding_backward(G_(net, E_TEXT), dtok, b->text_ids, T, d);
    }
    if (f->present[REC_MOD_HISTORY])
        nn_embedding_bag_backward(G_(net, E_HIST), NULL, dmod[REC_MOD_HISTORY], b->hist_ids, b->hist_off, NULL, NULL, B, d, NN_BAG_MEAN);
    return HP_OK;
}

int rec_backward(rec_net *net, rec_fwd *f, const float *du, const float *dv, const float *dbias)
{
    float *dmod[REC_MOD_COUNT];
    backward_products(net, f, dv, dbias);
    if (!du) return HP_OK;
    int rc = backward_fusion(net, f, du, dmod);
    return rc ? rc : backward_modalities(net, f, dmod);
}
