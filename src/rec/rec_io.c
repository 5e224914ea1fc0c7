/* The recommender's model files, in the envelope of mfile.h (kind "recommender"): the
 * weights, and in model.json the configuration, fitted features (vocabularies, scaling),
 * the catalogue's product ids and its encoded features, and facts of the training. */
#include "rec/rec.h"
#include "mfile/mfile.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ encoded catalogue <-> JSON */

static json_t *floats_json(const float *x, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_real((double)x[i]));
    return a;
}

static json_t *ints_json(const int32_t *x, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_integer(x[i]));
    return a;
}

static json_t *offs_json(const int64_t *x, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_integer((json_int_t)x[i]));
    return a;
}

static json_t *enc_json(const feat_enc *e)
{
    size_t n = (size_t)e->n;
    return json_pack("{s:i, s:i, s:i, s:o, s:o, s:o, s:o}", "n", e->n, "F", e->F, "C", e->C,
                     "num", floats_json(e->num, n * (size_t)e->F), "cat", ints_json(e->cat, n * (size_t)e->C),
                     "text_off", offs_json(e->text_off, n + 1),
                     "text_ids", ints_json(e->text_ids, (size_t)e->text_off[n]));
}

/* Reads n numbers (kind 0: finite floats within FEAT_SCALE_MAX), int32s (1) or int64s (2)
 * in lo..hi into out; on failure *bad is the index of the offending element. */
static int read_array(json_t *a, size_t n, void *out, int kind, int64_t lo, int64_t hi, size_t *bad)
{
    *bad = 0;
    if (!json_is_array(a) || json_array_size(a) != n) return HP_ERR_FORMAT;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        *bad = i;
        if (kind == 0) {
            double x = json_is_number(v) ? json_number_value(v) : NAN;
            if (!isfinite(x) || fabs(x) > FEAT_SCALE_MAX) return HP_ERR_FORMAT;
            ((float *)out)[i] = (float)x;
            continue;
        }
        if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) return HP_ERR_FORMAT;
        if (kind == 1) ((int32_t *)out)[i] = (int32_t)json_integer_value(v);
        else ((int64_t *)out)[i] = (int64_t)json_integer_value(v);
    }
    return HP_OK;
}

/* catalogue.<field>[i] (or the whole field when it is not an array of the right length). */
static int enc_fail(hp_error *err, const char *field, json_t *a, size_t n, size_t i, const char *what)
{
    if (!json_is_array(a) || json_array_size(a) != n)
        return hp_fail(err, HP_ERR_FORMAT, "catalogue.%s: expected an array of %zu %s", field, n, what);
    return hp_fail(err, HP_ERR_FORMAT, "catalogue.%s[%zu]: expected %s", field, i, what);
}

static int enc_alloc(feat_enc *e, size_t nt)
{
    size_t n = (size_t)e->n;
    e->num = hp_calloc(n * (size_t)e->F + 1, sizeof *e->num);
    e->cat = hp_calloc(n * (size_t)e->C + 1, sizeof *e->cat);
    e->text_off = hp_calloc(n + 1, sizeof *e->text_off);
    e->multi_off = hp_calloc(n + 1, sizeof *e->multi_off);
    e->text_ids = hp_calloc(nt + 1, sizeof *e->text_ids);
    return e->num && e->cat && e->text_off && e->multi_off && e->text_ids ? HP_OK : HP_ERR_NOMEM;
}

/* The encoded catalogue, checked against the features it must match: every count, every
 * offset and every id in range, every number finite, so a corrupt or hand-edited model.json
 * cannot make the net read outside its tables. Messages start "catalogue.<field>". */
