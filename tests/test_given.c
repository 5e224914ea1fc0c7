/* split.method "given" (a separate test file, as public recommender benchmarks ship them) on a
 * dataset small enough to work out by hand: which test rows become targets, how many
 * candidates each customer has (every product not in its training interactions), the
 * validation slice, the popularity system's metrics computed on paper, and the bad configs
 * and test files, each refused naming the JSON path or file:line. */
#define _GNU_SOURCE
#include "check.h"
#include "data/data.h"
#include "rec/rec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char g_dir[64];

static const char *path_in(const char *name) { return check_path(g_dir, name); }

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(path_in(name), "w");
    fputs(text, f);
    fclose(f);
}

/* Six products; training popularity P0 5, P1 4, P2 3, P3 2, P4 1, P5 0: customer Ci (i = 1..5)
 * holds P0 .. P(5-i), C6 holds nothing. */
static const char k_train[] =
    "customer_id,product_id,kind\n"
    "C1,P0,held\nC1,P1,held\nC1,P2,held\nC1,P3,held\nC1,P4,held\n"
    "C2,P0,held\nC2,P1,held\nC2,P2,held\nC2,P3,held\n"
    "C3,P0,held\nC3,P1,held\nC3,P2,held\n"
    "C4,P0,held\nC4,P1,held\n"
    "C5,P0,held\n";

/* Targets C1:P5, C2:P5, C3:P4, C4:P2, C6:P0; the other rows are each one kind of non-target. */
static const char k_test[] =
    "customer_id,product_id,kind\n"
    "C1,P5,held\n"
    "C2,P5,held\n"
    "C3,P4,held\n"
    "C4,P2,held\n"
    "C5,P0,held\n"      /* line 6: C5 holds P0 in training: not a candidate, so not a target */
    "C6,P0,held\n"
    "C6,P0,held\n"      /* repeated */
    "NOBODY,P1,held\n"  /* line 9: unknown customer */
    "C1,PZZ,held\n"     /* unknown product */
    "C2,P3,clicked\n";  /* not a training positive kind */

static const char k_config[] =
    "{\"hyperp_dataset\": 1,\n"
    " \"customers\": {\"file\": \"customers.csv\", \"columns\": {\"customer_id\": \"id\", \"industry\": \"categorical\"}},\n"
    " \"products\": {\"file\": \"products.csv\", \"columns\": {\"product_id\": \"id\", \"category\": \"categorical\"}},\n"
    " \"interactions\": {\"file\": \"train.csv\", \"columns\": {\"customer_id\": \"customer\", \"product_id\": \"product\",\n"
    "                  \"kind\": \"kind\"}},\n"
    " \"model\": {\"dim\": 4, \"hidden\": 4, \"text_buckets\": 16},\n"
    " \"train\": {\"epochs\": 2, \"batch\": 4, \"negatives\": 2, \"positive_kinds\": [\"held\"]},\n"
    " \"split\": {\"method\": \"given\", \"test_file\": \"test.csv\", \"valid_fraction\": 0.5},\n"
    " \"evaluate\": {\"k\": 2}}\n";

static data_dataset g_ds;
static rec_config g_cfg;

