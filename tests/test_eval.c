/* eval: hand-computed cases for every metric (arithmetic in the comments), tie-breaking,
 * exclusions, validation, allocation failures, the writers, and a scikit-learn reference.
 *
 * The reference fixture tests/fixtures/eval_ref.txt is written by
 * tests/fixtures/gen_eval_ref.py (format and contents described there). The path is
 * relative to the project root, where the test runs; EVAL_REF_PATH overrides it. The
 * fixture is committed, so a missing file is a FAILURE, not a skip. */
#include "check.h"
#include "eval/eval.h"

#include <stdlib.h>

#ifndef EVAL_REF_PATH
#define EVAL_REF_PATH "tests/fixtures/eval_ref.txt"
#endif

#define TOL 1e-9     /* hand-computed cases */
#define REF_TOL 1e-6 /* against scikit-learn */

static const double LOG2_3 = 1.584962500721156; /* log2(3) */

static eval_rank *new_rank(int k, int n_items)
{
    eval_rank_opts o = {.k = k, .n_items = n_items};
    eval_rank *a = NULL;
    hp_error err = {0};
    int rc = eval_rank_new(&a, &o, &err);
    if (rc) fprintf(stderr, "  eval_rank_new: %s\n", err.msg);
    return a;
}

/* ================================================================== ranking by hand */

TEST(test_rank_list_basic)
{
    /* k = 3, list 4 1 0 5 2, relevant {1, 2, 3}: top-3 = 4 1 0, one hit (item 1 at 2).
     * precision 1/3, recall 1/3, DCG = 1/log2(3), IDCG (min(3,3) = 3 items)
     * = 1 + 1/log2(3) + 1/2, AP = (1/2) / 3, hit 1, RR: first relevant at 2 -> 1/2. */
    eval_rank *a = new_rank(3, 6);
    int list[] = {4, 1, 0, 5, 2}, rel[] = {1, 2, 3};
    eval_user u = {.relevant = rel, .n_relevant = 3};
    eval_user_result r;
    CHECK_EQ_INT(eval_rank_add_list(a, &u, list, 5, &r, NULL), HP_OK);
    CHECK_EQ_INT(r.hits, 1);
    CHECK_EQ_INT(r.n_list, 3);
    CHECK_NEAR(r.precision, 1.0 / 3, TOL);
    CHECK_NEAR(r.recall, 1.0 / 3, TOL);
    CHECK_NEAR(r.ndcg, (1 / LOG2_3) / (1 + 1 / LOG2_3 + 0.5), TOL);
    CHECK_NEAR(r.ndcg_graded, r.ndcg, TOL);
    CHECK_NEAR(r.ap, 1.0 / 6, TOL);
    CHECK_NEAR(r.hit, 1.0, TOL);
    CHECK_NEAR(r.rr, 0.5, TOL);
    CHECK(isnan(r.auc) && isnan(r.diversity) && isnan(r.novelty));
    /* MRR looks past k: relevant {2} is 5th in the list -> RR 1/5, no hit. */
    int rel2[] = {2};
    eval_user u2 = {.relevant = rel2, .n_relevant = 1};
    CHECK_EQ_INT(eval_rank_add_list(a, &u2, list, 5, &r, NULL), HP_OK);
    CHECK_NEAR(r.rr, 0.2, TOL);
    CHECK_NEAR(r.hit, 0.0, TOL);
    eval_rank_result s;
    eval_rank_get(a, &s);
    CHECK_EQ_INT(s.n_users, 2);
    CHECK_EQ_INT(s.n_users_rel, 2);
    CHECK_NEAR(s.mrr, (0.5 + 0.2) / 2, TOL);
    CHECK_NEAR(s.hit_rate, 0.5, TOL);
    CHECK_NEAR(s.coverage, 3.0 / 6, TOL); /* items 4 1 0 */
    CHECK(isnan(s.auc) && isnan(s.diversity) && isnan(s.novelty));
    eval_rank_free(a);
}

TEST(test_rank_map_normalisation)
{
    /* k = 2, relevant {0, 1, 2}, list 0 3 1: top-2 = 0 3, AP = (1/1) / min(2, 3) = 0.5,
     * IDCG over 2 items = 1 + 1/log2(3), DCG = 1. */
    eval_rank *a = new_rank(2, 4);
    int list[] = {0, 3, 1}, rel[] = {0, 1, 2};
    eval_user u = {.relevant = rel, .n_relevant = 3};
    eval_user_result r;
    CHECK_EQ_INT(eval_rank_add_list(a, &u, list, 3, &r, NULL), HP_OK);
    CHECK_NEAR(r.ap, 0.5, TOL);
    CHECK_NEAR(r.ndcg, 1.0 / (1 + 1 / LOG2_3), TOL);
    CHECK_NEAR(r.precision, 0.5, TOL);
    CHECK_NEAR(r.recall, 1.0 / 3, TOL);
    /* A short list still divides precision by k: list {0}, k = 2 -> 1/2. */
    CHECK_EQ_INT(eval_rank_add_list(a, &u, list, 1, &r, NULL), HP_OK);
    CHECK_EQ_INT(r.n_list, 1);
    CHECK_NEAR(r.precision, 0.5, TOL);
    eval_rank_free(a);
}

