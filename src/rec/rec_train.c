/* Training the recommender: examples from the split, minibatches with sampled negatives,
 * their gradients and the validation metric; the loop itself (AdamW, schedule, clipping,
 * early stopping, checkpoints of the best model, a clean stop) is nn_fit's. */
#include "rec/rec.h"
#include "nn/nn_fit.h"
#include "rank/rank.h"
#include "eval/eval.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const data_dataset *ds;
    const rec_config *cfg;
    const rec_train_opts *opts;
    rec_setup su;          /* split, features, encoded rows, net */
    rec_lists vis;
    rec_examples ex;       /* (customer, product, target) */
    /* per-step buffers */
    rec_batchbuf bb;
    nn_arena arena;
    int32_t *rows, *skip, *cand;
    float *scores, *dscores, *du, *dv, *dbias, *targets;
    uint8_t *id_keep;
    int K1;                  /* candidates per example */
    double *popularity;      /* (P) training positives per product: the non-personalised ranking */
    hp_rng rng_shuffle, rng_neg, rng_drop;
    const char *metric;      /* "ndcg" or "auc" */
} trainer;

/* ------------------------------------------------------------------ examples */

int rec_examples_make(rec_examples *ex, const rec_split *s, const rec_config *cfg)
{
    memset(ex, 0, sizeof *ex);
    ex->explicit_labels = cfg->train.loss == REC_LOSS_BCE && s->label_product >= 0;
    size_t n = 0;
    for (int c = 0; c < s->ncust; c++) {
        if (!rec_split_trains(s, c)) continue;
        n += ex->explicit_labels ? !isnan(s->label[c]) : (size_t)(s->vis_off[c + 1] - s->vis_off[c]);
    }
    ex->c = hp_malloc((n + 1) * sizeof *ex->c);
    ex->p = hp_malloc((n + 1) * sizeof *ex->p);
    ex->y = hp_malloc((n + 1) * sizeof *ex->y);
    if (!ex->c || !ex->p || !ex->y) {
        rec_examples_free(ex);
        return HP_ERR_NOMEM;
    }
    for (int c = 0; c < s->ncust; c++) {
        if (!rec_split_trains(s, c)) continue;
        if (ex->explicit_labels) {
            if (!isnan(s->label[c])) ex->c[ex->n] = c, ex->p[ex->n] = s->label_product, ex->y[ex->n++] = s->label[c];
        } else {
            for (int64_t i = s->vis_off[c]; i < s->vis_off[c + 1]; i++)
                ex->c[ex->n] = c, ex->p[ex->n] = s->vis[i], ex->y[ex->n++] = 1.0f;
        }
    }
    return HP_OK;
}

void rec_examples_free(rec_examples *ex)
{
    hp_free(ex->c);
    hp_free(ex->p);
    hp_free(ex->y);
    memset(ex, 0, sizeof *ex);
}

/* The examples, and popularity: the positive examples of each product. */
static int build_examples(trainer *t)
{
    const rec_split *s = &t->su.split;
    if (rec_examples_make(&t->ex, s, t->cfg)) return HP_ERR_NOMEM;
    size_t k = t->ex.n;
    uint8_t *positive = hp_malloc(k + 1);
    if (!positive || !(t->popularity = hp_calloc((size_t)s->P + 1, sizeof *t->popularity))) {
        hp_free(positive);
        return HP_ERR_NOMEM;
    }
    for (size_t i = 0; i < k; i++) positive[i] = t->ex.y[i] > 0;
    rank_popularity_add(t->popularity, s->P, t->ex.p, k, positive);
    hp_free(positive);
    return HP_OK;
}

/* ------------------------------------------------------------------ setup */

/* Fits features on the training customers only (validation and test customers must not
 * shape vocabularies or scaling), encodes everyone and the catalogue, builds the net. */
static int fit_and_encode(rec_setup *su, const data_dataset *ds, const rec_config *cfg, hp_error *err)
{
    const rec_arch *arch = &cfg->arch;
    feat_opts fo = rec_feat_opts(arch);
    unsigned char *use = hp_calloc((size_t)su->split.ncust + 1, 1);
    if (!use) return HP_ERR_NOMEM;
    for (int c = 0; c < su->split.ncust; c++) use[c] = (unsigned char)rec_split_trains(&su->split, c);
    int rc = feat_fit(&su->net.cust_fs, &ds->t[DATA_T_CUSTOMERS], use, &fo, err);
    hp_free(use);
    if (!rc) rc = feat_fit(&su->net.prod_fs, &ds->t[DATA_T_PRODUCTS], NULL, &fo, err);
    if (!rc) rc = feat_encode(&su->net.cust_fs, &ds->t[DATA_T_CUSTOMERS], &fo, &su->cust, err);
    if (!rc) rc = feat_encode(&su->net.prod_fs, &ds->t[DATA_T_PRODUCTS], &fo, &su->net.prod, err);
    if (!rc) rc = rec_net_init(&su->net, arch, su->split.P, err);
    if (!rc) rec_net_init_weights(&su->net, cfg->train.seed);
    return rc;
}

