/* Reference test against PyTorch (in the spirit of llm.c's test_gpt2, but it exits non-zero
 * on any mismatch).
 *
 * tests/fixtures/gen_nn_ref.py (run with /usr/bin/python3) built a small recommender from
 * torch layers, ran forward, backward, clip_grad_norm_ and one AdamW step, and wrote the
 * inputs, initial weights, loss, intermediate outputs, every gradient, the AdamW moments and
 * the updated weights to tests/fixtures/nn_ref.bin (format in the script). This test runs the
 * same computation with the nn module and compares every tensor.
 *
 * Tolerance: |ours - torch| <= ATOL + RTOL * |torch| per element (float32 on both sides;
 * the two differ only by summation order and libm rounding).
 *
 * The fixture path is argv[1], else NN_REF_PATH (the test binary runs from the project root).
 * The fixture is committed, so a missing file is a FAILURE, not a skip. */
#include "check.h"
#include "nn/nn.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#ifndef NN_REF_PATH
#define NN_REF_PATH "tests/fixtures/nn_ref.bin"
#endif

#define ATOL 1e-5
#define RTOL 1e-4

/* ================================================================== fixture reader */

#define REF_MAGIC "HPNNREF"
#define REF_VERSION 1
#define REF_NAME_MAX 64

enum { REF_F32 = 0, REF_I32 = 1, REF_I64 = 2 };

typedef struct {
    char name[REF_NAME_MAX];
    uint32_t dtype;
    size_t count;
    void *data; /* (count) elements of dtype, own allocation so it is aligned */
} ref_rec;

typedef struct {
    int32_t sizes[16];
    uint32_t nsizes;
    ref_rec *recs;
    uint32_t nrecs;
} ref_file;

typedef struct {
    const unsigned char *p, *end;
} reader;

static int rd(reader *r, void *dst, size_t n)
{
    if ((size_t)(r->end - r->p) < n) return -1;
    memcpy(dst, r->p, n);
    r->p += n;
    return 0;
}

static int rd_u32(reader *r, uint32_t *v) { return rd(r, v, sizeof *v); }

static void ref_free(ref_file *f)
{
    for (uint32_t i = 0; f->recs && i < f->nrecs; i++) free(f->recs[i].data);
    free(f->recs);
    memset(f, 0, sizeof *f);
}

/* One record: name, dtype, dims, data. */
static int read_record(reader *r, ref_rec *rec, char *why, size_t whylen)
{
    uint32_t len, ndim, dim;
    if (rd_u32(r, &len) || len == 0 || len >= REF_NAME_MAX || rd(r, rec->name, len) ||
        rd_u32(r, &rec->dtype) || rec->dtype > REF_I64 || rd_u32(r, &ndim) || ndim > 4) {
        snprintf(why, whylen, "truncated or malformed record header");
        return -1;
    }
    rec->count = 1;
    for (uint32_t k = 0; k < ndim; k++) {
        if (rd_u32(r, &dim)) return snprintf(why, whylen, "truncated dims"), -1;
        rec->count *= dim;
    }
    size_t elem = rec->dtype == REF_I64 ? 8 : 4;
    if (rec->count > (1u << 24)) return snprintf(why, whylen, "'%s' too large", rec->name), -1;
    rec->data = malloc(rec->count * elem + 1);
    if (!rec->data || rd(r, rec->data, rec->count * elem)) {
        snprintf(why, whylen, "record '%s': data truncated", rec->name);
        return -1;
    }
    return 0;
}

static int parse(ref_file *f, reader *r, char *why, size_t whylen)
{
    char magic[8];
    uint32_t version;
    if (rd(r, magic, 8) || memcmp(magic, REF_MAGIC, 8) != 0)
        return snprintf(why, whylen, "bad magic (not an nn reference file)"), -1;
    if (rd_u32(r, &version) || version != REF_VERSION)
        return snprintf(why, whylen, "version %u, expected %d", version, REF_VERSION), -1;
    if (rd_u32(r, &f->nsizes) || f->nsizes > 16 || rd(r, f->sizes, 4u * f->nsizes) ||
        rd_u32(r, &f->nrecs) || f->nrecs > 4096)
        return snprintf(why, whylen, "truncated header"), -1;
    f->recs = calloc(f->nrecs ? f->nrecs : 1, sizeof *f->recs);
    if (!f->recs) return snprintf(why, whylen, "out of memory"), -1;
    for (uint32_t i = 0; i < f->nrecs; i++)
        if (read_record(r, &f->recs[i], why, whylen)) return -1;
    if (r->p != r->end) return snprintf(why, whylen, "trailing bytes after the last record"), -1;
    return 0;
}