static int enc_from_json(feat_enc *e, json_t *j, const feat_spec *fs, int buckets, int P, hp_error *err)
{
    memset(e, 0, sizeof *e);
    json_int_t n, F, C;
    json_t *num, *cat, *off, *ids;
    json_error_t je;
    if (json_unpack_ex(j, &je, JSON_STRICT, "{s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "n", &n, "F", &F, "C", &C, "num",
                       &num, "cat", &cat, "text_off", &off, "text_ids", &ids))
        return hp_fail(err, HP_ERR_FORMAT, "catalogue: expected {n, F, C, num, cat, text_off, text_ids}: %s", je.text);
    if (n != P || F != fs->nnum || C != fs->ncat)
        return hp_fail(err, HP_ERR_FORMAT, "catalogue.n, F, C are %lld, %lld, %lld; the catalogue and its features "
                       "need %d, %d, %d", (long long)n, (long long)F, (long long)C, P, fs->nnum, fs->ncat);
    e->n = (int)n, e->F = (int)F, e->C = (int)C;
    size_t nt = json_array_size(ids), bad, nnum = (size_t)n * (size_t)F, ncat = (size_t)n * (size_t)C;
    if (enc_alloc(e, nt)) return hp_fail(err, HP_ERR_NOMEM, "catalogue: out of memory");
    if (read_array(num, nnum, e->num, 0, 0, 0, &bad))
        return enc_fail(err, "num", num, nnum, bad, "finite numbers within 1e15 (scaled features)");
    if (read_array(cat, ncat, e->cat, 1, 0, fs->cat_rows - 1, &bad))
        return enc_fail(err, "cat", cat, ncat, bad, "rows of the categorical table (0..cat_rows-1)");
    if (read_array(off, (size_t)n + 1, e->text_off, 2, 0, (int64_t)nt, &bad))
        return enc_fail(err, "text_off", off, (size_t)n + 1, bad, "offsets into text_ids");
    if (e->text_off[0] != 0 || e->text_off[n] != (int64_t)nt)
        return hp_fail(err, HP_ERR_FORMAT, "catalogue.text_off: must start at 0 and end at %zu (the size of text_ids)", nt);
    for (json_int_t i = 0; i < n; i++)
        if (e->text_off[i] > e->text_off[i + 1])
            return hp_fail(err, HP_ERR_FORMAT, "catalogue.text_off[%lld]: offsets must not decrease", (long long)i + 1);
    if (read_array(ids, nt, e->text_ids, 1, 0, buckets - 1, &bad))
        return enc_fail(err, "text_ids", ids, nt, bad, "text buckets (0..model.text_buckets-1)");
    return HP_OK;
}

/* ------------------------------------------------------------------ save */

/* A products table's column `name` as strings (text or categorical), or NULL. */
static const data_column *info_column(const data_table *t, const char *name)
{
    const data_column *c = data_table_col_named(t, name);
    return c && (c->role == DATA_ROLE_TEXT || c->code) ? c : NULL;
}

static const char *info_value(const data_column *c, size_t row)
{
    if (!c) return NULL;
    const char *v = c->role == DATA_ROLE_TEXT ? data_col_text(c, row) : data_col_str(c, row);
    return v && *v ? v : NULL;
}

/* product_info: {"name": [...], "category": [...]}, null where a product has none. */
static json_t *product_info_json(const data_table *products)
{
    const data_column *nc = info_column(products, "name"), *cc = info_column(products, "category");
    json_t *names = json_array(), *cats = json_array();
    for (size_t p = 0; p < products->nrows; p++) {
        const char *n = info_value(nc, p), *c = info_value(cc, p);
        json_array_append_new(names, n ? json_string(n) : json_null());
        json_array_append_new(cats, c ? json_string(c) : json_null());
    }
    return json_pack("{s:o, s:o}", "name", names, "category", cats);
}

static void free_strings(char **v, int n)
{
    for (int i = 0; v && i < n; i++) hp_free(v[i]);
    hp_free(v);
}

/* Each product's name and category from a products table (rec_set_catalogue). */
static int info_from_table(rec_model *m, const data_table *products)
{
    const data_column *nc = info_column(products, "name"), *cc = info_column(products, "category");
    size_t P = products->nrows;
    char **names = hp_calloc(P + 1, sizeof *names), **cats = hp_calloc(P + 1, sizeof *cats);
    int rc = names && cats ? HP_OK : HP_ERR_NOMEM;
    for (size_t p = 0; !rc && p < P; p++) {
        const char *n = info_value(nc, p), *c = info_value(cc, p);
        if ((n && !(names[p] = hp_strdup(n))) || (c && !(cats[p] = hp_strdup(c)))) rc = HP_ERR_NOMEM;
    }
    if (rc) {
        free_strings(names, (int)P);
        free_strings(cats, (int)P);
        return rc;
    }
    free_strings(m->product_name, m->nproducts);
    free_strings(m->product_category, m->nproducts);
    m->product_name = names;
    m->product_category = cats;
    return HP_OK;
}

