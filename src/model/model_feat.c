/* Features: fitted vocabularies and scaling (model_featspec) and the encoding of any table
 * into the compact arrays the net reads (model_enc). Fitting sees training rows only, so
 * validation and test rows never leak into scaling or vocabularies. */
#include "model/model.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

static const char *k_modality_names[MODEL_MOD_COUNT] = { "numeric", "categorical", "interests", "text", "history" };

const char *model_modality_name(int m) { return m >= 0 && m < MODEL_MOD_COUNT ? k_modality_names[m] : "?"; }

/* ------------------------------------------------------------------ text tokens */

static uint32_t mix_hash(uint64_t h) { return (uint32_t)((h * 0x9e3779b97f4a7c15ULL) >> 32); }

int model_text_tokens(const char *text, int32_t *out, int max, int buckets, uint32_t salt)
{
    int n = 0;
    uint64_t prev = 0;
    const unsigned char *s = (const unsigned char *)text;
    while (*s && n < max) {
        while (*s && !(isalnum(*s) || *s >= 0x80)) s++;
        if (!*s) break;
        uint64_t h = 1469598103934665603ULL ^ salt;
        while (*s && (isalnum(*s) || *s >= 0x80)) h = (h ^ (uint64_t)tolower(*s++)) * 1099511628211ULL;
        out[n++] = (int32_t)(mix_hash(h) & (uint32_t)(buckets - 1));
        if (prev && n < max) out[n++] = (int32_t)(mix_hash(prev * 31 + h + 0x51ed) & (uint32_t)(buckets - 1));
        prev = h;
    }
    return n;
}

/* ------------------------------------------------------------------ fitting */

static int is_numeric_role(int role)
{
    return role == DATA_ROLE_NUMERIC || role == DATA_ROLE_BAND || role == DATA_ROLE_TIMESTAMP;
}

static int is_categorical_role(int role, const model_arch *arch)
{
    return role == DATA_ROLE_CATEGORICAL || (role == DATA_ROLE_PROTECTED && arch->include_protected);
}

static double raw_value(const data_column *c, size_t row, double ref)
{
    if (c->role == DATA_ROLE_TIMESTAMP)
        return c->ts[row] == DATA_TS_MISSING ? NAN : (ref - (double)c->ts[row]) / (365.25 * 86400);
    return c->num[row];
}

static double transform(const model_numf *f, double v) { return f->log ? copysign(log1p(fabs(v)), v) : v; }

static int fit_numeric(model_featspec *fs, const data_table *t, const data_column *c, const unsigned char *use)
{
    model_numf f = { .role = c->role, .missing_slot = -1, .ref = 0 };
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
     * and so is any column with magnitudes beyond MODEL_LOG_ABOVE: its mean and std then stay
     * within MODEL_SCALE_MAX, which loading requires. */
    f.log = c->role == DATA_ROLE_BAND || (n && lo >= 0 && hi > 1000 && hi > 100 * (lo + 1)) ||
            (n && fmax(-lo, hi) > MODEL_LOG_ABOVE);
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
    model_numf *num = hp_realloc(fs->num, (size_t)(fs->nnumcols + 1) * sizeof *num);
    if (!num) { hp_free(f.column); return HP_ERR_NOMEM; }
    fs->num = num;
    f.missing_slot = missing ? -2 : -1; /* slots are numbered after all values: see finish */
    fs->num[fs->nnumcols++] = f;
    return HP_OK;
}