/* Loads path into f. Returns 0, or -1 with a sentence in why. */
static int ref_load(ref_file *f, const char *path, char *why, size_t whylen)
{
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(why, whylen, "cannot open %s (%s); it is committed with the tests, regenerate "
                 "it with /usr/bin/python3 tests/fixtures/gen_nn_ref.py", path, strerror(errno));
        return -1;
    }
    static unsigned char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof buf, fp);
    int bad = ferror(fp) || !feof(fp);
    fclose(fp);
    if (bad) return snprintf(why, whylen, "%s: read error or larger than 1 MiB", path), -1;
    reader r = { buf, buf + len };
    if (parse(f, &r, why, whylen)) {
        ref_free(f);
        return -1;
    }
    return 0;
}

/* The record called name, checked for dtype and element count; NULL (and a failed CHECK
 * naming the problem) otherwise. */
static void *ref_get(const ref_file *f, const char *name, uint32_t dtype, size_t count)
{
    for (uint32_t i = 0; i < f->nrecs; i++) {
        const ref_rec *rec = &f->recs[i];
        if (strcmp(rec->name, name) != 0) continue;
        CHECKF(rec->dtype == dtype && rec->count == count,
               "fixture record '%s': dtype %u count %zu, expected dtype %u count %zu", name,
               rec->dtype, rec->count, dtype, count);
        return rec->dtype == dtype && rec->count == count ? rec->data : NULL;
    }
    CHECKF(0, "fixture has no record '%s'", name);
    return NULL;
}

/* ================================================================== the model */

typedef struct {
    int V, C, H, R, NNZ, B, NU, M, K1;
} dims;

/* Parameter names as in the script; the order fixes the layout of the block. */
enum { P_ITEM_EMB, P_W1, P_B1, P_LN_W, P_LN_B, P_W2, P_B2, P_Q, P_USER_EMB, P_P, P_PBIAS,
       P_COUNT };
static const char *const param_names[P_COUNT] = {
    "item_emb", "W1", "b1", "ln_w", "ln_b", "W2", "b2", "q", "user_emb", "P", "pbias"
};

static void param_defs(nn_tensor *t, const dims *d)
{
    const int shape[P_COUNT][2] = {
        { d->V, d->C }, { d->H, d->C }, { d->H, 0 }, { d->H, 0 }, { d->H, 0 },
        { d->C, d->H }, { d->C, 0 }, { d->C, 0 }, { d->NU, d->C }, { d->M, d->C }, { d->M, 0 }
    };
    memset(t, 0, P_COUNT * sizeof *t);
    for (int i = 0; i < P_COUNT; i++) {
        snprintf(t[i].name, NN_NAME_MAX, "%s", param_names[i]);
        t[i].ndim = shape[i][1] ? 2 : 1;
        t[i].shape[0] = shape[i][0];
        t[i].shape[1] = shape[i][1];
    }
    /* no weight decay on biases and layer-norm parameters, as the script's param groups */
    t[P_B1].flags = t[P_LN_W].flags = t[P_LN_B].flags = t[P_B2].flags = t[P_PBIAS].flags =
        NN_PARAM_NO_DECAY;
}

typedef struct {
    const int32_t *items;  /* (NNZ) item ids of every event's bag */
    const int64_t *bag_off;/* (R+1) CSR offsets into items */
    const int64_t *goff;   /* (B+1) CSR offsets of each user's events (rows) */
    const int32_t *uid;    /* (B) user ids */
    const int32_t *cand;   /* (B,K1) column 0 the positive */
    const float *logq;     /* (B,K1) */
    const float *targets;  /* (B,M) BCE targets */
    const float *hp;       /* lr beta1 beta2 eps wd max_norm bce_weight scale */
} inputs;

