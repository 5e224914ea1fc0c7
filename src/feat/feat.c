/* feat: fitting and encoding of customer and product features (spec in feat.h). Fitting
 * sees training rows only, so validation and test rows never leak into scaling or
 * vocabularies. */
#include "feat/feat.h"
#include "text/tok.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ fitting */

int feat_is_numeric_role(int role)
{
    return role == DATA_ROLE_NUMERIC || role == DATA_ROLE_BAND || role == DATA_ROLE_TIMESTAMP;
}

static int is_categorical_role(int role, const feat_opts *o)
{
    return role == DATA_ROLE_CATEGORICAL || (role == DATA_ROLE_PROTECTED && o->include_protected);
}

static double raw_value(const data_column *c, size_t row, double ref)
{
    if (c->role == DATA_ROLE_TIMESTAMP)
        return c->ts[row] == DATA_TS_MISSING ? NAN : (ref - (double)c->ts[row]) / (365.25 * 86400);
    return c->num[row];
}

static double transform(const feat_num *f, double v) { return f->log ? copysign(log1p(fabs(v)), v) : v; }

static int fit_numeric(feat_spec *fs, const data_table *t, const data_column *c, const unsigned char *use)
{
    feat_num f = { .role = c->role, .missing_slot = -1, .ref = 0 };
    if (c->role == DATA_ROLE_TIMESTAMP)
        for (size_t r = 0; r < t->nrows; r++)
            if ((!use || use[r]) && c->ts[r] != DATA_TS_MISSING && (double)c->ts[r] > f.ref) f.ref = (double)c->ts[r];
    double lo = INFINITY, hi = -INFINITY, sum = 0, sq = 0;
    size_t n = 0, missing = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        if (use && !use[r]) continue;
        double v = raw_value(c, r, f.ref);
        if (isnan(v)) { missing++; continue; }
        lo = fmin(lo, v);
        hi = fmax(hi, v);
        n++;
    }
    /* Bands and wide non-negative ranges (revenue, balances) are compared on a log scale,
     * and so is any column with magnitudes beyond FEAT_LOG_ABOVE: its mean and std then stay
     * within FEAT_SCALE_MAX, which loading requires. */
    f.log = c->role == DATA_ROLE_BAND || (n && lo >= 0 && hi > 1000 && hi > 100 * (lo + 1)) ||
            (n && fmax(-lo, hi) > FEAT_LOG_ABOVE);
    for (size_t r = 0; r < t->nrows; r++) {
        if (use && !use[r]) continue;
        double v = raw_value(c, r, f.ref);
        if (isnan(v)) continue;
        v = transform(&f, v);
        sum += v;
        sq += v * v;
    }
    double mean = n ? sum / (double)n : 0, var = n ? sq / (double)n - mean * mean : 1;
    f.mean = (float)mean;
    f.std = var > 1e-12 ? (float)sqrt(var) : 1.0f;
    if (!(f.column = hp_strdup(c->name))) return HP_ERR_NOMEM;
    feat_num *num = hp_realloc(fs->num, (size_t)(fs->nnumcols + 1) * sizeof *num);
    if (!num) { hp_free(f.column); return HP_ERR_NOMEM; }
    fs->num = num;
    f.missing_slot = missing ? -2 : -1; /* slots are numbered after all values: see finish */
    fs->num[fs->nnumcols++] = f;
    return HP_OK;
}

static int add_vocab(feat_vocab **arr, int *n, int *rows, const data_column *c, const int32_t *codes,
                     size_t ncodes, const unsigned char *use_codes)
{
    feat_vocab *a = hp_realloc(*arr, (size_t)(*n + 1) * sizeof *a);
    if (!a) return HP_ERR_NOMEM;
    *arr = a;
    feat_vocab *f = &a[(*n)++];
    memset(f, 0, sizeof *f);
    data_dict_init(&f->vocab);
    if (!(f->column = hp_strdup(c->name))) return HP_ERR_NOMEM;
    for (size_t i = 0; i < ncodes; i++) {
        if (codes[i] < 0 || (use_codes && !use_codes[i])) continue;
        const char *s = c->dict.str[codes[i]];
        if (data_dict_intern(&f->vocab, s, c->dict.len[codes[i]]) < 0) return HP_ERR_NOMEM;
    }
    f->offset = *rows;
    f->size = (int)f->vocab.n + 1;
    *rows += f->size;
    return HP_OK;
}

