/* Shared by bench_model.c and export_model_data.c: loads a dataset and builds what
 * rec_train starts from with the public rec_setup_make (split, features fitted on
 * training customers, encoded customers and catalogue, net with initial weights), then the
 * training examples rec_train builds from it: (customer, label product, 0/1 label) for
 * label data trained with BCE, else (customer, visible positive, 1). */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include "rec/rec.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    data_dataset ds;
    rec_config cfg;
    rec_setup su;           /* su.split, su.net (featspecs, encoded catalogue, initial weights), su.cust */
    rec_examples ex;        /* training examples (model.h) */
} bm_data;

static inline int bm_fail(const char *what, const hp_error *err)
{
    fprintf(stderr, "bench: %s: %s\n", what, err->msg);
    return 1;
}

/* src: a dataset config file (examples/santander.json) or a data directory read with the
 * built-in config (examples/synthetic.json). test_fold >= 0 overrides split.test_fold (as
 * hyperp train --test-fold does). */
static inline int bm_load_fold(bm_data *b, const char *src, int test_fold)
{
    hp_error err = { 0 };
    struct stat st;
    memset(b, 0, sizeof *b);
    int is_dir = stat(src, &st) == 0 && S_ISDIR(st.st_mode);
    if ((is_dir ? data_config_default(&b->ds, src, &err) : data_config_load(&b->ds, src, &err)) ||
        data_ingest(&b->ds, NULL, NULL, &err) || rec_config_from_dataset(&b->cfg, &b->ds, &err))
        return bm_fail("load", &err);
    if (test_fold >= 0) b->cfg.split.test_fold = test_fold;
    if (rec_setup_make(&b->su, &b->ds, &b->cfg, NULL, &err)) return bm_fail("setup", &err);
    if (rec_examples_make(&b->ex, &b->su.split, &b->cfg)) return bm_fail("examples", &(hp_error){ .msg = "out of memory" });
    return 0;
}

static inline int bm_load(bm_data *b, const char *src) { return bm_load_fold(b, src, -1); }

static inline void bm_free(bm_data *b)
{
    rec_setup_free(&b->su);
    rec_config_free(&b->cfg);
    data_dataset_free(&b->ds);
    rec_examples_free(&b->ex);
}

/* Mean list lengths over the training examples (the inputs one example's forward reads). */
typedef struct { double text, multi, hist, rows; } bm_means;

static inline bm_means bm_example_means(const bm_data *b)
{
    bm_means m = { 0 };
    const feat_enc *e = &b->su.cust;
    const rec_split *s = &b->su.split;
    for (size_t i = 0; i < b->ex.n; i++) {
        int c = b->ex.c[i];
        double t = (double)(e->text_off[c + 1] - e->text_off[c]), mu = (double)(e->multi_off[c + 1] - e->multi_off[c]);
        double h = (double)(s->vis_off[c + 1] - s->vis_off[c]) - rec_split_visible(s, c, b->ex.p[i]); /* the target is skipped */
        m.text += t, m.multi += mu, m.hist += h;
        m.rows += 2 + (mu > 0) + (t > 0) + (h > 0); /* fused rows: numeric, categorical + present lists */
    }
    double n = b->ex.n ? (double)b->ex.n : 1;
    m.text /= n, m.multi /= n, m.hist /= n, m.rows /= n;
    return m;
}

#endif