/* product_info of model.json (absent in files of earlier builds: no names). */
static int load_product_info(rec_model *m, const char *path, hp_error *err)
{
    int P = m->nproducts;
    m->product_name = hp_calloc((size_t)P + 1, sizeof *m->product_name);
    m->product_category = hp_calloc((size_t)P + 1, sizeof *m->product_category);
    if (!m->product_name || !m->product_category) return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", path);
    json_t *info = json_object_get(m->meta, "product_info");
    if (!info) return HP_OK;
    static const char *const keys[] = { "name", "category" };
    char **dst[] = { m->product_name, m->product_category };
    if (!json_is_object(info) || json_object_size(info) != 2)
        return hp_fail(err, HP_ERR_FORMAT, "%s: product_info: expected {\"name\": [...], \"category\": [...]}", path);
    for (int k = 0; k < 2; k++) {
        json_t *a = json_object_get(info, keys[k]);
        if (!json_is_array(a) || json_array_size(a) != (size_t)P)
            return hp_fail(err, HP_ERR_FORMAT, "%s: product_info.%s: expected an array of %d strings or nulls", path,
                           keys[k], P);
        for (int p = 0; p < P; p++) {
            json_t *v = json_array_get(a, (size_t)p);
            if (json_is_null(v)) continue;
            if (!json_is_string(v) || !*json_string_value(v))
                return hp_fail(err, HP_ERR_FORMAT, "%s: product_info.%s[%d]: expected a non-empty string or null", path,
                               keys[k], p);
            if (!(dst[k][p] = hp_strdup(json_string_value(v)))) return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", path);
        }
    }
    return HP_OK;
}

int rec_save(const char *dir, const rec_net *net, const rec_config *cfg, const data_table *products,
             json_t *extra, hp_error *err)
{
    json_t *ids = json_array();
    const data_column *id = &products->cols[products->id_col];
    for (size_t p = 0; p < products->nrows; p++) json_array_append_new(ids, json_string(data_col_str(id, p)));
    json_t *body = json_pack("{s:o, s:o, s:o, s:{s:o, s:o}, s:o}", "config", rec_config_to_json(cfg), "products", ids,
                             "product_info", product_info_json(products),
                             "features", "customers", feat_spec_to_json(&net->cust_fs),
                             "products", feat_spec_to_json(&net->prod_fs), "catalogue", enc_json(&net->prod));
    if (!body || (extra && json_object_set(body, "training", extra))) {
        json_decref(body);
        return hp_fail(err, HP_ERR_NOMEM, "%s: cannot build model metadata", dir);
    }
    int rc = mfile_save(dir, REC_KIND, REC_KIND_VERSION, &net->params, body, err);
    json_decref(body);
    return rc;
}

/* ------------------------------------------------------------------ load */

/* The sections of a recommender's model.json (beside the envelope's keys). */
static const char *const k_sections[] = { "config", "products", "product_info", "features", "catalogue", "training" };

static int load_products(rec_model *m, json_t *ids, const char *path, hp_error *err)
{
    if (!json_is_array(ids) || json_array_size(ids) == 0 || json_array_size(ids) > INT32_MAX / 2)
        return hp_fail(err, HP_ERR_FORMAT, "%s: products: must be a non-empty array of ids", path);
    size_t P = json_array_size(ids);
    if (!(m->product_ids = hp_calloc(P, sizeof *m->product_ids))) return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", path);
    m->nproducts = (int)P;
    for (size_t p = 0; p < P; p++) {
        json_t *s = json_array_get(ids, p);
        if (!json_is_string(s) || !*json_string_value(s))
            return hp_fail(err, HP_ERR_FORMAT, "%s: products[%zu]: expected a non-empty product id", path, p);
        if (!(m->product_ids[p] = hp_strdup(json_string_value(s)))) return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", path);
    }
    return HP_OK;
}

static int load_features(rec_model *m, json_t *doc, const char *path, hp_error *err)
{
    json_t *feats = json_object_get(doc, "features");
    json_error_t je;
    json_t *cust, *prod;
    if (json_unpack_ex(feats, &je, JSON_STRICT, "{s:o, s:o}", "customers", &cust, "products", &prod))
        return hp_fail(err, HP_ERR_FORMAT, "%s: features: expected {\"customers\", \"products\"}: %s", path, je.text);
    int rc = feat_spec_from_json(&m->net.cust_fs, cust, err);
    if (rc) {
        hp_error_prefix(err, "%s: features.customers", path);
        return rc;
    }
    rc = feat_spec_from_json(&m->net.prod_fs, prod, err);
    if (rc) {
        hp_error_prefix(err, "%s: features.products", path);
        return rc;
    }
    rc = enc_from_json(&m->net.prod, json_object_get(doc, "catalogue"), &m->net.prod_fs, m->cfg.arch.text_buckets,
                       m->nproducts, err);
    if (rc) hp_error_prefix(err, "%s", path);
    return rc;
}

