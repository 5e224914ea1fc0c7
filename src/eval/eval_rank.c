/* eval_rank: the per-user top-k ranking accumulator (definitions in eval.h). */
#include "eval/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Flags in eval_rank.mark; every flag is cleared again before a call returns, so the
 * array is all zero between calls and one call costs O(its input), not O(n_items). */
enum {
    MARK_EXCL = 1u << 0, /* excluded for this user */
    MARK_REL = 1u << 1,  /* relevant and not excluded */
    MARK_SEEN = 1u << 2, /* listed in relevant (duplicate check) */
    MARK_LIST = 1u << 3  /* listed in the ranked list (duplicate check) */
};

typedef struct {
    float s;
    int i;
} scored_item;

struct eval_rank {
    int k, n_items, dim;
    float *unit;            /* (n_items, dim) unit item vectors, or NULL */
    double *selfinfo;       /* (n_items) -log2(popularity share), or NULL */
    unsigned char *mark;    /* (n_items) MARK_* scratch, zero between calls */
    unsigned char *covered; /* (n_items) 1 once the item was in some top-k list */
    double *gain_of;        /* (n_items) gain of the current user's relevant items */
    double *ideal;          /* (n_items) scratch: the current user's gains, sorted */
    int *ranked;            /* (n_items) scratch: the current user's ranking */
    scored_item *order;     /* (n_items) scratch: candidates sorted by score */
    long n_users, n_rel, n_auc, n_list, n_div, n_covered;
    double s_prec, s_rec, s_ndcg, s_ndcg_g, s_ap, s_hit, s_rr, s_auc, s_div, s_nov;
};

/* ================================================================== creation */

static int copy_unit_vectors(eval_rank *a, const eval_rank_opts *o, hp_error *err)
{
    size_t d = (size_t)o->dim;
    a->unit = hp_malloc((size_t)o->n_items * d * sizeof(float));
    if (!a->unit) return hp_fail(err, HP_ERR_NOMEM, "eval: out of memory for item vectors");
    for (int i = 0; i < o->n_items; i++) {
        const float *v = o->item_vecs + (size_t)i * d;
        double ss = 0.0;
        for (size_t j = 0; j < d; j++) {
            if (!isfinite(v[j]))
                return hp_fail(err, HP_ERR_INVAL,
                               "eval: item %d: vector component %zu is not finite", i, j);
            ss += (double)v[j] * v[j];
        }
        double inv = ss > 0.0 ? 1.0 / sqrt(ss) : 0.0; /* a zero vector stays zero */
        for (size_t j = 0; j < d; j++) a->unit[(size_t)i * d + j] = (float)(v[j] * inv);
    }
    return HP_OK;
}

static int copy_self_information(eval_rank *a, const eval_rank_opts *o, hp_error *err)
{
    double alpha = o->pop_alpha, total = 0.0;
    if (!(alpha >= 0.0) || !isfinite(alpha))
        return hp_fail(err, HP_ERR_INVAL, "eval: pop_alpha must be finite and >= 0 (got %g)",
                       alpha);
    for (int i = 0; i < o->n_items; i++) {
        double c = o->item_pop[i];
        if (!isfinite(c) || c < 0.0)
            return hp_fail(err, HP_ERR_INVAL,
                           "eval: item %d: popularity %g is not a finite count >= 0", i, c);
        if (c == 0.0 && alpha == 0.0)
            return hp_fail(err, HP_ERR_INVAL,
                           "eval: item %d has popularity 0, which has infinite self-information;"
                           " set pop_alpha > 0", i);
        total += c;
    }
    a->selfinfo = hp_malloc((size_t)o->n_items * sizeof(double));
    if (!a->selfinfo) return hp_fail(err, HP_ERR_NOMEM, "eval: out of memory for popularity");
    double denom = total + alpha * o->n_items;
    for (int i = 0; i < o->n_items; i++)
        a->selfinfo[i] = -log2((o->item_pop[i] + alpha) / denom);
    return HP_OK;
}

