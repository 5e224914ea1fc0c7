/* Model files: weights in safetensors (model.safetensors), everything else a scorer needs in
 * JSON (model.json): format and version, configuration, fitted features (vocabularies,
 * scaling), the catalogue's product ids and its encoded features. Both written atomically. */
#include "model/model.h"
#include "model/ckpt.h"
#include "io/io.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void join(char *buf, size_t n, const char *dir, const char *file) { snprintf(buf, n, "%s/%s", dir, file); }

/* The weights file's hash, kept in model.json: the two files are renamed one after the
 * other, so a crash between could pair new weights with old metadata; the hash tells. */
static int weights_hash(const char *path, char out[17], hp_error *err)
{
    char *buf;
    size_t len;
    int rc = io_read_file(path, &buf, &len, err);
    if (rc) return rc;
    snprintf(out, 17, "%016llx", (unsigned long long)hp_hash_bytes(buf, len));
    hp_free(buf);
    return HP_OK;
}

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

static json_t *enc_json(const model_enc *e)
{
    size_t n = (size_t)e->n;
    return json_pack("{s:i, s:i, s:i, s:o, s:o, s:o, s:o}", "n", e->n, "F", e->F, "C", e->C,
                     "num", floats_json(e->num, n * (size_t)e->F), "cat", ints_json(e->cat, n * (size_t)e->C),
                     "text_off", offs_json(e->text_off, n + 1),
                     "text_ids", ints_json(e->text_ids, (size_t)e->text_off[n]));
}

static int read_array(json_t *a, size_t n, void *out, int kind)
{
    if (!json_is_array(a) || json_array_size(a) != n) return HP_ERR_FORMAT;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (kind == 0) {
            if (!json_is_number(v)) return HP_ERR_FORMAT;
            ((float *)out)[i] = (float)json_number_value(v);
        } else {
            if (!json_is_integer(v)) return HP_ERR_FORMAT;
            if (kind == 1) ((int32_t *)out)[i] = (int32_t)json_integer_value(v);
            else ((int64_t *)out)[i] = (int64_t)json_integer_value(v);
        }
    }
    return HP_OK;
}

/* The encoded catalogue, checked against the features it must match: every count, every
 * offset and every id in range, so a corrupt or hand-edited model.json cannot make the net
 * read outside its tables. *what names the bad field. */
static int enc_from_json(model_enc *e, json_t *j, const model_featspec *fs, int buckets, int P, const char **what)
{
    memset(e, 0, sizeof *e);
    int n, F, C;
    *what = "n, F, C (must match the catalogue and its features)";
    if (json_unpack(j, "{s:i, s:i, s:i}", "n", &n, "F", &F, "C", &C) || n != P || F != fs->nnum || C != fs->ncat)
        return HP_ERR_FORMAT;
    e->n = n, e->F = F, e->C = C;
    json_t *ids = json_object_get(j, "text_ids");
    size_t nt = json_array_size(ids);
    e->num = hp_calloc((size_t)n * (size_t)F + 1, sizeof *e->num);
    e->cat = hp_calloc((size_t)n * (size_t)C + 1, sizeof *e->cat);
    e->text_off = hp_calloc((size_t)n + 1, sizeof *e->text_off);
    e->multi_off = hp_calloc((size_t)n + 1, sizeof *e->multi_off);
    e->text_ids = hp_calloc(nt + 1, sizeof *e->text_ids);
    if (!e->num || !e->cat || !e->text_off || !e->multi_off || !e->text_ids) return HP_ERR_NOMEM;
    if ((*what = "num", read_array(json_object_get(j, "num"), (size_t)n * (size_t)F, e->num, 0))) return HP_ERR_FORMAT;
    if ((*what = "cat", read_array(json_object_get(j, "cat"), (size_t)n * (size_t)C, e->cat, 1))) return HP_ERR_FORMAT;
    for (size_t i = 0; i < (size_t)n * (size_t)C; i++)
        if (e->cat[i] < 0 || e->cat[i] >= fs->cat_rows) return HP_ERR_FORMAT;
    if ((*what = "text_off", read_array(json_object_get(j, "text_off"), (size_t)n + 1, e->text_off, 2))) return HP_ERR_FORMAT;
    if (e->text_off[0] != 0 || e->text_off[n] != (int64_t)nt) return HP_ERR_FORMAT;
    for (int i = 0; i < n; i++)
        if (e->text_off[i] > e->text_off[i + 1]) return HP_ERR_FORMAT;
    if ((*what = "text_ids", read_array(ids, nt, e->text_ids, 1))) return HP_ERR_FORMAT;
    for (size_t i = 0; i < nt; i++)
        if (e->text_ids[i] < 0 || e->text_ids[i] >= buckets) return HP_ERR_FORMAT;
    for (size_t i = 0; i < (size_t)n * (size_t)F; i++)
        if (!isfinite(e->num[i])) return (*what = "num"), HP_ERR_FORMAT;
    return HP_OK;
}