/* Id rows: a product keeps its own id embedding and bias only if training saw it as a
 * positive; one that was only ever a sampled negative scores from its features, as a new
 * product does. The shared unknown row is only trained when train.id_dropout > 0; without
 * it, every known product keeps its own row. */
static int32_t id_row_of(const rec_model *m, const char *id)
{
    int32_t code = data_dict_find(&m->trained, id, strlen(id));
    if (code < 0) return 0;
    return m->popularity[code] > 0 || m->cfg.train.id_dropout <= 0 ? code + 1 : 0;
}

/* training.popularity: absent (a model saved without training facts: every id is trusted),
 * or one count >= 0 per product. */
static int read_popularity(rec_model *m, const char *path, hp_error *err)
{
    json_t *tr = json_object_get(m->meta, "training");
    if (tr && !json_is_object(tr)) return hp_fail(err, HP_ERR_FORMAT, "%s: training: expected an object", path);
    json_t *pop = json_object_get(tr, "popularity");
    int P = m->nproducts;
    if (pop && (!json_is_array(pop) || json_array_size(pop) != (size_t)P))
        return hp_fail(err, HP_ERR_FORMAT, "%s: training.popularity: expected an array of %d counts", path, P);
    for (int p = 0; p < P; p++) {
        json_t *c = json_array_get(pop, (size_t)p);
        if (pop && (!json_is_integer(c) || json_integer_value(c) < 0 || json_integer_value(c) > LONG_MAX))
            return hp_fail(err, HP_ERR_FORMAT, "%s: training.popularity[%d]: expected a count >= 0", path, p);
        m->popularity[p] = pop ? (long)json_integer_value(c) : 1;
    }
    return HP_OK;
}

static int load_trained_catalogue(rec_model *m, const char *path, hp_error *err)
{
    int P = m->nproducts;
    m->popularity = hp_calloc((size_t)P + 1, sizeof *m->popularity);
    m->net.id_row = hp_malloc(((size_t)P + 1) * sizeof *m->net.id_row);
    if (!m->popularity || !m->net.id_row) return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", path);
    for (int p = 0; p < P; p++) {
        int32_t code = data_dict_intern(&m->trained, m->product_ids[p], strlen(m->product_ids[p]));
        if (code < 0) return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", path);
        if (code != p)
            return hp_fail(err, HP_ERR_FORMAT, "%s: products[%d]: '%.60s' is listed twice (also [%d])", path, p,
                           m->product_ids[p], (int)code);
    }
    int rc = read_popularity(m, path, err);
    for (int p = 0; !rc && p < P; p++) m->net.id_row[p] = id_row_of(m, m->product_ids[p]);
    return rc;
}

static void rec_model_init(rec_model *m)
{
    memset(m, 0, sizeof *m);
    data_dict_init(&m->trained);
    rec_config_defaults(&m->cfg);
}

/* Everything in model.json, validated: what rec_meta_load promises. */
static int load_meta(rec_model *m, const char *name, hp_error *err)
{
    char where[4200];
    int rc = HP_OK;
    json_t *config = json_object_get(m->meta, "config");
    snprintf(where, sizeof where, "%s: config", name);
    if (!rc && !json_is_object(config)) rc = hp_fail(err, HP_ERR_FORMAT, "%s: \"config\" is missing or not an object", name);
    if (!rc) rc = rec_config_from_json(&m->cfg, config, where, NULL, err);
    if (!rc) rc = load_products(m, json_object_get(m->meta, "products"), name, err);
    if (!rc) rc = load_product_info(m, name, err);
    if (!rc) rc = load_features(m, m->meta, name, err);
    if (!rc) rc = load_trained_catalogue(m, name, err);
    return rc;
}

static int recommender_meta(void *ctx, json_t *doc, const char *jpath, int version, nn_params **params,
                            hp_error *err)
{
    (void)version; /* 1: the only layout so far */
    rec_model *m = ctx;
    m->meta = json_incref(doc);
    int rc = load_meta(m, jpath, err);
    if (!rc) rc = rec_net_init(&m->net, &m->cfg.arch, m->nproducts, err);
    *params = &m->net.params;
    return rc;
}

static void recommender_reset(void *ctx)
{
    rec_model_free(ctx);
    rec_model_init(ctx);
}

