/* rank: top-k order and ties, popularity, and the pipeline with toy stages of every kind
 * (the interface risk, fairness and feedback plug into). */
#include "check.h"
#include "rank/rank.h"

#include <math.h>
#include <stdlib.h>

TEST(test_topk_order_ties_skip)
{
    /* scores 0.5 2 2 -1 3: best 4 (3), then the tie 1, 2 in index order, then 0 */
    float s[] = { 0.5f, 2.0f, 2.0f, -1.0f, 3.0f };
    rank_entry e[5];
    CHECK_EQ_INT(rank_topk(s, 5, NULL, 4, e), 4);
    CHECK(e[0].item == 4 && e[1].item == 1 && e[2].item == 2 && e[3].item == 0);
    CHECK(e[0].score == 3.0f && e[3].score == 0.5f && e[2].prob == 1.0f);
    uint8_t skip[5] = { 0, 1, 0, 0, 1 };
    CHECK_EQ_INT(rank_topk(s, 5, skip, 5, e), 3);
    CHECK(e[0].item == 2 && e[1].item == 0 && e[2].item == 3);
    CHECK_EQ_INT(rank_topk(s, 5, NULL, 0, e), 0);
    s[3] = NAN;
    CHECK_EQ_INT(rank_topk(s, 5, NULL, 2, e), HP_ERR_RANGE);
    s[3] = INFINITY;
    CHECK_EQ_INT(rank_topk(s, 5, skip, 2, e), HP_ERR_RANGE); /* even a skipped one: the model is broken */
}

TEST(test_topk_matches_sort)
{
    /* against a full sort on random scores with many ties */
    enum { P = 200, K = 17 };
    float s[P];
    srand(3);
    for (int p = 0; p < P; p++) s[p] = (float)(rand() % 23);
    rank_entry e[K];
    CHECK_EQ_INT(rank_topk(s, P, NULL, K, e), K);
    uint8_t used[P] = { 0 };
    for (int i = 0; i < K; i++) {
        int best = -1;
        for (int p = 0; p < P; p++)
            if (!used[p] && (best < 0 || s[p] > s[best])) best = p;
        used[best] = 1;
        CHECKF(e[i].item == best, "position %d: %d vs %d", i, e[i].item, best);
    }
}

TEST(test_popularity)
{
    double c[3] = { 0 };
    int32_t items[] = { 0, 2, 2, 5, -1, 2, 0 };
    uint8_t keep[] = { 1, 1, 0, 1, 1, 1, 0 };
    rank_popularity_add(c, 3, items, 7, keep);
    CHECK(c[0] == 1 && c[1] == 0 && c[2] == 2);
    rank_popularity_add(c, 3, items, 7, NULL);
    CHECK(c[0] == 3 && c[1] == 0 && c[2] == 5);
}

/* ------------------------------------------------------------------ toy stages */

static int drop_even(void *state, rank_list *l, const rank_request *rq, hp_error *err)
{
    (void)rq;
    (void)err;
    int *calls = state;
    ++*calls;
    for (int32_t p = 0; p < l->P; p += 2) rank_drop(l, p);
    return HP_OK;
}

static int reverse(void *state, rank_list *l, const rank_request *rq, hp_error *err)
{
    (void)state;
    (void)rq;
    (void)err;
    for (int i = 0, j = l->n - 1; i < j; i++, j--) {
        rank_entry t = l->list[i];
        l->list[i] = l->list[j];
        l->list[j] = t;
    }
    return HP_OK;
}

/* Swaps the first two with probability 1/2 and says so in prob. */
static int coin(void *state, rank_list *l, const rank_request *rq, hp_error *err)
{
    (void)state;
    (void)rq;
    (void)err;
    if (l->n < 2) return HP_OK;
    if (hp_rng_uniform(&l->rng) < 0.5) {
        rank_entry t = l->list[0];
        l->list[0] = l->list[1];
        l->list[1] = t;
    }
    l->list[0].prob = l->list[1].prob = 0.5f;
    return HP_OK;
}

static int fails(void *state, rank_list *l, const rank_request *rq, hp_error *err)
{
    (void)state;
    (void)l;
    (void)rq;
    return hp_fail(err, HP_ERR_INVAL, "no suitability data");
}

static rank_pipeline *pipeline(int P, int depth)
{
    rank_pipeline *pl = NULL;
    hp_error err = { 0 };
    if (rank_pipeline_new(&pl, P, depth, &err)) fprintf(stderr, "  %s\n", err.msg);
    return pl;
}

TEST(test_pipeline_default_is_topk_without_held)
{
    float s[] = { 1, 5, 3, 4, 2, 0 };
    rank_pipeline *pl = pipeline(6, 0);
    CHECK(pl && rank_pipeline_nstages(pl) == 1);
    int32_t held[] = { 3, 9, -2 }; /* out-of-range ids are ignored */
    rank_request rq = { .held = held, .nheld = 3 };
    rank_entry e[6];
    hp_error err = { 0 };
    CHECK_EQ_INT(pl ? rank_run(pl, s, &rq, 3, e, &err) : -1, 3);
    CHECK(e[0].item == 1 && e[1].item == 2 && e[2].item == 4);
    CHECK_STR(pl ? rank_dropped_by(pl, 3) : NULL, "held");
    CHECK(pl && rank_dropped_by(pl, 1) == NULL);
    rq.include_held = 1;
    CHECK_EQ_INT(pl ? rank_run(pl, s, &rq, 3, e, &err) : -1, 3);
    CHECK(e[0].item == 1 && e[1].item == 3 && e[2].item == 2);
    CHECK(pl && rank_dropped_by(pl, 3) == NULL); /* a run starts clean */
    CHECK_EQ_INT(pl ? rank_run(pl, s, NULL, 99, e, &err) : -1, 6); /* k capped at P */
    rank_pipeline_free(pl);
}