TEST(test_rank_scores_tie_break)
{
    /* scores 0.5 0.9 0.5 0.1 0.9: order 1 4 (0.9, lower index first) 0 2 (0.5) 3.
     * relevant {4}: RR 1/2; {0}: RR 1/3 and, with k = 3, NDCG = (1/log2 4) / 1 = 0.5;
     * {2}: RR 1/4, outside top-3. AUC of {4}: (3 + 1/2) / 4. AUC of {2} (0.5) against 0.5 0.9 0.9 0.1:
     * beats 0.1, ties 0.5 -> (1 + 1/2) / 4 = 0.375. */
    eval_rank *a = new_rank(3, 5);
    float s[] = {0.5f, 0.9f, 0.5f, 0.1f, 0.9f};
    int r4[] = {4}, r0[] = {0}, r2[] = {2};
    eval_user u4 = {.relevant = r4, .n_relevant = 1}, u0 = {.relevant = r0, .n_relevant = 1};
    eval_user u2 = {.relevant = r2, .n_relevant = 1};
    eval_user_result r;
    CHECK_EQ_INT(eval_rank_add_scores(a, &u4, s, &r, NULL), HP_OK);
    CHECK_NEAR(r.rr, 0.5, TOL);
    CHECK_NEAR(r.auc, 3.5 / 4, TOL); /* 0.9 beats 0.5 0.5 0.1 and ties 0.9 */
    eval_rank_add_scores(a, &u0, s, &r, NULL);
    CHECK_NEAR(r.rr, 1.0 / 3, TOL);
    CHECK_NEAR(r.ndcg, 0.5, TOL);
    eval_rank_add_scores(a, &u2, s, &r, NULL);
    CHECK_NEAR(r.rr, 0.25, TOL);
    CHECK_NEAR(r.hit, 0.0, TOL);
    CHECK_NEAR(r.auc, 0.375, TOL);
    eval_rank_free(a);
}

TEST(test_rank_scores_exclusions)
{
    /* scores 5 4 3 2 1, excluded {0}, relevant {0, 2}, k = 2. Item 0 is excluded, so it is
     * neither ranked nor relevant: candidates 1 2 3 4, top-2 = 1 2, R = 1 (item 2).
     * precision 1/2, recall 1, NDCG = (1/log2 3) / 1, AP = (1/2) / 1, RR 1/2,
     * AUC: 3 beats 2 and 1, loses to 4 -> 2/3. */
    eval_rank *a = new_rank(2, 5);
    float s[] = {5, 4, 3, 2, 1};
    int rel[] = {0, 2}, ex[] = {0, 0}; /* a repeated exclusion is harmless */
    eval_user u = {.relevant = rel, .n_relevant = 2, .excluded = ex, .n_excluded = 2};
    eval_user_result r;
    CHECK_EQ_INT(eval_rank_add_scores(a, &u, s, &r, NULL), HP_OK);
    CHECK_EQ_INT(r.n_relevant, 1);
    CHECK_EQ_INT(r.n_candidates, 4);
    CHECK_NEAR(r.precision, 0.5, TOL);
    CHECK_NEAR(r.recall, 1.0, TOL);
    CHECK_NEAR(r.ndcg, 1 / LOG2_3, TOL);
    CHECK_NEAR(r.ap, 0.5, TOL);
    CHECK_NEAR(r.rr, 0.5, TOL);
    CHECK_NEAR(r.auc, 2.0 / 3, TOL);
    /* The list path skips excluded items: list 0 1 2 3 with {0} excluded -> top-2 = 1 2. */
    int list[] = {0, 1, 2, 3};
    CHECK_EQ_INT(eval_rank_add_list(a, &u, list, 4, &r, NULL), HP_OK);
    CHECK_NEAR(r.precision, 0.5, TOL);
    CHECK_NEAR(r.rr, 0.5, TOL);
    eval_rank_result s2;
    eval_rank_get(a, &s2);
    CHECK_EQ_INT(s2.n_covered, 2);
    CHECK_EQ_INT(s2.n_users_auc, 1);
    eval_rank_free(a);
}

TEST(test_rank_empty_relevant_and_all_excluded)
{
    eval_rank *a = new_rank(2, 3);
    float s[] = {1, 2, 3};
    int rel[] = {1}, ex[] = {0, 1, 2};
    /* Everything excluded: no candidates, no list, R = 0 -> all NAN, counted in n_users. */
    eval_user all = {.relevant = rel, .n_relevant = 1, .excluded = ex, .n_excluded = 3};
    eval_user_result r;
    CHECK_EQ_INT(eval_rank_add_scores(a, &all, s, &r, NULL), HP_OK);
    CHECK_EQ_INT(r.n_candidates, 0);
    CHECK_EQ_INT(r.n_list, 0);
    CHECK_EQ_INT(r.n_relevant, 0);
    CHECK(isnan(r.precision) && isnan(r.ndcg) && isnan(r.rr) && isnan(r.auc));
    CHECK_EQ_INT(eval_rank_add_list(a, &all, ex, 3, &r, NULL), HP_OK);
    CHECK_EQ_INT(r.n_list, 0);
    eval_rank_result sum;
    eval_rank_get(a, &sum);
    CHECK_EQ_INT(sum.n_users, 2);
    CHECK_EQ_INT(sum.n_users_rel, 0);
    CHECK(isnan(sum.precision) && isnan(sum.map) && isnan(sum.auc));
    CHECK_NEAR(sum.coverage, 0.0, TOL);
    /* Empty relevant set: ranked (covers items 2 1) but left out of the means, which are
     * then those of the one user with R >= 1 (relevant {2}: top-2 = 2 1, P = 1/2). */
    eval_user none = {0}, one = {.relevant = (int[]){2}, .n_relevant = 1};
    CHECK_EQ_INT(eval_rank_add_scores(a, &none, s, &r, NULL), HP_OK);
    CHECK(isnan(r.recall) && isnan(r.auc));
    CHECK_EQ_INT(eval_rank_add_scores(a, &one, s, &r, NULL), HP_OK);
    eval_rank_get(a, &sum);
    CHECK_EQ_INT(sum.n_users, 4);
    CHECK_EQ_INT(sum.n_users_rel, 1);
    CHECK_NEAR(sum.precision, 0.5, TOL);
    CHECK_NEAR(sum.auc, 1.0, TOL);
    CHECK_NEAR(sum.coverage, 2.0 / 3, TOL);
    eval_rank_free(a);
}