static int check_opts(const eval_rank_opts *o, hp_error *err)
{
    if (!o) return hp_fail(err, HP_ERR_INVAL, "eval: options are NULL");
    if (o->k <= 0) return hp_fail(err, HP_ERR_INVAL, "eval: k must be > 0 (got %d)", o->k);
    if (o->n_items <= 0)
        return hp_fail(err, HP_ERR_INVAL, "eval: the catalogue must have > 0 items (got %d)",
                       o->n_items);
    if (o->item_vecs && o->dim <= 0)
        return hp_fail(err, HP_ERR_INVAL, "eval: item vector dim must be > 0 (got %d)", o->dim);
    return HP_OK;
}

int eval_rank_new(eval_rank **out, const eval_rank_opts *o, hp_error *err)
{
    if (!out) return hp_fail(err, HP_ERR_INVAL, "eval: out is NULL");
    *out = NULL;
    int rc = check_opts(o, err);
    if (rc) return rc;
    eval_rank *a = hp_calloc(1, sizeof *a);
    if (!a) return hp_fail(err, HP_ERR_NOMEM, "eval: out of memory");
    size_t n = (size_t)o->n_items;
    a->k = o->k;
    a->n_items = o->n_items;
    a->dim = o->item_vecs ? o->dim : 0;
    a->mark = hp_calloc(n, 1);
    a->covered = hp_calloc(n, 1);
    a->gain_of = hp_calloc(n, sizeof(double));
    a->ideal = hp_calloc(n, sizeof(double));
    a->ranked = hp_calloc(n, sizeof(int));
    a->order = hp_calloc(n, sizeof(scored_item));
    if (!a->mark || !a->covered || !a->gain_of || !a->ideal || !a->ranked || !a->order)
        rc = hp_fail(err, HP_ERR_NOMEM, "eval: out of memory for %d items", o->n_items);
    if (!rc && o->item_vecs) rc = copy_unit_vectors(a, o, err);
    if (!rc && o->item_pop) rc = copy_self_information(a, o, err);
    if (rc) {
        eval_rank_free(a);
        return rc;
    }
    *out = a;
    return HP_OK;
}

void eval_rank_free(eval_rank *a)
{
    if (!a) return;
    hp_free(a->unit);
    hp_free(a->selfinfo);
    hp_free(a->mark);
    hp_free(a->covered);
    hp_free(a->gain_of);
    hp_free(a->ideal);
    hp_free(a->ranked);
    hp_free(a->order);
    hp_free(a);
}

/* ================================================================== marking one user */

static int check_array(const int *p, int n, const char *what, hp_error *err)
{
    if (n < 0) return hp_fail(err, HP_ERR_INVAL, "eval: %s count is negative (%d)", what, n);
    if (n > 0 && !p)
        return hp_fail(err, HP_ERR_INVAL, "eval: %s is NULL but its count is %d", what, n);
    return HP_OK;
}

static int check_user(const eval_rank *a, const eval_user *u, hp_error *err)
{
    if (!a || !u) return hp_fail(err, HP_ERR_INVAL, "eval: accumulator or user is NULL");
    int rc = check_array(u->relevant, u->n_relevant, "relevant", err);
    if (!rc) rc = check_array(u->excluded, u->n_excluded, "excluded", err);
    return rc;
}

static void clear_marks(eval_rank *a, const int *idx, int n)
{
    for (int i = 0; i < n; i++)
        if (idx[i] >= 0 && idx[i] < a->n_items) a->mark[idx[i]] = 0;
}

static void unmark_user(eval_rank *a, const eval_user *u)
{
    clear_marks(a, u->excluded, u->n_excluded);
    clear_marks(a, u->relevant, u->n_relevant);
}

static int mark_excluded(eval_rank *a, const eval_user *u, int *n_excl, hp_error *err)
{
    *n_excl = 0;
    for (int i = 0; i < u->n_excluded; i++) {
        int e = u->excluded[i];
        if (e < 0 || e >= a->n_items)
            return hp_fail(err, HP_ERR_INVAL, "eval: excluded[%d] = %d is outside [0, %d)", i, e,
                           a->n_items);
        if (!(a->mark[e] & MARK_EXCL)) (*n_excl)++;
        a->mark[e] |= MARK_EXCL;
    }
    return HP_OK;
}

