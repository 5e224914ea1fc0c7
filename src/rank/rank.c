/* rank: top-k, popularity and the ranking pipeline (spec in rank.h). */
#include "rank/rank.h"

#include <math.h>
#include <string.h>

/* Better = higher score, then lower index (the same tie-break as eval). */
static int better(float a, int32_t ia, float b, int32_t ib) { return a > b || (a == b && ia < ib); }

int rank_topk(const float *scores, int P, const uint8_t *skip, int k, rank_entry *out)
{
    int n = 0;
    for (int32_t p = 0; p < P; p++) {
        float s = scores[p];
        if (!isfinite(s)) return HP_ERR_RANGE; /* a broken model: never ranked around */
        if ((skip && skip[p]) || k <= 0) continue;
        if (n == k && !better(s, p, out[k - 1].score, out[k - 1].item)) continue;
        int pos = n < k ? n++ : k - 1; /* insertion into the sorted top k */
        while (pos > 0 && better(s, p, out[pos - 1].score, out[pos - 1].item)) {
            out[pos] = out[pos - 1];
            pos--;
        }
        out[pos] = (rank_entry){ .item = p, .score = s, .prob = 1.0f };
    }
    return n;
}

void rank_popularity_add(double *count, int P, const int32_t *items, size_t n, const uint8_t *keep)
{
    for (size_t i = 0; i < n; i++)
        if ((!keep || keep[i]) && items[i] >= 0 && items[i] < P) count[items[i]] += 1;
}

/* ------------------------------------------------------------------ the pipeline */

struct rank_pipeline {
    int P, depth;
    rank_stage stages[RANK_MAX_STAGES];
    int nstages;
    uint8_t *dropped;        /* (P) */
    rank_entry *list;        /* (P): depth never exceeds the catalogue */
};

void rank_drop(rank_list *l, int32_t item)
{
    if (item >= 0 && item < l->P && !l->dropped[item]) l->dropped[item] = (uint8_t)(1 + l->stage);
}

/* The built-in first stage: held products are not offered again (unless wanted). */
static int exclude_held(void *state, rank_list *l, const rank_request *rq, hp_error *err)
{
    (void)state;
    (void)err;
    if (rq->include_held) return HP_OK;
    for (int i = 0; i < rq->nheld; i++) rank_drop(l, rq->held[i]);
    return HP_OK;
}

int rank_pipeline_new(rank_pipeline **out, int P, int depth, hp_error *err)
{
    *out = NULL;
    if (P < 0 || depth < 0) return hp_fail(err, HP_ERR_INVAL, "rank: a catalogue of %d products, depth %d", P, depth);
    rank_pipeline *pl = hp_calloc(1, sizeof *pl);
    if (!pl) return hp_fail(err, HP_ERR_NOMEM, "rank: out of memory");
    pl->P = P;
    pl->depth = depth;
    pl->dropped = hp_calloc((size_t)P + 1, 1);
    pl->list = hp_malloc(((size_t)P + 1) * sizeof *pl->list);
    if (!pl->dropped || !pl->list) {
        rank_pipeline_free(pl);
        return hp_fail(err, HP_ERR_NOMEM, "rank: out of memory");
    }
    rank_stage held = { .name = "held", .kind = RANK_FILTER, .run = exclude_held };
    pl->stages[pl->nstages++] = held;
    *out = pl;
    return HP_OK;
}

void rank_pipeline_free(rank_pipeline *pl)
{
    if (!pl) return;
    hp_free(pl->dropped);
    hp_free(pl->list);
    hp_free(pl);
}

int rank_pipeline_nstages(const rank_pipeline *pl) { return pl->nstages; }

int rank_pipeline_add(rank_pipeline *pl, const rank_stage *st, hp_error *err)
{
    const char *name = st && st->name ? st->name : "(unnamed)";
    if (!st || !st->run || st->kind < RANK_FILTER || st->kind > RANK_EXPLORE)
        return hp_fail(err, HP_ERR_INVAL, "rank stage '%s': needs a run function and a kind", name);
    if (pl->nstages == RANK_MAX_STAGES)
        return hp_fail(err, HP_ERR_INVAL, "rank stage '%s': at most %d stages", name, RANK_MAX_STAGES);
    const rank_stage *last = &pl->stages[pl->nstages - 1];
    if (st->kind < last->kind)
        return hp_fail(err, HP_ERR_INVAL, "rank stage '%s': filters, then re-rankers, then exploration ('%s' is already "
                       "later in the pipeline)", name, last->name);
    pl->stages[pl->nstages++] = *st;
    return HP_OK;
}

static int run_stage(rank_pipeline *pl, int i, rank_list *l, const rank_request *rq, hp_error *err)
{
    l->stage = i;
    int rc = pl->stages[i].run(pl->stages[i].state, l, rq, err);
    if (rc) {
        hp_error_prefix(err, "rank stage '%s'", pl->stages[i].name);
        return rc;
    }
    if (l->n < 0 || l->n > l->depth)
        return hp_fail(err, HP_ERR_INVAL, "rank stage '%s': left %d entries of at most %d", pl->stages[i].name, l->n,
                       l->depth);
    return HP_OK;
}

int rank_run(rank_pipeline *pl, const float *scores, const rank_request *rq, int k, rank_entry *out, hp_error *err)
{
    static const rank_request none = { 0 };
    if (!rq) rq = &none;
    k = HP_MAX(0, HP_MIN(k, pl->P));
    rank_list l = { .P = pl->P, .scores = scores, .dropped = pl->dropped, .list = pl->list, .k = k,
                    .depth = HP_MIN(HP_MAX(k, pl->depth), pl->P) };
    hp_rng_seed(&l.rng, rq->seed);
    memset(pl->dropped, 0, (size_t)pl->P);
    int rc = HP_OK, i = 0;
    for (; !rc && i < pl->nstages && pl->stages[i].kind == RANK_FILTER; i++) rc = run_stage(pl, i, &l, rq, err);
    if (rc) return rc;
    if ((l.n = rank_topk(scores, pl->P, pl->dropped, l.depth, pl->list)) < 0) {
        for (int32_t p = 0; p < pl->P; p++)
            if (!isfinite(scores[p]))
                return hp_fail(err, HP_ERR_RANGE, "rank: the score of product %d is %s", p,
                               isnan(scores[p]) ? "NaN" : "infinite");
        return hp_fail(err, HP_ERR_RANGE, "rank: a score is not finite");
    }
    for (; !rc && i < pl->nstages; i++) rc = run_stage(pl, i, &l, rq, err);
    if (rc) return rc;
    int n = HP_MIN(l.n, k);
    memcpy(out, l.list, (size_t)n * sizeof *out);
    return n;
}

const char *rank_dropped_by(const rank_pipeline *pl, int32_t item)
{
    if (item < 0 || item >= pl->P || !pl->dropped[item]) return NULL;
    return pl->stages[pl->dropped[item] - 1].name;
}