/* ------------------------------------------------------------------ save */

int model_save(const char *dir, const model_net *net, const model_config *cfg, const data_table *products,
               json_t *extra, hp_error *err)
{
    char path[4096];
    json_t *ids = json_array();
    const data_column *id = &products->cols[products->id_col];
    for (size_t p = 0; p < products->nrows; p++) json_array_append_new(ids, json_string(data_col_str(id, p)));
    json_t *doc = json_pack("{s:s, s:i, s:s, s:o, s:o, s:{s:o, s:o}, s:o}", "format", MODEL_FORMAT,
                            "format_version", MODEL_FORMAT_VERSION, "weights", "model.safetensors",
                            "config", model_config_to_json(cfg), "products", ids,
                            "features", "customers", model_featspec_to_json(&net->cust_fs),
                            "products", model_featspec_to_json(&net->prod_fs), "catalogue", enc_json(&net->prod));
    if (!doc) return hp_fail(err, HP_ERR_NOMEM, "%s: cannot build model metadata", dir);
    int made = hp_mkdirs(dir, err);
    if (made) {
        json_decref(doc);
        return made;
    }
    if (extra) json_object_set(doc, "training", extra);
    static const char *keys[] = { "model" };
    const char *vals[] = { MODEL_FORMAT };
    join(path, sizeof path, dir, "model.safetensors");
    int rc = ckpt_save(path, &net->params, keys, vals, 1, err);
    char hash[17];
    if (!rc) rc = weights_hash(path, hash, err);
    if (!rc) json_object_set_new(doc, "weights_hash", json_string(hash));
    join(path, sizeof path, dir, "model.json");
    if (!rc) rc = ckpt_write_json_atomic(path, doc, err);
    json_decref(doc);
    return rc;
}

/* ------------------------------------------------------------------ load */

static int load_products(model_file *m, json_t *ids, const char *path, hp_error *err)
{
    if (!json_is_array(ids) || json_array_size(ids) == 0)
        return hp_fail(err, HP_ERR_FORMAT, "%s: \"products\" must be a non-empty array of ids", path);
    size_t P = json_array_size(ids);
    if (!(m->product_ids = hp_calloc(P, sizeof *m->product_ids))) return HP_ERR_NOMEM;
    m->nproducts = (int)P;
    for (size_t p = 0; p < P; p++) {
        json_t *s = json_array_get(ids, p);
        if (!json_is_string(s)) return hp_fail(err, HP_ERR_FORMAT, "%s: products[%zu] is not a string", path, p);
        if (!(m->product_ids[p] = hp_strdup(json_string_value(s)))) return HP_ERR_NOMEM;
    }
    return (int)P;
}

static int check_format(json_t *doc, const char *path, hp_error *err)
{
    json_t *f = json_object_get(doc, "format"), *v = json_object_get(doc, "format_version");
    if (!json_is_string(f) || strcmp(json_string_value(f), MODEL_FORMAT) != 0)
        return hp_fail(err, HP_ERR_FORMAT, "%s: not a hyperp recommender model (format is not \"%s\")", path, MODEL_FORMAT);
    if (!json_is_integer(v) || json_integer_value(v) != MODEL_FORMAT_VERSION)
        return hp_fail(err, HP_ERR_VERSION, "%s: model format version %lld, this build reads %d", path,
                       json_is_integer(v) ? (long long)json_integer_value(v) : -1LL, MODEL_FORMAT_VERSION);
    return HP_OK;
}

static int load_features(model_file *m, json_t *doc, const char *path, hp_error *err)
{
    json_t *feats = json_object_get(doc, "features");
    int rc = model_featspec_from_json(&m->net.cust_fs, json_object_get(feats, "customers"), err);
    if (rc) {
        hp_error_prefix(err, "%s: features.customers", path);
        return rc;
    }
    rc = model_featspec_from_json(&m->net.prod_fs, json_object_get(feats, "products"), err);
    if (rc) {
        hp_error_prefix(err, "%s: features.products", path);
        return rc;
    }
    const char *what = NULL;
    rc = enc_from_json(&m->net.prod, json_object_get(doc, "catalogue"), &m->net.prod_fs, m->cfg.arch.text_buckets,
                       m->nproducts, &what);
    if (rc == HP_ERR_FORMAT) return hp_fail(err, rc, "%s: catalogue.%s", path, what);
    return rc ? hp_fail(err, rc, "%s: %s", path, hp_strerror(rc)) : HP_OK;
}

/* Id rows: a product keeps its own id embedding and bias only if training saw it as a
 * positive; one that was only ever a sampled negative scores from its features, as a new
 * product does. The shared unknown row is only trained when train.id_dropout > 0; without
 * it, every known product keeps its own row. */