int rec_setup_make(rec_setup *su, const data_dataset *ds, const rec_config *cfg, const uint8_t *allowed,
                   hp_error *err)
{
    memset(su, 0, sizeof *su);
    int rc = rec_split_make(&su->split, ds, cfg, err);
    if (!rc) {
        rec_split_exclude(&su->split, allowed);
        rc = fit_and_encode(su, ds, cfg, err);
    }
    if (rc) rec_setup_free(su);
    return rc;
}

void rec_setup_free(rec_setup *su)
{
    rec_net_free(&su->net);
    feat_enc_free(&su->cust);
    rec_split_free(&su->split);
}

static int alloc_step_buffers(trainer *t, hp_error *err)
{
    const rec_train_cfg *tc = &t->cfg->train;
    int B = tc->batch, P = t->su.net.P, d = t->su.net.arch.dim;
    int negatives = HP_MIN(tc->negatives, P - 1);
    t->K1 = tc->loss == REC_LOSS_BCE ? 1 + (t->ex.explicit_labels ? 0 : HP_MAX(negatives, 1))
            : tc->loss == REC_LOSS_BPR ? 2 : 1 + HP_MAX(negatives, 1);
    int rc = rec_batchbuf_init(&t->bb, &t->su.cust, &t->vis, B);
    if (rc) return hp_fail(err, rc, "training: out of memory for batches");
    size_t bytes = 2 * rec_arena_bytes(&t->su.net, B, (long)t->bb.text_cap, (long)t->bb.hist_cap, (long)t->bb.multi_cap);
    if ((rc = nn_arena_init(&t->arena, bytes, err))) return rc;
    size_t BK = (size_t)B * (size_t)t->K1;
    t->rows = hp_malloc((size_t)B * sizeof *t->rows);
    t->skip = hp_malloc((size_t)B * sizeof *t->skip);
    t->cand = hp_malloc(BK * sizeof *t->cand);
    t->scores = hp_malloc(BK * sizeof *t->scores);
    t->dscores = hp_malloc(BK * sizeof *t->dscores);
    t->targets = hp_malloc(BK * sizeof *t->targets);
    t->du = hp_malloc((size_t)B * (size_t)d * sizeof *t->du);
    t->dv = hp_malloc((size_t)P * (size_t)d * sizeof *t->dv);
    t->dbias = hp_malloc((size_t)P * sizeof *t->dbias);
    t->id_keep = hp_malloc((size_t)P);
    if (!t->rows || !t->skip || !t->cand || !t->scores || !t->dscores || !t->targets || !t->du || !t->dv ||
        !t->dbias || !t->id_keep)
        return hp_fail(err, HP_ERR_NOMEM, "training: out of memory");
    return HP_OK;
}

static void trainer_free(trainer *t)
{
    rec_setup_free(&t->su);
    rec_batchbuf_free(&t->bb);
    nn_arena_free(&t->arena);
    rec_examples_free(&t->ex);
    void *bufs[] = { t->popularity, t->rows, t->skip, t->cand, t->scores, t->dscores,
                     t->targets, t->du, t->dv, t->dbias, t->id_keep };
    for (size_t i = 0; i < HP_ARRAY_LEN(bufs); i++) hp_free(bufs[i]);
}

/* ------------------------------------------------------------------ one step */

/* A negative for customer c: uniform over the catalogue, avoiding c's known positives
 * (an accidental hit would teach the model that a held product is wrong). */
static int32_t sample_negative(trainer *t, int c, int32_t pos)
{
    int P = t->su.net.P;
    int32_t p = 0;
    for (int tries = 0; tries < 20; tries++) {
        p = (int32_t)hp_rng_below(&t->rng_neg, (uint64_t)P);
        if (p != pos && !rec_split_visible(&t->su.split, c, p)) return p;
    }
    return p;
}