/* Activations and their gradients, carved from one arena. */
typedef struct {
    float *bag, *h1, *ln, *mean, *rstd, *ge, *rows, *attn_w, *u, *logits, *scores;
    float *dbag, *dh1, *dln, *dge, *drows, *du, *dlogits, *dscores;
} acts;

static int acts_carve(acts *a, nn_arena *ar, const dims *d)
{
    size_t RC = (size_t)d->R * d->C, RH = (size_t)d->R * d->H, BC = (size_t)d->B * d->C;
    size_t BK = (size_t)d->B * d->K1, BM = (size_t)d->B * d->M;
    a->bag = nn_arena_floats(ar, RC);        /* (R,C) */
    a->h1 = nn_arena_floats(ar, RH);         /* (R,H) */
    a->ln = nn_arena_floats(ar, RH);         /* (R,H) */
    a->mean = nn_arena_floats(ar, d->R);     /* (R) */
    a->rstd = nn_arena_floats(ar, d->R);     /* (R) */
    a->ge = nn_arena_floats(ar, RH);         /* (R,H) */
    a->rows = nn_arena_floats(ar, RC);       /* (R,C) */
    a->attn_w = nn_arena_floats(ar, d->R);   /* (R) */
    a->u = nn_arena_floats(ar, BC);          /* (B,C) */
    a->logits = nn_arena_floats(ar, BK);     /* (B,K1) */
    a->scores = nn_arena_floats(ar, BM);     /* (B,M) */
    a->dbag = nn_arena_zeros(ar, RC);
    a->dh1 = nn_arena_zeros(ar, RH);
    a->dln = nn_arena_zeros(ar, RH);
    a->dge = nn_arena_zeros(ar, RH);
    a->drows = nn_arena_zeros(ar, RC);
    a->du = nn_arena_zeros(ar, BC);
    a->dlogits = nn_arena_zeros(ar, BK);
    a->dscores = nn_arena_zeros(ar, BM);
    return a->dscores ? 0 : -1; /* the last allocation fails first when the arena is short */
}

#define W(i) (p->data + p->t[i].offset)
#define G(i) (p->grad + p->t[i].offset)

/* Forward to the loss; returns it. */
static float rec_forward(acts *a, const nn_params *p, const inputs *in, const dims *d)
{
    nn_embedding_bag_forward(a->bag, in->items, in->bag_off, NULL, W(P_ITEM_EMB), d->R, d->C,
                             NN_BAG_MEAN);
    nn_linear_forward(a->h1, a->bag, W(P_W1), W(P_B1), d->R, d->C, d->H);
    nn_layernorm_forward(a->ln, a->mean, a->rstd, a->h1, W(P_LN_W), W(P_LN_B), d->R, d->H);
    nn_gelu_forward(a->ge, a->ln, (size_t)d->R * d->H);
    nn_linear_forward(a->rows, a->ge, W(P_W2), W(P_B2), d->R, d->H, d->C);
    nn_attnpool_forward(a->u, a->attn_w, a->rows, in->goff, W(P_Q), in->hp[7], d->B, d->C);
    /* u = pool + user_emb[uid]: add the looked-up rows in place */
    for (int b = 0; b < d->B; b++)
        for (int c = 0; c < d->C; c++)
            a->u[b * d->C + c] += W(P_USER_EMB)[(size_t)in->uid[b] * d->C + c];
    nn_score_gather_forward(a->logits, a->u, W(P_P), in->cand, W(P_PBIAS), NULL, d->B, d->K1,
                            d->C);
    nn_score_forward(a->scores, a->u, W(P_P), W(P_PBIAS), NULL, d->B, d->M, d->C);
    float ssm = nn_sampled_softmax_loss(a->dlogits, a->logits, in->logq, d->B, d->K1, 1.0f);
    float bce = nn_bce_logits_loss(a->dscores, a->scores, in->targets, (size_t)d->B * d->M,
                                   in->hp[6]);
    return ssm + in->hp[6] * bce;
}

