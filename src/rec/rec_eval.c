/* Offline evaluation on the test split: the model beside popularity and, on synthetic data,
 * the oracle (the generator's true adoption probabilities). */
#include "rec/rec.h"
#include "rank/rank.h"
#include "base/base.h"
#include "io/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *k_sys_names[REC_SYS_COUNT] = { "model", "popularity", "oracle", "itemknn", "ease" };
/* Order of the systems in the table, metrics.json and metrics.csv: the oracle (the bound) last. */
static const int k_sys_order[REC_SYS_COUNT] = { REC_SYS_MODEL, REC_SYS_POPULARITY, REC_SYS_ITEMKNN, REC_SYS_EASE,
                                                REC_SYS_ORACLE };
const double rec_ease_lambdas[REC_EASE_NLAMBDA] = { 50, 100, 200, 500, 1000, 2000 };
#define EASE_DEFAULT_LAMBDA 500.0

const char *rec_system_name(int sys) { return sys >= 0 && sys < REC_SYS_COUNT ? k_sys_names[sys] : "?"; }

typedef struct {
    rec_model *m;
    const data_dataset *ds;
    rec_split split;
    feat_enc cust;
    int32_t *rows;           /* evaluated customers */
    int n;
    float *scores;           /* (n, P) per system, reused */
    double *pop;             /* (P) popularity counts among training customers */
    float *oracle;           /* (n, P) or NULL */
    float *v, *bias;         /* product vectors for diversity */
    base_model ease;         /* chosen on validation (before "given" folds validation back) */
} evaluator;

/* ------------------------------------------------------------------ inputs */

static int check_catalogue(const rec_model *m, const data_dataset *ds, hp_error *err)
{
    const data_table *pr = &ds->t[DATA_T_PRODUCTS];
    if ((int)pr->nrows != m->nproducts)
        return hp_fail(err, HP_ERR_INVAL, "the data has %zu products, the model was trained on %d", pr->nrows, m->nproducts);
    for (int p = 0; p < m->nproducts; p++)
        if (strcmp(data_col_str(&pr->cols[pr->id_col], (size_t)p), m->product_ids[p]) != 0)
            return hp_fail(err, HP_ERR_INVAL, "product %d is '%s' in the data but '%s' in the model", p,
                           data_col_str(&pr->cols[pr->id_col], (size_t)p), m->product_ids[p]);
    return HP_OK;
}

static int pick_rows(evaluator *ev)
{
    const rec_split *s = &ev->split;
    ev->rows = hp_malloc(((size_t)s->ncust + 1) * sizeof *ev->rows);
    if (!ev->rows) return HP_ERR_NOMEM;
    int label = ev->m->cfg.train.loss == REC_LOSS_BCE && s->label_product >= 0;
    for (int c = 0; c < s->ncust; c++) {
        int tested = s->role[c] != REC_ROLE_NONE && (s->all_train || s->role[c] == REC_ROLE_TEST);
        int has = label ? !isnan(s->label[c]) : s->tgt_off[1][c + 1] > s->tgt_off[1][c];
        if (tested && has) ev->rows[ev->n++] = c;
    }
    return HP_OK;
}

/* Popularity: how often training customers show each product in the target kinds (or any
 * positive kind when the split has none). */
static int count_popularity(evaluator *ev)
{
    const rec_config *cfg = &ev->m->cfg;
    const data_table *it = &ev->ds->t[DATA_T_INTERACTIONS];
    const data_column *cu = data_table_col_role(it, DATA_ROLE_CUSTOMER), *pr = data_table_col_role(it, DATA_ROLE_PRODUCT);
    const data_column *kind = data_table_col_role(it, DATA_ROLE_KIND);
    uint8_t *keep = hp_calloc(it->nrows + 1, 1);
    if (!keep || !(ev->pop = hp_calloc((size_t)ev->split.P + 1, sizeof *ev->pop))) {
        hp_free(keep);
        return HP_ERR_NOMEM;
    }
    char **kinds = cfg->split.ntarget_kinds ? cfg->split.target_kinds : cfg->train.positive_kinds;
    int nk = cfg->split.ntarget_kinds ? cfg->split.ntarget_kinds : cfg->train.npositive_kinds;
    for (size_t r = 0; cu && r < it->nrows; r++) {
        /* only what training could see: never a test period's or a test customer's targets */
        if (!rec_split_trains(&ev->split, cu->code[r]) || ev->split.tag[r] != REC_TAG_VISIBLE) continue;
        const char *k = data_col_str(kind, r);
        int ok = nk == 0 ? strcmp(k, "label") != 0 : 0;
        for (int i = 0; i < nk; i++) ok |= strcmp(kinds[i], k) == 0;
        keep[r] = (uint8_t)ok;
    }
    if (cu) rank_popularity_add(ev->pop, ev->split.P, pr->code, it->nrows, keep);
    hp_free(keep);
    return HP_OK;
}

