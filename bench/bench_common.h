/* Shared by bench_model.c and export_model_data.c: the same set-up model_train does
 * (config -> split -> features fitted on training customers -> encode -> net + initial
 * weights -> (customer, product) examples), through the public model.h API only. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include "model/model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    data_dataset ds;
    model_config cfg;
    model_split split;
    model_net net;            /* featspecs, encoded catalogue, initial weights (train.seed) */
    model_enc cust;           /* every customer, encoded */
    int32_t *ex_c, *ex_p;     /* training examples: visible positives of training customers */
    size_t nex;
} bm_data;

static inline int bm_fail(const char *what, const hp_error *err)
{
    fprintf(stderr, "bench: %s: %s\n", what, err->msg);
    return 1;
}

/* Loads the built-in dataset config (examples/synthetic.json) over data_dir. */
static inline int bm_load(bm_data *b, const char *data_dir)
{
    hp_error err = { 0 };
    memset(b, 0, sizeof *b);
    if (data_config_default(&b->ds, data_dir, &err) || data_ingest(&b->ds, NULL, NULL, &err) ||
        model_config_from_dataset(&b->cfg, &b->ds, &err) || model_split_make(&b->split, &b->ds, &b->cfg, &err))
        return bm_fail("load", &err);
    const model_arch *arch = &b->cfg.arch;
    unsigned char *use = hp_calloc((size_t)b->split.ncust + 1, 1);
    for (int c = 0; c < b->split.ncust; c++) use[c] = (unsigned char)model_split_trains(&b->split, c);
    int rc = model_feat_fit(&b->net.cust_fs, &b->ds.t[DATA_T_CUSTOMERS], use, arch, &err);
    hp_free(use);
    if (!rc) rc = model_feat_fit(&b->net.prod_fs, &b->ds.t[DATA_T_PRODUCTS], NULL, arch, &err);
    if (!rc) rc = model_feat_encode(&b->net.cust_fs, &b->ds.t[DATA_T_CUSTOMERS], arch, &b->cust, &err);
    if (!rc) rc = model_feat_encode(&b->net.prod_fs, &b->ds.t[DATA_T_PRODUCTS], arch, &b->net.prod, &err);
    if (!rc) rc = model_net_init(&b->net, arch, b->split.P, &err);
    if (rc) return bm_fail("features", &err);
    model_net_init_weights(&b->net, b->cfg.train.seed);
    const model_split *s = &b->split;
    size_t n = s->ntrain_pos + 1;
    b->ex_c = hp_malloc(n * sizeof *b->ex_c);
    b->ex_p = hp_malloc(n * sizeof *b->ex_p);
    for (int c = 0; c < s->ncust; c++)
        if (model_split_trains(s, c))
            for (int64_t i = s->vis_off[c]; i < s->vis_off[c + 1]; i++) b->ex_c[b->nex] = c, b->ex_p[b->nex++] = s->vis[i];
    return 0;
}

static inline void bm_free(bm_data *b)
{
    model_net_free(&b->net);
    model_enc_free(&b->cust);
    model_split_free(&b->split);
    model_config_free(&b->cfg);
    data_dataset_free(&b->ds);
    hp_free(b->ex_c);
    hp_free(b->ex_p);
}

/* Mean list lengths over the training examples (the inputs one example's forward reads). */
typedef struct { double text, multi, hist, rows; } bm_means;

static inline bm_means bm_example_means(const bm_data *b)
{
    bm_means m = { 0 };
    const model_enc *e = &b->cust;
    for (size_t i = 0; i < b->nex; i++) {
        int c = b->ex_c[i];
        double t = (double)(e->text_off[c + 1] - e->text_off[c]), mu = (double)(e->multi_off[c + 1] - e->multi_off[c]);
        double h = (double)(b->split.vis_off[c + 1] - b->split.vis_off[c]) - 1; /* the target is skipped */
        m.text += t, m.multi += mu, m.hist += h;
        m.rows += 2 + (mu > 0) + (t > 0) + (h > 0); /* fused rows: numeric, categorical + present lists */
    }
    double n = b->nex ? (double)b->nex : 1;
    m.text /= n, m.multi /= n, m.hist /= n, m.rows /= n;
    return m;
}

#endif