static int add_vocab(model_catf **arr, int *n, int *rows, const data_column *c, const int32_t *codes,
                     size_t ncodes, const unsigned char *use_codes)
{
    model_catf *a = hp_realloc(*arr, (size_t)(*n + 1) * sizeof *a);
    if (!a) return HP_ERR_NOMEM;
    *arr = a;
    model_catf *f = &a[(*n)++];
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

static int fit_multi(model_featspec *fs, const data_table *t, const data_column *c, const unsigned char *use)
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

static int fit_text(model_featspec *fs, const data_column *c)
{
    char **a = hp_realloc(fs->text, (size_t)(fs->ntext + 1) * sizeof *a);
    if (!a) return HP_ERR_NOMEM;
    fs->text = a;
    return (a[fs->ntext++] = hp_strdup(c->name)) ? HP_OK : HP_ERR_NOMEM;
}

/* Numbers the inputs: one per numeric column, then one missing indicator per column that
 * had missing values in training. */
static void finish_slots(model_featspec *fs)
{
    int slot = fs->nnumcols;
    for (int i = 0; i < fs->nnumcols; i++)
        fs->num[i].missing_slot = fs->num[i].missing_slot == -2 ? slot++ : -1;
    fs->nnum = slot;
}

int model_feat_fit(model_featspec *fs, const data_table *t, const unsigned char *use,
                   const model_arch *arch, hp_error *err)
{
    memset(fs, 0, sizeof *fs);
    int rc = HP_OK;
    for (int i = 0; !rc && i < t->ncols; i++) {
        const data_column *c = &t->cols[i];
        if (is_numeric_role(c->role) && arch->enabled[MODEL_MOD_NUMERIC]) rc = fit_numeric(fs, t, c, use);
        else if (is_categorical_role(c->role, arch) && arch->enabled[MODEL_MOD_CATEGORICAL]) {
            unsigned char *use_rows = (unsigned char *)use;
            rc = add_vocab(&fs->cat, &fs->ncat, &fs->cat_rows, c, c->code, t->nrows, use_rows);
        } else if (c->role == DATA_ROLE_MULTI && arch->enabled[MODEL_MOD_INTERESTS]) rc = fit_multi(fs, t, c, use);
        else if (c->role == DATA_ROLE_TEXT && arch->enabled[MODEL_MOD_TEXT]) rc = fit_text(fs, c);
    }
    if (rc) {
        model_featspec_free(fs);
        return hp_fail(err, rc, "fitting features of %s: %s", data_table_name(t->kind), hp_strerror(rc));
    }
    finish_slots(fs);
    return HP_OK;
}

void model_featspec_free(model_featspec *fs)
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

void model_enc_free(model_enc *e)
{
    hp_free(e->num);
    hp_free(e->cat);
    hp_free(e->multi_off);
    hp_free(e->multi_ids);
    hp_free(e->text_off);
    hp_free(e->text_ids);
    memset(e, 0, sizeof *e);
}

static void encode_numeric(const model_featspec *fs, const data_table *t, model_enc *e)
{
    for (int i = 0; i < fs->nnumcols; i++) {
        const model_numf *f = &fs->num[i];
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

static int32_t vocab_row(const model_catf *f, const data_column *c, int32_t code)
{
    if (!c || code < 0) return f->offset;
    int32_t k = data_dict_find(&f->vocab, c->dict.str[code], c->dict.len[code]);
    return f->offset + 1 + (k < 0 ? -1 : k);
}

static void encode_categorical(const model_featspec *fs, const data_table *t, model_enc *e)
{
    for (int i = 0; i < fs->ncat; i++) {
        const data_column *c = data_table_col_named(t, fs->cat[i].column);
        if (c && !c->code) c = NULL;
        for (size_t r = 0; r < t->nrows; r++)
            e->cat[r * (size_t)e->C + (size_t)i] = vocab_row(&fs->cat[i], c, c ? c->code[r] : -1);
    }
}

static int encode_multi(const model_featspec *fs, const data_table *t, model_enc *e)
{
    size_t cap = 0, n = 0;
    e->multi_off[0] = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        for (int i = 0; i < fs->nmulti; i++) {
            const model_catf *f = &fs->multi[i];
            const data_column *c = data_table_col_named(t, f->column);
            if (!c || c->role != DATA_ROLE_MULTI || !c->off) continue;
            for (uint64_t k = c->off[r]; k < c->off[r + 1]; k++) {
                int32_t row = vocab_row(f, c, c->items[k]);
                if (row == f->offset) continue; /* an item never seen in training says nothing */
                if (hp_grow((void **)&e->multi_ids, &cap, n + 1, sizeof *e->multi_ids)) return HP_ERR_NOMEM;
                e->multi_ids[n++] = row;
            }
        }
        e->multi_off[r + 1] = (int64_t)n;
    }
    return HP_OK;
}

static int encode_text(const model_featspec *fs, const data_table *t, const model_arch *arch, model_enc *e)
{
    size_t cap = 0, n = 0;
    int32_t *buf = hp_malloc((size_t)arch->max_tokens * sizeof *buf);
    if (!buf) return HP_ERR_NOMEM;
    e->text_off[0] = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        int left = arch->max_tokens;
        for (int i = 0; i < fs->ntext && left > 0; i++) {
            const data_column *c = data_table_col_named(t, fs->text[i]);
            if (!c || c->role != DATA_ROLE_TEXT) continue;
            int k = model_text_tokens(data_col_text(c, r), buf, left, arch->text_buckets, (uint32_t)i * 7919u);
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

int model_feat_encode(const model_featspec *fs, const data_table *t, const model_arch *arch,
                      model_enc *e, hp_error *err)
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
    if (!rc) rc = encode_text(fs, t, arch, e);
    if (rc) {
        model_enc_free(e);
        return hp_fail(err, rc, "encoding %s: %s", data_table_name(t->kind), hp_strerror(rc));
    }
    return HP_OK;
}

/* ------------------------------------------------------------------ JSON (model metadata) */

static json_t *vocab_json(const model_catf *f)
{
    json_t *o = json_object(), *v = json_array();
    json_object_set_new(o, "column", json_string(f->column));
    for (uint32_t i = 0; i < f->vocab.n; i++) json_array_append_new(v, json_string(f->vocab.str[i]));
    json_object_set_new(o, "vocabulary", v);
    return o;
}

json_t *model_featspec_to_json(const model_featspec *fs)
{
    json_t *o = json_object(), *num = json_array(), *cat = json_array(), *multi = json_array(), *text = json_array();
    for (int i = 0; i < fs->nnumcols; i++) {
        const model_numf *f = &fs->num[i];
        json_array_append_new(num, json_pack("{s:s, s:s, s:b, s:f, s:f, s:f, s:i}", "column", f->column,
                                             "role", data_role_name((data_role)f->role), "log", f->log,
                                             "mean", (double)f->mean, "std", (double)f->std, "ref", f->ref,
                                             "missing_slot", f->missing_slot));
    }
    for (int i = 0; i < fs->ncat; i++) json_array_append_new(cat, vocab_json(&fs->cat[i]));
    for (int i = 0; i < fs->nmulti; i++) json_array_append_new(multi, vocab_json(&fs->multi[i]));
    for (int i = 0; i < fs->ntext; i++) json_array_append_new(text, json_string(fs->text[i]));
    json_object_set_new(o, "numeric", num);
    json_object_set_new(o, "categorical", cat);
    json_object_set_new(o, "multi", multi);
    json_object_set_new(o, "text", text);
    return o;
}

/* Loading is strict: model.json may have been edited by hand, and every value here ends up
 * in the arithmetic of the net or in a table index. Messages name the JSON path below
 * features.<table> ("numeric[0].mean: ..."); the caller prefixes the file. */

/* Duplicate names would shift every later row or mean the same input twice. */
static int name_taken(char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], s) == 0) return 1;
    return 0;
}