static const mfile_kind k_recommender = { .kind = REC_KIND, .max_version = REC_KIND_VERSION, .keys = k_sections,
                                          .nkeys = HP_ARRAY_LEN(k_sections), .meta = recommender_meta,
                                          .reset = recommender_reset };

int rec_meta_load(rec_model *m, json_t *doc, const char *name, hp_error *err)
{
    rec_model_init(m);
    int version;
    int rc = mfile_check(doc, name, &k_recommender, &version, err);
    if (rc) return rc;
    m->meta = json_incref(doc);
    return load_meta(m, name, err);
}

int rec_load(const char *dir, rec_model *m, hp_error *err)
{
    rec_model_init(m);
    int rc = mfile_load(dir, &k_recommender, m, err);
    if (rc) rec_model_free(m);
    if (!rc && !(m->dir = hp_strdup(dir))) {
        rec_model_free(m);
        rc = hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", dir);
    }
    return rc;
}

int rec_set_catalogue(rec_model *m, const data_table *products, hp_error *err)
{
    feat_enc enc;
    feat_opts fo = rec_feat_opts(&m->net.arch);
    int rc = feat_encode(&m->net.prod_fs, products, &fo, &enc, err);
    if (rc) return rc;
    size_t P = products->nrows;
    char **ids = hp_calloc(P + 1, sizeof *ids);
    int32_t *rows = hp_malloc((P + 1) * sizeof *rows);
    rc = ids && rows ? HP_OK : HP_ERR_NOMEM;
    for (size_t p = 0; !rc && p < P; p++) {
        const char *id = data_col_str(&products->cols[products->id_col], p);
        if (!(ids[p] = hp_strdup(id))) rc = HP_ERR_NOMEM;
        else rows[p] = id_row_of(m, id);
    }
    if (rc) {
        for (size_t p = 0; ids && p < P; p++) hp_free(ids[p]);
        hp_free(ids);
        hp_free(rows);
        feat_enc_free(&enc);
        return hp_fail(err, rc, "catalogue: out of memory");
    }
    /* the last step that can fail, before anything of m is replaced: names and ids change together */
    if ((rc = info_from_table(m, products))) {
        for (size_t p = 0; p < P; p++) hp_free(ids[p]);
        hp_free(ids);
        hp_free(rows);
        feat_enc_free(&enc);
        return hp_fail(err, rc, "catalogue: out of memory");
    }
    for (int p = 0; p < m->nproducts; p++) hp_free(m->product_ids[p]);
    hp_free(m->product_ids);
    hp_free(m->net.id_row);
    feat_enc_free(&m->net.prod);
    m->product_ids = ids;
    m->nproducts = (int)P;
    m->net.id_row = rows;
    m->net.prod = enc;
    m->net.P = (int)P;
    int fresh = 0;
    for (size_t p = 0; p < P; p++) fresh += data_dict_find(&m->trained, ids[p], strlen(ids[p])) < 0;
    return fresh;
}

int rec_model_data_source(const rec_model *m, const char **config, const char **data_dir, hp_error *err)
{
    *config = *data_dir = NULL;
    json_t *d = json_object_get(json_object_get(m->meta, "training"), "data");
    if (!d) return HP_OK;
    json_t *c = json_object_get(d, "config"), *dir = json_object_get(d, "data_dir");
    if (!json_is_object(d) || (c && !json_is_null(c) && !json_is_string(c)) ||
        (dir && !json_is_null(dir) && !json_is_string(dir)))
        return hp_fail(err, HP_ERR_FORMAT, "%s/model.json: training.data: expected {\"config\": path or null, "
                       "\"data_dir\": path or null}", m->dir ? m->dir : ".");
    *config = json_string_value(c);
    *data_dir = json_string_value(dir);
    return HP_OK;
}

json_t *rec_model_data_files(const rec_model *m)
{
    json_t *f = json_object_get(json_object_get(json_object_get(m->meta, "training"), "data"), "files");
    return json_is_array(f) ? f : NULL;
}

void rec_model_free(rec_model *m)
{
    free_strings(m->product_name, m->nproducts);
    free_strings(m->product_category, m->nproducts);
    for (int p = 0; m->product_ids && p < m->nproducts; p++) hp_free(m->product_ids[p]);
    hp_free(m->product_ids);
    hp_free(m->popularity);
    data_dict_free(&m->trained);
    rec_net_free(&m->net);
    rec_config_free(&m->cfg);
    json_decref(m->meta);
    hp_free(m->dir);
    memset(m, 0, sizeof *m);
}