static int setup(void)
{
    write_file("customers.csv", "customer_id,industry\nC1,a\nC2,b\nC3,a\nC4,b\nC5,a\nC6,b\n");
    write_file("products.csv", "product_id,category\nP0,x\nP1,y\nP2,x\nP3,y\nP4,x\nP5,y\n");
    write_file("train.csv", k_train);
    write_file("test.csv", k_test);
    write_file("c.json", k_config);
    hp_error err = { 0 };
    if (data_config_load(&g_ds, path_in("c.json"), &err) || data_ingest(&g_ds, NULL, NULL, &err) ||
        rec_config_from_dataset(&g_cfg, &g_ds, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int32_t row_of(const char *id)
{
    const data_table *cu = &g_ds.t[DATA_T_CUSTOMERS];
    return data_dict_find(&cu->cols[cu->id_col].dict, id, strlen(id));
}

static long count(const int64_t *off, int c) { return (long)(off[c + 1] - off[c]); }

/* ------------------------------------------------------------------ the split */

TEST(test_rows_are_sorted_into_targets_and_the_rest)
{
    rec_split s;
    hp_error err = { 0 };
    CHECKF(rec_split_make(&s, &g_ds, &g_cfg, &err) == HP_OK, "%s", err.msg);
    const rec_given_counts *g = &s.given;
    CHECK_EQ_INT(g->rows, 10);
    CHECK_EQ_INT(g->targets, 5);
    CHECK_EQ_INT(g->in_train, 1);
    CHECK_EQ_INT(g->repeated, 1);
    CHECK_EQ_INT(g->unknown_customer, 1);
    CHECK_EQ_INT(g->unknown_product, 1);
    CHECK_EQ_INT(g->first_unknown_line, 9);
    CHECK_EQ_INT(g->other_kind, 1);
    CHECK_EQ_INT(g->rows, g->targets + g->in_train + g->repeated + g->unknown_customer + g->unknown_product + g->other_kind);
    CHECK(s.all_train);
    static const char *const who[] = { "C1", "C2", "C3", "C4", "C5", "C6" };
    static const long want_targets[] = { 1, 1, 1, 1, 0, 1 };
    for (int i = 0; i < 6; i++) CHECK_EQ_INT(count(s.tgt_off[1], row_of(who[i])), want_targets[i]);
    CHECK_EQ_INT(s.tgt[1][s.tgt_off[1][row_of("C3")]], 4); /* P4 */
    rec_split_free(&s);
}

/* Training interactions = visible + validation slice: disjoint, together every training
 * product; the slice is round(f * n) up or down, never a customer's last positive; the same
 * seed draws the same slice. After rec_split_fold_valid every customer has P - |training
 * products| candidates. */
TEST(validation_slice_then_folded_back_leaves_p_minus_train_candidates)
{
    rec_split s, again;
    hp_error err = { 0 };
    CHECKF(rec_split_make(&s, &g_ds, &g_cfg, &err) == HP_OK, "%s", err.msg);
    CHECK(rec_split_make(&again, &g_ds, &g_cfg, &err) == HP_OK);
    static const char *const who[] = { "C1", "C2", "C3", "C4", "C5", "C6" };
    static const long held[] = { 5, 4, 3, 2, 1, 0 };
    long sliced = 0;
    for (int i = 0; i < 6; i++) {
        int c = row_of(who[i]);
        long nv = count(s.tgt_off[0], c), nvis = count(s.vis_off, c);
        CHECKF(nv + nvis == held[i], "%s: %ld visible + %ld validation, holds %ld", who[i], nvis, nv, held[i]);
        CHECKF(nv == (long)floor(0.5 * (double)held[i]) || nv == (long)ceil(0.5 * (double)held[i]) || nv == held[i] - 1,
               "%s: %ld of %ld", who[i], nv, held[i]);
        CHECK(held[i] == 0 || nvis >= 1); /* the last positive always trains */
        for (int64_t k = s.tgt_off[0][c]; k < s.tgt_off[0][c + 1]; k++) CHECK(!rec_split_visible(&s, c, s.tgt[0][k]));
        CHECK(count(again.tgt_off[0], c) == nv &&
              memcmp(again.tgt[0] + again.tgt_off[0][c], s.tgt[0] + s.tgt_off[0][c], (size_t)nv * sizeof(int32_t)) == 0);
        sliced += nv;
    }
    CHECK(sliced > 0);
    CHECK_EQ_INT(count(s.tgt_off[0], row_of("C5")), 0); /* one positive: kept for training */
    CHECK(rec_split_fold_valid(&s) == HP_OK);
    CHECK_EQ_INT(s.tgt_off[0][s.ncust], 0);
    for (int i = 0; i < 6; i++) {
        int c = row_of(who[i]);
        CHECK_EQ_INT(s.P - count(s.vis_off, c), 6 - held[i]);
        for (int p = 0; p < (int)held[i]; p++) CHECK(rec_split_visible(&s, c, p)); /* Ci holds P0 .. */
    }
    for (size_t r = 0; r < s.ntag; r++) CHECK(s.tag[r] == REC_TAG_VISIBLE);
    CHECK_EQ_INT(s.ntrain_pos, 15);
    rec_split_free(&s);
    rec_split_free(&again);
}

TEST(customers_left_out_lose_their_test_targets)
{
    rec_split s;
    hp_error err = { 0 };
    CHECK(rec_split_make(&s, &g_ds, &g_cfg, &err) == HP_OK);
    uint8_t allowed[6] = { 1, 1, 1, 1, 1, 1 };
    allowed[row_of("C6")] = 0;
    rec_split_exclude(&s, allowed);
    CHECK_EQ_INT(count(s.tgt_off[1], row_of("C6")), 0);
    CHECK_EQ_INT(count(s.tgt_off[1], row_of("C1")), 1);
    CHECK_EQ_INT(s.tgt_off[1][s.ncust], 4);
    CHECK_EQ_INT(s.given.not_allowed, 1);
    CHECK_EQ_INT(s.given.targets, 4);
    rec_split_free(&s);
}

/* ------------------------------------------------------------------ evaluate */

/* Popularity ranks P0 > P1 > ... > P5 among each customer's candidates. With k = 2:
 *   C1: candidates {P5}            target P5 rank 1
 *   C2: {P4, P5}                   P5 rank 2
 *   C3: {P3, P4, P5}               P4 rank 2
 *   C4: {P2, P3, P4, P5}           P2 rank 1
 *   C6: all six                    P0 rank 1
 * HR@2 = 1, NDCG@2 = (3 + 2 / log2 3) / 5, MRR = (1 + 1/2 + 1/2 + 1 + 1) / 5 = 0.8,
 * precision@2 = 5 hits / (2 * 5). */
TEST(evaluate_popularity_metrics_match_the_hand_computation)
{
    hp_error err = { 0 };
    rec_train_opts opts = { .out_dir = path_in("m") };
    rec_train_report rep;
    CHECKF(rec_train(&g_ds, &g_cfg, &opts, &rep, &err) == HP_OK, "%s", err.msg);
    CHECK(rep.n_valid_customers >= 1);
    CHECK_EQ_INT(rep.n_test_customers, 5);
    rec_model m;
    if (rec_load(path_in("m"), &m, &err) != HP_OK) { CHECKF(0, "%s", err.msg); return; }
    CHECK(m.cfg.split.method == REC_SPLIT_GIVEN && m.cfg.split.test_file && strstr(m.cfg.split.test_file, "test.csv"));
    rec_eval_result r;
    CHECKF(rec_evaluate(&m, &g_ds, NULL, NULL, &r, &err) == HP_OK, "%s", err.msg);
    CHECK_EQ_INT(r.n_customers, 5);
    CHECK(r.has_given && r.given.targets == 5 && r.given.in_train == 1 && r.given.unknown_customer == 1);
    const eval_rank_result *pop = &r.rank[REC_SYS_POPULARITY];
    CHECK(r.has[REC_SYS_POPULARITY]);
    CHECK_NEAR(pop->hit_rate, 1.0, 1e-12);
    CHECK_NEAR(pop->ndcg, (3.0 + 2.0 / log2(3.0)) / 5.0, 1e-12);
    CHECK_NEAR(pop->mrr, 0.8, 1e-12);
    CHECK_NEAR(pop->precision, 0.5, 1e-12);
    const eval_rank_result *mod = &r.rank[REC_SYS_MODEL];
    CHECK(r.has[REC_SYS_MODEL] && mod->n_users_rel == 5);
    CHECK(mod->hit_rate >= 0 && mod->hit_rate <= 1 && mod->ndcg >= 0 && mod->ndcg <= 1 && mod->mrr > 0 && mod->mrr <= 1);
    /* C1 has one candidate, the target: every system ranks it first */
    CHECK(mod->hit_rate >= 0.2);
    rec_model_free(&m);
}

/* ------------------------------------------------------------------ bad configs and files */

/* More rows than the reader's first buffer: each distinct pair is one target. */
TEST(a_long_test_file_of_repeats_gives_one_target_per_pair)
{
    FILE *f = fopen(path_in("long_test.csv"), "w");
    fputs("customer_id,product_id,kind\n", f);
    for (int i = 0; i < 3000; i++) fputs(i % 2 ? "C1,P5,held\n" : "C6,P3,held\n", f);
    fclose(f);
    rec_config cfg = g_cfg;
    cfg.split.test_file = (char *)path_in("long_test.csv");
    rec_split s;
    hp_error err = { 0 };
    CHECKF(rec_split_make(&s, &g_ds, &cfg, &err) == HP_OK, "%s", err.msg);
    CHECK_EQ_INT(s.given.rows, 3000);
    CHECK_EQ_INT(s.given.targets, 2);
    CHECK_EQ_INT(s.given.repeated, 2998);
    CHECK_EQ_INT(s.tgt_off[1][s.ncust], 2);
    rec_split_free(&s);
}

static void config_error(const char *split, const char *want)
{
    char text[512];
    snprintf(text, sizeof text, "{\"split\": %s}", split);
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    rec_config c;
    rec_config_defaults(&c);
    hp_error err = { 0 };
    int rc = rec_config_from_json(&c, j, "c.json", "/d", &err);
    CHECKF(rc == HP_ERR_INVAL && strstr(err.msg, want), "%s -> rc %d: %s", split, rc, err.msg);
    rec_config_free(&c);
    json_decref(j);
}

TEST(bad_given_configs_name_the_json_path)
{
    config_error("{\"method\": \"given\"}", "c.json: split.test_file: required by method \"given\"");
    config_error("{\"method\": \"given\", \"test_file\": 3}", "c.json: split.test_file: expected a path");
    config_error("{\"method\": \"given\", \"test_file\": null}", "c.json: split.test_file: expected a path");
    config_error("{\"method\": \"given\", \"test_file\": \"t.csv\", \"folds_file\": \"f.txt\"}",
                 "c.json: split.folds_file: not used by method \"given\" (its test set is split.test_file)");
    config_error("{\"method\": \"given\", \"test_file\": \"t.csv\", \"hidden_file\": \"h.txt\"}", "c.json: split.hidden_file: not used");
    config_error("{\"method\": \"given\", \"test_file\": \"t.csv\", \"test_fold\": 1}", "c.json: split.test_fold: not used");
    config_error("{\"method\": \"given\", \"test_file\": \"t.csv\", \"test_fraction\": 0.2}", "c.json: split.test_fraction: not used");
    config_error("{\"method\": \"customer\", \"test_file\": \"t.csv\"}",
                 "c.json: split.test_file: is read only by method \"given\"");
    config_error("{\"method\": \"given\", \"test_file\": \"t.csv\", \"test_flie\": 1}", "c.json: split.test_flie: unknown key");
    /* a relative path resolves from the config's folder, and the config round-trips */
    json_t *j = json_loads("{\"split\": {\"method\": \"given\", \"test_file\": \"t.csv\", \"valid_fraction\": 0.25}}", 0, NULL);
    rec_config c, back;
    rec_config_defaults(&c);
    rec_config_defaults(&back);
    hp_error err = { 0 };
    CHECK(rec_config_from_json(&c, j, "c.json", "/d", &err) == HP_OK);
    CHECK_STR(c.split.test_file, "/d/t.csv");
    json_t *saved = rec_config_to_json(&c);
    CHECKF(rec_config_from_json(&back, saved, "model.json", NULL, &err) == HP_OK, "%s", err.msg);
    CHECK(back.split.method == REC_SPLIT_GIVEN);
    CHECK_STR(back.split.test_file, "/d/t.csv");
    CHECK_NEAR(back.split.valid_fraction, 0.25, 1e-7);
    json_decref(saved);
    json_decref(j);
    rec_config_free(&c);
    rec_config_free(&back);
}

static void test_file_error(const char *content, const char *want)
{
    rec_config cfg = g_cfg;
    cfg.split.test_file = (char *)path_in("bad_test.csv");
    unlink(cfg.split.test_file);
    if (content) write_file("bad_test.csv", content);
    rec_split s;
    hp_error err = { 0 };
    int rc = rec_split_make(&s, &g_ds, &cfg, &err);
    CHECKF(rc != HP_OK && strstr(err.msg, want) && strstr(err.msg, "c.json: split.test_file: "), "rc %d: %s", rc, err.msg);
    if (rc == HP_OK) rec_split_free(&s);
}

TEST(bad_test_files_are_refused_naming_the_file)
{
    test_file_error(NULL, "bad_test.csv");                                   /* missing */
    test_file_error("customer_id,product_id,kind\n", "bad_test.csv has no interactions");
    test_file_error("customer_id,product_id,kind\nX1,P0,held\nC1,P9,held\n",
                    "none of its 2 interactions names a customer and a product of the data (1 unknown customers, "
                    "1 unknown products; first at line 2)");
    test_file_error("customer_id,item,kind\nC1,P5,held\n", "no column 'product_id' (the interactions' product column)");
    test_file_error("customer_id,product_id,kind\nC1,P5,held\n,P5,held\n", "bad_test.csv:3: column 'customer_id': missing customer id");
    test_file_error("customer_id,product_id,kind\nC1,P5,clicked\n", "none of its 1 interactions is of a target kind");
    test_file_error("customer_id,product_id,kind\nC1,P5\n", "bad_test.csv:2:");
    rec_config cfg = g_cfg;
    cfg.split.test_fold = 2; /* hyperp train --test-fold */
    rec_split s;
    hp_error err = { 0 };
    int rc = rec_split_make(&s, &g_ds, &cfg, &err);
    CHECKF(rc == HP_ERR_INVAL && strstr(err.msg, "split.test_fold: not used by method \"given\""), "%s", err.msg);
    if (rc == HP_OK) rec_split_free(&s);
}

/* A test file whose every target is a training item leaves nobody to evaluate: said with the
 * counts, not a bare "no target". */
TEST(evaluate_without_targets_says_what_the_file_held)
{
    write_file("all_train.csv", "customer_id,product_id,kind\nC1,P0,held\nC2,P1,held\n");
    hp_error err = { 0 };
    rec_model m;
    if (rec_load(path_in("m"), &m, &err) != HP_OK) { CHECKF(0, "%s", err.msg); return; }
    hp_free(m.cfg.split.test_file);
    m.cfg.split.test_file = hp_strdup(path_in("all_train.csv"));
    rec_eval_result r;
    int rc = rec_evaluate(&m, &g_ds, NULL, NULL, &r, &err);
    CHECKF(rc == HP_ERR_EMPTY && strstr(err.msg, "no customer has a test target") &&
           strstr(err.msg, "2 interactions: 0 targets, 2 already in training"), "rc %d: %s", rc, err.msg);
    rec_model_free(&m);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/hyperp_given_XXXXXX");
    if (!mkdtemp(g_dir) || setup()) return 1;
    RUN(test_rows_are_sorted_into_targets_and_the_rest);
    RUN(validation_slice_then_folded_back_leaves_p_minus_train_candidates);
    RUN(customers_left_out_lose_their_test_targets);
    RUN(evaluate_popularity_metrics_match_the_hand_computation);
    RUN(a_long_test_file_of_repeats_gives_one_target_per_pair);
    RUN(bad_given_configs_name_the_json_path);
    RUN(bad_test_files_are_refused_naming_the_file);
    RUN(evaluate_without_targets_says_what_the_file_held);
    rec_config_free(&g_cfg);
    data_dataset_free(&g_ds);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd)) { /* best effort */ }
    return check_summary("test_given");
}
