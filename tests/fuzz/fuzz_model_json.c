/* libFuzzer target: model.json loading (rec_meta_load, everything rec_load checks but
 * the weights file) over arbitrary bytes. Every refusal must name the file; every acceptance
 * must hold what loading promises (indices inside their tables, finite scaling, a usable
 * configuration), and then the product tower runs over the accepted catalogue with zero
 * weights, so ASan sees any index the validation let through. */
#include "rec/rec.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz/model.json"

static void check_featspec(const feat_spec *fs)
{
    for (int i = 0; i < fs->nnumcols; i++) {
        const feat_num *f = &fs->num[i];
        if (!isfinite(f->mean) || !(f->std > 0) || !isfinite(f->std) || !isfinite(f->ref)) __builtin_trap();
        if (f->missing_slot != -1 && (f->missing_slot < fs->nnumcols || f->missing_slot >= fs->nnum)) __builtin_trap();
    }
    int rows = 0;
    for (int i = 0; i < fs->ncat; i++) {
        if (fs->cat[i].offset != rows || fs->cat[i].size != (int)fs->cat[i].vocab.n + 1) __builtin_trap();
        rows += fs->cat[i].size;
    }
    if (rows != fs->cat_rows) __builtin_trap();
}

static void check_accepted(const rec_model *m)
{
    const rec_config *c = &m->cfg;
    int encoders = 0;
    for (int k = 0; k < REC_MOD_COUNT; k++) encoders += c->arch.enabled[k];
    if (!encoders || c->train.lr_min > c->train.lr || c->eval.k < 1) __builtin_trap();
    const feat_enc *e = &m->net.prod;
    if (m->nproducts < 1 || e->n != m->nproducts || e->F != m->net.prod_fs.nnum || e->C != m->net.prod_fs.ncat)
        __builtin_trap();
    for (size_t i = 0; i < (size_t)e->n * (size_t)e->C; i++)
        if (e->cat[i] < 0 || e->cat[i] >= m->net.prod_fs.cat_rows) __builtin_trap();
    for (size_t i = 0; i < (size_t)e->n * (size_t)e->F; i++)
        if (!isfinite(e->num[i])) __builtin_trap();
    if (e->text_off[0] != 0) __builtin_trap();
    for (int i = 0; i < e->n; i++)
        if (e->text_off[i + 1] < e->text_off[i]) __builtin_trap();
    for (int64_t i = 0; i < e->text_off[e->n]; i++)
        if (e->text_ids[i] < 0 || e->text_ids[i] >= c->arch.text_buckets) __builtin_trap();
    for (int p = 0; p < m->nproducts; p++)
        if (!m->product_ids[p][0] || m->popularity[p] < 0 || m->net.id_row[p] < 0 || m->net.id_row[p] > m->nproducts)
            __builtin_trap();
    check_featspec(&m->net.cust_fs);
    check_featspec(&m->net.prod_fs);
}

/* The product tower over the accepted catalogue (small architectures only: the fuzzer must
 * not spend its memory on a 2^24-bucket text table). */
static void run_products(rec_model *m)
{
    const rec_arch *a = &m->cfg.arch;
    double cells = (double)a->text_buckets * a->dim + (double)(m->net.cust_fs.cat_rows + m->net.prod_fs.cat_rows +
                   m->net.cust_fs.multi_rows + m->nproducts) * a->dim;
    if (cells > (1 << 20) || a->hidden * (double)(m->net.cust_fs.nnum + 1) > (1 << 20)) return;
    hp_error err;
    if (rec_net_init(&m->net, a, m->nproducts, &err) != HP_OK) return;
    size_t P = (size_t)m->nproducts, d = (size_t)a->dim;
    float *v = hp_malloc(P * d * sizeof *v), *bias = hp_malloc(P * sizeof *bias);
    if (v && bias && rec_product_vectors(&m->net, NULL, v, bias, &err) == HP_OK)
        for (size_t i = 0; i < P * d; i++)
            if (!isfinite(v[i])) __builtin_trap(); /* zero weights: every vector is finite */
    hp_free(v);
    hp_free(bias);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if (!doc) return 0;
    rec_model m;
    hp_error err = { 0 };
    int rc = rec_meta_load(&m, doc, NAME, &err);
    if (rc && strncmp(err.msg, NAME, strlen(NAME)) != 0) __builtin_trap(); /* every refusal names the file */
    if (rc == HP_OK) {
        check_accepted(&m);
        run_products(&m);
    }
    rec_model_free(&m);
    json_decref(doc);
    return 0;
}