static int32_t id_row_of(const model_file *m, const char *id)
{
    int32_t code = data_dict_find(&m->trained, id, strlen(id));
    if (code < 0) return 0;
    return m->popularity[code] > 0 || m->cfg.train.id_dropout <= 0 ? code + 1 : 0;
}

static int load_trained_catalogue(model_file *m, hp_error *err)
{
    json_t *pop = json_object_get(json_object_get(m->meta, "training"), "popularity");
    int P = m->nproducts;
    m->popularity = hp_calloc((size_t)P + 1, sizeof *m->popularity);
    m->net.id_row = hp_malloc(((size_t)P + 1) * sizeof *m->net.id_row);
    if (!m->popularity || !m->net.id_row) return hp_fail(err, HP_ERR_NOMEM, "model: out of memory");
    for (int p = 0; p < P; p++) {
        if (data_dict_intern(&m->trained, m->product_ids[p], strlen(m->product_ids[p])) != p)
            return hp_fail(err, HP_ERR_FORMAT, "model.json: products[%d] '%s' is listed twice", p, m->product_ids[p]);
        json_t *c = json_array_get(pop, (size_t)p);
        m->popularity[p] = json_is_integer(c) ? (long)json_integer_value(c) : 1; /* unknown: trust the id */
    }
    for (int p = 0; p < P; p++) m->net.id_row[p] = id_row_of(m, m->product_ids[p]);
    return HP_OK;
}

int model_set_catalogue(model_file *m, const data_table *products, hp_error *err)
{
    model_enc enc;
    int rc = model_feat_encode(&m->net.prod_fs, products, &m->net.arch, &enc, err);
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
        model_enc_free(&enc);
        return hp_fail(err, rc, "catalogue: out of memory");
    }
    for (int p = 0; p < m->nproducts; p++) hp_free(m->product_ids[p]);
    hp_free(m->product_ids);
    hp_free(m->net.id_row);
    model_enc_free(&m->net.prod);
    m->product_ids = ids;
    m->nproducts = (int)P;
    m->net.id_row = rows;
    m->net.prod = enc;
    m->net.P = (int)P;
    int fresh = 0;
    for (size_t p = 0; p < P; p++) fresh += data_dict_find(&m->trained, ids[p], strlen(ids[p])) < 0;
    return fresh;
}

int model_load(const char *dir, model_file *m, hp_error *err)
{
    char path[4096];
    memset(m, 0, sizeof *m);
    data_dict_init(&m->trained);
    model_config_defaults(&m->cfg);
    join(path, sizeof path, dir, "model.json");
    int rc = ckpt_read_json(path, &m->meta, err);
    if (!rc) rc = check_format(m->meta, path, err);
    json_t *config = rc ? NULL : json_object_get(m->meta, "config");
    char where[4200];
    snprintf(where, sizeof where, "%s: config", path);
    if (!rc && !json_is_object(config)) rc = hp_fail(err, HP_ERR_FORMAT, "%s: \"config\" is missing or not an object", path);
    if (!rc) rc = model_config_from_json(&m->cfg, config, where, NULL, err);
    int P = rc ? 0 : load_products(m, json_object_get(m->meta, "products"), path, err);
    if (P < 0) rc = P;
    if (!rc) rc = load_features(m, m->meta, path, err);
    if (!rc && m->net.prod.n != P)
        rc = hp_fail(err, HP_ERR_FORMAT, "%s: the catalogue has %d encoded products but %d ids", path, m->net.prod.n, P);
    if (!rc) rc = model_net_init(&m->net, &m->cfg.arch, P, err);
    if (!rc) rc = load_trained_catalogue(m, err);
    join(path, sizeof path, dir, "model.safetensors");
    if (!rc) rc = ckpt_load(path, &m->net.params, 0, err);
    char hash[17];
    json_t *want = json_object_get(m->meta, "weights_hash");
    if (!rc) rc = weights_hash(path, hash, err);
    if (!rc && !json_is_string(want))
        rc = hp_fail(err, HP_ERR_FORMAT, "%s/model.json: no \"weights_hash\" (written by an older build): retrain", dir);
    if (!rc && strcmp(json_string_value(want), hash) != 0)
        rc = hp_fail(err, HP_ERR_FORMAT, "%s: does not belong to %s/model.json (weights_hash differs): "
                     "the two files come from different trainings", path, dir);
    if (rc) model_file_free(m);
    return rc;
}

void model_file_free(model_file *m)
{
    for (int p = 0; m->product_ids && p < m->nproducts; p++) hp_free(m->product_ids[p]);
    hp_free(m->product_ids);
    hp_free(m->popularity);
    data_dict_free(&m->trained);
    model_net_free(&m->net);
    model_config_free(&m->cfg);
    json_decref(m->meta);
    memset(m, 0, sizeof *m);
}