TEST(test_rank_graded_ndcg)
{
    /* k = 3, list 0 1 2 3, gains: item 1 -> 3, item 3 -> 2. Top-3 = 0 1 2.
     * graded DCG = 3/log2(3); ideal = 3/1 + 2/log2(3) -> 0.444...
     * binary DCG = 1/log2(3); ideal = 1 + 1/log2(3). */
    eval_rank *a = new_rank(3, 4);
    int list[] = {0, 1, 2, 3}, rel[] = {3, 1};
    double gain[] = {2.0, 3.0};
    eval_user u = {.relevant = rel, .n_relevant = 2, .gain = gain};
    eval_user_result r;
    CHECK_EQ_INT(eval_rank_add_list(a, &u, list, 4, &r, NULL), HP_OK);
    CHECK_NEAR(r.ndcg_graded, (3 / LOG2_3) / (3 + 2 / LOG2_3), TOL);
    CHECK_NEAR(r.ndcg, (1 / LOG2_3) / (1 + 1 / LOG2_3), TOL);
    /* All gains 0: ideal DCG 0 -> graded NDCG 0 (sklearn's convention). */
    double zero[] = {0.0, 0.0};
    u.gain = zero;
    CHECK_EQ_INT(eval_rank_add_list(a, &u, list, 4, &r, NULL), HP_OK);
    CHECK_NEAR(r.ndcg_graded, 0.0, TOL);
    eval_rank_free(a);
}

TEST(test_rank_beyond_accuracy)
{
    /* Items: vectors 0 (1,0), 1 (0,1), 2 (1,1), 3 (0,0); counts 3 1 0 0, alpha 1:
     * shares (c+1)/(4+4) = 1/2 1/4 1/8 1/8 -> self-information 1 2 3 3 bits.
     * A [0 1]: diversity 1 - 0 = 1, novelty (1+2)/2 = 1.5
     * B [0 2]: diversity 1 - 1/sqrt2, novelty (1+3)/2 = 2
     * C [2]:   no pair -> diversity NAN, novelty 3
     * coverage {0,1,2} / 4 = 0.75; diversity mean over A, B; novelty over A, B, C. */
    float vecs[] = {1, 0, 0, 1, 1, 1, 0, 0};
    double pop[] = {3, 1, 0, 0};
    eval_rank_opts o = {.k = 2, .n_items = 4, .item_vecs = vecs, .dim = 2, .item_pop = pop,
                        .pop_alpha = 1.0};
    eval_rank *a = NULL;
    CHECK_EQ_INT(eval_rank_new(&a, &o, NULL), HP_OK);
    eval_user none = {0};
    int la[] = {0, 1}, lb[] = {0, 2}, lc[] = {2}, ld[] = {3, 0};
    eval_user_result r;
    CHECK_EQ_INT(eval_rank_add_list(a, &none, la, 2, &r, NULL), HP_OK);
    CHECK_NEAR(r.diversity, 1.0, 1e-7);
    CHECK_NEAR(r.novelty, 1.5, TOL);
    CHECK_EQ_INT(eval_rank_add_list(a, &none, lb, 2, &r, NULL), HP_OK);
    CHECK_NEAR(r.diversity, 1.0 - 1.0 / sqrt(2.0), 1e-7);
    CHECK_NEAR(r.novelty, 2.0, TOL);
    CHECK_EQ_INT(eval_rank_add_list(a, &none, lc, 1, &r, NULL), HP_OK);
    CHECK(isnan(r.diversity));
    CHECK_NEAR(r.novelty, 3.0, TOL);
    eval_rank_result s;
    eval_rank_get(a, &s);
    CHECK_NEAR(s.coverage, 0.75, TOL);
    CHECK_NEAR(s.diversity, (1.0 + 1.0 - 1.0 / sqrt(2.0)) / 2, 1e-7);
    CHECK_NEAR(s.novelty, (1.5 + 2.0 + 3.0) / 3, TOL);
    CHECK_EQ_INT(s.n_users_div, 2);
    CHECK_EQ_INT(s.n_users_list, 3);
    CHECK(isnan(s.precision)); /* nobody had a relevant item */
    /* A zero vector has cosine 0 with everything: D [3 0] -> diversity 1. */
    CHECK_EQ_INT(eval_rank_add_list(a, &none, ld, 2, &r, NULL), HP_OK);
    CHECK_NEAR(r.diversity, 1.0, TOL);
    eval_rank_free(a);
}

/* ================================================================== ranking validation */

static int new_fails(eval_rank_opts o, const char *needle)
{
    eval_rank *a = (eval_rank *)&o; /* must be reset to NULL */
    hp_error err = {0};
    int rc = eval_rank_new(&a, &o, &err);
    int ok = rc == HP_ERR_INVAL && a == NULL && strstr(err.msg, needle) != NULL;
    if (!ok) fprintf(stderr, "  rc %d, message '%s', wanted '%s'\n", rc, err.msg, needle);
    return ok;
}

TEST(test_rank_new_validation)
{
    float vecs[] = {1, 0, NAN, 1};
    double pop[] = {1, 0}, neg[] = {1, -2};
    CHECK(new_fails((eval_rank_opts){.k = 0, .n_items = 3}, "k must be > 0"));
    CHECK(new_fails((eval_rank_opts){.k = -2, .n_items = 3}, "k must be > 0"));
    CHECK(new_fails((eval_rank_opts){.k = 2, .n_items = 0}, "catalogue"));
    CHECK(new_fails((eval_rank_opts){.k = 2, .n_items = 2, .item_vecs = vecs}, "dim"));
    CHECK(new_fails((eval_rank_opts){.k = 2, .n_items = 2, .item_vecs = vecs, .dim = 2},
                    "item 1: vector component 0"));
    CHECK(new_fails((eval_rank_opts){.k = 2, .n_items = 2, .item_pop = pop}, "item 1 has popularity 0"));
    CHECK(new_fails((eval_rank_opts){.k = 2, .n_items = 2, .item_pop = neg, .pop_alpha = 1},
                    "item 1: popularity -2"));
    CHECK(new_fails((eval_rank_opts){.k = 2, .n_items = 2, .item_pop = pop, .pop_alpha = -1},
                    "pop_alpha"));
}

static int add_fails(eval_rank *a, const eval_user *u, const int *list, int n_list,
                     const float *scores, const char *needle)
{
    hp_error err = {0};
    int rc = scores ? eval_rank_add_scores(a, u, scores, NULL, &err)
                    : eval_rank_add_list(a, u, list, n_list, NULL, &err);
    int ok = rc == HP_ERR_INVAL && strstr(err.msg, needle) != NULL;
    if (!ok) fprintf(stderr, "  rc %d, message '%s', wanted '%s'\n", rc, err.msg, needle);
    return ok;
}