/* The oracle file: customer_id, then one column per product id. */
static int read_oracle(evaluator *ev, const char *path, hp_error *err)
{
    const data_table *cu = &ev->ds->t[DATA_T_CUSTOMERS];
    int P = ev->split.P;
    io_source *src = NULL;
    io_source_opts o = { .format = IO_FMT_CSV };
    int rc = io_source_open(&src, path, &o, err);
    if (rc) return rc;
    int ncols = io_source_ncolumns(src);
    int *col_prod = hp_malloc((size_t)ncols * sizeof *col_prod);
    int32_t *where = hp_malloc(((size_t)cu->nrows + 1) * sizeof *where);
    ev->oracle = hp_malloc(((size_t)ev->n * (size_t)P + 1) * sizeof *ev->oracle);
    if (!col_prod || !where || !ev->oracle) rc = HP_ERR_NOMEM;
    for (int j = 0; !rc && j < ncols; j++) {
        const char *name = io_source_column(src, j);
        col_prod[j] = -1;
        for (int p = 0; p < P; p++)
            if (strcmp(ev->m->product_ids[p], name) == 0) col_prod[j] = p;
    }
    for (size_t c = 0; !rc && c <= cu->nrows; c++) where[c] = -1;
    for (int i = 0; !rc && i < ev->n; i++) where[ev->rows[i]] = i;
    for (size_t i = 0; !rc && i < (size_t)ev->n * (size_t)P; i++) ev->oracle[i] = NAN;
    io_record rec;
    hp_error rerr;
    const data_column *id = &cu->cols[cu->id_col];
    while (!rc && (rc = io_source_next(src, &rec, &rerr)) != 0) {
        if (rc < 0) { rc = hp_fail(err, rc, "%s:%ld: %s", path, rec.line, rerr.msg); break; }
        rc = HP_OK;
        int32_t c = data_dict_find(&id->dict, rec.field[0], rec.len[0]);
        if (c < 0 || where[c] < 0) continue;
        for (int j = 1; j < rec.nfields; j++)
            if (col_prod[j] >= 0) ev->oracle[(size_t)where[c] * (size_t)P + (size_t)col_prod[j]] = (float)atof(rec.field[j]);
    }
    for (size_t i = 0; !rc && i < (size_t)ev->n * (size_t)P; i++)
        if (isnan(ev->oracle[i])) rc = hp_fail(err, HP_ERR_FORMAT, "%s: no truth for an evaluated customer or product", path);
    hp_free(col_prod);
    hp_free(where);
    io_source_free(src);
    return rc;
}

/* ------------------------------------------------------------------ metrics */

static int rank_system(evaluator *ev, const float *scores, eval_rank_result *out, hp_error *err)
{
    const rec_split *s = &ev->split;
    int P = s->P;
    eval_rank *acc = NULL;
    eval_rank_opts eo = { .k = ev->m->cfg.eval.k, .n_items = P, .item_vecs = ev->v, .dim = ev->m->net.arch.dim,
                          .item_pop = ev->pop, .pop_alpha = 1.0 };
    int rc = eval_rank_new(&acc, &eo, err);
    for (int i = 0; !rc && i < ev->n; i++) {
        int c = ev->rows[i];
        eval_user u = { .relevant = s->tgt[1] + s->tgt_off[1][c], .n_relevant = (int)(s->tgt_off[1][c + 1] - s->tgt_off[1][c]),
                        .excluded = s->vis + s->vis_off[c], .n_excluded = (int)(s->vis_off[c + 1] - s->vis_off[c]) };
        rc = eval_rank_add_scores(acc, &u, scores + (size_t)i * (size_t)P, NULL, err);
    }
    if (!rc) eval_rank_get(acc, out);
    eval_rank_free(acc);
    return rc;
}