/* Backward from the loss gradients that rec_forward already added into dlogits/dscores. */
static void rec_backward(acts *a, nn_params *p, const inputs *in, const dims *d)
{
    nn_score_gather_backward(a->du, G(P_P), G(P_PBIAS), NULL, a->dlogits, a->u, W(P_P),
                             in->cand, d->B, d->K1, d->C);
    nn_score_backward(a->du, G(P_P), G(P_PBIAS), NULL, a->dscores, a->u, W(P_P), d->B, d->M,
                      d->C);
    /* u = pool + user_emb[uid]: du flows unchanged into both */
    nn_embedding_backward(G(P_USER_EMB), a->du, in->uid, d->B, d->C);
    nn_attnpool_backward(a->drows, G(P_Q), a->du, a->attn_w, a->rows, in->goff, W(P_Q),
                         in->hp[7], d->B, d->C);
    nn_linear_backward(a->dge, G(P_W2), G(P_B2), a->drows, a->ge, W(P_W2), d->R, d->H, d->C);
    nn_gelu_backward(a->dln, a->dge, a->ln, (size_t)d->R * d->H);
    nn_layernorm_backward(a->dh1, G(P_LN_W), G(P_LN_B), a->dln, a->h1, W(P_LN_W), a->mean,
                          a->rstd, d->R, d->H);
    nn_linear_backward(a->dbag, G(P_W1), G(P_B1), a->dh1, a->bag, W(P_W1), d->R, d->C, d->H);
    nn_embedding_bag_backward(G(P_ITEM_EMB), NULL, a->dbag, in->items, in->bag_off, NULL,
                              W(P_ITEM_EMB), d->R, d->C, NN_BAG_MEAN);
}

/* ================================================================== comparison */

static int g_verbose = 1; /* print every tensor's errors, not just mismatches */

/* Compares got with the reference; prints one line with the max abs and rel error (rel over
 * elements with |ref| >= 1e-3, where it is meaningful). Returns 1 on mismatch, 0 if equal
 * within tolerance; a missing reference counts as a mismatch. */
static int compare(const char *name, const float *got, const float *want, size_t n,
                   double *worst_abs, double *worst_rel)
{
    if (!want) return 1;
    double max_abs = 0.0, max_rel = 0.0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double ref = want[i], err = fabs((double)got[i] - ref);
        if (!(err <= ATOL + RTOL * fabs(ref))) bad++; /* also catches NaN */
        max_abs = fmax(max_abs, err);
        if (fabs(ref) >= 1e-3) max_rel = fmax(max_rel, err / fabs(ref));
    }
    if (g_verbose || bad)
        printf("     %-16s n=%-4zu max abs %.2e  max rel %.2e  %s\n", name, n, max_abs,
               max_rel, bad ? "MISMATCH" : "ok");
    if (worst_abs) *worst_abs = fmax(*worst_abs, max_abs);
    if (worst_rel) *worst_rel = fmax(*worst_rel, max_rel);
    return bad != 0;
}

static ref_file g_ref;
static int g_ref_ok;
static char g_ref_why[512];

static int read_dims(dims *d, const ref_file *f)
{
    if (f->nsizes != 9) return -1;
    const int32_t *s = f->sizes;
    *d = (dims){ s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8] };
    for (uint32_t i = 0; i < f->nsizes; i++)
        if (s[i] <= 0 || s[i] > 4096) return -1;
    return 0;
}