static int mark_relevant(eval_rank *a, const eval_user *u, int *n_rel, hp_error *err)
{
    *n_rel = 0;
    for (int i = 0; i < u->n_relevant; i++) {
        int r = u->relevant[i];
        double g = u->gain ? u->gain[i] : 1.0;
        if (r < 0 || r >= a->n_items)
            return hp_fail(err, HP_ERR_INVAL, "eval: relevant[%d] = %d is outside [0, %d)", i, r,
                           a->n_items);
        if (a->mark[r] & MARK_SEEN)
            return hp_fail(err, HP_ERR_INVAL, "eval: relevant[%d]: item %d is listed twice", i, r);
        if (!isfinite(g) || g < 0.0)
            return hp_fail(err, HP_ERR_INVAL, "eval: gain[%d] = %g is not finite and >= 0", i, g);
        a->mark[r] |= MARK_SEEN;
        if (a->mark[r] & MARK_EXCL) continue;
        a->mark[r] |= MARK_REL;
        a->gain_of[r] = g;
        (*n_rel)++;
    }
    return HP_OK;
}

/* Sets the marks of u and fills the counts of res; on failure the marks are cleared. */
static int mark_user(eval_rank *a, const eval_user *u, eval_user_result *res, hp_error *err)
{
    int n_excl = 0;
    int rc = mark_excluded(a, u, &n_excl, err);
    if (!rc) rc = mark_relevant(a, u, &res->n_relevant, err);
    if (rc) {
        unmark_user(a, u);
        return rc;
    }
    res->n_candidates = a->n_items - n_excl;
    return HP_OK;
}

/* ================================================================== per-user metrics */

static double discount(int pos0) { return 1.0 / log2((double)pos0 + 2.0); }

static int cmp_gain_desc(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a < b) - (a > b);
}

/* Ideal DCG of the current user with graded gains: the min(k, R) largest gains. */
static double ideal_graded_dcg(eval_rank *a, const eval_user *u, int n_rel)
{
    int n = 0;
    for (int i = 0; i < u->n_relevant; i++)
        if (a->mark[u->relevant[i]] & MARK_REL) a->ideal[n++] = a->gain_of[u->relevant[i]];
    qsort(a->ideal, (size_t)n, sizeof(double), cmp_gain_desc);
    double idcg = 0.0;
    for (int i = 0; i < HP_MIN(a->k, n_rel); i++) idcg += a->ideal[i] * discount(i);
    return idcg;
}

static void accuracy_metrics(eval_rank *a, const eval_user *u, int n_ranked,
                             eval_user_result *r)
{
    int R = r->n_relevant, m = r->n_list, hits = 0, first = -1;
    double dcg = 0.0, dcg_g = 0.0, ap = 0.0, idcg = 0.0;
    for (int i = 0; i < n_ranked; i++) {
        int it = a->ranked[i];
        if (!(a->mark[it] & MARK_REL)) continue;
        if (first < 0) first = i;
        if (i >= m) break; /* only the first relevant item matters beyond the top-k */
        hits++;
        dcg += discount(i);
        dcg_g += a->gain_of[it] * discount(i);
        ap += (double)hits / (i + 1);
    }
    for (int i = 0; i < HP_MIN(a->k, R); i++) idcg += discount(i);
    double idcg_g = ideal_graded_dcg(a, u, R);
    r->hits = hits;
    r->precision = (double)hits / a->k;
    r->recall = (double)hits / R;
    r->ndcg = dcg / idcg;
    r->ndcg_graded = idcg_g > 0.0 ? dcg_g / idcg_g : 0.0;
    r->ap = ap / HP_MIN(a->k, R);
    r->hit = hits > 0 ? 1.0 : 0.0;
    r->rr = first >= 0 ? 1.0 / (first + 1) : 0.0;
}