static int binary_model(evaluator *ev, const float *scores, eval_binary_result *out, hp_error *err)
{
    int P = ev->split.P, lp = ev->split.label_product;
    double *prob = hp_malloc(((size_t)ev->n + 1) * sizeof *prob);
    int *lab = hp_malloc(((size_t)ev->n + 1) * sizeof *lab);
    int rc = prob && lab ? HP_OK : HP_ERR_NOMEM;
    for (int i = 0; !rc && i < ev->n; i++) {
        prob[i] = 1.0 / (1.0 + exp(-(double)scores[(size_t)i * (size_t)P + (size_t)lp]));
        lab[i] = ev->split.label[ev->rows[i]] > 0.5f;
    }
    if (!rc) rc = eval_binary(prob, lab, (size_t)ev->n, out, err);
    hp_free(prob);
    hp_free(lab);
    return rc;
}

/* A score the model cannot compute (NaN, infinite) is the model's failure: say which. */
static int name_model(const evaluator *ev, int rc, hp_error *err)
{
    if (rc == HP_ERR_RANGE) hp_error_prefix(err, "model %s", ev->m->dir ? ev->m->dir : "(not loaded from a directory)");
    return rc;
}

static int score_model(evaluator *ev, rec_eval_result *r, hp_error *err)
{
    int P = ev->split.P;
    float *w = hp_malloc(((size_t)ev->n * REC_MOD_COUNT + 1) * sizeof *w);
    if (!w) return HP_ERR_NOMEM;
    rec_lists vis = { ev->split.vis_off, ev->split.vis };
    int rc = name_model(ev, rec_score(&ev->m->net, &ev->cust, &vis, ev->rows, ev->n, NULL, ev->scores, w, err), err);
    for (int i = 0; !rc && i < ev->n; i++)
        for (int m = 0; m < REC_MOD_COUNT; m++) r->modality_weight[m] += w[i * REC_MOD_COUNT + m] / ev->n;
    hp_free(w);
    if (!rc) rc = rec_product_vectors(&ev->m->net, NULL, ev->v, ev->bias, err);
    (void)P;
    return rc;
}

/* ------------------------------------------------------------------ baselines (src/base) */

/* The training customers' visible positives (what the model trains on), one row each. */
typedef struct {
    int64_t *off;
    int32_t *ids;
    base_rows x;
} train_rows;

static int train_rows_make(const rec_split *s, train_rows *t)
{
    memset(t, 0, sizeof *t);
    t->off = hp_malloc(((size_t)s->ncust + 1) * sizeof *t->off);
    t->ids = hp_malloc(((size_t)s->vis_off[s->ncust] + 1) * sizeof *t->ids);
    if (!t->off || !t->ids) return HP_ERR_NOMEM;
    int n = 0;
    int64_t k = 0;
    t->off[0] = 0;
    for (int c = 0; c < s->ncust; c++) {
        if (!rec_split_trains(s, c)) continue;
        for (int64_t j = s->vis_off[c]; j < s->vis_off[c + 1]; j++) t->ids[k++] = s->vis[j];
        t->off[++n] = k;
    }
    t->x = (base_rows){ t->off, t->ids, n };
    return HP_OK;
}

static void train_rows_free(train_rows *t)
{
    hp_free(t->off);
    hp_free(t->ids);
}

/* The validation customers EASE's lambda is chosen on. */
typedef struct {
    evaluator *ev;
    const int32_t *rows;
    int n;
} valid_set;

/* NDCG@k of a baseline on the validation targets, each customer scored from its visible
 * positives and ranked like every system (visible positives excluded; ties to the lower index). */
static int valid_ndcg(const base_model *bm, void *ctx, double *metric, hp_error *err)
{
    valid_set *vs = ctx;
    const rec_split *s = &vs->ev->split;
    eval_rank *acc = NULL;
    eval_rank_opts eo = { .k = vs->ev->m->cfg.eval.k, .n_items = s->P };
    float *sc = hp_malloc((size_t)s->P * sizeof *sc);
    int rc = sc ? eval_rank_new(&acc, &eo, err) : HP_ERR_NOMEM;
    for (int i = 0; !rc && i < vs->n; i++) {
        int c = vs->rows[i];
        const int32_t *held = s->vis + s->vis_off[c];
        int nheld = (int)(s->vis_off[c + 1] - s->vis_off[c]);
        eval_user u = { .relevant = s->tgt[0] + s->tgt_off[0][c], .n_relevant = (int)(s->tgt_off[0][c + 1] - s->tgt_off[0][c]),
                        .excluded = held, .n_excluded = nheld };
        base_score(bm, held, nheld, sc);
        rc = eval_rank_add_scores(acc, &u, sc, NULL, err);
    }
    eval_rank_result res;
    if (!rc) eval_rank_get(acc, &res), *metric = res.ndcg;
    eval_rank_free(acc);
    hp_free(sc);
    return rc;
}