TEST(test_rank_add_validation)
{
    eval_rank *a = new_rank(2, 4);
    int good[] = {0, 1}, bad[] = {0, 4}, dup[] = {1, 1}, rel[] = {1};
    float nan_s[] = {1, NAN, 0, 0};
    eval_user u = {.relevant = rel, .n_relevant = 1};
    CHECK(add_fails(a, &u, bad, 2, NULL, "list[1] = 4 is outside [0, 4)"));
    CHECK(add_fails(a, &u, dup, 2, NULL, "list[1]: item 1 is ranked twice"));
    CHECK(add_fails(a, &u, NULL, 2, NULL, "list is NULL"));
    CHECK(add_fails(a, &u, good, -1, NULL, "negative"));
    CHECK(add_fails(a, &u, NULL, 0, nan_s, "score of item 1 is NaN"));
    eval_user bad_rel = {.relevant = bad, .n_relevant = 2};
    CHECK(add_fails(a, &bad_rel, good, 2, NULL, "relevant[1] = 4"));
    eval_user dup_rel = {.relevant = dup, .n_relevant = 2};
    CHECK(add_fails(a, &dup_rel, good, 2, NULL, "relevant[1]: item 1 is listed twice"));
    eval_user bad_ex = {.relevant = rel, .n_relevant = 1, .excluded = (int[]){-1},
                        .n_excluded = 1};
    CHECK(add_fails(a, &bad_ex, good, 2, NULL, "excluded[0] = -1"));
    eval_user bad_gain = {.relevant = rel, .n_relevant = 1, .gain = (double[]){-1}};
    CHECK(add_fails(a, &bad_gain, good, 2, NULL, "gain[0]"));
    eval_user nan_gain = {.relevant = rel, .n_relevant = 1, .gain = (double[]){NAN}};
    CHECK(add_fails(a, &nan_gain, good, 2, NULL, "gain[0]"));
    /* Failures left nothing behind: no user counted, and a valid user (whose items the
     * failed calls had marked) scores as if first: list 0 1, relevant {1} -> RR 1/2. */
    eval_rank_result s;
    eval_rank_get(a, &s);
    CHECK_EQ_INT(s.n_users, 0);
    CHECK(isnan(s.coverage));
    eval_user_result r;
    CHECK_EQ_INT(eval_rank_add_list(a, &u, good, 2, &r, NULL), HP_OK);
    CHECK_NEAR(r.rr, 0.5, TOL);
    CHECK_EQ_INT(r.n_candidates, 4);
    CHECK_EQ_INT(eval_rank_add_list(a, &u, dup, 1, &r, NULL), HP_OK); /* list {1} */
    CHECK_NEAR(r.rr, 1.0, TOL);
    eval_rank_get(a, &s);
    CHECK_EQ_INT(s.n_users, 2);
    eval_rank_free(a);
    eval_rank_free(NULL);
}

/* ================================================================== allocation failures */

static long g_fail_at, g_allocs, g_live;

static void *fail_malloc(size_t n)
{
    if (g_allocs++ == g_fail_at) return NULL;
    void *p = malloc(n);
    if (p) g_live++;
    return p;
}
static void *fail_realloc(void *p, size_t n)
{
    if (g_allocs++ == g_fail_at) return NULL;
    void *q = realloc(p, n);
    if (q && !p) g_live++;
    return q;
}
static void fail_free(void *p)
{
    if (p) g_live--;
    free(p);
}

TEST(test_alloc_failures)
{
    const hp_allocator fa = {fail_malloc, fail_realloc, fail_free};
    float vecs[] = {1, 0, 0, 1, 1, 1};
    double pop[] = {1, 2, 3}, p[] = {0.2, 0.7, 0.4}, out = 0;
    int y[] = {0, 1, 1};
    eval_rank_opts o = {.k = 2, .n_items = 3, .item_vecs = vecs, .dim = 2, .item_pop = pop};
    int ok = 0;
    for (g_fail_at = 0; g_fail_at < 50 && !ok; g_fail_at++) {
        eval_rank *a = NULL;
        g_allocs = g_live = 0;
        hp_set_allocator(&fa);
        int rc = eval_rank_new(&a, &o, NULL);
        eval_rank_free(a);
        hp_set_allocator(NULL);
        CHECKF(rc == HP_OK || rc == HP_ERR_NOMEM, "fail at %ld: rc %d", g_fail_at, rc);
        CHECKF(g_live == 0, "fail at %ld: %ld blocks leaked", g_fail_at, g_live);
        ok = rc == HP_OK;
    }
    CHECK(ok);
    g_fail_at = 0;
    g_allocs = g_live = 0;
    hp_set_allocator(&fa);
    int rc1 = eval_roc_auc(p, y, 3, &out, NULL);
    int rc2 = eval_pr_auc(p, y, 3, &out, NULL);
    hp_set_allocator(NULL);
    CHECK_EQ_INT(rc1, HP_ERR_NOMEM);
    CHECK_EQ_INT(rc2, HP_OK); /* the second call is past the failing allocation */
    CHECK_EQ_INT(g_live, 0);
}

/* ================================================================== binary and regression */

