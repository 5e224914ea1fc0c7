/* Serving: one customer at a time against a precomputed catalogue, top-k selection. */
#include "rec/rec.h"
#include "rank/rank.h"

#include <math.h>
#include <string.h>

struct rec_scorer {
    rec_net *net;
    const feat_enc *e;
    rec_lists hist;
    rec_batchbuf bb;
    nn_arena arena;
    float *v, *bias;         /* (P, d), (P): the product tower, once */
    float *scores;           /* (P) */
    uint8_t *excluded;       /* (P) all 0 between calls */
    rank_entry *top;         /* (P) */
};

int rec_scorer_new(rec_scorer **out, rec_net *net, const feat_enc *e, const rec_lists *hist,
                     const uint8_t *id_keep, hp_error *err)
{
    *out = NULL;
    rec_scorer *s = hp_calloc(1, sizeof *s);
    if (!s) return hp_fail(err, HP_ERR_NOMEM, "scorer: out of memory");
    s->net = net;
    s->e = e;
    if (hist) s->hist = *hist;
    size_t P = (size_t)net->P, d = (size_t)net->arch.dim;
    s->v = hp_malloc(P * d * sizeof *s->v);
    s->bias = hp_malloc(P * sizeof *s->bias);
    s->scores = hp_malloc(P * sizeof *s->scores);
    s->excluded = hp_calloc(P + 1, 1);
    s->top = hp_malloc((P + 1) * sizeof *s->top);
    int rc = s->v && s->bias && s->scores && s->excluded && s->top ? rec_batchbuf_init(&s->bb, e, hist, 1) : HP_ERR_NOMEM;
    if (rc) hp_fail(err, rc, "scorer: out of memory");
    if (!rc) rc = nn_arena_init(&s->arena, rec_arena_bytes(net, 1, (long)s->bb.text_cap, (long)s->bb.hist_cap,
                                                           (long)s->bb.multi_cap), err);
    if (!rc) rc = rec_product_vectors(net, id_keep, s->v, s->bias, err);
    if (rc) {
        rec_scorer_free(s);
        return rc;
    }
    *out = s;
    return HP_OK;
}

void rec_scorer_free(rec_scorer *s)
{
    if (!s) return;
    rec_batchbuf_free(&s->bb);
    nn_arena_free(&s->arena);
    hp_free(s->v);
    hp_free(s->bias);
    hp_free(s->scores);
    hp_free(s->excluded);
    hp_free(s->top);
    hp_free(s);
}

const float *rec_scorer_scores(rec_scorer *s, int32_t row, float *weights)
{
    nn_arena_reset(&s->arena);
    rec_gather(&s->bb, s->e, &s->hist, &row, NULL, 1);
    rec_fwd *f = rec_forward_customers(s->net, &s->arena, &s->bb.b);
    if (!f) return NULL;
    nn_score_forward(s->scores, rec_fwd_u(f), s->v, s->bias, NULL, 1, s->net->P, s->net->arch.dim);
    if (weights) rec_fwd_weights(f, 0, weights);
    return s->scores;
}

int rec_scorer_topk(rec_scorer *s, int32_t row, const int32_t *exclude, int nex, int k,
                      int32_t *items, float *scores, float *weights)
{
    const float *sc = rec_scorer_scores(s, row, weights);
    if (!sc) return HP_ERR_NOMEM;
    int P = s->net->P;
    k = HP_MAX(0, HP_MIN(k, P));
    for (int i = 0; i < nex; i++)
        if (exclude[i] >= 0 && exclude[i] < P) s->excluded[exclude[i]] = 1;
    int n = rank_topk(sc, P, s->excluded, k, s->top); /* HP_ERR_RANGE: never rank around NaN */
    for (int i = 0; i < nex; i++)
        if (exclude[i] >= 0 && exclude[i] < P) s->excluded[exclude[i]] = 0;
    for (int i = 0; i < n; i++) items[i] = s->top[i].item, scores[i] = s->top[i].score;
    return n;
}