/* EASE's lambda by validation NDCG@k: run before the test set is looked at (and, for method
 * "given", before the validation slice goes back into training). */
static int choose_ease(evaluator *ev, rec_eval_result *r, hp_error *err)
{
    const rec_split *s = &ev->split;
    int max = ev->m->cfg.eval.ease_max_items;
    if (s->P > max) {
        snprintf(r->ease_skipped, sizeof r->ease_skipped, "%d products is above evaluate.ease_max_items %d "
                 "(EASE holds products^2 floats)", s->P, max);
        return HP_OK;
    }
    train_rows t;
    int32_t *vrows = hp_malloc(((size_t)s->ncust + 1) * sizeof *vrows);
    int rc = train_rows_make(s, &t), nv = 0, best = 0;
    if (!rc && !vrows) rc = HP_ERR_NOMEM;
    for (int c = 0; !rc && c < s->ncust; c++) {
        int valid = s->all_train || s->role[c] == REC_ROLE_VALID; /* as training validates */
        if (valid && s->role[c] != REC_ROLE_NONE && s->tgt_off[0][c + 1] > s->tgt_off[0][c]) vrows[nv++] = c;
    }
    valid_set vs = { ev, vrows, nv };
    r->ease_validated = nv > 0;
    if (!rc && nv > 0) {
        rc = base_ease_select(&ev->ease, &t.x, s->P, rec_ease_lambdas, REC_EASE_NLAMBDA, valid_ndcg, &vs, &best,
                              r->ease_valid, err);
        r->ease_lambda = rec_ease_lambdas[best];
    } else if (!rc) {
        r->ease_lambda = EASE_DEFAULT_LAMBDA;
        rc = base_ease_fit(&ev->ease, &t.x, s->P, r->ease_lambda, err);
    }
    train_rows_free(&t);
    hp_free(vrows);
    return rc;
}

/* ev->scores (n, P): each test customer's baseline scores from its visible positives. */
static void score_baseline(evaluator *ev, const base_model *bm)
{
    const rec_split *s = &ev->split;
    for (int i = 0; i < ev->n; i++) {
        int c = ev->rows[i];
        base_score(bm, s->vis + s->vis_off[c], (int)(s->vis_off[c + 1] - s->vis_off[c]), ev->scores + (size_t)i * (size_t)s->P);
    }
}

static int evaluate_baselines(evaluator *ev, rec_eval_result *r, int refit_ease, hp_error *err)
{
    train_rows t;
    base_model knn;
    memset(&knn, 0, sizeof knn);
    int rc = train_rows_make(&ev->split, &t);
    if (!rc) rc = base_knn_fit(&knn, &t.x, ev->split.P, err);
    if (!rc) score_baseline(ev, &knn), rc = rank_system(ev, ev->scores, &r->rank[REC_SYS_ITEMKNN], err);
    r->has[REC_SYS_ITEMKNN] = !rc;
    base_model_free(&knn);
    if (!rc && ev->ease.w && refit_ease) { /* "given": the validation slice is training data now */
        base_model_free(&ev->ease);
        rc = base_ease_fit(&ev->ease, &t.x, ev->split.P, r->ease_lambda, err);
    }
    if (!rc && ev->ease.w) {
        score_baseline(ev, &ev->ease);
        rc = rank_system(ev, ev->scores, &r->rank[REC_SYS_EASE], err);
        r->has[REC_SYS_EASE] = !rc;
    }
    train_rows_free(&t);
    return rc;
}

static int evaluate_systems(evaluator *ev, rec_eval_result *r, hp_error *err)
{
    int P = ev->split.P;
    int rc = score_model(ev, r, err);
    if (!rc && r->label_mode) return binary_model(ev, ev->scores, &r->binary, err);
    if (!rc) rc = rank_system(ev, ev->scores, &r->rank[REC_SYS_MODEL], err);
    r->has[REC_SYS_MODEL] = !rc;
    for (int i = 0; !rc && i < ev->n; i++)
        for (int p = 0; p < P; p++) ev->scores[(size_t)i * (size_t)P + (size_t)p] = (float)ev->pop[p];
    if (!rc) rc = rank_system(ev, ev->scores, &r->rank[REC_SYS_POPULARITY], err);
    r->has[REC_SYS_POPULARITY] = !rc;
    if (!rc) rc = evaluate_baselines(ev, r, ev->m->cfg.split.method == REC_SPLIT_GIVEN, err);
    if (!rc && ev->oracle) {
        rc = rank_system(ev, ev->oracle, &r->rank[REC_SYS_ORACLE], err);
        r->has[REC_SYS_ORACLE] = !rc;
    }
    return rc;
}