static void make_candidates(trainer *t, const size_t *idx, int B)
{
    for (int i = 0; i < B; i++) {
        size_t e = idx[i];
        int c = t->ex.c[e];
        int32_t *cand = t->cand + (size_t)i * (size_t)t->K1;
        float *y = t->targets + (size_t)i * (size_t)t->K1;
        t->rows[i] = c;
        t->skip[i] = t->ex.p[e];
        cand[0] = t->ex.p[e];
        y[0] = t->ex.y[e];
        for (int k = 1; k < t->K1; k++) {
            cand[k] = sample_negative(t, c, t->ex.p[e]);
            y[k] = 0.0f;
        }
    }
}

static float step_loss(trainer *t, int B)
{
    size_t BK = (size_t)B * (size_t)t->K1;
    memset(t->dscores, 0, BK * sizeof *t->dscores);
    switch (t->cfg->train.loss) {
    case REC_LOSS_SOFTMAX: return nn_sampled_softmax_loss(t->dscores, t->scores, NULL, B, t->K1, 1.0f);
    case REC_LOSS_BCE: return nn_bce_logits_loss(t->dscores, t->scores, t->targets, BK, 1.0f);
    case REC_LOSS_BPR: {
        /* scores are (B,2): positive then negative; gather them apart and back */
        float *pos = t->targets, *neg = t->targets + B, *dpos = t->du, *dneg = t->du + B;
        for (int i = 0; i < B; i++) pos[i] = t->scores[2 * i], neg[i] = t->scores[2 * i + 1], dpos[i] = dneg[i] = 0;
        float loss = nn_bpr_loss(dpos, dneg, pos, neg, B, 1.0f);
        for (int i = 0; i < B; i++) t->dscores[2 * i] = dpos[i], t->dscores[2 * i + 1] = dneg[i];
        return loss;
    }
    }
    return 0;
}

/* nn_fit's gradient hook: the loss of examples idx[0..B) and its gradient in the net's
 * parameters. HP_ERR_NOMEM when the arena cannot hold the pass. */
static int train_grad(void *ctx, const size_t *idx, int B, double *loss, hp_error *err)
{
    trainer *t = ctx;
    const rec_train_cfg *tc = &t->cfg->train;
    int P = t->su.net.P, d = t->su.net.arch.dim;
    nn_arena_reset(&t->arena);
    make_candidates(t, idx, B);
    rec_gather(&t->bb, &t->su.cust, &t->vis, t->rows, t->skip, B);
    for (int p = 0; p < P; p++) t->id_keep[p] = hp_rng_uniform(&t->rng_drop) >= tc->id_dropout;
    rec_fwd *f = rec_forward(&t->su.net, &t->arena, &t->bb.b, t->id_keep, 1, tc->dropout, &t->rng_drop);
    if (!f) return hp_fail(err, HP_ERR_NOMEM, "training: out of memory for the activations of a batch of %d", B);
    const float *u = rec_fwd_u(f), *v = rec_fwd_v(f);
    nn_score_gather_forward(t->scores, u, v, t->cand, rec_fwd_bias(f), NULL, B, t->K1, d);
    *loss = step_loss(t, B);
    memset(t->du, 0, (size_t)B * (size_t)d * sizeof *t->du);
    memset(t->dv, 0, (size_t)P * (size_t)d * sizeof *t->dv);
    memset(t->dbias, 0, (size_t)P * sizeof *t->dbias);
    nn_score_gather_backward(t->du, t->dv, t->dbias, NULL, t->dscores, u, v, t->cand, B, t->K1, d);
    if (rec_backward(&t->su.net, f, t->du, t->dv, t->dbias))
        return hp_fail(err, HP_ERR_NOMEM, "training: out of memory for the gradients of a batch of %d", B);
    return HP_OK;
}

/* ------------------------------------------------------------------ validation */

/* The customers phase (0 validation, 1 test) evaluates that have something to be evaluated
 * on (targets, or a label), into rows when not NULL; returns how many. */
static int evaluated_rows(const trainer *t, int phase, int32_t *rows)
{
    const rec_split *s = &t->su.split;
    int want_role = phase == 0 ? REC_ROLE_VALID : REC_ROLE_TEST, n = 0;
    for (int c = 0; c < s->ncust; c++) {
        int evaluated = s->all_train || s->role[c] == want_role;
        int has = t->ex.explicit_labels ? !isnan(s->label[c]) : s->tgt_off[phase][c + 1] > s->tgt_off[phase][c];
        if (evaluated && has) {
            if (rows) rows[n] = c;
            n++;
        }
    }
    return n;
}