static int fit_multi(feat_spec *fs, const data_table *t, const data_column *c, const unsigned char *use)
{
    /* mark the items of used rows */
    unsigned char *use_item = NULL;
    if (use) {
        if (!(use_item = hp_calloc(c->nitems + 1, 1))) return HP_ERR_NOMEM;
        for (size_t r = 0; r < t->nrows; r++)
            if (use[r])
                for (uint64_t i = c->off[r]; i < c->off[r + 1]; i++) use_item[i] = 1;
    }
    int rc = add_vocab(&fs->multi, &fs->nmulti, &fs->multi_rows, c, c->items, c->nitems, use_item);
    hp_free(use_item);
    return rc;
}

static int fit_text(feat_spec *fs, const data_column *c)
{
    char **a = hp_realloc(fs->text, (size_t)(fs->ntext + 1) * sizeof *a);
    if (!a) return HP_ERR_NOMEM;
    fs->text = a;
    return (a[fs->ntext++] = hp_strdup(c->name)) ? HP_OK : HP_ERR_NOMEM;
}

/* Numbers the inputs: one per numeric column, then one missing indicator per column that
 * had missing values in training. */
static void finish_slots(feat_spec *fs)
{
    int slot = fs->nnumcols;
    for (int i = 0; i < fs->nnumcols; i++)
        fs->num[i].missing_slot = fs->num[i].missing_slot == -2 ? slot++ : -1;
    fs->nnum = slot;
}

int feat_fit(feat_spec *fs, const data_table *t, const unsigned char *use,
                   const feat_opts *o, hp_error *err)
{
    memset(fs, 0, sizeof *fs);
    int rc = HP_OK;
    for (int i = 0; !rc && i < t->ncols; i++) {
        const data_column *c = &t->cols[i];
        if (feat_is_numeric_role(c->role) && o->numeric) rc = fit_numeric(fs, t, c, use);
        else if (is_categorical_role(c->role, o) && o->categorical) {
            unsigned char *use_rows = (unsigned char *)use;
            rc = add_vocab(&fs->cat, &fs->ncat, &fs->cat_rows, c, c->code, t->nrows, use_rows);
        } else if (c->role == DATA_ROLE_MULTI && o->multi) rc = fit_multi(fs, t, c, use);
        else if (c->role == DATA_ROLE_TEXT && o->text) rc = fit_text(fs, c);
    }
    if (rc) {
        feat_spec_free(fs);
        return hp_fail(err, rc, "fitting features of %s: %s", data_table_name(t->kind), hp_strerror(rc));
    }
    finish_slots(fs);
    return HP_OK;
}

void feat_spec_free(feat_spec *fs)
{
    for (int i = 0; i < fs->nnumcols; i++) hp_free(fs->num[i].column);
    for (int i = 0; i < fs->ncat; i++) { hp_free(fs->cat[i].column); data_dict_free(&fs->cat[i].vocab); }
    for (int i = 0; i < fs->nmulti; i++) { hp_free(fs->multi[i].column); data_dict_free(&fs->multi[i].vocab); }
    for (int i = 0; i < fs->ntext; i++) hp_free(fs->text[i]);
    hp_free(fs->num);
    hp_free(fs->cat);
    hp_free(fs->multi);
    hp_free(fs->text);
    memset(fs, 0, sizeof *fs);
}

/* ------------------------------------------------------------------ encoding */

void feat_enc_free(feat_enc *e)
{
    hp_free(e->num);
    hp_free(e->cat);
    hp_free(e->multi_off);
    hp_free(e->multi_ids);
    hp_free(e->text_off);
    hp_free(e->text_ids);
    memset(e, 0, sizeof *e);
}

static void encode_numeric(const feat_spec *fs, const data_table *t, feat_enc *e)
{
    for (int i = 0; i < fs->nnumcols; i++) {
        const feat_num *f = &fs->num[i];
        const data_column *c = data_table_col_named(t, f->column);
        int usable = c && (int)c->role == f->role;
        for (size_t r = 0; r < t->nrows; r++) {
            double v = usable ? raw_value(c, r, f->ref) : NAN;
            float *row = e->num + r * (size_t)e->F;
            row[i] = isnan(v) ? 0.0f : (float)((transform(f, v) - f->mean) / f->std);
            if (f->missing_slot >= 0) row[f->missing_slot] = isnan(v) ? 1.0f : 0.0f;
        }
    }
}