TEST(test_binary_hand)
{
    /* sklearn's docstring example: scores 0.1 0.4 0.35 0.8, labels 0 0 1 1.
     * AUC: 0.35 beats 0.1 only, 0.8 beats both -> 3/4. AP: thresholds 0.8 (P 1, R 1/2),
     * 0.4 (P 1/2, R 1/2), 0.35 (P 2/3, R 1), 0.1 -> 1/2 * 1 + 1/2 * 2/3 = 0.8333. */
    double s[] = {0.1, 0.4, 0.35, 0.8}, v = 0;
    int y[] = {0, 0, 1, 1};
    CHECK_EQ_INT(eval_roc_auc(s, y, 4, &v, NULL), HP_OK);
    CHECK_NEAR(v, 0.75, TOL);
    CHECK_EQ_INT(eval_pr_auc(s, y, 4, &v, NULL), HP_OK);
    CHECK_NEAR(v, 0.5 + 0.5 * 2.0 / 3, TOL);
    /* Ties: 0.5 0.5 / 0 1 -> AUC 1/2; AP: one threshold, P 1/2, R 1 -> 1/2.
     * scores 0.2 0.6 0.6 0.9 / 0 0 1 1: AUC (1 + 1/2 + 1 + 1) / 4 = 0.875;
     * AP: 0.9 (P 1, R 1/2), 0.6 (P 2/3, R 1) -> 1/2 + 1/2 * 2/3. */
    double t[] = {0.5, 0.5}, t2[] = {0.2, 0.6, 0.6, 0.9};
    int ty[] = {0, 1};
    eval_roc_auc(t, ty, 2, &v, NULL);
    CHECK_NEAR(v, 0.5, TOL);
    eval_pr_auc(t, ty, 2, &v, NULL);
    CHECK_NEAR(v, 0.5, TOL);
    eval_roc_auc(t2, y, 4, &v, NULL);
    CHECK_NEAR(v, 0.875, TOL);
    eval_pr_auc(t2, y, 4, &v, NULL);
    CHECK_NEAR(v, 0.5 + 1.0 / 3, TOL);
    /* log loss of p 0.9 0.2 / y 1 0 = -(ln 0.9 + ln 0.8) / 2; Brier (0.01 + 0.04) / 2. */
    double p[] = {0.9, 0.2};
    int py[] = {1, 0};
    CHECK_EQ_INT(eval_log_loss(p, py, 2, &v, NULL), HP_OK);
    CHECK_NEAR(v, -(log(0.9) + log(0.8)) / 2, TOL);
    CHECK_EQ_INT(eval_brier(p, py, 2, &v, NULL), HP_OK);
    CHECK_NEAR(v, 0.025, TOL);
    /* Clipping: p = 0 for a positive costs -ln(DBL_EPSILON) = 36.04, not infinity. */
    double p0[] = {0.0};
    int one[] = {1};
    CHECK_EQ_INT(eval_log_loss(p0, one, 1, &v, NULL), HP_OK);
    CHECK_NEAR(v, -log(2.220446049250313e-16), 1e-9);
    eval_binary_result b;
    CHECK_EQ_INT(eval_binary(s, y, 4, &b, NULL), HP_OK);
    CHECK_EQ_INT(b.n, 4);
    CHECK_EQ_INT(b.n_pos, 2);
    CHECK_NEAR(b.roc_auc, 0.75, TOL);
}

static int bin_fails(int rc, const hp_error *err, const char *needle)
{
    int ok = rc == HP_ERR_INVAL && strstr(err->msg, needle) != NULL;
    if (!ok) fprintf(stderr, "  rc %d, message '%s', wanted '%s'\n", rc, err->msg, needle);
    return ok;
}

TEST(test_binary_validation)
{
    double s[] = {0.2, 0.4, 1.5}, n[] = {0.2, NAN}, v = -1;
    int y[] = {0, 1, 1}, same[] = {1, 1, 1}, bad[] = {0, 2, 1};
    hp_error e = {0};
    CHECK(bin_fails(eval_roc_auc(s, same, 3, &v, &e), &e, "all 3 labels are 1"));
    CHECK(bin_fails(eval_roc_auc(s, bad, 3, &v, &e), &e, "label[1] = 2"));
    CHECK(bin_fails(eval_roc_auc(n, y, 2, &v, &e), &e, "score[1] is NaN"));
    CHECK(bin_fails(eval_roc_auc(s, y, 0, &v, &e), &e, "n = 0"));
    CHECK(bin_fails(eval_pr_auc(s, (int[]){0, 0, 0}, 3, &v, &e), &e, "needs a positive"));
    CHECK(bin_fails(eval_log_loss(s, y, 3, &v, &e), &e, "probability[2] = 1.5"));
    CHECK(bin_fails(eval_brier(s, y, 3, &v, &e), &e, "outside [0, 1]"));
    eval_binary_result b;
    CHECK(bin_fails(eval_binary(s, same, 2, &b, &e), &e, "all 2 labels are 1"));
    CHECK(bin_fails(eval_binary(s, y, 2, NULL, &e), &e, "result are NULL"));
    CHECK(v == -1); /* nothing written on failure */
    /* Scores outside [0, 1] are fine for ROC AUC: the negative (-1) is below both
     * positives (0.4, 2.5) -> 1; with labels 1 0 1, 0.4 beats -1, not 2.5 -> 1/2. */
    CHECK_EQ_INT(eval_roc_auc((double[]){-1, 0.4, 2.5}, y, 3, &v, &e), HP_OK);
    CHECK_NEAR(v, 1.0, TOL);
    CHECK_EQ_INT(eval_roc_auc((double[]){-1, 0.4, 2.5}, (int[]){1, 0, 1}, 3, &v, &e), HP_OK);
    CHECK_NEAR(v, 0.5, TOL);
}

TEST(test_regression_hand)
{
    /* truth 1 2 3, pred 1 2 4: errors 0 0 1 -> MSE 1/3, MAE 1/3, RMSE sqrt(1/3);
     * mean 2, SS_tot = 1 + 0 + 1 = 2, SS_res = 1 -> R^2 = 1/2. */
    double t[] = {1, 2, 3}, p[] = {1, 2, 4};
    eval_regression_result r;
    CHECK_EQ_INT(eval_regression(p, t, 3, &r, NULL), HP_OK);
    CHECK_NEAR(r.mse, 1.0 / 3, TOL);
    CHECK_NEAR(r.mae, 1.0 / 3, TOL);
    CHECK_NEAR(r.rmse, sqrt(1.0 / 3), TOL);
    CHECK_NEAR(r.r2, 0.5, TOL);
    CHECK_EQ_INT(r.r2_defined, 1);
    /* n < 2 and zero variance: R^2 undefined, reported 1 if exact, else 0. */
    CHECK_EQ_INT(eval_regression((double[]){2}, (double[]){2}, 1, &r, NULL), HP_OK);
    CHECK(r.r2 == 1.0 && !r.r2_defined);
    CHECK_EQ_INT(eval_regression((double[]){3}, (double[]){2}, 1, &r, NULL), HP_OK);
    CHECK(r.r2 == 0.0 && !r.r2_defined);
    CHECK_EQ_INT(eval_regression((double[]){2, 3}, (double[]){2, 2}, 2, &r, NULL), HP_OK);
    CHECK(r.r2 == 0.0 && !r.r2_defined);
    CHECK_NEAR(r.mse, 0.5, TOL);
    hp_error e = {0};
    CHECK(bin_fails(eval_regression(p, t, 0, &r, &e), &e, "n = 0"));
    CHECK(bin_fails(eval_regression((double[]){1, INFINITY}, t, 2, &r, &e), &e,
                    "prediction[1]"));
    CHECK(bin_fails(eval_regression(p, (double[]){NAN}, 1, &r, &e), &e, "truth[0]"));
}