/* NDCG@k over validation customers' targets, or AUC of the label product for label data. */
static int validate(trainer *t, int phase, double *metric, hp_error *err)
{
    const rec_split *s = &t->su.split;
    int P = t->su.net.P;
    int32_t *rows = hp_malloc(((size_t)s->ncust + 1) * sizeof *rows);
    if (!rows) return HP_ERR_NOMEM;
    int n = evaluated_rows(t, phase, rows);
    *metric = NAN;
    float *scores = n ? hp_malloc((size_t)n * (size_t)P * sizeof *scores) : NULL;
    int rc = n && !scores ? HP_ERR_NOMEM : HP_OK;
    if (!rc && n) rc = rec_score(&t->su.net, &t->su.cust, &t->vis, rows, n, NULL, scores, NULL, err);
    if (!rc && n && t->ex.explicit_labels) {
        double *sc = hp_malloc((size_t)n * sizeof *sc);
        int *lab = hp_malloc((size_t)n * sizeof *lab);
        if (!sc || !lab) rc = HP_ERR_NOMEM;
        for (int i = 0; !rc && i < n; i++) sc[i] = scores[(size_t)i * (size_t)P + (size_t)s->label_product], lab[i] = s->label[rows[i]] > 0.5f;
        if (!rc && eval_roc_auc(sc, lab, (size_t)n, metric, NULL) != HP_OK) *metric = NAN;
        hp_free(sc);
        hp_free(lab);
    } else if (!rc && n) {
        eval_rank *acc = NULL;
        eval_rank_opts eo = { .k = t->cfg->eval.k, .n_items = P };
        rc = eval_rank_new(&acc, &eo, err);
        for (int i = 0; !rc && i < n; i++) {
            int c = rows[i];
            eval_user u = { .relevant = s->tgt[phase] + s->tgt_off[phase][c],
                            .n_relevant = (int)(s->tgt_off[phase][c + 1] - s->tgt_off[phase][c]),
                            .excluded = s->vis + s->vis_off[c], .n_excluded = (int)(s->vis_off[c + 1] - s->vis_off[c]) };
            rc = eval_rank_add_scores(acc, &u, scores + (size_t)i * (size_t)P, NULL, err);
        }
        eval_rank_result res;
        if (!rc) {
            eval_rank_get(acc, &res);
            *metric = res.ndcg;
        }
        eval_rank_free(acc);
    }
    hp_free(scores);
    hp_free(rows);
    return rc;
}

/* ------------------------------------------------------------------ the loop's hooks */

static int train_validate(void *ctx, double *metric, hp_error *err) { return validate(ctx, 0, metric, err); }

/* Saves the net (nn_fit has put the best weights in it) with the facts of the training. */
static int train_save(void *ctx, const nn_fit_report *rep, hp_error *err)
{
    trainer *t = ctx;
    json_t *pop = json_array();
    for (int p = 0; p < t->su.net.P; p++) json_array_append_new(pop, json_integer((json_int_t)t->popularity[p]));
    const char *cfgp = t->opts->data_config, *dir = t->opts->data_dir;
    json_t *extra = json_pack("{s:i, s:o, s:s, s:I, s:I, s:o, s:{s:o, s:o}}", "best_epoch", rep->best_epoch, "best_valid",
                              isfinite(rep->best_valid) ? json_real(rep->best_valid) : json_null(), "metric", t->metric,
                              "steps", (json_int_t)rep->steps, "examples", (json_int_t)rep->examples,
                              "popularity", pop, "data", "config", cfgp ? json_string(cfgp) : json_null(),
                              "data_dir", dir ? json_string(dir) : json_null());
    if (extra && t->opts->data_files)
        json_object_set(json_object_get(extra, "data"), "files", t->opts->data_files);
    int rc = extra ? rec_save(t->opts->out_dir, &t->su.net, t->cfg, &t->ds->t[DATA_T_PRODUCTS], extra, err)
                   : hp_fail(err, HP_ERR_NOMEM, "%s: cannot build the training summary", t->opts->out_dir);
    json_decref(extra);
    return rc;
}

static void train_progress(void *ctx, const nn_fit_progress *fp)
{
    trainer *t = ctx;
    if (t->opts->progress) t->opts->progress(t->opts->ctx, fp, t->metric);
}