/* ------------------------------------------------------------------ values (ratings) */

typedef struct {
    int32_t *cust, *prod;    /* interactions with a value, training ones first */
    double *y;
    size_t n, ntrain;
} value_set;

/* Rated interactions of training customers (to fit the mapping) and of test customers. */
static int collect_values(const evaluator *ev, value_set *vs)
{
    const data_table *it = &ev->ds->t[DATA_T_INTERACTIONS];
    const data_column *cu = data_table_col_role(it, DATA_ROLE_CUSTOMER), *pr = data_table_col_role(it, DATA_ROLE_PRODUCT);
    const data_column *kind = data_table_col_role(it, DATA_ROLE_KIND), *val = data_table_col_role(it, DATA_ROLE_VALUE);
    memset(vs, 0, sizeof *vs);
    int32_t rated = kind ? data_dict_find(&kind->dict, "rated", 5) : -1;
    if (rated < 0 || !val || ev->split.all_train) return HP_OK;
    vs->cust = hp_malloc((it->nrows + 1) * sizeof *vs->cust);
    vs->prod = hp_malloc((it->nrows + 1) * sizeof *vs->prod);
    vs->y = hp_malloc((it->nrows + 1) * sizeof *vs->y);
    if (!vs->cust || !vs->prod || !vs->y) return HP_ERR_NOMEM;
    for (int pass = 0; pass < 2; pass++)
        for (size_t r = 0; r < it->nrows; r++) {
            int c = cu->code[r];
            int want = pass == 0 ? rec_split_trains(&ev->split, c) : ev->split.role[c] == REC_ROLE_TEST;
            if (kind->code[r] != rated || isnan(val->num[r]) || !want) continue;
            vs->cust[vs->n] = c, vs->prod[vs->n] = pr->code[r], vs->y[vs->n++] = val->num[r];
            if (pass == 0) vs->ntrain = vs->n;
        }
    return HP_OK;
}

static void value_set_free(value_set *vs)
{
    hp_free(vs->cust);
    hp_free(vs->prod);
    hp_free(vs->y);
}

/* Model scores of each (customer, product) in vs. */
static int value_scores(evaluator *ev, const value_set *vs, double *score, hp_error *err)
{
    int P = ev->split.P, nc = 0;
    int32_t *where = hp_malloc(((size_t)ev->split.ncust + 1) * sizeof *where), *rows = hp_malloc((vs->n + 1) * sizeof *rows);
    int rc = where && rows ? HP_OK : HP_ERR_NOMEM;
    for (int c = 0; !rc && c < ev->split.ncust; c++) where[c] = -1;
    for (size_t i = 0; !rc && i < vs->n; i++)
        if (where[vs->cust[i]] < 0) where[vs->cust[i]] = nc, rows[nc++] = vs->cust[i];
    float *sc = rc ? NULL : hp_malloc((size_t)nc * (size_t)P * sizeof *sc);
    if (!rc && !sc) rc = HP_ERR_NOMEM;
    rec_lists vis = { ev->split.vis_off, ev->split.vis };
    if (!rc) rc = name_model(ev, rec_score(&ev->m->net, &ev->cust, &vis, rows, nc, NULL, sc, NULL, err), err);
    for (size_t i = 0; !rc && i < vs->n; i++) score[i] = sc[(size_t)where[vs->cust[i]] * (size_t)P + (size_t)vs->prod[i]];
    hp_free(sc);
    hp_free(where);
    hp_free(rows);
    return rc;
}