/* ================================================================== writers */

static eval_report sample_report(void)
{
    eval_report r = {.has_rank = 1, .has_regression = 1};
    r.rank = (eval_rank_result){.k = 10, .n_items = 50, .n_users = 3, .n_users_rel = 2,
                                .precision = 0.25, .recall = 0.5, .ndcg = 0.125,
                                .ndcg_graded = 0.125, .map = 0.1, .hit_rate = 1, .mrr = 0.5,
                                .auc = NAN, .coverage = 0.4, .diversity = NAN,
                                .novelty = NAN};
    r.regression = (eval_regression_result){.n = 4, .mse = 2, .mae = 1, .rmse = sqrt(2.0),
                                            .r2 = 0.75, .r2_defined = 1};
    return r;
}

static char *capture(int (*fn)(const eval_report *, FILE *, hp_error *), const eval_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    int rc = fn(r, f, NULL);
    fclose(f);
    if (rc) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int count_char(const char *s, char c)
{
    int n = 0;
    for (; *s; s++) n += *s == c;
    return n;
}

TEST(test_report_json)
{
    eval_report r = sample_report();
    json_t *j = eval_report_json(&r);
    CHECK(j != NULL);
    json_t *rank = json_object_get(j, "ranking");
    CHECK(json_is_object(rank));
    CHECK(json_object_get(j, "binary") == NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(rank, "k")), 10);
    CHECK_NEAR(json_real_value(json_object_get(rank, "precision")), 0.25, TOL);
    CHECK(json_is_null(json_object_get(rank, "auc")));
    CHECK(json_is_true(json_object_get(json_object_get(j, "regression"), "r2_defined")));
    /* The first key of "ranking" is k (a fixed order, not sorted). */
    CHECK_STR(json_object_iter_key(json_object_iter(rank)), "k");
    json_decref(j);
    char *text = capture(eval_report_write_json, &r);
    CHECK(text != NULL);
    if (text) {
        CHECK(strstr(text, "\"mse\": 2.0") != NULL);
        CHECK(text[strlen(text) - 1] == '\n');
        json_error_t je;
        json_t *back = json_loads(text, 0, &je);
        CHECK(back != NULL);
        json_decref(back);
    }
    free(text);
}

TEST(test_report_csv_and_table)
{
    eval_report r = sample_report();
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK_EQ_INT(eval_report_write_csv_header(f, NULL), HP_OK);
    CHECK_EQ_INT(eval_report_write_csv_row(&r, "run \"a\", 1", f, NULL), HP_OK);
    fclose(f);
    char *nl = strchr(buf, '\n');
    CHECK(nl != NULL);
    if (nl) {
        *nl = '\0';
        const char *row = nl + 1;
        CHECK(strncmp(buf, "label,rank_k,rank_n_items,", 26) == 0);
        CHECK(strstr(buf, ",binary_roc_auc,") && strstr(buf, ",reg_r2_defined"));
        CHECK(strncmp(row, "\"run \"\"a\"\", 1\",10,50,3,2,", 24) == 0);
        /* Same number of fields (one comma is inside the quoted label). */
        CHECK_EQ_INT(count_char(buf, ','), count_char(row, ',') - 1);
        CHECK(strstr(row, ",0.25,0.5,0.125,0.125,0.1,1,0.5,,0.4,,,") != NULL);
        CHECK(strstr(row, ",,,,,,,4,2,1,1.414213562,0.75,1\n") != NULL);
    }
    free(buf);
    char *t = capture(eval_report_write_table, &r);
    CHECK(t != NULL);
    if (t) {
        CHECK(strstr(t, "Ranking\n") && strstr(t, "Regression\n") && !strstr(t, "Binary"));
        CHECK(strstr(t, "  precision@k                0.250000\n") != NULL);
        CHECK(strstr(t, "  per-user AUC                      -\n") != NULL);
        CHECK(count_char(t, '\n') < 40);
    }
    free(t);
    eval_report empty = {0};
    t = capture(eval_report_write_table, &empty);
    CHECK(t && strcmp(t, "(no metrics)\n") == 0);
    free(t);
}

/* ================================================================== scikit-learn fixture */

typedef struct {
    char name[48];
    size_t n;
    double *v; /* (n) values, owned */
} ref_entry;

typedef struct {
    ref_entry *e;
    size_t n, cap;
} ref_file;

static ref_file g_ref;
static int g_ref_loaded;

static int ref_push(ref_file *r, const char *name, size_t n)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 32;
        ref_entry *e = realloc(r->e, cap * sizeof *e);
        if (!e) return -1;
        r->e = e;
        r->cap = cap;
    }
    ref_entry *x = &r->e[r->n];
    snprintf(x->name, sizeof x->name, "%s", name);
    x->n = n;
    x->v = calloc(n ? n : 1, sizeof(double));
    if (!x->v) return -1;
    r->n++;
    return 0;
}

static int ref_read(FILE *f, ref_file *r)
{
    char word[64], name[48];
    while (fscanf(f, " %63s", word) == 1) {
        if (word[0] == '#') {
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n') {}
            continue;
        }
        int is_array = strcmp(word, "array") == 0;
        if (!is_array && strcmp(word, "value") != 0) return -1;
        size_t n = 1;
        if (fscanf(f, " %47s", name) != 1) return -1;
        if (is_array && fscanf(f, " %zu", &n) != 1) return -1;
        if (ref_push(r, name, n)) return -1;
        for (size_t i = 0; i < n; i++)
            if (fscanf(f, " %lf", &r->e[r->n - 1].v[i]) != 1) return -1;
    }
    return feof(f) ? 0 : -1;
}