static int read_inputs(inputs *in, const ref_file *f, const dims *d)
{
    in->items = ref_get(f, "items", REF_I32, d->NNZ);
    in->bag_off = ref_get(f, "bag_off", REF_I64, d->R + 1);
    in->goff = ref_get(f, "goff", REF_I64, d->B + 1);
    in->uid = ref_get(f, "uid", REF_I32, d->B);
    in->cand = ref_get(f, "cand", REF_I32, (size_t)d->B * d->K1);
    in->logq = ref_get(f, "logq", REF_F32, (size_t)d->B * d->K1);
    in->targets = ref_get(f, "targets", REF_F32, (size_t)d->B * d->M);
    in->hp = ref_get(f, "hparams", REF_F32, 8);
    if (!in->items || !in->bag_off || !in->goff || !in->uid || !in->cand || !in->logq ||
        !in->targets || !in->hp)
        return -1;
    /* the fixture is outside input: validate ids and offsets before the layers trust them */
    int ok = in->bag_off[0] == 0 && in->bag_off[d->R] == d->NNZ && in->goff[0] == 0 &&
             in->goff[d->B] == d->R;
    for (int i = 0; i < d->R; i++) ok &= in->bag_off[i] <= in->bag_off[i + 1];
    for (int i = 0; i < d->B; i++) ok &= in->goff[i] <= in->goff[i + 1];
    for (int i = 0; i < d->NNZ; i++) ok &= in->items[i] >= 0 && in->items[i] < d->V;
    for (int i = 0; i < d->B; i++) ok &= in->uid[i] >= 0 && in->uid[i] < d->NU;
    for (int i = 0; i < d->B * d->K1; i++) ok &= in->cand[i] >= 0 && in->cand[i] < d->M;
    CHECKF(ok, "fixture inputs: ids or offsets out of range");
    return ok ? 0 : -1;
}

/* Compares every tensor `prefix.name` of the block (data or grad) with the fixture. */
static int compare_block(const nn_params *p, const ref_file *f, const char *prefix,
                         const float *block, double *wa, double *wr)
{
    int bad = 0;
    for (int i = 0; i < p->n; i++) {
        char name[REF_NAME_MAX];
        snprintf(name, sizeof name, "%s.%s", prefix, p->t[i].name);
        const float *want = ref_get(f, name, REF_F32, p->t[i].size);
        bad += compare(name, block + p->t[i].offset, want, p->t[i].size, wa, wr);
    }
    return bad;
}

typedef struct {
    double fwd_abs, fwd_rel, grad_abs, grad_rel, step_abs, step_rel;
} ref_errors;

/* Runs the whole reference computation on f and returns the number of mismatching tensors
 * (or -1 when the fixture is unusable). */
static int run_reference(const ref_file *f, ref_errors *e)
{
    dims d;
    inputs in;
    nn_tensor defs[P_COUNT];
    nn_params p;
    nn_arena ar;
    hp_error err = { 0 };
    memset(e, 0, sizeof *e);
    if (read_dims(&d, f)) {
        CHECKF(0, "fixture sizes are malformed");
        return -1;
    }
    if (read_inputs(&in, f, &d)) return -1;
    param_defs(defs, &d);
    int rc = nn_params_init(&p, defs, P_COUNT, &err);
    CHECKF(rc == HP_OK, "nn_params_init: %s", err.msg);
    if (rc) return -1;
    for (int i = 0; i < P_COUNT; i++) {
        char name[REF_NAME_MAX];
        snprintf(name, sizeof name, "w.%s", param_names[i]);
        const float *w = ref_get(f, name, REF_F32, p.t[i].size);
        if (!w) return nn_params_free(&p), -1;
        memcpy(p.data + p.t[i].offset, w, p.t[i].size * sizeof(float));
    }
    acts a;
    if (nn_arena_init(&ar, 64 * 1024, &err) || acts_carve(&a, &ar, &d)) {
        CHECKF(0, "arena: %s", err.msg[0] ? err.msg : "too small");
        nn_arena_free(&ar);
        nn_params_free(&p);
        return -1;
    }
    int bad = 0;
    nn_params_zero_grad(&p);
    float loss = rec_forward(&a, &p, &in, &d);
    rec_backward(&a, &p, &in, &d);
    bad += compare("loss", &loss, ref_get(f, "loss", REF_F32, 1), 1, &e->fwd_abs, &e->fwd_rel);
    bad += compare("attn_w", a.attn_w, ref_get(f, "attn_w", REF_F32, d.R), d.R, &e->fwd_abs,
                   &e->fwd_rel);
    bad += compare("rows", a.rows, ref_get(f, "rows", REF_F32, (size_t)d.R * d.C),
                   (size_t)d.R * d.C, &e->fwd_abs, &e->fwd_rel);
    bad += compare("u", a.u, ref_get(f, "u", REF_F32, (size_t)d.B * d.C), (size_t)d.B * d.C,
                   &e->fwd_abs, &e->fwd_rel);
    bad += compare("logits", a.logits, ref_get(f, "logits", REF_F32, (size_t)d.B * d.K1),
                   (size_t)d.B * d.K1, &e->fwd_abs, &e->fwd_rel);
    bad += compare("scores", a.scores, ref_get(f, "scores", REF_F32, (size_t)d.B * d.M),
                   (size_t)d.B * d.M, &e->fwd_abs, &e->fwd_rel);
    bad += compare_block(&p, f, "g", p.grad, &e->grad_abs, &e->grad_rel);
    nn_adamw_config cfg = { .lr = in.hp[0], .beta1 = in.hp[1], .beta2 = in.hp[2],
                            .eps = in.hp[3], .weight_decay = in.hp[4] };
    float norm = nn_clip_grad_norm(&p, in.hp[5]);
    nn_adamw_step(&p, &cfg, -1.0f, 1);
    bad += compare("grad_norm", &norm, ref_get(f, "grad_norm", REF_F32, 1), 1, &e->grad_abs,
                   &e->grad_rel);
    bad += compare_block(&p, f, "m", p.m, &e->step_abs, &e->step_rel);
    bad += compare_block(&p, f, "v", p.v, &e->step_abs, &e->step_rel);
    bad += compare_block(&p, f, "new", p.data, &e->step_abs, &e->step_rel);
    nn_arena_free(&ar);
    nn_params_free(&p);
    return bad;
}