static int32_t vocab_row(const feat_vocab *f, const data_column *c, int32_t code)
{
    if (!c || code < 0) return f->offset;
    int32_t k = data_dict_find(&f->vocab, c->dict.str[code], c->dict.len[code]);
    return f->offset + 1 + (k < 0 ? -1 : k);
}

static void encode_categorical(const feat_spec *fs, const data_table *t, feat_enc *e)
{
    for (int i = 0; i < fs->ncat; i++) {
        const data_column *c = data_table_col_named(t, fs->cat[i].column);
        if (c && !c->code) c = NULL;
        for (size_t r = 0; r < t->nrows; r++) {
            int32_t code = c ? c->code[r] : -1, row = vocab_row(&fs->cat[i], c, code);
            e->cat[r * (size_t)e->C + (size_t)i] = row;
            e->unseen += code >= 0 && row == fs->cat[i].offset; /* a value, but not one training saw */
        }
    }
}

static int encode_multi(const feat_spec *fs, const data_table *t, feat_enc *e)
{
    size_t cap = 0, n = 0;
    e->multi_off[0] = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        for (int i = 0; i < fs->nmulti; i++) {
            const feat_vocab *f = &fs->multi[i];
            const data_column *c = data_table_col_named(t, f->column);
            if (!c || c->role != DATA_ROLE_MULTI || !c->off) continue;
            for (uint64_t k = c->off[r]; k < c->off[r + 1]; k++) {
                int32_t row = vocab_row(f, c, c->items[k]);
                if (row == f->offset) { /* an item never seen in training says nothing */
                    e->unseen += c->items[k] >= 0;
                    continue;
                }
                if (hp_grow((void **)&e->multi_ids, &cap, n + 1, sizeof *e->multi_ids)) return HP_ERR_NOMEM;
                e->multi_ids[n++] = row;
            }
        }
        e->multi_off[r + 1] = (int64_t)n;
    }
    return HP_OK;
}

static int encode_text(const feat_spec *fs, const data_table *t, const feat_opts *o, feat_enc *e)
{
    size_t cap = 0, n = 0;
    int32_t *buf = hp_malloc((size_t)o->max_tokens * sizeof *buf);
    if (!buf) return HP_ERR_NOMEM;
    e->text_off[0] = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        int left = o->max_tokens;
        for (int i = 0; i < fs->ntext && left > 0; i++) {
            const data_column *c = data_table_col_named(t, fs->text[i]);
            if (!c || c->role != DATA_ROLE_TEXT) continue;
            int k = text_tokens(data_col_text(c, r), buf, left, o->text_buckets, (uint32_t)i * 7919u);
            if (hp_grow((void **)&e->text_ids, &cap, n + (size_t)k + 1, sizeof *e->text_ids)) {
                hp_free(buf);
                return HP_ERR_NOMEM;
            }
            memcpy(e->text_ids + n, buf, (size_t)k * sizeof *buf);
            n += (size_t)k;
            left -= k;
        }
        e->text_off[r + 1] = (int64_t)n;
    }
    hp_free(buf);
    return HP_OK;
}

int feat_encode(const feat_spec *fs, const data_table *t, const feat_opts *o,
                      feat_enc *e, hp_error *err)
{
    memset(e, 0, sizeof *e);
    e->n = (int)t->nrows;
    e->F = fs->nnum;
    e->C = fs->ncat;
    size_t n = t->nrows;
    e->num = hp_calloc(n * (size_t)e->F + 1, sizeof *e->num);
    e->cat = hp_calloc(n * (size_t)e->C + 1, sizeof *e->cat);
    e->multi_off = hp_calloc(n + 1, sizeof *e->multi_off);
    e->text_off = hp_calloc(n + 1, sizeof *e->text_off);
    int rc = e->num && e->cat && e->multi_off && e->text_off ? HP_OK : HP_ERR_NOMEM;
    if (!rc) {
        encode_numeric(fs, t, e);
        encode_categorical(fs, t, e);
        rc = encode_multi(fs, t, e);
    }
    if (!rc) rc = encode_text(fs, t, o, e);
    if (rc) {
        feat_enc_free(e);
        return hp_fail(err, rc, "encoding %s: %s", data_table_name(t->kind), hp_strerror(rc));
    }
    return HP_OK;
}