static double list_diversity(const eval_rank *a, int m)
{
    size_t d = (size_t)a->dim;
    double sum = 0.0;
    for (int i = 0; i < m; i++) {
        const float *x = a->unit + (size_t)a->ranked[i] * d;
        for (int j = i + 1; j < m; j++) {
            const float *y = a->unit + (size_t)a->ranked[j] * d;
            double dot = 0.0;
            for (size_t c = 0; c < d; c++) dot += (double)x[c] * y[c];
            sum += 1.0 - dot;
        }
    }
    return sum / (0.5 * m * (m - 1));
}

static double list_novelty(const eval_rank *a, int m)
{
    double sum = 0.0;
    for (int i = 0; i < m; i++) sum += a->selfinfo[a->ranked[i]];
    return sum / m;
}

/* Fills r from the ranking a->ranked[0..n_ranked) of the marked user u. */
static void score_user(eval_rank *a, const eval_user *u, int n_ranked, eval_user_result *r)
{
    r->n_list = HP_MIN(a->k, n_ranked);
    r->hits = 0;
    r->precision = r->recall = r->ndcg = r->ndcg_graded = NAN;
    r->ap = r->hit = r->rr = NAN;
    if (r->n_relevant > 0) accuracy_metrics(a, u, n_ranked, r);
    r->diversity = a->unit && r->n_list >= 2 ? list_diversity(a, r->n_list) : NAN;
    r->novelty = a->selfinfo && r->n_list >= 1 ? list_novelty(a, r->n_list) : NAN;
}

static void commit_user(eval_rank *a, const eval_user_result *r)
{
    a->n_users++;
    if (r->n_relevant > 0) {
        a->n_rel++;
        a->s_prec += r->precision;
        a->s_rec += r->recall;
        a->s_ndcg += r->ndcg;
        a->s_ndcg_g += r->ndcg_graded;
        a->s_ap += r->ap;
        a->s_hit += r->hit;
        a->s_rr += r->rr;
    }
    if (!isnan(r->auc)) a->n_auc++, a->s_auc += r->auc;
    if (!isnan(r->diversity)) a->n_div++, a->s_div += r->diversity;
    if (r->n_list > 0) a->n_list++;
    if (!isnan(r->novelty)) a->s_nov += r->novelty;
    for (int i = 0; i < r->n_list; i++) {
        int it = a->ranked[i];
        if (!a->covered[it]) a->covered[it] = 1, a->n_covered++;
    }
}

/* ================================================================== adding users */

/* Copies list minus excluded items into a->ranked; checks ranges and duplicates. */
static int filter_list(eval_rank *a, const int *list, int n_list, int *n_ranked, hp_error *err)
{
    int rc = HP_OK, n = 0;
    for (int i = 0; i < n_list && !rc; i++) {
        int it = list[i];
        if (it < 0 || it >= a->n_items)
            rc = hp_fail(err, HP_ERR_INVAL, "eval: list[%d] = %d is outside [0, %d)", i, it,
                         a->n_items);
        else if (a->mark[it] & MARK_LIST)
            rc = hp_fail(err, HP_ERR_INVAL, "eval: list[%d]: item %d is ranked twice", i, it);
        else if (a->mark[it] |= MARK_LIST, !(a->mark[it] & MARK_EXCL))
            a->ranked[n++] = it;
    }
    for (int i = 0; i < n_list; i++) /* drop MARK_LIST, keep the user's marks */
        if (list[i] >= 0 && list[i] < a->n_items) a->mark[list[i]] &= (unsigned char)~MARK_LIST;
    *n_ranked = n;
    return rc;
}

int eval_rank_add_list(eval_rank *a, const eval_user *u, const int *list, int n_list,
                       eval_user_result *res, hp_error *err)
{
    int rc = check_user(a, u, err);
    if (!rc) rc = check_array(list, n_list, "list", err);
    if (rc) return rc;
    eval_user_result r = {0};
    rc = mark_user(a, u, &r, err);
    if (rc) return rc;
    int n_ranked = 0;
    rc = filter_list(a, list, n_list, &n_ranked, err);
    if (!rc) {
        score_user(a, u, n_ranked, &r);
        r.auc = NAN;
        commit_user(a, &r);
        if (res) *res = r;
    }
    unmark_user(a, u);
    return rc;
}