static int vocab_from_json(model_catf *f, json_t *j, const char *part, size_t at, int *rows, hp_error *err)
{
    json_t *col, *voc;
    json_error_t je;
    memset(f, 0, sizeof *f);
    data_dict_init(&f->vocab);
    if (json_unpack_ex(j, &je, JSON_STRICT, "{s:o, s:o}", "column", &col, "vocabulary", &voc))
        return hp_fail(err, HP_ERR_FORMAT, "%s[%zu]: expected {\"column\", \"vocabulary\"}: %s", part, at, je.text);
    if (!json_is_string(col) || !*json_string_value(col))
        return hp_fail(err, HP_ERR_FORMAT, "%s[%zu].column: expected a non-empty column name", part, at);
    if (!json_is_array(voc))
        return hp_fail(err, HP_ERR_FORMAT, "%s[%zu].vocabulary: expected an array of strings", part, at);
    if (!(f->column = hp_strdup(json_string_value(col)))) return hp_fail(err, HP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < json_array_size(voc); i++) {
        json_t *s = json_array_get(voc, i);
        if (!json_is_string(s))
            return hp_fail(err, HP_ERR_FORMAT, "%s[%zu].vocabulary[%zu]: expected a string", part, at, i);
        int32_t code = data_dict_intern(&f->vocab, json_string_value(s), json_string_length(s));
        if (code < 0) return hp_fail(err, HP_ERR_NOMEM, "out of memory");
        if (code != (int32_t)i)
            return hp_fail(err, HP_ERR_FORMAT, "%s[%zu].vocabulary[%zu]: '%.60s' is listed twice (also [%d])", part,
                           at, i, json_string_value(s), (int)code);
    }
    if (f->vocab.n >= (uint32_t)(INT32_MAX - *rows))
        return hp_fail(err, HP_ERR_FORMAT, "%s[%zu].vocabulary: too many values", part, at);
    f->offset = *rows;
    f->size = (int)f->vocab.n + 1;
    *rows += f->size;
    return HP_OK;
}

