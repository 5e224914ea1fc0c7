/* feat_json: fitted features to and from model metadata JSON (spec in feat.h). */
#include "feat/feat.h"

#include <math.h>
#include <string.h>

static json_t *vocab_json(const feat_vocab *f)
{
    json_t *o = json_object(), *v = json_array();
    json_object_set_new(o, "column", json_string(f->column));
    for (uint32_t i = 0; i < f->vocab.n; i++) json_array_append_new(v, json_string(f->vocab.str[i]));
    json_object_set_new(o, "vocabulary", v);
    return o;
}

json_t *feat_spec_to_json(const feat_spec *fs)
{
    json_t *o = json_object(), *num = json_array(), *cat = json_array(), *multi = json_array(), *text = json_array();
    for (int i = 0; i < fs->nnumcols; i++) {
        const feat_num *f = &fs->num[i];
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

static int vocab_from_json(feat_vocab *f, json_t *j, const char *part, size_t at, int *rows, hp_error *err)
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

static int numf_from_json(feat_num *f, json_t *j, size_t at, hp_error *err)
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
    if (!feat_is_numeric_role(r))
        return hp_fail(err, HP_ERR_FORMAT, "numeric[%zu].role: '%.40s' is not numeric, band or timestamp", at, role);
    int rc = check_scale(mean, -FEAT_SCALE_MAX, FEAT_SCALE_MAX, at, "mean", err);
    if (!rc) rc = check_scale(std, FEAT_STD_MIN, FEAT_SCALE_MAX, at, "std", err);
    if (!rc) rc = r == DATA_ROLE_TIMESTAMP ? check_scale(ref, -FEAT_REF_MAX, FEAT_REF_MAX, at, "ref", err)
                                          : check_scale(ref, 0, 0, at, "ref", err);
    if (!rc && (slot < -1 || slot > INT32_MAX))
        rc = hp_fail(err, HP_ERR_FORMAT, "numeric[%zu].missing_slot: %lld is not -1 or a slot number", at,
                     (long long)slot);
    if (rc) return rc;
    *f = (feat_num){ .column = hp_strdup(col), .role = r, .log = log, .mean = (float)mean,
                       .std = (float)std, .ref = ref, .missing_slot = (int)slot };
    return f->column ? HP_OK : hp_fail(err, HP_ERR_NOMEM, "out of memory");
}

/* Missing-indicator slots must be exactly nnumcols, nnumcols+1, ... in column order, as
 * finish_slots numbers them: anything else would index outside the input. */
static int check_slots(feat_spec *fs, hp_error *err)
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

static int numeric_from_json(feat_spec *fs, json_t *num, hp_error *err)
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

static int vocabs_from_json(feat_vocab *arr, int *n, int *rows, json_t *a, const char *part, hp_error *err)
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

static int text_from_json(feat_spec *fs, json_t *text, hp_error *err)
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

int feat_spec_from_json(feat_spec *fs, json_t *j, hp_error *err)
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
    if (rc) feat_spec_free(fs);
    return rc;
}
