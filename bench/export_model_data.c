/* Exports exactly the tensors rec_train trains on, for bench/torch_model.py.
 * usage: export_model_data (DATA_DIR | CONFIG.json) OUT.bin [TEST_FOLD]
 *   DATA_DIR: the built-in config (examples/synthetic.json) over that directory; CONFIG.json:
 *   a dataset config (examples/santander.json, examples/bank_marketing.json). TEST_FOLD
 *   overrides split.test_fold, as hyperp train --test-fold does.
 * Ranking configs: training examples (customer, visible positive); validation/test customers
 * with their target products. Label configs trained with BCE (propensity): training examples
 * (customer, label product, 0/1 label) as ex_c/ex_p/ex_y; validation/test customers with a
 * label and those labels (valid_label, test_label).
 * Format: "HPX1", then records: name (48 bytes, NUL padded), dtype (int32: 0 f32, 1 i32,
 * 2 i64, 3 f64), flags (int32: NN_PARAM_* for parameters), ndim (int32), shape (ndim x
 * int64), data (little-endian, C order). Parameters are named "param:<tensor name>" and hold
 * rec_net_init_weights(train.seed): the torch side starts from the same weights. */
#include "bench_common.h"

#include <stdlib.h>

static FILE *g_out;

static void put(const char *name, int dtype, int flags, int ndim, const int64_t *shape, const void *data)
{
    static const size_t width[] = { 4, 4, 8, 8 };
    char nm[48] = { 0 };
    snprintf(nm, sizeof nm, "%s", name);
    int32_t hdr[3] = { dtype, flags, ndim };
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
    fwrite(nm, 1, sizeof nm, g_out);
    fwrite(hdr, sizeof hdr, 1, g_out);
    fwrite(shape, sizeof *shape, (size_t)ndim, g_out);
    if (n) fwrite(data, width[dtype], n, g_out);
}

static void put1(const char *name, int dtype, int64_t n, const void *data) { put(name, dtype, 0, 1, &n, data); }
static void put2(const char *name, int dtype, int64_t r, int64_t c, const void *data)
{
    int64_t s[2] = { r, c };
    put(name, dtype, 0, 2, s, data);
}

/* Evaluated customers of one phase (0 validation, 1 test) as rec_train/rec_evaluate pick
 * them: that role, with at least one target. Targets as CSR; exclusions are vis lists. */
static void put_phase(const rec_split *s, int phase, const char *prefix)
{
    int want = phase == 0 ? REC_ROLE_VALID : REC_ROLE_TEST, n = 0;
    int32_t *rows = hp_malloc(((size_t)s->ncust + 1) * sizeof *rows);
    int64_t *off = hp_malloc(((size_t)s->ncust + 1) * sizeof *off);
    int32_t *ids = hp_malloc(((size_t)s->tgt_off[phase][s->ncust] + 1) * sizeof *ids);
    off[0] = 0;
    for (int c = 0; c < s->ncust; c++) {
        if (!((s->all_train || s->role[c] == want) && s->tgt_off[phase][c + 1] > s->tgt_off[phase][c])) continue;
        rows[n] = c;
        off[n + 1] = off[n];
        for (int64_t i = s->tgt_off[phase][c]; i < s->tgt_off[phase][c + 1]; i++) ids[off[n + 1]++] = s->tgt[phase][i];
        n++;
    }
    char nm[48];
    snprintf(nm, sizeof nm, "%s_rows", prefix), put1(nm, 1, n, rows);
    snprintf(nm, sizeof nm, "%s_tgt_off", prefix), put1(nm, 2, n + 1, off);
    snprintf(nm, sizeof nm, "%s_tgt", prefix), put1(nm, 1, off[n], ids);
    hp_free(rows), hp_free(off), hp_free(ids);
}

/* Label data: the customers of one phase that have a label (rec_train's validate,
 * rec_evaluate's pick_rows), and their 0/1 labels. */
static void put_label_phase(const rec_split *s, int phase, const char *prefix)
{
    int want = phase == 0 ? REC_ROLE_VALID : REC_ROLE_TEST, n = 0;
    int32_t *rows = hp_malloc(((size_t)s->ncust + 1) * sizeof *rows);
    float *lab = hp_malloc(((size_t)s->ncust + 1) * sizeof *lab);
    for (int c = 0; c < s->ncust; c++)
        if ((s->all_train || s->role[c] == want) && !isnan(s->label[c])) rows[n] = c, lab[n++] = s->label[c] > 0.5f;
    char nm[48];
    snprintf(nm, sizeof nm, "%s_rows", prefix), put1(nm, 1, n, rows);
    snprintf(nm, sizeof nm, "%s_label", prefix), put1(nm, 0, n, lab);
    hp_free(rows), hp_free(lab);
}

