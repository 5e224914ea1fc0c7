/* Tests of src/base: item-kNN against hand-computed cosines, EASE against numpy
 * (tests/fixtures/base_ref.txt, written by tests/fixtures/gen_base_ref.py), the choice of
 * lambda by a validation metric, and bad input. */
#include "base/base.h"
#include "check.h"

#include <stdlib.h>

#define BASE_REF_PATH "tests/fixtures/base_ref.txt"

/* ------------------------------------------------------------------ fixture */

typedef struct {
    int rows, items;
    int64_t off[64];
    int32_t ids[512];
    double lambdas[2];
    double b[2][64];
} base_ref;

/* Reads the arrays this test needs; 0 on success. */
static int read_ref(base_ref *r)
{
    FILE *f = fopen(BASE_REF_PATH, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s (regenerate with /usr/bin/python3 tests/fixtures/gen_base_ref.py)\n", BASE_REF_PATH);
        return -1;
    }
    char line[256], kind[16], name[32];
    double num;
    int bad = 0;
    memset(r, 0, sizeof *r);
    while (!bad && fscanf(f, "%15s", kind) == 1) {
        if (kind[0] == '#') {
            if (!fgets(line, sizeof line, f)) break;
            continue;
        }
        if (fscanf(f, "%31s %lf", name, &num) != 2) { bad = 1; break; }
        if (strcmp(kind, "value") == 0) {
            if (strcmp(name, "rows") == 0) r->rows = (int)num;
            if (strcmp(name, "items") == 0) r->items = (int)num;
            continue;
        }
        int n = (int)num;
        for (int i = 0; i < n && !bad; i++) {
            double v;
            if (fscanf(f, "%lf", &v) != 1) { bad = 1; break; }
            if (strcmp(name, "x_off") == 0 && i < 64) r->off[i] = (int64_t)v;
            else if (strcmp(name, "x_ids") == 0 && i < 512) r->ids[i] = (int32_t)v;
            else if (strcmp(name, "lambdas") == 0 && i < 2) r->lambdas[i] = v;
            else if (strcmp(name, "b0") == 0 && i < 64) r->b[0][i] = v;
            else if (strcmp(name, "b1") == 0 && i < 64) r->b[1][i] = v;
        }
    }
    fclose(f);
    return bad || r->rows <= 0 || r->items <= 0 || r->items * r->items > 64 ? -1 : 0;
}

/* ------------------------------------------------------------------ item-kNN */

/* 4 customers x 4 items: c0 {0,1}, c1 {0,1,2}, c2 {1}, c3 {2,2} (a duplicate, counted once);
 * item 3 has nobody. Counts n0 = 2, n1 = 3, n2 = 2; together 01: 2, 02: 1, 12: 1. */
static const int64_t k_hand_off[] = { 0, 2, 5, 6, 8 };
static const int32_t k_hand_ids[] = { 0, 1, 0, 1, 2, 1, 2, 2 };

TEST(knn_hand_cosines_and_scores)
{
    base_rows x = { k_hand_off, k_hand_ids, 4 };
    base_model m;
    hp_error err = { 0 };
    CHECK_EQ_INT(base_knn_fit(&m, &x, 4, &err), HP_OK);
    CHECK_EQ_INT(m.P, 4);
    double s01 = 2 / sqrt(6.0), s02 = 1 / sqrt(4.0), s12 = 1 / sqrt(6.0);
    double want[4][4] = { { 0, s01, s02, 0 }, { s01, 0, s12, 0 }, { s02, s12, 0, 0 }, { 0, 0, 0, 0 } };
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) CHECK_NEAR(m.w[i * 4 + j], want[i][j], 1e-6);
    float sc[4];
    int32_t held[] = { 0, 2 };
    base_score(&m, held, 2, sc);
    CHECK_NEAR(sc[0], 0.5, 1e-6);            /* sim(2,0) */
    CHECK_NEAR(sc[1], s01 + s12, 1e-6);      /* 0.8165 + 0.4082 */
    CHECK_NEAR(sc[2], 0.5, 1e-6);            /* sim(0,2) */
    CHECK_NEAR(sc[3], 0.0, 0);
    int32_t one[] = { 1 };
    base_score(&m, one, 1, sc);
    CHECK_NEAR(sc[0], s01, 1e-6);
    CHECK_NEAR(sc[2], s12, 1e-6);
    base_model_free(&m);
    base_model_free(&m); /* zeroed: a second free is harmless */
}

/* ------------------------------------------------------------------ EASE */

