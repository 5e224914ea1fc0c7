/* Serving: one customer at a time against the catalogue's product tower, computed once. */
#include "rec/rec.h"

#include <string.h>

struct rec_scorer {
    rec_net *net;
    nn_arena arena;          /* grows to the largest request seen (nn_arena) */
    float *v, *bias;         /* (P, d), (P): the product tower, once */
    float *scores;           /* (P) */
};

int rec_scorer_new(rec_scorer **out, rec_net *net, const uint8_t *id_keep, hp_error *err)
{
    *out = NULL;
    rec_scorer *s = hp_calloc(1, sizeof *s);
    if (!s) return hp_fail(err, HP_ERR_NOMEM, "scorer: out of memory");
    s->net = net;
    size_t P = (size_t)net->P, d = (size_t)net->arch.dim;
    s->v = hp_malloc(P * d * sizeof *s->v);
    s->bias = hp_malloc(P * sizeof *s->bias);
    s->scores = hp_malloc(P * sizeof *s->scores);
    int rc = s->v && s->bias && s->scores ? HP_OK : hp_fail(err, HP_ERR_NOMEM, "scorer: out of memory");
    if (!rc) rc = nn_arena_init(&s->arena, rec_arena_bytes(net, 1, net->arch.max_tokens, 64, 64), err);
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
    nn_arena_free(&s->arena);
    hp_free(s->v);
    hp_free(s->bias);
    hp_free(s->scores);
    hp_free(s);
}

/* The batch of one row, pointing into e (no copy): the same inputs rec_gather gives a
 * batch of one, so a customer scores the same here as in training's validation. */
static rec_batch one_row(const feat_enc *e, int32_t row, const int32_t *hist, int nh, int64_t off[3][2])
{
    off[0][0] = 0, off[0][1] = e->multi_off[row + 1] - e->multi_off[row];
    off[1][0] = 0, off[1][1] = e->text_off[row + 1] - e->text_off[row];
    off[2][0] = 0, off[2][1] = nh;
    return (rec_batch){ .B = 1, .num = e->num + (size_t)row * (size_t)e->F, .cat = e->cat + (size_t)row * (size_t)e->C,
                        .multi_off = off[0], .multi_ids = e->multi_ids ? e->multi_ids + e->multi_off[row] : NULL,
                        .text_off = off[1], .text_ids = e->text_ids ? e->text_ids + e->text_off[row] : NULL,
                        .hist_off = hist ? off[2] : NULL, .hist_ids = hist };
}

const float *rec_scorer_scores(rec_scorer *s, const feat_enc *e, int32_t row, const int32_t *hist, int nh,
                               float *weights)
{
    int64_t off[3][2];
    rec_batch b = one_row(e, row, hist, nh, off);
    nn_arena_reset(&s->arena);
    rec_fwd *f = rec_forward_customers(s->net, &s->arena, &b);
    if (!f) return NULL;
    nn_score_forward(s->scores, rec_fwd_u(f), s->v, s->bias, NULL, 1, s->net->P, s->net->arch.dim);
    if (weights) rec_fwd_weights(f, 0, weights);
    return s->scores;
}