static int evaluate_values(evaluator *ev, rec_eval_result *r, hp_error *err)
{
    value_set vs;
    int rc = collect_values(ev, &vs);
    size_t nt = vs.n - vs.ntrain;
    if (rc || vs.ntrain < 2 || nt == 0) {
        value_set_free(&vs);
        return rc;
    }
    int P = ev->split.P;
    double *score = hp_malloc(vs.n * sizeof *score), *pred = hp_malloc(nt * sizeof *pred);
    double *psum = hp_calloc((size_t)P, sizeof *psum), *pcnt = hp_calloc((size_t)P, sizeof *pcnt);
    rc = score && pred && psum && pcnt ? value_scores(ev, &vs, score, err) : HP_ERR_NOMEM;
    if (!rc) { /* least squares y = a s + b over the training pairs */
        double ms = 0, my = 0, sxy = 0, sxx = 0;
        for (size_t i = 0; i < vs.ntrain; i++) ms += score[i], my += vs.y[i];
        ms /= (double)vs.ntrain, my /= (double)vs.ntrain;
        for (size_t i = 0; i < vs.ntrain; i++) sxy += (score[i] - ms) * (vs.y[i] - my), sxx += (score[i] - ms) * (score[i] - ms);
        r->value_a = sxx > 0 ? sxy / sxx : 0;
        r->value_b = my - r->value_a * ms;
        for (size_t i = 0; i < nt; i++) pred[i] = r->value_a * score[vs.ntrain + i] + r->value_b;
        rc = eval_regression(pred, vs.y + vs.ntrain, nt, &r->values[0], err);
        for (size_t i = 0; i < vs.ntrain; i++) psum[vs.prod[i]] += vs.y[i], pcnt[vs.prod[i]] += 1;
        for (size_t i = 0; i < nt; i++) {
            int p = vs.prod[vs.ntrain + i];
            pred[i] = pcnt[p] > 0 ? psum[p] / pcnt[p] : my;
        }
        if (!rc) rc = eval_regression(pred, vs.y + vs.ntrain, nt, &r->values[1], err);
        r->has_values = !rc;
    }
    hp_free(score);
    hp_free(pred);
    hp_free(psum);
    hp_free(pcnt);
    value_set_free(&vs);
    return rc;
}

/* Why a test file left nobody to evaluate (rec.h). */
void rec_given_counts_text(const rec_given_counts *g, char *out, size_t n)
{
    snprintf(out, n, "%ld interactions: %ld targets, %ld already in training (not candidates), %ld unknown customers, "
             "%ld unknown products, %ld of other kinds, %ld repeated, %ld of customers left out (no consent)", g->rows,
             g->targets, g->in_train, g->unknown_customer, g->unknown_product, g->other_kind, g->repeated, g->not_allowed);
}

static int no_given_targets(const rec_given_counts *g, const char *path, hp_error *err)
{
    char text[512];
    rec_given_counts_text(g, text, sizeof text);
    return hp_fail(err, HP_ERR_EMPTY, "split.test_file %s: no customer has a test target to evaluate (%s)", path, text);
}

int rec_evaluate(rec_model *m, const data_dataset *ds, const char *oracle, const uint8_t *allowed,
                 rec_eval_result *r, hp_error *err)
{
    evaluator ev;
    memset(&ev, 0, sizeof ev);
    memset(r, 0, sizeof *r);
    ev.m = m;
    ev.ds = ds;
    r->k = m->cfg.eval.k;
    int rc = check_catalogue(m, ds, err);
    int given = m->cfg.split.method == REC_SPLIT_GIVEN;
    if (!rc) rc = rec_split_make(&ev.split, ds, &m->cfg, err);
    if (!rc) rec_split_exclude(&ev.split, allowed);
    r->label_mode = m->cfg.train.loss == REC_LOSS_BCE && ev.split.label_product >= 0;
    if (!rc && !r->label_mode) rc = choose_ease(&ev, r, err);
    /* given: the model was validated on a slice of the training interactions; they are all
     * training data here (history input, never candidates) */
    if (!rc && rec_split_folds_for_eval(&m->cfg)) rc = rec_split_fold_valid(&ev.split);
    r->has_given = given;
    r->given = ev.split.given;
    if (!rc) rc = rec_encode_customers(&m->net, &ds->t[DATA_T_CUSTOMERS], &ev.cust, err);
    if (!rc) rc = pick_rows(&ev);
    if (!rc && ev.n == 0 && given) rc = no_given_targets(&r->given, m->cfg.split.test_file, err);
    if (!rc && ev.n == 0) rc = hp_fail(err, HP_ERR_EMPTY, "no test customer has a target to evaluate");
    r->n_customers = ev.n;
    size_t P = (size_t)ev.split.P, d = (size_t)m->net.arch.dim;
    if (!rc) {
        ev.scores = hp_malloc((size_t)ev.n * P * sizeof *ev.scores);
        ev.v = hp_malloc(P * d * sizeof *ev.v);
        ev.bias = hp_malloc(P * sizeof *ev.bias);
        if (!ev.scores || !ev.v || !ev.bias) rc = HP_ERR_NOMEM;
    }
    if (!rc) rc = count_popularity(&ev);
    if (!rc && oracle && !r->label_mode) rc = read_oracle(&ev, oracle, err);
    if (!rc) rc = evaluate_systems(&ev, r, err);
    if (!rc && !r->label_mode) rc = evaluate_values(&ev, r, err);
    rec_split_free(&ev.split);
    feat_enc_free(&ev.cust);
    base_model_free(&ev.ease);
    void *bufs[] = { ev.rows, ev.scores, ev.pop, ev.oracle, ev.v, ev.bias };
    for (size_t i = 0; i < HP_ARRAY_LEN(bufs); i++) hp_free(bufs[i]);
    if (rc == HP_ERR_NOMEM && !err->msg[0]) hp_fail(err, rc, "evaluate: out of memory");
    return rc;
}

