/* The recommender end to end on small synthetic data: the whole network's gradient against
 * finite differences, reproducibility, ranking quality against popularity and the oracle,
 * cold start (unseen customers and products), model files and their corruption. */
#define _GNU_SOURCE
#include "check.h"
#include "data/data.h"
#include "data/synth.h"
#include "io/io.h"
#include "rec/rec.h"
#include "mfile/mfile.h"

#include <math.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char g_dir[64];
static data_dataset g_ds;      /* synthetic, 4000 customers */
static rec_config g_cfg;

static const char *path_in(const char *name)
{
    return check_path(g_dir, name);
}

static int setup(void)
{
    data_synth_opts o;
    data_synth_opts_init(&o);
    o.customers = 4000;
    o.seed = 11;
    hp_error err = { 0 };
    if (data_synth_run(&o, path_in("syn"), &err) || data_config_default(&g_ds, path_in("syn"), &err) ||
        data_ingest(&g_ds, NULL, NULL, &err) || rec_config_from_dataset(&g_cfg, &g_ds, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    g_cfg.arch.dim = 16;
    g_cfg.arch.hidden = 16;
    g_cfg.arch.text_buckets = 1024;
    g_cfg.train.epochs = 12;
    g_cfg.train.batch = 64;
    return 0;
}

/* ------------------------------------------------------------------ gradient check */

typedef struct {
    rec_net net;
    feat_enc enc;
    rec_split split;
    rec_batchbuf bb;
    nn_arena arena;
    int32_t rows[6], cand[6 * 4];
    uint8_t keep[64];
} gc_ctx;

/* Sampled-softmax loss of a fixed batch (6 customers x 4 candidates), no dropout. */
static double gc_loss(gc_ctx *g, int backward)
{
    int B = 6, K1 = 4, d = g->net.arch.dim;
    float scores[24], dscores[24] = { 0 }, du[6 * 64] = { 0 };
    float *dv = calloc((size_t)g->net.P * (size_t)d, sizeof *dv), *db = calloc((size_t)g->net.P, sizeof *db);
    nn_arena_reset(&g->arena);
    rec_gather(&g->bb, &g->enc, &(rec_lists){ g->split.vis_off, g->split.vis }, g->rows, NULL, B);
    rec_fwd *f = rec_forward(&g->net, &g->arena, &g->bb.b, g->keep, 0, 0.0f, NULL);
    CHECK(f != NULL);
    if (!f) return NAN;
    nn_score_gather_forward(scores, rec_fwd_u(f), rec_fwd_v(f), g->cand, rec_fwd_bias(f), NULL, B, K1, d);
    float loss = nn_sampled_softmax_loss(backward ? dscores : NULL, scores, NULL, B, K1, 1.0f);
    if (backward) {
        nn_params_zero_grad(&g->net.params);
        nn_score_gather_backward(du, dv, db, NULL, dscores, rec_fwd_u(f), rec_fwd_v(f), g->cand, B, K1, d);
        CHECK(rec_backward(&g->net, f, du, dv, db) == HP_OK);
    }
    free(dv);
    free(db);
    return loss;
}

TEST(whole_network_gradient_matches_finite_differences)
{
    gc_ctx g;
    memset(&g, 0, sizeof g);
    hp_error err = { 0 };
    rec_config cfg = g_cfg;
    CHECK(rec_split_make(&g.split, &g_ds, &cfg, &err) == HP_OK);
    feat_opts fo = rec_feat_opts(&cfg.arch);
    CHECK(feat_fit(&g.net.cust_fs, &g_ds.t[DATA_T_CUSTOMERS], NULL, &fo, &err) == HP_OK);
    CHECK(feat_fit(&g.net.prod_fs, &g_ds.t[DATA_T_PRODUCTS], NULL, &fo, &err) == HP_OK);
    CHECK(feat_encode(&g.net.cust_fs, &g_ds.t[DATA_T_CUSTOMERS], &fo, &g.enc, &err) == HP_OK);
    CHECK(feat_encode(&g.net.prod_fs, &g_ds.t[DATA_T_PRODUCTS], &fo, &g.net.prod, &err) == HP_OK);
    CHECK(rec_net_init(&g.net, &cfg.arch, g.split.P, &err) == HP_OK);
    rec_net_init_weights(&g.net, 3);
    /* larger random weights than the init so every path carries signal */
    hp_rng rng;
    hp_rng_seed(&rng, 5);
    for (size_t i = 0; i < g.net.params.total; i++) g.net.params.data[i] += 0.2f * (float)hp_rng_normal(&rng);
    rec_lists vis = { g.split.vis_off, g.split.vis };
    CHECK(rec_batchbuf_init(&g.bb, &g.enc, &vis, 6) == HP_OK);
    CHECK(nn_arena_init(&g.arena, 8 << 20, &err) == HP_OK);
    for (int i = 0; i < 6; i++) g.rows[i] = i * 37 + 1; /* customers with history, text, lists */
    for (int i = 0; i < 24; i++) g.cand[i] = (int32_t)((i * 7 + 3) % g.net.P);
    for (int p = 0; p < g.net.P && p < 64; p++) g.keep[p] = p % 5 != 0; /* some ids dropped */
    gc_loss(&g, 1);
    nn_params *P = &g.net.params;
    float *ana = malloc(P->total * sizeof *ana);
    memcpy(ana, P->grad, P->total * sizeof *ana);
    /* an arena far too small at first gives the same loss and gradients: passes beyond its
     * block draw from the heap and the block grows to the measured pass */
    double loss_big = gc_loss(&g, 1);
    nn_arena_free(&g.arena);
    CHECK(nn_arena_init(&g.arena, 64, &err) == HP_OK);
    double loss_small = gc_loss(&g, 1);
    CHECK(loss_small == loss_big && memcmp(ana, P->grad, P->total * sizeof *ana) == 0);
    CHECK(g.arena.nover > 0);
    nn_arena_reset(&g.arena);
    CHECK(g.arena.cap >= g.arena.peak && g.arena.nover == 0);
    CHECK(gc_loss(&g, 1) == loss_big && g.arena.nover == 0); /* sized: no heap use now */
    int checked = 0;
    for (int t = 0; t < P->n; t++) {
        nn_tensor *T = &P->t[t];
        float maxa = 0;
        for (size_t i = 0; i < T->size; i++) maxa = fmaxf(maxa, fabsf(ana[T->offset + i]));
        CHECKF(maxa > 0, "tensor %s gets no gradient", T->name);
        for (int k = 0; k < 6; k++) {
            /* the element with the largest gradient, then pseudo-random ones */
            size_t i = k == 0 ? 0 : (size_t)hp_rng_below(&rng, T->size);
            if (k == 0)
                for (size_t j = 0; j < T->size; j++) if (fabsf(ana[T->offset + j]) == maxa) { i = j; break; }
            float *w = P->data + T->offset + i, keep = *w, eps = 1e-2f;
            *w = keep + eps;
            double lp = gc_loss(&g, 0);
            *w = keep - eps;
            double lm = gc_loss(&g, 0);
            *w = keep;
            double num = (lp - lm) / (2 * eps), a = ana[T->offset + i];
            CHECKF(fabs(num - a) <= 2e-3 + 3e-2 * fmax(fabs(num), fabs(a)), "%s[%zu]: analytic %.6g numeric %.6g",
                   T->name, i, a, num);
            checked++;
        }
    }
    CHECK(checked == 6 * P->n);
    free(ana);
    nn_arena_free(&g.arena);
    rec_batchbuf_free(&g.bb);
    feat_enc_free(&g.enc);
    rec_split_free(&g.split);
    rec_net_free(&g.net);
}

/* ------------------------------------------------------------------ training */

static int train_to(const char *dir, rec_config *cfg, rec_train_report *rep)
{
    hp_error err = { 0 };
    rec_train_opts o = { .out_dir = dir };
    int rc = rec_train(&g_ds, cfg, &o, rep, &err);
    if (rc) fprintf(stderr, "train: %s\n", err.msg);
    return rc;
}

static long file_size(const char *p)
{
    FILE *f = fopen(p, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static int same_file(const char *a, const char *b)
{
    char *x, *y;
    size_t nx, ny;
    if (io_read_file(a, &x, &nx, NULL) || io_read_file(b, &y, &ny, NULL)) return 0;
    int same = nx == ny && memcmp(x, y, nx) == 0;
    hp_free(x);
    hp_free(y);
    return same;
}

TEST(training_is_reproducible_for_a_seed)
{
    rec_config cfg = g_cfg;
    cfg.train.epochs = 2;
    rec_train_report r1, r2;
    CHECK(train_to(path_in("rep1"), &cfg, &r1) == HP_OK);
    CHECK(train_to(path_in("rep2"), &cfg, &r2) == HP_OK);
    CHECK(same_file(path_in("rep1/model.safetensors"), path_in("rep2/model.safetensors")));
    cfg.train.seed = 99;
    CHECK(train_to(path_in("rep3"), &cfg, &r2) == HP_OK);
    CHECK(!same_file(path_in("rep1/model.safetensors"), path_in("rep3/model.safetensors")));
}

TEST(beats_popularity_on_synthetic_test_customers)
{
    rec_train_report rep;
    CHECK(train_to(path_in("m"), &g_cfg, &rep) == HP_OK);
    CHECK(rep.fit.epochs_run >= 1 && rep.fit.best_epoch >= 1);
    rec_model m;
    hp_error err = { 0 };
    if (rec_load(path_in("m"), &m, &err) != HP_OK) { CHECKF(0, "%s", err.msg); return; }
    rec_eval_result r;
    CHECKF(rec_evaluate(&m, &g_ds, path_in("syn/truth_affinity.csv"), NULL, &r, &err) == HP_OK, "%s", err.msg);
    double model = r.rank[REC_SYS_MODEL].ndcg, pop = r.rank[REC_SYS_POPULARITY].ndcg, oracle = r.rank[REC_SYS_ORACLE].ndcg;
    printf("  NDCG@10 on %ld unseen test customers: model %.4f, popularity %.4f, oracle %.4f\n", r.n_customers, model, pop, oracle);
    CHECKF(model >= 1.3 * pop, "model %.4f < 1.3 x popularity %.4f", model, pop);
    CHECK(oracle > pop && model <= oracle * 1.05);
    CHECK(r.has_values && r.values[0].n > 0);
    printf("  ratings: model R2 %.3f, product mean R2 %.3f\n", r.values[0].r2, r.values[1].r2);
    CHECK(r.values[0].r2 > r.values[1].r2 && r.values[0].mae < r.values[1].mae);
    double wsum = 0;
    for (int k = 0; k < REC_MOD_COUNT; k++) wsum += r.modality_weight[k];
    CHECK_NEAR(wsum, 1.0, 1e-3);
    rec_model_free(&m);
}

/* The other losses and the split by time train too, and learn more than popularity knows. */
static void train_and_rank(rec_config *cfg, const char *dir, double *model, double *pop)
{
    rec_train_report rep;
    hp_error err = { 0 };
    rec_model m;
    *model = *pop = 0;
    if (train_to(path_in(dir), cfg, &rep) != HP_OK || rec_load(path_in(dir), &m, &err) != HP_OK) {
        CHECKF(0, "%s", err.msg);
        return;
    }
    m.cfg.eval.k = 10;
    rec_eval_result r;
    CHECKF(rec_evaluate(&m, &g_ds, NULL, NULL, &r, &err) == HP_OK, "%s", err.msg);
    *model = r.rank[REC_SYS_MODEL].ndcg;
    *pop = r.rank[REC_SYS_POPULARITY].ndcg;
    rec_model_free(&m);
}

TEST(bpr_loss_and_time_split_train)
{
    rec_config cfg = g_cfg;
    double model, pop;
    cfg.train.loss = REC_LOSS_BPR;
    cfg.train.epochs = 6;
    train_and_rank(&cfg, "bpr", &model, &pop);
    printf("  BPR: NDCG@10 model %.4f, popularity %.4f\n", model, pop);
    CHECK(model > 1.15 * pop);
    cfg = g_cfg;
    cfg.split.method = REC_SPLIT_TIME;
    cfg.split.ntarget_kinds = 0; /* the last 20% of interactions in time are the targets */
    cfg.train.epochs = 6;
    train_and_rank(&cfg, "time", &model, &pop);
    printf("  split by time: NDCG@10 model %.4f, popularity %.4f\n", model, pop);
    CHECK(model > pop);
}

/* No split may show a customer's target among its visible products (history and exclusions). */
static int split_overlaps(const rec_split *s)
{
    int bad = 0;
    for (int ph = 0; ph < 2; ph++)
        for (int c = 0; c < s->ncust; c++)
            for (int64_t i = s->tgt_off[ph][c]; i < s->tgt_off[ph][c + 1]; i++) bad += rec_split_visible(s, c, s->tgt[ph][i]);
    return bad;
}

TEST(targets_never_visible_in_any_split)
{
    hp_error err = { 0 };
    rec_split s;
    rec_config cfg = g_cfg;
    CHECK(rec_split_make(&s, &g_ds, &cfg, &err) == HP_OK);
    CHECK_EQ_INT(split_overlaps(&s), 0);
    long targets = (long)s.tgt_off[1][s.ncust];
    rec_split_free(&s);
    CHECK(targets > 0);
    cfg.split.ntarget_kinds = 0; /* leave one out over every positive kind (clicked, rated, ...) */
    cfg.train.npositive_kinds = 0;
    CHECK(rec_split_make(&s, &g_ds, &cfg, &err) == HP_OK);
    CHECK_EQ_INT(split_overlaps(&s), 0);
    rec_split_free(&s);
    cfg.split.method = REC_SPLIT_TIME;
    CHECK(rec_split_make(&s, &g_ds, &cfg, &err) == HP_OK);
    CHECK_EQ_INT(split_overlaps(&s), 0);
    rec_split_free(&s);
}

static void folds_error(const char *content, const char *want)
{
    FILE *f = fopen(path_in("folds.txt"), "w");
    fputs(content, f);
    fclose(f);
    rec_config cfg = g_cfg;
    cfg.split.method = REC_SPLIT_FOLDS;
    cfg.split.folds_file = (char *)path_in("folds.txt");
    rec_split s;
    hp_error err = { 0 };
    int rc = rec_split_make(&s, &g_ds, &cfg, &err);
    CHECKF(rc == HP_ERR_FORMAT && strstr(err.msg, want) != NULL, "rc %d: %s", rc, err.msg);
    if (rc == HP_OK) rec_split_free(&s);
}

TEST(bad_folds_files_name_the_line)
{
    char *good = malloc((size_t)g_ds.t[DATA_T_CUSTOMERS].nrecords * 2 + 16);
    size_t n = 0;
    for (long i = 0; i < g_ds.t[DATA_T_CUSTOMERS].nrecords; i++) good[n++] = (char)('0' + i % 5), good[n++] = '\n';
    good[n] = 0;
    good[2] = 'x';
    folds_error(good, "folds.txt:2: 'x' is not a fold number");
    good[2] = '-';
    folds_error(good, "folds.txt:2:");
    good[2] = '1';
    good[n - 2] = 0; /* one line short */
    folds_error(good, "lines, but");
    free(good);
}

/* ------------------------------------------------------------------ cold start */

/* Products scored from features alone (their id embedding and bias unused, as for a product
 * added after training) still rank a customer's adopted products above the others. */
TEST(cold_start_products_score_from_features)
{
    rec_model m;
    hp_error err = { 0 };
    if (rec_load(path_in("m"), &m, &err) != HP_OK) { CHECKF(0, "%s", err.msg); return; }
    rec_split s;
    feat_enc enc;
    CHECK(rec_split_make(&s, &g_ds, &m.cfg, &err) == HP_OK);
    CHECK(rec_encode_customers(&m.net, &g_ds.t[DATA_T_CUSTOMERS], &enc, &err) == HP_OK);
    int P = m.net.P, n = 0;
    uint8_t *keep = calloc((size_t)P, 1); /* every product cold */
    int32_t *rows = malloc((size_t)s.ncust * sizeof *rows);
    for (int c = 0; c < s.ncust; c++)
        if (s.role[c] == REC_ROLE_TEST && s.tgt_off[1][c + 1] > s.tgt_off[1][c]) rows[n++] = c;
    float *sc = malloc((size_t)n * (size_t)P * sizeof *sc);
    rec_lists vis = { s.vis_off, s.vis };
    CHECK(rec_score(&m.net, &enc, &vis, rows, n, keep, sc, NULL, &err) == HP_OK);
    double wins = 0, pairs = 0;
    for (int i = 0; i < n; i++) {
        int c = rows[i];
        for (int64_t a = s.tgt_off[1][c]; a < s.tgt_off[1][c + 1]; a++)
            for (int p = 0; p < P; p++) {
                int rel = 0;
                for (int64_t b = s.tgt_off[1][c]; b < s.tgt_off[1][c + 1]; b++) rel |= s.tgt[1][b] == p;
                if (rel || rec_split_visible(&s, c, p)) continue;
                float x = sc[(size_t)i * P + (size_t)s.tgt[1][a]], y = sc[(size_t)i * P + (size_t)p];
                wins += x > y ? 1 : x == y ? 0.5 : 0;
                pairs++;
            }
    }
    double auc = wins / pairs;
    printf("  cold-start products (features only): AUC %.3f over %ld customers (random 0.5)\n", auc, (long)n);
    CHECK(auc > 0.65);
    free(keep);
    free(rows);
    free(sc);
    feat_enc_free(&enc);
    rec_split_free(&s);
    rec_model_free(&m);
}

/* Top k of customer row of enc through the scorer and the ranking pipeline, held left out
 * (and used as history when hist). Returns n or a negative status. */
static int scorer_topk(rec_scorer *sc, const feat_enc *enc, int32_t row, const int32_t *held, int nheld, int k,
                       int32_t *items, float *scores, float *w, int P)
{
    const float *all = rec_scorer_scores(sc, enc, row, NULL, 0, w);
    rank_pipeline *pl = NULL;
    rank_entry e[64];
    hp_error err = { 0 };
    if (!all || rank_pipeline_new(&pl, P, 0, &err)) return HP_ERR_NOMEM;
    rank_request rq = { .held = held, .nheld = nheld };
    int n = rank_run(pl, all, &rq, k, e, &err);
    for (int i = 0; i < n; i++) items[i] = e[i].item, scores[i] = e[i].score;
    rank_pipeline_free(pl);
    return n;
}

/* A customer with nothing but an id: no bands, no lists, no text, no history. */
TEST(customer_with_empty_fields_scores_finite)
{
    rec_model m;
    hp_error err = { 0 };
    if (rec_load(path_in("m"), &m, &err) != HP_OK) { CHECKF(0, "%s", err.msg); return; }
    FILE *f = fopen(path_in("empty.csv"), "w");
    fputs("customer_id,industry,employees,revenue,financial_needs,preferences\nX1,Unknown Industry,,,,\n", f);
    fclose(f);
    data_dataset ds;
    CHECK(data_config_default(&ds, g_dir, &err) == HP_OK);
    CHECK(data_config_set_file(&ds, DATA_T_CUSTOMERS, path_in("empty.csv"), &err) == HP_OK);
    ds.t[DATA_T_PRODUCTS].configured = ds.t[DATA_T_INTERACTIONS].configured = ds.t[DATA_T_TRANSACTIONS].configured = 0;
    CHECKF(data_ingest(&ds, NULL, NULL, &err) == HP_OK, "%s", err.msg);
    feat_enc enc;
    CHECK(rec_encode_customers(&m.net, &ds.t[DATA_T_CUSTOMERS], &enc, &err) == HP_OK);
    rec_scorer *sc = NULL;
    CHECK(rec_scorer_new(&sc, &m.net, NULL, &err) == HP_OK);
    int32_t items[5];
    float scores[5], w[REC_MOD_COUNT];
    int n = sc ? scorer_topk(sc, &enc, 0, NULL, 0, 5, items, scores, w, m.nproducts) : 0;
    CHECK(n == 5);
    for (int i = 0; i < n; i++) CHECK(isfinite(scores[i]) && (i == 0 || scores[i] <= scores[i - 1]));
    CHECK(w[REC_MOD_TEXT] == 0 && w[REC_MOD_HISTORY] == 0 && w[REC_MOD_INTERESTS] == 0);
    /* held products are left out: excluding the top two shifts the list by two */
    int32_t held[2] = { items[0], items[1] }, items2[5];
    float scores2[5];
    int n2 = sc ? scorer_topk(sc, &enc, 0, held, 2, 5, items2, scores2, NULL, m.nproducts) : 0;
    CHECK(n2 == 5 && items2[0] == items[2] && items2[1] == items[3] && items2[2] == items[4]);
    for (int i = 0; i < n2; i++) CHECK(items2[i] != held[0] && items2[i] != held[1]);
    rec_scorer_free(sc);
    feat_enc_free(&enc);
    data_dataset_free(&ds);
    rec_model_free(&m);
}

/* Writes customers (CSV text) and their held products (CSV text) beside the test model and
 * ingests them with the built-in config into ds. */
static int load_customers(data_dataset *ds, const char *name, const char *customers, const char *held)
{
    char cpath[600], hpath[600];
    snprintf(cpath, sizeof cpath, "%s/%s.csv", g_dir, name);
    snprintf(hpath, sizeof hpath, "%s/%s_held.csv", g_dir, name);
    FILE *f = fopen(cpath, "w"), *h = fopen(hpath, "w");
    if (!f || !h) return -1;
    fputs(customers, f);
    fputs(held, h);
    fclose(f);
    fclose(h);
    hp_error err = { 0 };
    int rc = data_config_default(ds, g_dir, &err);
    if (!rc) rc = data_config_set_file(ds, DATA_T_CUSTOMERS, cpath, &err);
    if (!rc) rc = data_config_set_file(ds, DATA_T_INTERACTIONS, hpath, &err);
    ds->t[DATA_T_PRODUCTS].configured = ds->t[DATA_T_TRANSACTIONS].configured = 0;
    if (!rc) rc = data_ingest(ds, NULL, NULL, &err);
    if (rc) fprintf(stderr, "  load_customers: %s\n", err.msg);
    return rc;
}

/* The library call for one customer given as a JSON object gives exactly the scores the
 * batch path gives the same customer in a table (same encoder checks, same history, same
 * pipeline); and its errors name the field. */
static int collect(void *ctx, const rec_result *r, hp_error *err)
{
    (void)err;
    json_t *all = ctx;
    return json_array_append_new(all, rec_result_json(r)) ? HP_ERR_NOMEM : HP_OK;
}

static int drop_product_0(void *state, rank_list *l, const rank_request *rq, hp_error *err)
{
    (void)state;
    (void)rq;
    (void)err;
    rank_drop(l, 0);
    return HP_OK;
}

TEST(json_customer_scores_as_the_table_does)
{
    rec_model m;
    hp_error err = { 0 };
    if (rec_load(path_in("m"), &m, &err) != HP_OK) { CHECKF(0, "%s", err.msg); return; }
    data_dataset ds;
    CHECK(load_customers(&ds, "two",
                         "customer_id,industry,employees,revenue,financial_needs,preferences,region,message\n"
                         "J1,Retail Stores,11-50,1M-5M,\"working capital,cash management\",digital,North,\"need a loan for stock\"\n"
                         "J2,Atlantis Mining,,,,,,\n",
                         "customer_id,product_id,kind\nJ1,P001,held\nJ1,P003,held\n") == 0);
    rec_service *sv = NULL;
    CHECK(rec_service_new(&sv, &m, &err) == HP_OK);
    rec_opts o = { .k = 8 };
    json_t *table = json_array();
    rec_table_stats st;
    CHECKF(sv && rec_recommend_table(sv, &ds, NULL, &o, collect, table, &st, &err) == HP_OK, "%s", err.msg);
    CHECK(json_array_size(table) == 2 && st.customers == 2 && st.unseen >= 1); /* Atlantis Mining */
    const char *records[2] = {
        "{\"customer_id\": \"J1\", \"industry\": \"Retail Stores\", \"employees\": \"11-50\", \"revenue\": \"1M-5M\","
        " \"financial_needs\": [\"working capital\", \"cash management\"], \"preferences\": \"digital\","
        " \"region\": \"North\", \"message\": \"need a loan for stock\", \"held\": [\"P001\", \"P003\"]}",
        "{\"customer_id\": \"J2\", \"industry\": \"Atlantis Mining\"}" };
    rec_request_buf buf = { 0 };
    long unseen = 0;
    for (int i = 0; i < 2 && sv; i++) {
        json_t *rec = json_loads(records[i], 0, NULL);
        rec_result r;
        CHECKF(rec_recommend_json(sv, data_default_config, strlen(data_default_config), "built-in", rec, 1, &o, &r, &buf,
                                  &err) == HP_OK, "%s", err.msg);
        json_t *got = rec_result_json(&r), *want = json_array_get(table, (size_t)i);
        char *a = json_dumps(got, JSON_COMPACT | JSON_REAL_PRECISION(9)), *b = json_dumps(want, JSON_COMPACT | JSON_REAL_PRECISION(9));
        CHECKF(a && b && strcmp(a, b) == 0, "JSON path %s\ntable path %s", a, b);
        unseen += r.unseen;
        if (i == 1) CHECK(r.unseen >= 1); /* Atlantis Mining */
        if (i == 0) /* held products are not offered */
            for (int k = 0; k < r.n; k++) CHECK(strcmp(r.items[k].product_id, "P001") && strcmp(r.items[k].product_id, "P003"));
        free(a);
        free(b);
        json_decref(got);
        json_decref(rec);
    }
    CHECK_EQ_INT(unseen, st.unseen); /* counted alike one by one and for the table */
    /* a held list longer than the catalogue (repeats, unknown ids): each product once */
    if (sv) {
        json_t *rec = json_loads("{\"customer_id\": \"J4\", \"industry\": \"Retail Stores\"}", 0, NULL), *held = json_array();
        for (int i = 0; i < 3 * m.nproducts; i++) json_array_append_new(held, json_string(i % 3 ? "P002" : "NOPE"));
        json_object_set_new(rec, "held", held);
        rec_result r;
        rec_opts all = { .k = m.nproducts };
        CHECKF(rec_recommend_json(sv, data_default_config, strlen(data_default_config), "built-in", rec, 1, &all, &r,
                                  &buf, &err) == HP_OK, "%s", err.msg);
        CHECK_EQ_INT(r.n, m.nproducts - 1);
        for (int k = 0; k < r.n; k++) CHECK(strcmp(r.items[k].product_id, "P002") != 0);
        json_decref(rec);
    }
    /* a stage added to the service's pipeline (as risk and fairness will add theirs) acts on
     * every request: here an eligibility filter that never offers product 0 */
    if (sv) {
        rank_stage no_first = { .name = "not-P0", .kind = RANK_FILTER, .run = drop_product_0 };
        CHECK_EQ_INT(rank_pipeline_add(rec_service_pipeline(sv), &no_first, &err), HP_OK);
        json_t *rec = json_loads(records[1], 0, NULL);
        rec_result r;
        rec_opts all = { .k = m.nproducts };
        CHECKF(rec_recommend_json(sv, data_default_config, strlen(data_default_config), "built-in", rec, 1, &all, &r,
                                  &buf, &err) == HP_OK, "%s", err.msg);
        CHECK_EQ_INT(r.n, m.nproducts - 1);
        for (int k = 0; k < r.n; k++) CHECK(r.items[k].item != 0);
        CHECK_STR(rank_dropped_by(rec_service_pipeline(sv), 0), "not-P0");
        json_decref(rec);
    }
    /* bad requests: the field is named, nothing crashes */
    static const struct { const char *json, *want; } bad[] = {
        { "{\"customer_id\": \"J3\", \"held\": \"P001\"}", "held: expected an array" },
        { "{\"customer_id\": \"J3\", \"held\": [7]}", "held[0]: expected a product id" },
        { "{\"customer_id\": \"J3\", \"employees\": {\"a\": 1}}", "employees" },
        { "{\"industry\": \"Retail Stores\"}", "customer_id" },
        { "[1, 2]", "must be a JSON object" },
        { "{\"customer_id\": \"J3\", \"industy\": \"Retail Stores\"}", "industy: not a column of the customers table (its columns: customer_id, industry" },
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(bad) && sv; i++) {
        json_t *rec = json_loads(bad[i].json, JSON_DECODE_ANY, NULL);
        rec_result r;
        err.msg[0] = 0;
        int rc = rec_recommend_json(sv, data_default_config, strlen(data_default_config), "built-in", rec, 1, &o, &r,
                                    &buf, &err);
        CHECKF(rc < 0 && strstr(err.msg, bad[i].want), "%s: rc %d: %s", bad[i].json, rc, err.msg);
        json_decref(rec);
    }
    rec_request_buf_free(&buf);
    json_decref(table);
    rec_service_free(sv);
    data_dataset_free(&ds);
    rec_model_free(&m);
}

/* "held" of a request as a service gets it from outside: a product named over and over
 * (more times than the catalogue has products) scores as the table path's one interaction
 * per product does, and many ids against a large catalogue are looked up, not compared
 * with every product (100000 ids x 30000 products was 3e9 strcmp per request). */
static json_t *request_with_held(const char *customer, const char *const *ids, int nids, int times)
{
    json_t *held = json_array();
    for (int t = 0; t < times; t++)
        for (int i = 0; i < nids; i++) json_array_append_new(held, json_string(ids[i]));
    return json_pack("{s:s, s:s, s:o}", "customer_id", customer, "industry", "Retail Stores", "held", held);
}

TEST(json_held_ids_repeated_or_many)
{
    rec_model m;
    hp_error err = { 0 };
    if (rec_load(path_in("m"), &m, &err) != HP_OK) { CHECKF(0, "%s", err.msg); return; }
    data_dataset ds;
    CHECK(load_customers(&ds, "rep", "customer_id,industry,employees,revenue,financial_needs,preferences\nJ1,Retail Stores,,,,\n",
                         "customer_id,product_id,kind\nJ1,P001,held\nJ1,P003,held\n") == 0);
    rec_service *sv = NULL;
    CHECK(rec_service_new(&sv, &m, &err) == HP_OK);
    rec_opts o = { .k = 8 };
    json_t *table = json_array();
    rec_table_stats st;
    CHECKF(sv && rec_recommend_table(sv, &ds, NULL, &o, collect, table, &st, &err) == HP_OK, "%s", err.msg);
    char *want = json_dumps(json_array_get(table, 0), JSON_COMPACT | JSON_REAL_PRECISION(9));
    static const char *const ids[] = { "P003", "P001", "NOT-A-PRODUCT" };
    rec_request_buf buf = { 0 };
    json_t *rq = request_with_held("J1", ids, 3, 4 * m.nproducts); /* 3 x 4P ids, 2 products */
    rec_result r;
    int rc = sv ? rec_recommend_json(sv, data_default_config, strlen(data_default_config), "built-in", rq, 1, &o, &r,
                                     &buf, &err)
                : -1;
    CHECKF(rc == HP_OK, "rc %d: %s", rc, err.msg);
    json_t *got = rc == HP_OK ? rec_result_json(&r) : NULL;
    char *a = got ? json_dumps(got, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
    CHECKF(a && want && strcmp(a, want) == 0, "repeated held %s\ntable path   %s", a ? a : "-", want ? want : "-");
    free(a);
    json_decref(got);
    json_decref(rq);
    /* a catalogue of 30000 products and a request naming 100000 ids */
    enum { BIG_P = 30000, MANY = 100000 };
    FILE *f = fopen(path_in("big_products.csv"), "w");
    fputs("product_id,name,category,term_months,risk_class,min_revenue,fee_level,description\n", f);
    for (int p = 0; p < BIG_P; p++) fprintf(f, "P%07d,Product %d,lending,12,low,0,low,A loan\n", p, p);
    fclose(f);
    data_dataset pds;
    CHECK(data_config_default(&pds, g_dir, &err) == HP_OK);
    CHECK(data_config_set_file(&pds, DATA_T_PRODUCTS, path_in("big_products.csv"), &err) == HP_OK);
    for (int t = 0; t < DATA_T_COUNT; t++) pds.t[t].configured = t == DATA_T_PRODUCTS;
    CHECKF(data_ingest(&pds, NULL, NULL, &err) == HP_OK, "%s", err.msg);
    rec_service_free(sv);
    sv = NULL;
    CHECKF(rec_set_catalogue(&m, &pds.t[DATA_T_PRODUCTS], &err) == BIG_P, "%s", err.msg);
    CHECK(rec_service_new(&sv, &m, &err) == HP_OK);
    char **many = malloc(MANY * sizeof *many);
    for (int i = 0; i < MANY; i++) {
        many[i] = malloc(16);
        snprintf(many[i], 16, "P%07d", i); /* the first BIG_P are in the catalogue */
    }
    rq = request_with_held("J1", (const char *const *)many, MANY, 1);
    rc = sv ? rec_recommend_json(sv, data_default_config, strlen(data_default_config), "built-in", rq, 1, &o, &r, &buf,
                                 &err)
            : -1;
    CHECKF(rc == HP_OK, "rc %d: %s", rc, err.msg); /* (its time is a benchmark matter: never asserted here) */
    CHECK(rc != HP_OK || r.n == 0); /* every product held: nothing left to offer */
    json_decref(rq);
    for (int i = 0; i < MANY; i++) free(many[i]);
    free(many);
    free(want);
    rec_request_buf_free(&buf);
    json_decref(table);
    rec_service_free(sv);
    data_dataset_free(&pds);
    data_dataset_free(&ds);
    rec_model_free(&m);
}

/* ------------------------------------------------------------------ model files */

static void copy_truncated(const char *from, const char *to, long keep)
{
    char *buf;
    size_t len;
    if (io_read_file(from, &buf, &len, NULL)) return;
    FILE *f = fopen(to, "wb");
    fwrite(buf, 1, (size_t)HP_MIN((long)len, keep), f);
    fclose(f);
    hp_free(buf);
}

TEST(corrupt_and_mismatched_model_files_are_clear_errors)
{
    rec_model m;
    hp_error err = { 0 };
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && cp %s %s %s/", path_in("bad"), path_in("m/model.json"),
             path_in("m/model.safetensors"), path_in("bad"));
    CHECK(system(cmd) == 0);
    long size = file_size(path_in("m/model.safetensors"));
    copy_truncated(path_in("m/model.safetensors"), path_in("bad/model.safetensors"), size - 100);
    CHECK(rec_load(path_in("bad"), &m, &err) == HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "model.safetensors") != NULL, "%s", err.msg);
    /* weights of another architecture */
    snprintf(cmd, sizeof cmd, "cp %s %s", path_in("rep1/model.safetensors"), path_in("bad/model.safetensors"));
    CHECK(system(cmd) == 0);
    rec_config other = g_cfg;
    other.arch.dim = 4;
    rec_train_report rep;
    other.train.epochs = 1;
    CHECK(train_to(path_in("small"), &other, &rep) == HP_OK);
    snprintf(cmd, sizeof cmd, "cp %s %s", path_in("small/model.safetensors"), path_in("bad/model.safetensors"));
    CHECK(system(cmd) == 0);
    int rc = rec_load(path_in("bad"), &m, &err);
    CHECKF(rc == HP_ERR_FORMAT && strstr(err.msg, "shape") != NULL, "rc %d: %s", rc, err.msg);
    /* weights of the same shape from another training */
    snprintf(cmd, sizeof cmd, "cp %s %s && cp %s %s", path_in("m/model.json"), path_in("bad/model.json"),
             path_in("rep1/model.safetensors"), path_in("bad/model.safetensors"));
    CHECK(system(cmd) == 0);
    rc = rec_load(path_in("bad"), &m, &err);
    CHECKF(rc == HP_ERR_FORMAT && strstr(err.msg, "weights_hash") != NULL, "rc %d: %s", rc, err.msg);
    /* hand-edited metadata that would make the net read outside its tables */
    snprintf(cmd, sizeof cmd, "cp %s %s", path_in("m/model.safetensors"), path_in("bad/model.safetensors"));
    CHECK(system(cmd) == 0);
    static const struct { const char *pointer; json_t *(*value)(void); const char *want; } edits[] = {
        { "catalogue.text_ids.0", NULL, "catalogue.text_ids" },
        { "catalogue.cat.0", NULL, "catalogue.cat" },
        { "catalogue.F", NULL, "catalogue.n, F, C" },
        { "features.customers.numeric.0.role", NULL, "features.customers: numeric[0]" },
        { "features.customers.numeric.0.missing_slot", NULL, "missing_slot" },
    };
    for (size_t e = 0; e < HP_ARRAY_LEN(edits); e++) {
        json_t *doc = json_load_file(path_in("m/model.json"), 0, NULL);
        json_t *node = doc;
        char key[64], *save = NULL;
        snprintf(key, sizeof key, "%s", edits[e].pointer);
        json_t *parent = NULL;
        const char *last = NULL;
        for (char *tok = strtok_r(key, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
            parent = node;
            last = tok;
            node = json_is_array(node) ? json_array_get(node, (size_t)atoi(tok)) : json_object_get(node, tok);
        }
        json_t *bad = e == 3 ? json_string("text") : json_integer(e == 4 ? 2147483647 : 99999999);
        if (json_is_array(parent)) json_array_set_new(parent, (size_t)atoi(last), bad);
        else json_object_set_new(parent, last, bad);
        json_dump_file(doc, path_in("bad/model.json"), 0);
        json_decref(doc);
        rc = rec_load(path_in("bad"), &m, &err);
        CHECKF(rc == HP_ERR_FORMAT && strstr(err.msg, edits[e].want) != NULL, "%s: rc %d: %s", edits[e].pointer, rc, err.msg);
    }
    /* broken JSON and a wrong format version */
    copy_truncated(path_in("m/model.json"), path_in("bad/model.json"), 200);
    CHECK(rec_load(path_in("bad"), &m, &err) != HP_OK);
    CHECKF(strstr(err.msg, "model.json:") != NULL, "%s", err.msg);
    FILE *f = fopen(path_in("bad/model.json"), "w");
    fputs("{\"format\": \"hyperp-recommender\", \"format_version\": 99}", f);
    fclose(f);
    CHECK(rec_load(path_in("bad"), &m, &err) == HP_ERR_VERSION);
    CHECK(rec_load(path_in("nowhere"), &m, &err) == HP_ERR_IO);
}

/* ------------------------------------------------------------------ hand-edited model.json */

/* Copies model dir `from` to `to` as plain files (the layout earlier builds wrote), with the
 * value at the dotted JSON path `pointer` of model.json replaced by the JSON text `value`. */
static int edited_copy(const char *from, const char *to, const char *pointer, const char *value)
{
    char cmd[1200], src[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s && cp %s/model.safetensors %s/", to, to, from, to);
    if (system(cmd) != 0) return -1;
    snprintf(src, sizeof src, "%s/model.json", from);
    json_t *doc = json_load_file(src, 0, NULL), *node = doc, *parent = NULL;
    char key[128], *save = NULL;
    const char *last = NULL;
    snprintf(key, sizeof key, "%s", pointer);
    for (char *tok = strtok_r(key, ".", &save); tok && node; tok = strtok_r(NULL, ".", &save)) {
        parent = node;
        last = tok;
        node = json_is_array(node) ? json_array_get(node, (size_t)atoi(tok)) : json_object_get(node, tok);
    }
    json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);
    int rc = doc && parent && v ? 0 : -1;
    if (!rc && json_is_array(parent)) rc = json_array_set_new(parent, (size_t)atoi(last), v);
    else if (!rc) rc = json_object_set_new(parent, last, v);
    else json_decref(v);
    snprintf(src, sizeof src, "%s/model.json", to);
    if (!rc) rc = json_dump_file(doc, src, JSON_REAL_PRECISION(17));
    json_decref(doc);
    return rc;
}

/* The envelope (mfile.h): a newer kind_version or format_version is a version error; a
 * model.json of earlier builds (format "hyperp-recommender" 1, no kind) still loads, with
 * the same scores. */
TEST(model_file_envelope_versions_and_legacy)
{
    rec_model m;
    hp_error err = { 0 };
    CHECK(edited_copy(path_in("m"), path_in("env"), "kind_version", "2") == 0);
    CHECK_EQ_INT(rec_load(path_in("env"), &m, &err), HP_ERR_VERSION);
    CHECKF(strstr(err.msg, "kind_version: recommender 2, this build reads 1 to 1") != NULL, "%s", err.msg);
    CHECK(edited_copy(path_in("m"), path_in("env"), "format_version", "3") == 0);
    CHECK_EQ_INT(rec_load(path_in("env"), &m, &err), HP_ERR_VERSION);
    CHECKF(strstr(err.msg, "model format version 3, this build reads 2") != NULL, "%s", err.msg);
    /* legacy: rewrite the envelope as earlier builds wrote it */
    CHECK(edited_copy(path_in("m"), path_in("legacy"), "format", "\"hyperp-recommender\"") == 0);
    char jp[600];
    snprintf(jp, sizeof jp, "%s/model.json", path_in("legacy"));
    json_t *doc = json_load_file(jp, 0, NULL);
    CHECK(doc != NULL);
    if (!doc) return;
    json_object_set_new(doc, "format_version", json_integer(1));
    json_object_del(doc, "kind");
    json_object_del(doc, "kind_version");
    CHECK(json_dump_file(doc, jp, JSON_REAL_PRECISION(17)) == 0);
    json_decref(doc);
    rec_model a, b;
    CHECKF(rec_load(path_in("legacy"), &a, &err) == HP_OK, "%s", err.msg);
    CHECKF(rec_load(path_in("m"), &b, &err) == HP_OK, "%s", err.msg);
    CHECK(a.net.params.total == b.net.params.total &&
          memcmp(a.net.params.data, b.net.params.data, a.net.params.total * sizeof(float)) == 0);
    char kind[MFILE_KIND_MAX];
    CHECK(mfile_kind_of(path_in("legacy"), kind, &err) == HP_OK && strcmp(kind, "recommender") == 0);
    CHECK(mfile_kind_of(path_in("m"), kind, &err) == HP_OK && strcmp(kind, "recommender") == 0);
    rec_model_free(&a);
    rec_model_free(&b);
}

/* Each value here was accepted before: some made every score NaN (an empty recommendation
 * list, then "the score of item 0 is NaN" from evaluate naming no file), others a model that
 * trains or ranks nonsense, or an index wrapped into range. Each must be refused at load
 * with the file and the JSON path in the message. */
TEST(hand_edited_model_json_is_refused)
{
    static const struct { const char *pointer, *value, *want; } edits[] = {
        { "features.customers.numeric.0.mean", "1e308", "features.customers: numeric[0].mean" },
        { "features.customers.numeric.0.mean", "-1e20", "features.customers: numeric[0].mean" },
        { "features.products.numeric.1.mean", "3e38", "features.products: numeric[1].mean" },
        { "features.customers.numeric.1.std", "0", "numeric[1].std" },
        { "features.customers.numeric.1.std", "1e-30", "numeric[1].std" },
        { "features.customers.numeric.1.std", "1e300", "numeric[1].std" },
        { "features.customers.numeric.2.ref", "5", "numeric[2].ref" },
        { "features.customers.numeric.3.ref", "1e300", "numeric[3].ref" },
        { "features.customers.numeric.0.missing_slot", "4294967295", "numeric[0].missing_slot" },
        { "features.customers.numeric.0.typo", "1", "numeric[0]: expected {column" },
        { "features.customers.numeric.1.column", "\"employees\"", "numeric[1].column: 'employees' is listed twice" },
        { "features.customers.categorical.0.vocabulary.1", "\"Retail Stores\"", "categorical[0].vocabulary" },
        { "features.customers.text.1", "\"rm_note\"", "features.customers: text[1]: 'rm_note' is listed twice" },
        { "features.customers.multi.0.column", "\"\"", "multi[0].column" },
        { "config.train.lr_min", "0.01", "config: train.lr_min: 0.01 is above train.lr" },
        { "config.model.encoders", "[]", "config: model.encoders: is empty" },
        { "config.model.encoders", "[\"text\", \"numeric\", \"text\"]", "model.encoders: [2] 'text' is listed twice" },
        { "config.train.positive_kinds", "[\"held\", \"held\"]", "train.positive_kinds: [1] 'held' is listed twice" },
        { "config.train.positive_kinds", "[\"\"]", "train.positive_kinds: [0]" },
        { "config.train.threads", "0", "config: train.threads" },
        { "config.evaluate.k", "5000", "config: evaluate.k" },
        { "catalogue.num.0", "1e300", "catalogue.num[0]" },
        { "catalogue.cat.0", "4294967296", "catalogue.cat[0]" },
        { "catalogue.text_ids.0", "4294967297", "catalogue.text_ids[0]" },
        { "catalogue.extra", "[]", "catalogue: expected {n, F, C" },
        { "products.0", "\"\"", "products[0]" },
        { "products.1", "\"P001\"", "products[1]: 'P001' is listed twice" },
        { "training.popularity.0", "-5", "training.popularity[0]" },
        { "training.popularity", "[1, 2]", "training.popularity: expected an array of" },
        { "weights", "\"other.safetensors\"", "weights: expected \"model.safetensors\"" },
        { "weights_hash", "\"xyz\"", "weights_hash: expected 16 hex digits" },
        { "notes", "\"hand edit\"", "notes: unknown key" },
        { "kind", "\"risk\"", "a risk model, not a recommender model" },
        { "kind", "7", "kind: expected a non-empty string" },
        { "kind", "\"\"", "kind: expected a non-empty string" },
        { "kind_version", "\"1\"", "kind_version: expected an integer" },
        { "format_version", "\"2\"", "format_version: expected an integer" },
        { "format_version", "2.0", "format_version: expected an integer" },
        { "product_info.name", "[\"a\"]", "product_info.name: expected an array of" },
        { "product_info.category.0", "5", "product_info.category[0]: expected a non-empty string or null" },
        { "product_info.extra", "[]", "product_info: expected {\"name\"" },
        { "format", "\"hyperp-recommender\"", "format \"hyperp-recommender\" has no kind" },
        { "format", "\"pytorch\"", "not a hyperp model" },
    };
    char want_file[600];
    snprintf(want_file, sizeof want_file, "%s/model.json: ", path_in("edit"));
    /* the copy itself loads: the edits, not the copying, are refused */
    CHECK(edited_copy(path_in("m"), path_in("edit"), "format", "\"hyperp-model\"") == 0);
    rec_model m;
    hp_error err = { 0 };
    CHECKF(rec_load(path_in("edit"), &m, &err) == HP_OK, "%s", err.msg);
    CHECK_STR(m.product_ids[0], "P001");
    CHECK_STR(m.net.cust_fs.num[1].column, "revenue");
    CHECK_STR(m.net.cust_fs.cat[0].vocab.str[0], "Retail Stores");
    rec_model_free(&m);
    for (size_t e = 0; e < HP_ARRAY_LEN(edits); e++) {
        CHECK(edited_copy(path_in("m"), path_in("edit"), edits[e].pointer, edits[e].value) == 0);
        err.msg[0] = 0;
        int rc = rec_load(path_in("edit"), &m, &err);
        CHECKF(rc == HP_ERR_FORMAT || rc == HP_ERR_INVAL, "%s = %s: rc %d: %s", edits[e].pointer, edits[e].value, rc,
               err.msg);
        CHECKF(strncmp(err.msg, want_file, strlen(want_file)) == 0 && strstr(err.msg, edits[e].want) != NULL,
               "%s = %s: wanted '%s%s...': %s", edits[e].pointer, edits[e].value, want_file, edits[e].want, err.msg);
        if (rc == HP_OK) rec_model_free(&m);
    }
}

/* The fuzz target's seed (tests/fuzz/corpus/fuzz_model_json) is a valid model.json, so the
 * fuzzer starts inside the validation, not at the first parse error. */
TEST(fuzz_seed_is_a_valid_model_json)
{
    static const char *const seeds[] = { "tests/fuzz/corpus/fuzz_model_json/minimal.json",
                                         "tests/fuzz/corpus/fuzz_model_json/indented.json" };
    for (size_t i = 0; i < HP_ARRAY_LEN(seeds); i++) {
        json_t *doc = json_load_file(seeds[i], JSON_REJECT_DUPLICATES, NULL);
        CHECKF(doc != NULL, "%s", seeds[i]);
        rec_model m;
        hp_error err = { 0 };
        CHECKF(doc && rec_meta_load(&m, doc, seeds[i], &err) == HP_OK, "%s", err.msg);
        CHECK(m.nproducts == 2 && m.net.prod.n == 2 && m.net.cust_fs.nnum == 3 && m.popularity[0] == 3);
        rec_model_free(&m);
        /* and the metadata checks apply: one out-of-range mean is refused */
        json_t *mean = json_object_get(json_array_get(json_object_get(json_object_get(json_object_get(doc, "features"),
                                       "customers"), "numeric"), 0), "mean");
        CHECK(mean && json_real_set(mean, 1e308) == 0);
        CHECK_EQ_INT(rec_meta_load(&m, doc, seeds[i], &err), HP_ERR_FORMAT);
        CHECKF(strstr(err.msg, "features.customers: numeric[0].mean") != NULL, "%s", err.msg);
        rec_model_free(&m);
        json_decref(doc);
    }
}

/* Scores the model cannot compute (weights that overflow float) are refused, naming the
 * model, instead of ranking around them (an empty list) or failing in eval without a name. */
TEST(non_finite_scores_are_refused_naming_the_model)
{
    rec_model m;
    hp_error err = { 0 };
    if (rec_load(path_in("m"), &m, &err) != HP_OK) { CHECKF(0, "%s", err.msg); return; }
    int t = nn_params_find(&m.net.params, "prod.bias");
    CHECK(t >= 0);
    float *b = m.net.params.data + m.net.params.t[t].offset;
    for (size_t i = 0; t >= 0 && i < m.net.params.t[t].size; i++) b[i] = (i % 2 ? 1 : -1) * 3e38f;
    int e = nn_params_find(&m.net.params, "prod.id.emb");
    CHECK(e >= 0);
    for (size_t i = 0; e >= 0 && i < m.net.params.t[e].size; i++) m.net.params.data[m.net.params.t[e].offset + i] = 3e38f;
    rec_eval_result r;
    int rc = rec_evaluate(&m, &g_ds, NULL, NULL, &r, &err);
    char want[600];
    snprintf(want, sizeof want, "model %s: the score of customer row ", path_in("m"));
    CHECKF(rc == HP_ERR_RANGE && strncmp(err.msg, want, strlen(want)) == 0 && strstr(err.msg, "NaN or infinite") == NULL &&
           (strstr(err.msg, " is NaN") || strstr(err.msg, " is infinite")), "rc %d: %s", rc, err.msg);
    feat_enc enc;
    CHECK(rec_encode_customers(&m.net, &g_ds.t[DATA_T_CUSTOMERS], &enc, &err) == HP_OK);
    rec_scorer *sc = NULL;
    CHECK(rec_scorer_new(&sc, &m.net, NULL, &err) == HP_OK);
    int32_t items[5];
    float scores[5];
    CHECK_EQ_INT(sc ? scorer_topk(sc, &enc, 0, NULL, 0, 5, items, scores, NULL, m.nproducts) : 0, HP_ERR_RANGE);
    rec_scorer_free(sc);
    feat_enc_free(&enc);
    rec_model_free(&m);
}

/* ------------------------------------------------------------------ saving is atomic */

/* Saves m's model with weights w (then w2, w, w2, ...) into dir until killed. */
static void save_forever(rec_model *m, const char *dir, const float *w, const float *w2)
{
    hp_error err = { 0 };
    size_t bytes = m->net.params.total * sizeof(float);
    json_t *training = json_object_get(m->meta, "training");
    for (long i = 0;; i++) {
        memcpy(m->net.params.data, i % 2 ? w2 : w, bytes);
        if (rec_save(dir, &m->net, &m->cfg, &g_ds.t[DATA_T_PRODUCTS], training, &err)) {
            fprintf(stderr, "child: %s\n", err.msg);
            _exit(3);
        }
    }
}

/* Every tensor of p holds exactly ref's values (the padding between tensors is not saved). */
static int same_weights(const nn_params *p, const float *ref)
{
    for (int t = 0; t < p->n; t++)
        if (memcmp(p->data + p->t[t].offset, ref + p->t[t].offset, p->t[t].size * sizeof *ref) != 0) return 0;
    return 1;
}

static int count_versions(const char *dir)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "exit $(ls -d %s/v-* 2>/dev/null | wc -l)", dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A child saves two models (weights A and B) over the same directory again and again and is
 * SIGKILLed at a random instant, 60 times; every time the directory must load, with exactly A
 * or exactly B. Half the runs start from the unversioned layout of earlier builds (model.json
 * and model.safetensors side by side), which the first save converts. Before versioned
 * directories, a kill between the two renames left "weights_hash differs". */
TEST(sigkill_during_save_leaves_the_old_or_the_new_model)
{
    rec_model m;
    hp_error err = { 0 };
    if (rec_load(path_in("m"), &m, &err) != HP_OK) { CHECKF(0, "%s", err.msg); return; }
    size_t n = m.net.params.total;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    memcpy(a, m.net.params.data, n * sizeof *a);
    for (size_t i = 0; i < n; i++) b[i] = a[i] * 0.5f + 0.25f;
    const char *dir = path_in("crash"), *legacy = path_in("crash_legacy");
    char cmd[1200];
    CHECK(rec_save(legacy, &m.net, &m.cfg, &g_ds.t[DATA_T_PRODUCTS], json_object_get(m.meta, "training"), &err) == HP_OK);
    hp_rng rng;
    hp_rng_seed(&rng, 2024);
    int runs = 60, loaded_a = 0, loaded_b = 0, failed = 0, live_ok = 0;
    for (int r = 0; r < runs; r++) {
        /* even runs: the unversioned layout with A; odd runs: whatever the last kill left */
        if (r % 2 == 0) {
            snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s && cp %s/model.json %s/model.safetensors %s/", dir, dir,
                     legacy, legacy, dir);
            CHECK(system(cmd) == 0);
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) save_forever(&m, dir, r % 4 < 2 ? b : a, r % 4 < 2 ? a : b);
        usleep((useconds_t)(1000 + hp_rng_below(&rng, 60000))); /* 1..61 ms: several saves */
        /* a reader while the saves go on: it must get one whole model too (a save that
         * switches versions under it makes it retry on the new one) */
        rec_model live;
        if (rec_load(dir, &live, &err) == HP_OK) {
            CHECKF(same_weights(&live.net.params, a) || same_weights(&live.net.params, b),
                   "run %d: a load during saving mixed two models", r);
            rec_model_free(&live);
            live_ok++;
        } else {
            CHECKF(0, "run %d: a load during saving failed: %s", r, err.msg);
        }
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "run %d: child was not killed (status %d)", r, status);
        rec_model got;
        int rc = rec_load(dir, &got, &err);
        if (rc) {
            failed++;
            CHECKF(0, "run %d: the model does not load after SIGKILL: %s", r, err.msg);
            continue;
        }
        int is_a = same_weights(&got.net.params, a), is_b = same_weights(&got.net.params, b);
        CHECKF(is_a || is_b, "run %d: the loaded weights are neither the old nor the new model", r);
        loaded_a += is_a;
        loaded_b += is_b;
        rec_model_free(&got);
    }
    printf("  %d SIGKILLs during saves: %d left model A, %d model B, %d unusable; %d loads during saving ok\n", runs,
           loaded_a, loaded_b, failed, live_ok);
    CHECK(loaded_a > 0 && loaded_b > 0); /* the kills did land in the middle of saving */
    /* the next save cleans up what the kills left (versions half written): one version
     * remains, and the conveniences point at it */
    memcpy(m.net.params.data, b, n * sizeof *b);
    CHECK(rec_save(dir, &m.net, &m.cfg, &g_ds.t[DATA_T_PRODUCTS], NULL, &err) == HP_OK);
    CHECK_EQ_INT(count_versions(dir), 1);
    char link[700], target[64];
    snprintf(link, sizeof link, "%s/model.safetensors", dir);
    ssize_t k = readlink(link, target, sizeof target - 1);
    CHECK(k > 0 && (target[k] = 0, strcmp(target, "current/model.safetensors") == 0));
    free(a);
    free(b);
    rec_model_free(&m);
}

/* Training, saving and loading with the n-th allocation failing, for every n until they
 * succeed: each failure must be an error (LeakSanitizer checks that nothing leaked). */
static long g_alloc_left;
static void *fail_malloc(size_t n) { return g_alloc_left-- > 0 ? malloc(n) : NULL; }
static void *fail_realloc(void *p, size_t n) { return g_alloc_left-- > 0 ? realloc(p, n) : NULL; }

TEST(allocation_failures_fail_cleanly)
{
    data_synth_opts o;
    data_synth_opts_init(&o);
    o.customers = 100;
    hp_error err = { 0 };
    data_dataset ds;
    rec_config cfg;
    if (data_synth_run(&o, path_in("tiny"), &err) || data_config_default(&ds, path_in("tiny"), &err) ||
        data_ingest(&ds, NULL, NULL, &err) || rec_config_from_dataset(&cfg, &ds, &err)) {
        CHECKF(0, "%s", err.msg);
        return;
    }
    cfg.arch.dim = 4, cfg.arch.hidden = 4, cfg.arch.text_buckets = 64, cfg.train.epochs = 1;
    hp_allocator fa = { fail_malloc, fail_realloc, free };
    int rc = HP_ERR_NOMEM, unexpected = 0;
    long n;
    for (n = 0; n < 20000 && rc != HP_OK; n++) {
        rec_train_report rep;
        rec_train_opts to = { .out_dir = path_in("tiny_model") };
        rec_model m;
        g_alloc_left = n;
        hp_set_allocator(&fa);
        rc = rec_train(&ds, &cfg, &to, &rep, &err);
        if (rc == HP_OK) {
            rc = rec_load(path_in("tiny_model"), &m, &err);
            if (rc == HP_OK) rec_model_free(&m);
        }
        hp_set_allocator(NULL);
        unexpected += rc != HP_OK && rc != HP_ERR_NOMEM && rc != HP_ERR_IO && rc != HP_ERR_FORMAT;
    }
    CHECKF(rc == HP_OK, "still failing after %ld allocations: %s", n, err.msg);
    CHECKF(unexpected == 0, "%d failures came back as something other than an error", unexpected);
    printf("  train + save + load succeeded once %ld allocations were allowed\n", n - 1);
    rec_config_free(&cfg);
    data_dataset_free(&ds);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/hyperp_test_model_XXXXXX");
    if (!mkdtemp(g_dir) || setup()) return 1;
    RUN(whole_network_gradient_matches_finite_differences);
    RUN(training_is_reproducible_for_a_seed);
    RUN(beats_popularity_on_synthetic_test_customers);
    RUN(bpr_loss_and_time_split_train);
    RUN(targets_never_visible_in_any_split);
    RUN(bad_folds_files_name_the_line);
    RUN(cold_start_products_score_from_features);
    RUN(customer_with_empty_fields_scores_finite);
    RUN(json_customer_scores_as_the_table_does);
    RUN(json_held_ids_repeated_or_many);
    RUN(corrupt_and_mismatched_model_files_are_clear_errors);
    RUN(hand_edited_model_json_is_refused);
    RUN(model_file_envelope_versions_and_legacy);
    RUN(fuzz_seed_is_a_valid_model_json);
    RUN(non_finite_scores_are_refused_naming_the_model);
    RUN(sigkill_during_save_leaves_the_old_or_the_new_model);
    RUN(allocation_failures_fail_cleanly);
    rec_config_free(&g_cfg);
    data_dataset_free(&g_ds);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return check_summary("test_rec");
}