/* A fitted scaling value: finite as the float it is kept in and within the limit fitting
 * respects (see fit_numeric), so standardising cannot overflow by itself. */
static int check_scale(double v, double lo, double hi, size_t at, const char *field, hp_error *err)
{
    if (isfinite(v) && isfinite((float)v) && v >= lo && v <= hi) return HP_OK;
    return hp_fail(err, HP_ERR_FORMAT, "numeric[%zu].%s: %g is out of range (a finite number in %g..%g)", at, field,
                   v, lo, hi);
}

static int numf_from_json(model_numf *f, json_t *j, size_t at, hp_error *err)
{
    const char *col, *role;
    int log;
    json_int_t slot;
    double mean, std, ref;
    json_error_t je;
    memset(f, 0, sizeof *f);
    if (json_unpack_ex(j, &je, JSON_STRICT, "{s:s, s:s, s:b, s:F, s:F, s:F, s:I}", "column", &col, "role", &role,
                       "log", &log, "mean", &mean, "std", &std, "ref", &ref, "missing_slot", &slot))
        return hp_fail(err, HP_ERR_FORMAT, "numeric[%zu]: expected {column, role, log, mean, std, ref, missing_slot} "
                       "of the right types: %s", at, je.text);
    int r = data_role_parse(role);
    if (!*col) return hp_fail(err, HP_ERR_FORMAT, "numeric[%zu].column: expected a non-empty column name", at);
    if (!is_numeric_role(r))
        return hp_fail(err, HP_ERR_FORMAT, "numeric[%zu].role: '%.40s' is not numeric, band or timestamp", at, role);
    int rc = check_scale(mean, -MODEL_SCALE_MAX, MODEL_SCALE_MAX, at, "mean", err);
    if (!rc) rc = check_scale(std, MODEL_STD_MIN, MODEL_SCALE_MAX, at, "std", err);
    if (!rc) rc = r == DATA_ROLE_TIMESTAMP ? check_scale(ref, -MODEL_REF_MAX, MODEL_REF_MAX, at, "ref", err)
                                          : check_scale(ref, 0, 0, at, "ref", err);
    if (!rc && (slot < -1 || slot > INT32_MAX))
        rc = hp_fail(err, HP_ERR_FORMAT, "numeric[%zu].missing_slot: %lld is not -1 or a slot number", at,
                     (long long)slot);
    if (rc) return rc;
    *f = (model_numf){ .column = hp_strdup(col), .role = r, .log = log, .mean = (float)mean,
                       .std = (float)std, .ref = ref, .missing_slot = (int)slot };
    return f->column ? HP_OK : hp_fail(err, HP_ERR_NOMEM, "out of memory");
}

/* Missing-indicator slots must be exactly nnumcols, nnumcols+1, ... in column order, as
 * finish_slots numbers them: anything else would index outside the input. */
static int check_slots(model_featspec *fs, hp_error *err)
{
    int next = fs->nnumcols;
    for (int i = 0; i < fs->nnumcols; i++) {
        int slot = fs->num[i].missing_slot;
        if (slot != -1 && slot != next)
            return hp_fail(err, HP_ERR_FORMAT, "numeric[%d].missing_slot: %d, expected -1 or %d (slots follow the "
                           "numeric columns in order)", i, slot, next);
        if (slot == next) next++;
    }
    fs->nnum = next;
    return HP_OK;
}