static void ref_free(ref_file *r)
{
    for (size_t i = 0; i < r->n; i++) free(r->e[i].v);
    free(r->e);
    memset(r, 0, sizeof *r);
}

static int ref_load(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "  cannot open the reference fixture %s (run from the project root; "
                        "regenerate with /usr/bin/python3 tests/fixtures/gen_eval_ref.py)\n",
                path);
        return -1;
    }
    int rc = ref_read(f, &g_ref);
    fclose(f);
    if (rc) fprintf(stderr, "  %s: malformed fixture\n", path);
    return rc;
}

/* Entry `name` with n values (n = 0: any count); NULL (and a message) when missing. */
static const ref_entry *ref_get(const char *name, size_t n)
{
    for (size_t i = 0; i < g_ref.n; i++)
        if (strcmp(g_ref.e[i].name, name) == 0 && (n == 0 || g_ref.e[i].n == n))
            return &g_ref.e[i];
    fprintf(stderr, "  fixture has no '%s' of %zu values\n", name, n);
    return NULL;
}

static double ref_value(const char *name)
{
    const ref_entry *e = ref_get(name, 1);
    return e ? e->v[0] : NAN;
}

#define CHECK_REF(ours, name) \
    CHECKF(fabs((ours) - ref_value(name)) <= REF_TOL, "%s: ours %.12g, sklearn %.12g", name, \
           (double)(ours), ref_value(name))

typedef struct {
    int U, I;
    float *scores; /* (U, I) */
    int *rel;      /* (U, I) relevant items of each user, first n_rel[u] used */
    double *gain;  /* (U, I) gains parallel to rel */
    int *n_rel;    /* (U) */
    const double *excl; /* (U, EX) as read */
    int EX;
} rank_data;

static int rank_data_load(rank_data *d)
{
    memset(d, 0, sizeof *d);
    d->U = (int)ref_value("rank_users");
    d->I = (int)ref_value("rank_items");
    d->EX = (int)ref_value("rank_excl_per_user");
    size_t n = (size_t)d->U * d->I;
    const ref_entry *s = ref_get("rank_scores", n), *l = ref_get("rank_labels", n);
    const ref_entry *g = ref_get("rank_gains", n), *x = ref_get("rank_excl", (size_t)d->U * d->EX);
    if (!s || !l || !g || !x) return -1;
    d->scores = malloc(n * sizeof(float));
    d->rel = malloc(n * sizeof(int));
    d->gain = malloc(n * sizeof(double));
    d->n_rel = calloc((size_t)d->U, sizeof(int));
    d->excl = x->v;
    for (size_t i = 0; i < n; i++) d->scores[i] = (float)s->v[i];
    for (int u = 0; u < d->U; u++)
        for (int i = 0; i < d->I; i++) {
            size_t at = (size_t)u * d->I + i;
            if (l->v[at] == 0) continue;
            d->rel[(size_t)u * d->I + d->n_rel[u]] = i;
            d->gain[(size_t)u * d->I + d->n_rel[u]++] = g->v[at];
        }
    return 0;
}

static void rank_data_free(rank_data *d)
{
    free(d->scores);
    free(d->rel);
    free(d->gain);
    free(d->n_rel);
}

/* Runs every user of d through a new accumulator with cut-off k (scores, or with
 * as_list the full ranking built here as a list), optionally with the exclusions. */
static int run_rank(const rank_data *d, int k, int with_excl, int as_list, eval_rank_result *out)
{
    eval_rank *a = new_rank(k, d->I);
    int *ex = malloc((size_t)d->EX * sizeof(int)), *list = malloc((size_t)d->I * sizeof(int));
    int rc = a && ex && list ? 0 : -1;
    for (int u = 0; u < d->U && !rc; u++) {
        for (int j = 0; j < d->EX; j++) ex[j] = (int)d->excl[(size_t)u * d->EX + j];
        eval_user usr = {.relevant = d->rel + (size_t)u * d->I, .n_relevant = d->n_rel[u],
                         .gain = d->gain + (size_t)u * d->I, .excluded = ex,
                         .n_excluded = with_excl ? d->EX : 0};
        const float *s = d->scores + (size_t)u * d->I;
        if (!as_list) {
            rc = eval_rank_add_scores(a, &usr, s, NULL, NULL);
            continue;
        }
        /* Insertion sort by score desc, index asc (the documented tie-break). */
        for (int i = 0; i < d->I; i++) {
            int j = i;
            for (; j > 0 && s[list[j - 1]] < s[i]; j--) list[j] = list[j - 1];
            list[j] = i;
        }
        rc = eval_rank_add_list(a, &usr, list, d->I, NULL, NULL);
    }
    if (a) eval_rank_get(a, out);
    eval_rank_free(a);
    free(ex);
    free(list);
    return rc;
}

TEST(test_sklearn_ranking)
{
    rank_data d;
    if (!g_ref_loaded) {
        CHECKF(0, "no fixture %s", EVAL_REF_PATH);
        return;
    }
    if (rank_data_load(&d)) {
        CHECKF(0, "fixture lacks the ranking arrays");
        return;
    }
    eval_rank_result r5, r10, rl, rall;
    CHECK_EQ_INT(run_rank(&d, 5, 0, 0, &r5), 0);
    CHECK_EQ_INT(run_rank(&d, 10, 0, 0, &r10), 0);
    CHECK_EQ_INT(run_rank(&d, 5, 0, 1, &rl), 0);
    CHECK_EQ_INT(run_rank(&d, d.I, 0, 0, &rall), 0);
    CHECK_EQ_INT(r5.n_users_rel, d.U);
    CHECK_REF(r5.ndcg, "rank_ndcg5");
    CHECK_REF(r10.ndcg, "rank_ndcg10");
    CHECK_REF(r5.ndcg_graded, "rank_ndcg5_graded");
    CHECK_REF(r10.ndcg_graded, "rank_ndcg10_graded");
    CHECK_REF(r5.auc, "rank_auc");
    CHECK_REF(rall.map, "rank_lrap"); /* MAP@I is sklearn's LRAP when nothing ties */
    CHECK_REF(r5.precision, "rank_precision5");
    CHECK_REF(r5.recall, "rank_recall5");
    CHECK_REF(r5.map, "rank_map5");
    CHECK_REF(r5.hit_rate, "rank_hit5");
    CHECK_REF(r10.precision, "rank_precision10");
    CHECK_REF(r10.recall, "rank_recall10");
    CHECK_REF(r10.map, "rank_map10");
    CHECK_REF(r10.hit_rate, "rank_hit10");
    CHECK_REF(r5.mrr, "rank_mrr");
    /* The list path on the same ranking agrees (it has no AUC). */
    CHECK(rl.ndcg == r5.ndcg && rl.map == r5.map && rl.mrr == r5.mrr && isnan(rl.auc));
    CHECK_EQ_INT(rl.n_covered, r5.n_covered);
    rank_data_free(&d);
}