/* ------------------------------------------------------------------ reports */

/* The lambda EASE used and how it was chosen, or why it did not run. */
static void print_ease(const rec_eval_result *r, FILE *f)
{
    if (r->ease_skipped[0]) {
        fprintf(f, "  ease: skipped: %s\n", r->ease_skipped);
        return;
    }
    if (!r->has[REC_SYS_EASE]) return;
    fprintf(f, "  ease: lambda %g", r->ease_lambda);
    if (!r->ease_validated) {
        fprintf(f, " (the default: no validation customer to choose by)\n");
        return;
    }
    fprintf(f, ", chosen by validation NDCG@%d:", r->k);
    for (int l = 0; l < REC_EASE_NLAMBDA; l++) fprintf(f, " %g %.4f", rec_ease_lambdas[l], r->ease_valid[l]);
    fputc('\n', f);
}

void rec_eval_print(const rec_eval_result *r, void *file)
{
    FILE *f = file;
    if (r->label_mode) {
        fprintf(f, "propensity on %ld test customers: AUC %.4f  PR-AUC %.4f  log loss %.4f  Brier %.4f\n",
                r->n_customers, r->binary.roc_auc, r->binary.pr_auc, r->binary.log_loss, r->binary.brier);
    } else {
        fprintf(f, "ranking on %ld test customers, k = %d\n", r->n_customers, r->k);
        if (r->has_given) {
            char text[512];
            rec_given_counts_text(&r->given, text, sizeof text);
            fprintf(f, "  test file: %s\n", text);
        }
        fprintf(f, "  %-11s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n", "system", "ndcg", "prec", "recall", "map", "hit",
                "mrr", "auc", "cover", "novelty");
        for (int o = 0; o < REC_SYS_COUNT; o++) {
            int s = k_sys_order[o];
            if (!r->has[s]) continue;
            const eval_rank_result *x = &r->rank[s];
            fprintf(f, "  %-11s %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f %8.3f\n", rec_system_name(s), x->ndcg,
                    x->precision, x->recall, x->map, x->hit_rate, x->mrr, x->auc, x->coverage, x->novelty);
        }
        const eval_rank_result *rk = r->rank;
        if (r->has[REC_SYS_POPULARITY] && rk[REC_SYS_POPULARITY].ndcg > 0)
            fprintf(f, "  model / popularity NDCG@%d: %.2fx", r->k, rk[REC_SYS_MODEL].ndcg / rk[REC_SYS_POPULARITY].ndcg);
        if (r->has[REC_SYS_ORACLE] && rk[REC_SYS_ORACLE].ndcg > 0)
            fprintf(f, "   model / oracle: %.2f", rk[REC_SYS_MODEL].ndcg / rk[REC_SYS_ORACLE].ndcg);
        fputc('\n', f);
        print_ease(r, f);
    }
    if (r->has_values)
        fprintf(f, "ratings of test customers (%ld): model score mapped to the scale MSE %.4f MAE %.4f R2 %.4f; "
                "product mean MSE %.4f MAE %.4f R2 %.4f\n", r->values[0].n, r->values[0].mse, r->values[0].mae,
                r->values[0].r2, r->values[1].mse, r->values[1].mae, r->values[1].r2);
    fprintf(f, "  mean modality weights:");
    for (int m = 0; m < REC_MOD_COUNT; m++) fprintf(f, " %s %.2f", rec_modality_name(m), r->modality_weight[m]);
    fputc('\n', f);
}

/* One system's part of the report: ranking or propensity metrics, and the value (rating)
 * predictions of the model and of the popularity system's product means. */