TEST(test_pipeline_toy_stages)
{
    float s[] = { 9, 1, 8, 2, 7, 3, 6, 4 };
    rank_pipeline *pl = pipeline(8, 4);
    int calls = 0;
    hp_error err = { 0 };
    rank_stage f = { .name = "odd-only", .kind = RANK_FILTER, .run = drop_even, .state = &calls };
    rank_stage r = { .name = "reverse", .kind = RANK_RERANK, .run = reverse };
    rank_stage x = { .name = "coin", .kind = RANK_EXPLORE, .run = coin };
    CHECK_EQ_INT(pl ? rank_pipeline_add(pl, &f, &err) : -1, HP_OK);
    CHECK_EQ_INT(pl ? rank_pipeline_add(pl, &r, &err) : -1, HP_OK);
    /* a filter after a re-ranker is refused, naming both */
    CHECK_EQ_INT(pl ? rank_pipeline_add(pl, &f, &err) : -1, HP_ERR_INVAL);
    CHECK(strstr(err.msg, "odd-only") && strstr(err.msg, "reverse"));
    CHECK_EQ_INT(pl ? rank_pipeline_add(pl, &x, &err) : -1, HP_OK);
    rank_entry e[8];
    int32_t held[] = { 7 };
    rank_request rq = { .held = held, .nheld = 1, .seed = 1 };
    /* odd items 1 3 5 (7 held): scores 1 2 3 -> top-4 by score: 5 3 1; reversed: 1 3 5;
     * k = 2 after the coin: {1, 3} in some order, each with prob 0.5 */
    int n = pl ? rank_run(pl, s, &rq, 2, e, &err) : -1;
    CHECK_EQ_INT(n, 2);
    CHECK(calls == 1);
    CHECK((e[0].item == 1 && e[1].item == 3) || (e[0].item == 3 && e[1].item == 1));
    CHECK(e[0].prob == 0.5f && e[1].prob == 0.5f);
    CHECK_STR(pl ? rank_dropped_by(pl, 0) : NULL, "odd-only");
    CHECK_STR(pl ? rank_dropped_by(pl, 7) : NULL, "held");
    /* the same seed gives the same list; over seeds both orders occur */
    int first1 = 0;
    for (uint64_t seed = 0; seed < 64; seed++) {
        rq.seed = seed;
        rank_entry a[2], b[2];
        CHECK_EQ_INT(pl ? rank_run(pl, s, &rq, 2, a, &err) : -1, 2);
        CHECK_EQ_INT(pl ? rank_run(pl, s, &rq, 2, b, &err) : -1, 2);
        CHECK(a[0].item == b[0].item);
        first1 += a[0].item == 1;
    }
    CHECKF(first1 > 10 && first1 < 54, "item 1 first in %d of 64", first1);
    rank_pipeline_free(pl);
}

TEST(test_pipeline_errors)
{
    float s[] = { 1, NAN, 3 };
    rank_pipeline *pl = pipeline(3, 0);
    hp_error err = { 0 };
    rank_entry e[3];
    CHECK_EQ_INT(pl ? rank_run(pl, s, NULL, 2, e, &err) : -1, HP_ERR_RANGE);
    CHECK(strstr(err.msg, "product 1") && strstr(err.msg, "NaN"));
    s[1] = 2;
    rank_stage bad = { .name = "suitability", .kind = RANK_FILTER, .run = fails };
    CHECK_EQ_INT(pl ? rank_pipeline_add(pl, &bad, &err) : -1, HP_OK);
    CHECK_EQ_INT(pl ? rank_run(pl, s, NULL, 2, e, &err) : -1, HP_ERR_INVAL);
    CHECK(strstr(err.msg, "rank stage 'suitability'") && strstr(err.msg, "no suitability data"));
    rank_stage nofn = { .name = "x", .kind = RANK_RERANK };
    CHECK_EQ_INT(pl ? rank_pipeline_add(pl, &nofn, &err) : -1, HP_ERR_INVAL);
    rank_pipeline_free(pl);
    rank_pipeline *none = NULL;
    CHECK_EQ_INT(rank_pipeline_new(&none, -1, 0, &err), HP_ERR_INVAL);
    CHECK(none == NULL);
}

int main(void)
{
    RUN(test_topk_order_ties_skip);
    RUN(test_topk_matches_sort);
    RUN(test_popularity);
    RUN(test_pipeline_default_is_topk_without_held);
    RUN(test_pipeline_toy_stages);
    RUN(test_pipeline_errors);
    return check_summary("test_rank");
}