static int run_epochs(trainer *t, rec_train_report *rep, hp_error *err)
{
    const rec_train_cfg *tc = &t->cfg->train;
    nn_fit_cfg fc = { .epochs = tc->epochs, .batch = tc->batch, .patience = tc->patience, .warmup = tc->warmup,
                      .lr = tc->lr, .lr_min = tc->lr_min, .weight_decay = tc->weight_decay, .clip = tc->clip };
    nn_fit_hooks h = { .grad = train_grad, .validate = train_validate, .save = train_save,
                       .progress = train_progress, .ctx = t, .stop = t->opts->stop, .rng = &t->rng_shuffle };
    return nn_fit(&t->su.net.params, t->ex.n, &fc, &h, &rep->fit, err);
}

/* A validation set was asked for (split.valid_fraction) or made, but no customer in it has a
 * target or label: the metric would be NaN every epoch and early stopping blind, so training
 * is refused before it starts (a target kind the data holds only for training customers, say). */
static int check_validation(const trainer *t, const rec_train_report *rep, hp_error *err)
{
    if (t->cfg->split.valid_fraction <= 0 && rep->n_valid_customers == 0) return HP_OK;
    if (evaluated_rows(t, 0, NULL) > 0) return HP_OK;
    return hp_fail(err, HP_ERR_EMPTY, "no validation customer has %s to validate on (%ld validation customers; "
                   "split.valid_fraction %g): check split.target_kinds against the data, or set "
                   "split.valid_fraction to 0 to train without validation", t->ex.explicit_labels ? "a label" : "a target",
                   rep->n_valid_customers, (double)t->cfg->split.valid_fraction);
}

static void count_roles(const rec_split *s, rec_train_report *rep)
{
    for (int c = 0; c < s->ncust; c++) {
        if (s->role[c] == REC_ROLE_NONE) rep->n_excluded_customers++;
        if (rec_split_trains(s, c)) rep->n_train_customers++;
        /* evaluated customers: by role, or (split by time) those with targets in the period */
        int valid = s->all_train ? s->tgt_off[0][c + 1] > s->tgt_off[0][c] : s->role[c] == REC_ROLE_VALID;
        int test = s->all_train ? s->tgt_off[1][c + 1] > s->tgt_off[1][c] : s->role[c] == REC_ROLE_TEST;
        rep->n_valid_customers += valid;
        rep->n_test_customers += test;
    }
}

int rec_train(const data_dataset *ds, const rec_config *cfg, const rec_train_opts *opts,
              rec_train_report *rep, hp_error *err)
{
    trainer t;
    memset(&t, 0, sizeof t);
    memset(rep, 0, sizeof *rep);
    t.ds = ds;
    t.cfg = cfg;
    t.opts = opts;
    nn_set_threads(cfg->train.threads);
    nn_rng_stream(&t.rng_shuffle, cfg->train.seed, "shuffle");
    nn_rng_stream(&t.rng_neg, cfg->train.seed, "negatives");
    nn_rng_stream(&t.rng_drop, cfg->train.seed, "dropout");
    int rc = rec_setup_make(&t.su, ds, cfg, opts->allowed, err);
    if (!rc) {
        t.vis = (rec_lists){ t.su.split.vis_off, t.su.split.vis };
        count_roles(&t.su.split, rep);
    }
    if (!rc && (rc = build_examples(&t))) hp_fail(err, rc, "training: out of memory");
    if (!rc) rep->n_test_evaluated = evaluated_rows(&t, 1, NULL);
    if (!rc && cfg->split.method == REC_SPLIT_GIVEN && rep->n_test_evaluated == 0) { /* else "0 test", exit 0 */
        char counts[512];
        rec_given_counts_text(&t.su.split.given, counts, sizeof counts);
        rc = hp_fail(err, HP_ERR_INVAL, "split.test_file %s: no customer has a test target (%s): is it the interactions "
                     "file itself?", cfg->split.test_file, counts);
    }
    if (!rc && t.ex.n == 0) rc = hp_fail(err, HP_ERR_EMPTY, "no training examples: no training customer has a positive interaction%s",
                                        t.su.split.label_product >= 0 ? " (for label data set train.loss to \"bce\")" : "");
    rep->metric = t.metric = t.ex.explicit_labels ? "auc" : "ndcg";
    if (!rc) rc = check_validation(&t, rep, err);
    if (!rc) rc = alloc_step_buffers(&t, err);
    if (!rc) rc = run_epochs(&t, rep, err);
    trainer_free(&t);
    if (!rc && rep->fit.interrupted) return hp_fail(err, HP_ERR_INTERRUPTED, "training interrupted; the best model so far is saved in %s", opts->out_dir);
    return rc;
}