static void put_enc(const feat_enc *e, const char *prefix)
{
    char nm[48];
    snprintf(nm, sizeof nm, "%s_num", prefix), put2(nm, 0, e->n, e->F, e->num);
    snprintf(nm, sizeof nm, "%s_cat", prefix), put2(nm, 1, e->n, e->C, e->cat);
    snprintf(nm, sizeof nm, "%s_multi_off", prefix), put1(nm, 2, e->n + 1, e->multi_off);
    snprintf(nm, sizeof nm, "%s_multi_ids", prefix), put1(nm, 1, e->multi_off[e->n], e->multi_ids);
    snprintf(nm, sizeof nm, "%s_text_off", prefix), put1(nm, 2, e->n + 1, e->text_off);
    snprintf(nm, sizeof nm, "%s_text_ids", prefix), put1(nm, 1, e->text_off[e->n], e->text_ids);
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: export_model_data (DATA_DIR | CONFIG.json) OUT.bin [TEST_FOLD]\n");
        return 2;
    }
    bm_data b;
    if (bm_load_fold(&b, argv[1], argc == 4 ? atoi(argv[3]) : -1)) return 1;
    const rec_config *c = &b.cfg;
    const rec_split *sp = &b.su.split;
    const rec_net *net = &b.su.net;
    if (c->train.loss == REC_LOSS_BPR || (c->train.loss == REC_LOSS_BCE && !b.ex.explicit_labels) ||
        (sp->label_product >= 0 && !b.ex.explicit_labels)) {
        fprintf(stderr, "export_model_data: only sampled-softmax ranking and BCE label (propensity) configs are exported\n");
        return 1;
    }
    if (!(g_out = fopen(argv[2], "wb"))) {
        perror(argv[2]);
        return 1;
    }
    fwrite("HPX1", 1, 4, g_out);
    /* cfg_i[16..]: appended after the original 16 so older readers keep their indices */
    int64_t cfg_i[] = { c->arch.dim, c->arch.hidden, c->arch.text_buckets, c->train.negatives, c->train.epochs,
                        c->train.batch, c->train.warmup, c->train.patience, c->eval.k, sp->P,
                        net->cust_fs.ncat > 0 && c->arch.enabled[REC_MOD_CATEGORICAL],
                        net->cust_fs.nnum > 0 && c->arch.enabled[REC_MOD_NUMERIC],
                        net->cust_fs.nmulti > 0 && c->arch.enabled[REC_MOD_INTERESTS],
                        net->cust_fs.ntext > 0 && c->arch.enabled[REC_MOD_TEXT],
                        c->arch.enabled[REC_MOD_HISTORY],
                        net->prod_fs.ntext > 0 && c->arch.enabled[REC_MOD_TEXT],
                        c->train.loss, b.ex.explicit_labels, sp->label_product, (int64_t)c->train.seed,
                        c->split.test_fold };
    double cfg_f[] = { c->train.lr, c->train.lr_min, c->train.weight_decay, c->train.clip, c->train.id_dropout,
                       c->train.dropout };
    put1("cfg_i", 2, HP_ARRAY_LEN(cfg_i), cfg_i);
    put1("cfg_f", 3, HP_ARRAY_LEN(cfg_f), cfg_f);
    put_enc(&b.su.cust, "cust");
    put_enc(&net->prod, "prod");
    put1("vis_off", 2, sp->ncust + 1, sp->vis_off);
    put1("vis", 1, sp->vis_off[sp->ncust], sp->vis);
    put1("ex_c", 1, (int64_t)b.ex.n, b.ex.c);
    put1("ex_p", 1, (int64_t)b.ex.n, b.ex.p);
    put1("ex_y", 0, (int64_t)b.ex.n, b.ex.y);
    if (b.ex.explicit_labels) {
        put_label_phase(sp, 0, "valid");
        put_label_phase(sp, 1, "test");
    } else {
        put_phase(sp, 0, "valid");
        put_phase(sp, 1, "test");
    }
    for (int i = 0; i < net->params.n; i++) {
        const nn_tensor *t = &net->params.t[i];
        int64_t shape[NN_MAX_DIMS];
        for (int k = 0; k < t->ndim; k++) shape[k] = t->shape[k];
        char nm[64];
        snprintf(nm, sizeof nm, "param:%s", t->name); /* names are short: fits in 48 */
        put(nm, 0, (int)t->flags, t->ndim, shape, net->params.data + t->offset);
    }
    int bad = fclose(g_out) != 0;
    fprintf(stderr, "exported %zu %s examples, %d customers, %d products, %zu parameters (test fold %d) to %s\n", b.ex.n,
            b.ex.explicit_labels ? "label" : "positive", b.su.cust.n, sp->P, net->params.total, c->split.test_fold, argv[2]);
    bm_free(&b);
    return bad;
}