/* ================================================================== tests */

TEST(test_fixture_present)
{
    CHECKF(g_ref_ok, "%s", g_ref_why);
}

TEST(test_matches_torch)
{
    if (!g_ref_ok) {
        CHECKF(0, "no fixture: %s", g_ref_why);
        return;
    }
    ref_errors e;
    int bad = run_reference(&g_ref, &e);
    printf("     worst: forward abs %.2e rel %.2e | grads abs %.2e rel %.2e | "
           "AdamW abs %.2e rel %.2e (tolerance %g abs + %g rel)\n", e.fwd_abs, e.fwd_rel,
           e.grad_abs, e.grad_rel, e.step_abs, e.step_rel, ATOL, RTOL);
    CHECKF(bad == 0, "%d tensors differ from the PyTorch reference", bad);
}

/* The comparison must not pass vacuously: corrupt one reference gradient value slightly
 * (well above tolerance, far below anything a loose check would notice) and expect exactly
 * that tensor to be reported. */
TEST(test_corruption_is_detected)
{
    if (!g_ref_ok) {
        CHECKF(0, "no fixture: %s", g_ref_why);
        return;
    }
    float *g = NULL;
    for (uint32_t i = 0; i < g_ref.nrecs; i++)
        if (strcmp(g_ref.recs[i].name, "g.W1") == 0 && g_ref.recs[i].count > 5)
            g = g_ref.recs[i].data;
    CHECKF(g, "fixture has no g.W1 to corrupt");
    if (!g) return;
    float saved = g[5];
    g[5] += 1e-3f + 1e-2f * fabsf(g[5]);
    ref_errors e;
    printf("     (corrupted g.W1[5]; one MISMATCH line is expected below)\n");
    g_verbose = 0;
    int bad = run_reference(&g_ref, &e);
    g_verbose = 1;
    g[5] = saved;
    CHECKF(bad == 1, "expected exactly 1 mismatching tensor, got %d", bad);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : NN_REF_PATH;
    nn_set_threads(1);
    g_ref_ok = ref_load(&g_ref, path, g_ref_why, sizeof g_ref_why) == 0;
    if (!g_ref_ok) fprintf(stderr, "test_nn_torch: fixture: %s\n", g_ref_why);
    RUN(test_fixture_present);
    RUN(test_matches_torch);
    RUN(test_corruption_is_detected);
    ref_free(&g_ref);
    return check_summary("test_nn_torch");
}