/* Higher score first, then lower index: a total order, so qsort is deterministic. */
static int cmp_scored(const void *x, const void *y)
{
    const scored_item *a = x, *b = y;
    if (a->s != b->s) return a->s > b->s ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* Sorts the candidates of the marked user into a->order and a->ranked; returns the count. */
static int rank_candidates(eval_rank *a, const float *scores)
{
    int n = 0;
    for (int i = 0; i < a->n_items; i++)
        if (!(a->mark[i] & MARK_EXCL)) a->order[n++] = (scored_item){scores[i], i};
    qsort(a->order, (size_t)n, sizeof(scored_item), cmp_scored);
    for (int i = 0; i < n; i++) a->ranked[i] = a->order[i].i;
    return n;
}

/* Per-user AUC over a->order[0..n): walk tie groups from the top, counting for each
 * relevant item the non-relevant ones strictly below it plus half of those tied with it. */
static double user_auc(const eval_rank *a, int n, int n_rel)
{
    long n_neg = n - n_rel, neg_above = 0;
    if (n_rel == 0 || n_neg == 0) return NAN;
    double correct = 0.0;
    for (int i = 0; i < n;) {
        int j = i;
        long pos_g = 0, neg_g = 0;
        for (; j < n && a->order[j].s == a->order[i].s; j++) {
            if (a->mark[a->order[j].i] & MARK_REL) pos_g++;
            else neg_g++;
        }
        correct += pos_g * ((double)(n_neg - neg_above - neg_g) + 0.5 * (double)neg_g);
        neg_above += neg_g;
        i = j;
    }
    return correct / ((double)n_rel * (double)n_neg);
}

int eval_rank_add_scores(eval_rank *a, const eval_user *u, const float *scores,
                         eval_user_result *res, hp_error *err)
{
    int rc = check_user(a, u, err);
    if (rc) return rc;
    if (!scores) return hp_fail(err, HP_ERR_INVAL, "eval: scores are NULL");
    for (int i = 0; i < a->n_items; i++)
        if (isnan(scores[i]))
            return hp_fail(err, HP_ERR_INVAL, "eval: the score of item %d is NaN", i);
    eval_user_result r = {0};
    rc = mark_user(a, u, &r, err);
    if (rc) return rc;
    int n = rank_candidates(a, scores);
    score_user(a, u, n, &r);
    r.auc = user_auc(a, n, r.n_relevant);
    commit_user(a, &r);
    unmark_user(a, u);
    if (res) *res = r;
    return HP_OK;
}

/* ================================================================== results */

static double mean_or_nan(double sum, long n) { return n > 0 ? sum / (double)n : NAN; }

void eval_rank_get(const eval_rank *a, eval_rank_result *o)
{
    memset(o, 0, sizeof *o);
    o->k = a->k;
    o->n_items = a->n_items;
    o->n_users = a->n_users;
    o->n_users_rel = a->n_rel;
    o->n_users_auc = a->n_auc;
    o->n_users_list = a->n_list;
    o->n_users_div = a->n_div;
    o->n_covered = a->n_covered;
    o->precision = mean_or_nan(a->s_prec, a->n_rel);
    o->recall = mean_or_nan(a->s_rec, a->n_rel);
    o->ndcg = mean_or_nan(a->s_ndcg, a->n_rel);
    o->ndcg_graded = mean_or_nan(a->s_ndcg_g, a->n_rel);
    o->map = mean_or_nan(a->s_ap, a->n_rel);
    o->hit_rate = mean_or_nan(a->s_hit, a->n_rel);
    o->mrr = mean_or_nan(a->s_rr, a->n_rel);
    o->auc = mean_or_nan(a->s_auc, a->n_auc);
    o->coverage = a->n_users > 0 ? (double)a->n_covered / a->n_items : NAN;
    o->diversity = a->unit ? mean_or_nan(a->s_div, a->n_div) : NAN;
    o->novelty = a->selfinfo ? mean_or_nan(a->s_nov, a->n_list) : NAN;
}