TEST(test_sklearn_ranking_exclusions)
{
    rank_data d;
    if (!g_ref_loaded) {
        CHECKF(0, "no fixture %s", EVAL_REF_PATH);
        return;
    }
    if (rank_data_load(&d)) {
        CHECKF(0, "fixture lacks the ranking arrays");
        return;
    }
    eval_rank_result r, rl;
    CHECK_EQ_INT(run_rank(&d, 5, 1, 0, &r), 0);
    CHECK_EQ_INT(run_rank(&d, 5, 1, 1, &rl), 0);
    CHECK_EQ_INT(r.n_users, d.U);
    CHECK_EQ_INT(r.n_users_rel, (long)ref_value("excl_users"));
    CHECK_EQ_INT(r.n_users_auc, (long)ref_value("excl_auc_users"));
    CHECK_REF(r.ndcg, "excl_ndcg5");
    CHECK_REF(r.auc, "excl_auc");
    CHECK_REF(r.precision, "excl_precision5");
    CHECK_REF(r.recall, "excl_recall5");
    CHECK_REF(r.map, "excl_map5");
    CHECK_REF(r.mrr, "excl_mrr");
    CHECK(rl.ndcg == r.ndcg && rl.map == r.map && rl.mrr == r.mrr && rl.recall == r.recall);
    rank_data_free(&d);
}

static void check_binary_ref(const char *prefix)
{
    char pn[32], yn[32], key[48];
    snprintf(pn, sizeof pn, "%s_p", prefix);
    snprintf(yn, sizeof yn, "%s_y", prefix);
    const ref_entry *p = ref_get(pn, 0), *ye = p ? ref_get(yn, p->n) : NULL;
    if (!ye) {
        CHECKF(0, "fixture lacks %s/%s", pn, yn);
        return;
    }
    int *y = malloc(ye->n * sizeof(int));
    for (size_t i = 0; i < ye->n; i++) y[i] = (int)ye->v[i];
    eval_binary_result b;
    hp_error e = {0};
    CHECKF(eval_binary(p->v, y, p->n, &b, &e) == HP_OK, "%s", e.msg);
    snprintf(key, sizeof key, "%s_roc_auc", prefix);
    CHECK_REF(b.roc_auc, key);
    snprintf(key, sizeof key, "%s_ap", prefix);
    CHECK_REF(b.pr_auc, key);
    snprintf(key, sizeof key, "%s_log_loss", prefix);
    CHECK_REF(b.log_loss, key);
    snprintf(key, sizeof key, "%s_brier", prefix);
    CHECK_REF(b.brier, key);
    free(y);
}

TEST(test_sklearn_binary)
{
    if (!g_ref_loaded) {
        CHECKF(0, "no fixture %s", EVAL_REF_PATH);
        return;
    }
    check_binary_ref("bin");
    check_binary_ref("tie"); /* scores rounded to 0.1, exact 0 and 1 included */
}

TEST(test_sklearn_regression)
{
    if (!g_ref_loaded) {
        CHECKF(0, "no fixture %s", EVAL_REF_PATH);
        return;
    }
    const ref_entry *p = ref_get("reg_pred", 0), *t = p ? ref_get("reg_true", p->n) : NULL;
    if (!t) {
        CHECKF(0, "fixture lacks reg_pred/reg_true");
        return;
    }
    eval_regression_result r;
    CHECK_EQ_INT(eval_regression(p->v, t->v, p->n, &r, NULL), HP_OK);
    CHECK_REF(r.mse, "reg_mse");
    CHECK_REF(r.mae, "reg_mae");
    CHECK_REF(r.r2, "reg_r2");
    CHECK_NEAR(r.rmse, sqrt(ref_value("reg_mse")), REF_TOL);
}

TEST(test_deterministic)
{
    if (!g_ref_loaded) {
        CHECKF(0, "no fixture %s", EVAL_REF_PATH);
        return;
    }
    rank_data d;
    if (rank_data_load(&d)) {
        CHECKF(0, "fixture lacks the ranking arrays");
        return;
    }
    eval_rank_result a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    run_rank(&d, 7, 1, 0, &a);
    run_rank(&d, 7, 1, 0, &b);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    rank_data_free(&d);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : EVAL_REF_PATH;
    g_ref_loaded = ref_load(path) == 0;
    RUN(test_rank_list_basic);
    RUN(test_rank_map_normalisation);
    RUN(test_rank_scores_tie_break);
    RUN(test_rank_scores_exclusions);
    RUN(test_rank_empty_relevant_and_all_excluded);
    RUN(test_rank_graded_ndcg);
    RUN(test_rank_beyond_accuracy);
    RUN(test_rank_new_validation);
    RUN(test_rank_add_validation);
    RUN(test_alloc_failures);
    RUN(test_binary_hand);
    RUN(test_binary_validation);
    RUN(test_regression_hand);
    RUN(test_report_json);
    RUN(test_report_csv_and_table);
    RUN(test_sklearn_ranking);
    RUN(test_sklearn_ranking_exclusions);
    RUN(test_sklearn_binary);
    RUN(test_sklearn_regression);
    RUN(test_deterministic);
    ref_free(&g_ref);
    return check_summary("test_eval");
}