TEST(ease_matches_numpy)
{
    base_ref ref;
    CHECK(read_ref(&ref) == 0);
    if (ref.items <= 0) return;
    base_rows x = { ref.off, ref.ids, ref.rows };
    int P = ref.items;
    for (int l = 0; l < 2; l++) {
        base_model m;
        hp_error err = { 0 };
        CHECK_EQ_INT(base_ease_fit(&m, &x, P, ref.lambdas[l], &err), HP_OK);
        double worst = 0;
        for (int i = 0; i < P * P; i++) worst = fmax(worst, fabs(m.w[i] - ref.b[l][i]));
        CHECKF(worst <= 1e-4, "lambda %g: largest difference from numpy %g", ref.lambdas[l], worst);
        for (int i = 0; i < P; i++) CHECK(m.w[i * P + i] == 0.0f);
        /* score = x_c B for the row holding everything: the column sums of B */
        int32_t all[64];
        float sc[64];
        for (int i = 0; i < P; i++) all[i] = i;
        base_score(&m, all, P, sc);
        for (int j = 0; j < P; j++) {
            double col = 0;
            for (int i = 0; i < P; i++) col += ref.b[l][i * P + j];
            CHECK_NEAR(sc[j], col, 1e-4);
        }
        base_model_free(&m);
    }
}

TEST(bad_input_is_refused)
{
    base_rows x = { k_hand_off, k_hand_ids, 4 };
    base_model m;
    hp_error err = { 0 };
    CHECK_EQ_INT(base_knn_fit(&m, &x, 2, &err), HP_ERR_INVAL); /* row 1 holds item 2 */
    CHECKF(strstr(err.msg, "row 1: item 2 is outside 0..1") != NULL, "%s", err.msg);
    CHECK(m.w == NULL);
    err.msg[0] = 0;
    CHECK_EQ_INT(base_ease_fit(&m, &x, 4, 0.0, &err), HP_ERR_INVAL);
    CHECKF(strstr(err.msg, "lambda 0 must be a number > 0") != NULL, "%s", err.msg);
    CHECK_EQ_INT(base_ease_fit(&m, &x, 0, 10.0, &err), HP_ERR_INVAL);
}

/* ------------------------------------------------------------------ lambda selection */

typedef struct {
    double target;           /* the B[0][1] the metric likes best */
    int calls;
    int nan_first;           /* 1: the first model's metric is undefined */
} pick_ctx;

/* Validation metric: closeness of B[0][1] to a target, so the best lambda is known. */
static int closeness(const base_model *m, void *ctx, double *metric, hp_error *err)
{
    (void)err;
    pick_ctx *c = ctx;
    *metric = c->nan_first && c->calls == 0 ? NAN : -fabs(m->w[1] - c->target);
    c->calls++;
    return HP_OK;
}

static int constant(const base_model *m, void *ctx, double *metric, hp_error *err)
{
    (void)m, (void)ctx, (void)err;
    *metric = 0.25;
    return HP_OK;
}

TEST(select_takes_the_best_validation_metric)
{
    base_ref ref;
    CHECK(read_ref(&ref) == 0);
    if (ref.items <= 0) return;
    base_rows x = { ref.off, ref.ids, ref.rows };
    int P = ref.items, best = -1;
    double lambdas[] = { 0.5, 5.0, 50.0 }, metrics[3];
    pick_ctx c = { .target = ref.b[1][1] }; /* numpy's B[0][1] at lambda 5 */
    base_model m;
    hp_error err = { 0 };
    CHECK_EQ_INT(base_ease_select(&m, &x, P, lambdas, 3, closeness, &c, &best, metrics, &err), HP_OK);
    CHECK_EQ_INT(best, 1);
    CHECK_EQ_INT(c.calls, 3);
    CHECK(metrics[1] > metrics[0] && metrics[1] > metrics[2]);
    CHECK_NEAR(m.w[1], ref.b[1][1], 1e-4); /* the kept model is lambda 5's */
    base_model_free(&m);

    /* ties go to the first lambda; an undefined metric is never chosen */
    CHECK_EQ_INT(base_ease_select(&m, &x, P, lambdas, 3, constant, NULL, &best, NULL, &err), HP_OK);
    CHECK_EQ_INT(best, 0);
    base_model_free(&m);
    pick_ctx n = { .target = ref.b[0][1], .nan_first = 1 }; /* lambda 0.5 would win but is NaN */
    CHECK_EQ_INT(base_ease_select(&m, &x, P, lambdas, 3, closeness, &n, &best, metrics, &err), HP_OK);
    CHECK_EQ_INT(best, 1);
    CHECK(isnan(metrics[0]));
    base_model_free(&m);
}

int main(void)
{
    RUN(knn_hand_cosines_and_scores);
    RUN(ease_matches_numpy);
    RUN(bad_input_is_refused);
    RUN(select_takes_the_best_validation_metric);
    return check_summary("test_base");
}