static eval_report system_report(const rec_eval_result *r, int s)
{
    eval_report rep = { .has_rank = !r->label_mode, .has_binary = r->label_mode && s == REC_SYS_MODEL,
                        .rank = r->rank[s], .binary = r->binary };
    if (r->has_values && (s == REC_SYS_MODEL || s == REC_SYS_POPULARITY)) {
        rep.has_regression = 1;
        rep.regression = r->values[s == REC_SYS_MODEL ? 0 : 1];
    }
    return rep;
}

/* {"lambda", "chosen_by": "validation ndcg"|"default", "validation": {lambda: ndcg}} or
 * {"skipped": why}. */
static json_t *ease_json(const rec_eval_result *r)
{
    if (r->ease_skipped[0]) return json_pack("{s:s}", "skipped", r->ease_skipped);
    json_t *e = json_pack("{s:f, s:s}", "lambda", r->ease_lambda, "chosen_by", r->ease_validated ? "validation ndcg" : "default");
    if (e && r->ease_validated) {
        json_t *v = json_object();
        for (int l = 0; l < REC_EASE_NLAMBDA; l++) {
            char key[32];
            snprintf(key, sizeof key, "%g", rec_ease_lambdas[l]);
            json_object_set_new(v, key, isnan(r->ease_valid[l]) ? json_null() : json_real(r->ease_valid[l]));
        }
        json_object_set_new(e, "validation", v);
    }
    return e;
}

static json_t *result_json(const rec_eval_result *r)
{
    json_t *o = json_pack("{s:b, s:i, s:I}", "propensity", r->label_mode, "k", r->k, "customers", (json_int_t)r->n_customers);
    json_t *systems = json_object(), *mods = json_object();
    for (int q = 0; q < REC_SYS_COUNT; q++) {
        int s = k_sys_order[q];
        if (!r->has[s] && !(s == 0 && r->label_mode)) continue;
        eval_report rep = system_report(r, s);
        json_object_set_new(systems, rec_system_name(s), eval_report_json(&rep));
    }
    if (!r->label_mode) json_object_set_new(o, "ease", ease_json(r));
    for (int m = 0; m < REC_MOD_COUNT; m++) json_object_set_new(mods, rec_modality_name(m), json_real(r->modality_weight[m]));
    if (r->has_given) {
        const rec_given_counts *g = &r->given;
        json_object_set_new(o, "test_file", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rows", (json_int_t)g->rows,
                                                      "targets", (json_int_t)g->targets, "in_train", (json_int_t)g->in_train,
                                                      "unknown_customer", (json_int_t)g->unknown_customer,
                                                      "unknown_product", (json_int_t)g->unknown_product,
                                                      "other_kind", (json_int_t)g->other_kind,
                                                      "repeated", (json_int_t)g->repeated,
                                                      "not_allowed", (json_int_t)g->not_allowed));
    }
    json_object_set_new(o, "systems", systems);
    json_object_set_new(o, "modality_weights", mods);
    return o;
}

static FILE *open_in(const char *dir, const char *name, char *path, size_t n, hp_error *err)
{
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) hp_fail(err, HP_ERR_IO, "%s: cannot write", path);
    return f;
}

static int close_checked(FILE *f, const char *path, hp_error *err)
{
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    return bad ? hp_fail(err, HP_ERR_WRITE, "%s: write failed", path) : HP_OK;
}

int rec_eval_write(const rec_eval_result *r, const char *dir, hp_error *err)
{
    char path[4096];
    FILE *f = open_in(dir, "metrics.json", path, sizeof path, err);
    if (!f) return HP_ERR_IO;
    json_t *j = result_json(r);
    json_dumpf(j, f, JSON_INDENT(2));
    fputc('\n', f);
    json_decref(j);
    int rc = close_checked(f, path, err);
    if (!rc && !(f = open_in(dir, "metrics.csv", path, sizeof path, err))) rc = HP_ERR_IO;
    if (!rc) {
        eval_report_write_csv_header(f, NULL);
        for (int o = 0; o < REC_SYS_COUNT; o++) {
            int s = k_sys_order[o];
            if (!r->has[s] && !(s == 0 && r->label_mode)) continue;
            eval_report rep = system_report(r, s);
            eval_report_write_csv_row(&rep, rec_system_name(s), f, NULL);
        }
        rc = close_checked(f, path, err);
    }
    if (!rc && !(f = open_in(dir, "summary.txt", path, sizeof path, err))) rc = HP_ERR_IO;
    if (!rc) {
        rec_eval_print(r, f);
        rc = close_checked(f, path, err);
    }
    return rc;
}