static int numeric_from_json(model_featspec *fs, json_t *num, hp_error *err)
{
    char **names = hp_calloc(json_array_size(num) + 1, sizeof *names);
    if (!names) return hp_fail(err, HP_ERR_NOMEM, "out of memory");
    int rc = HP_OK;
    for (size_t at = 0; !rc && at < json_array_size(num); at++) {
        rc = numf_from_json(&fs->num[at], json_array_get(num, at), at, err);
        if (rc) break;
        fs->nnumcols++;
        if (name_taken(names, at, fs->num[at].column))
            rc = hp_fail(err, HP_ERR_FORMAT, "numeric[%zu].column: '%.60s' is listed twice", at, fs->num[at].column);
        names[at] = fs->num[at].column;
    }
    hp_free(names);
    return rc ? rc : check_slots(fs, err);
}

static int vocabs_from_json(model_catf *arr, int *n, int *rows, json_t *a, const char *part, hp_error *err)
{
    for (size_t at = 0; at < json_array_size(a); at++) {
        int rc = vocab_from_json(&arr[at], json_array_get(a, at), part, at, rows, err);
        (*n)++; /* counted even on failure, so the caller frees what it holds */
        if (rc) return rc;
        for (size_t k = 0; k < at; k++)
            if (strcmp(arr[k].column, arr[at].column) == 0)
                return hp_fail(err, HP_ERR_FORMAT, "%s[%zu].column: '%.60s' is listed twice (also [%zu])", part, at,
                               arr[at].column, k);
    }
    return HP_OK;
}

static int text_from_json(model_featspec *fs, json_t *text, hp_error *err)
{
    for (size_t at = 0; at < json_array_size(text); at++) {
        json_t *s = json_array_get(text, at);
        if (!json_is_string(s) || !*json_string_value(s))
            return hp_fail(err, HP_ERR_FORMAT, "text[%zu]: expected a non-empty column name", at);
        if (name_taken(fs->text, (size_t)fs->ntext, json_string_value(s)))
            return hp_fail(err, HP_ERR_FORMAT, "text[%zu]: '%.60s' is listed twice", at, json_string_value(s));
        if (!(fs->text[at] = hp_strdup(json_string_value(s)))) return hp_fail(err, HP_ERR_NOMEM, "out of memory");
        fs->ntext++;
    }
    return HP_OK;
}

int model_featspec_from_json(model_featspec *fs, json_t *j, hp_error *err)
{
    memset(fs, 0, sizeof *fs);
    json_t *num, *cat, *multi, *text;
    json_error_t je = { .text = "" };
    if (json_unpack_ex(j, &je, JSON_STRICT, "{s:o, s:o, s:o, s:o}", "numeric", &num, "categorical", &cat, "multi",
                       &multi, "text", &text) ||
        !json_is_array(num) || !json_is_array(cat) || !json_is_array(multi) || !json_is_array(text))
        return hp_fail(err, HP_ERR_FORMAT, "expected an object of four arrays: numeric, categorical, multi, text%s%s",
                       je.text[0] ? ": " : "", je.text);
    fs->num = hp_calloc(json_array_size(num) + 1, sizeof *fs->num);
    fs->cat = hp_calloc(json_array_size(cat) + 1, sizeof *fs->cat);
    fs->multi = hp_calloc(json_array_size(multi) + 1, sizeof *fs->multi);
    fs->text = hp_calloc(json_array_size(text) + 1, sizeof *fs->text);
    int rc = fs->num && fs->cat && fs->multi && fs->text ? HP_OK : hp_fail(err, HP_ERR_NOMEM, "out of memory");
    if (!rc) rc = numeric_from_json(fs, num, err);
    if (!rc) rc = vocabs_from_json(fs->cat, &fs->ncat, &fs->cat_rows, cat, "categorical", err);
    if (!rc) rc = vocabs_from_json(fs->multi, &fs->nmulti, &fs->multi_rows, multi, "multi", err);
    if (!rc) rc = text_from_json(fs, text, err);
    if (rc) model_featspec_free(fs);
    return rc;
}
