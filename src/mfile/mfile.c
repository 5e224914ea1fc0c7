/* mfile: the model-file envelope (spec in mfile.h). */
#include "mfile/mfile.h"
#include "mfile/ckpt.h"
#include "mfile/mfile_dir.h"
#include "io/io.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const k_envelope_keys[] = { "format", "format_version", "kind", "kind_version", "weights",
                                               "weights_hash" };

/* dir/file into buf; HP_ERR_INVAL when it does not fit. */
static int join(char *buf, size_t n, const char *dir, const char *file, hp_error *err)
{
    int w = snprintf(buf, n, "%s/%s", dir, file);
    return w >= 0 && (size_t)w < n ? HP_OK : hp_fail(err, HP_ERR_INVAL, "%s/%s: path too long", dir, file);
}

/* The weights file's hash, kept in model.json: it pairs the two files, so that weights of
 * one training never load with the metadata of another. */
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

static int is_envelope_key(const char *key)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(k_envelope_keys); i++)
        if (strcmp(key, k_envelope_keys[i]) == 0) return 1;
    return 0;
}

/* ------------------------------------------------------------------ save */

static int save_files(const char *vdir, const char *kind, const nn_params *p, json_t *doc, hp_error *err)
{
    char path[4096], hash[17];
    static const char *keys[] = { "kind" };
    const char *vals[] = { kind };
    int rc = join(path, sizeof path, vdir, MFILE_WEIGHTS, err);
    if (!rc) rc = ckpt_save(path, p, keys, vals, 1, err);
    if (!rc) rc = weights_hash(path, hash, err);
    if (!rc && json_object_set_new(doc, "weights_hash", json_string(hash)))
        rc = hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", vdir);
    if (!rc) rc = join(path, sizeof path, vdir, MFILE_META, err);
    if (!rc) rc = ckpt_write_json_atomic(path, doc, err);
    return rc;
}

int mfile_save(const char *dir, const char *kind, int kind_version, const nn_params *p, json_t *body, hp_error *err)
{
    if (!json_is_object(body)) return hp_fail(err, HP_ERR_INVAL, "%s: the model's sections must be a JSON object", dir);
    json_t *doc = json_pack("{s:s, s:i, s:s, s:i, s:s}", "format", MFILE_FORMAT, "format_version",
                            MFILE_FORMAT_VERSION, "kind", kind, "kind_version", kind_version, "weights", MFILE_WEIGHTS);
    if (!doc) return hp_fail(err, HP_ERR_NOMEM, "%s: cannot build model metadata", dir);
    const char *key;
    json_t *v;
    int rc = HP_OK;
    json_object_foreach(body, key, v) {
        if (is_envelope_key(key)) {
            rc = hp_fail(err, HP_ERR_INVAL, "%s: section \"%s\" is the envelope's", dir, key);
            break;
        }
        if (json_object_set(doc, key, v)) {
            rc = hp_fail(err, HP_ERR_NOMEM, "%s: cannot build model metadata", dir);
            break;
        }
    }
    /* a new version directory, switched in whole (mfile_dir.h): a crash never pairs files of
     * two trainings, nor loses the model that was there */
    char vdir[4096], version[64];
    if (!rc) rc = mfile_dir_begin(dir, vdir, sizeof vdir, version, sizeof version, err);
    if (!rc) {
        rc = save_files(vdir, kind, p, doc, err);
        if (!rc) rc = mfile_dir_commit(dir, version, err);
        else mfile_dir_discard(vdir);
    }
    json_decref(doc);
    return rc;
}

/* ------------------------------------------------------------------ load */

static int check_keys(json_t *doc, const char *name, const mfile_kind *k, hp_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v) {
        int known = is_envelope_key(key);
        for (size_t i = 0; i < k->nkeys && !known; i++) known = strcmp(key, k->keys[i]) == 0;
        if (!known) return hp_fail(err, HP_ERR_FORMAT, "%s: %.60s: unknown key", name, key);
    }
    return HP_OK;
}

/* format, format_version, kind, kind_version; the legacy recommender format has no kind. */
static int check_format(json_t *doc, const char *name, const mfile_kind *k, int *version, hp_error *err)
{
    json_t *f = json_object_get(doc, "format"), *ver = json_object_get(doc, "format_version");
    const char *fs = json_string_value(f);
    long long fv = json_is_integer(ver) ? (long long)json_integer_value(ver) : -1;
    int legacy = fs && strcmp(fs, MFILE_LEGACY_FORMAT) == 0;
    if (!fs || (!legacy && strcmp(fs, MFILE_FORMAT) != 0))
        return hp_fail(err, HP_ERR_FORMAT, "%s: not a hyperp model (format is not \"%s\")", name, MFILE_FORMAT);
    if (legacy && (json_object_get(doc, "kind") || json_object_get(doc, "kind_version")))
        return hp_fail(err, HP_ERR_FORMAT, "%s: format \"%s\" has no kind", name, MFILE_LEGACY_FORMAT);
    if (!json_is_integer(ver)) /* not "version -1": the key is missing or of another type */
        return hp_fail(err, HP_ERR_FORMAT, "%s: format_version: expected an integer", name);
    if (fv != (legacy ? 1 : MFILE_FORMAT_VERSION))
        return hp_fail(err, HP_ERR_VERSION, "%s: model format version %lld, this build reads %d%s", name, fv,
                       legacy ? 1 : MFILE_FORMAT_VERSION, legacy ? " of \"" MFILE_LEGACY_FORMAT "\"" : "");
    if (legacy) {
        *version = 1;
        return strcmp(k->kind, "recommender") == 0
                   ? HP_OK
                   : hp_fail(err, HP_ERR_FORMAT, "%s: a recommender model, not a %s model", name, k->kind);
    }
    const char *kind = json_string_value(json_object_get(doc, "kind"));
    json_t *kv = json_object_get(doc, "kind_version");
    if (!kind || !*kind) return hp_fail(err, HP_ERR_FORMAT, "%s: kind: expected a non-empty string", name);
    if (!json_is_integer(kv)) return hp_fail(err, HP_ERR_FORMAT, "%s: kind_version: expected an integer", name);
    if (strcmp(kind, k->kind) != 0)
        return hp_fail(err, HP_ERR_FORMAT, "%s: a %.*s model, not a %s model", name, MFILE_KIND_MAX, kind, k->kind);
    if (json_integer_value(kv) < 1 || json_integer_value(kv) > k->max_version)
        return hp_fail(err, HP_ERR_VERSION, "%s: kind_version: %s %lld, this build reads 1 to %d", name, kind,
                       (long long)json_integer_value(kv), k->max_version);
    *version = (int)json_integer_value(kv);
    return HP_OK;
}

int mfile_check(json_t *doc, const char *name, const mfile_kind *k, int *version, hp_error *err)
{
    if (!json_is_object(doc)) return hp_fail(err, HP_ERR_FORMAT, "%s: not a JSON object", name);
    int rc = check_keys(doc, name, k, err);
    if (!rc) rc = check_format(doc, name, k, version, err);
    if (rc) return rc;
    json_t *w = json_object_get(doc, "weights"), *h = json_object_get(doc, "weights_hash");
    if (!json_is_string(w) || strcmp(json_string_value(w), MFILE_WEIGHTS) != 0)
        return hp_fail(err, HP_ERR_FORMAT, "%s: weights: expected \"%s\"", name, MFILE_WEIGHTS);
    if (!h) return hp_fail(err, HP_ERR_FORMAT, "%s: no \"weights_hash\" (written by an older build): retrain", name);
    const char *hs = json_string_value(h);
    if (!hs || strlen(hs) != 16 || strspn(hs, "0123456789abcdef") != 16)
        return hp_fail(err, HP_ERR_FORMAT, "%s: weights_hash: expected 16 hex digits", name);
    return HP_OK;
}

/* Every weight must be a finite number: a diverged training or a foreign writer can leave
 * NaN or infinity, which would make every score NaN. */
static int check_weights_finite(const nn_params *p, const char *path, hp_error *err)
{
    for (int t = 0; t < p->n; t++) {
        const float *x = p->data + p->t[t].offset;
        for (size_t i = 0; i < p->t[t].size; i++)
            if (!isfinite(x[i]))
                return hp_fail(err, HP_ERR_FORMAT, "%s: tensor '%s'[%zu] is %s, not a finite number (a diverged "
                               "training?)", path, p->t[t].name, i, isnan(x[i]) ? "NaN" : "infinite");
    }
    return HP_OK;
}

/* The weights file must be the one model.json was written with. */
static int check_pairing(json_t *doc, const char *wpath, const char *jpath, hp_error *err)
{
    char hash[17];
    int rc = weights_hash(wpath, hash, err);
    if (!rc && strcmp(json_string_value(json_object_get(doc, "weights_hash")), hash) != 0)
        rc = hp_fail(err, HP_ERR_FORMAT, "%s: does not belong to %s (weights_hash differs): the two files come "
                     "from different trainings", wpath, jpath);
    return rc;
}

/* The two files of base (a version directory, or an unversioned model directory). */
static int load_files(const char *base, const mfile_kind *k, void *ctx, hp_error *err)
{
    char jpath[4096], wpath[4096];
    json_t *doc = NULL;
    nn_params *params = NULL;
    int version = 0;
    int rc = join(jpath, sizeof jpath, base, MFILE_META, err);
    if (!rc) rc = join(wpath, sizeof wpath, base, MFILE_WEIGHTS, err);
    if (!rc) rc = ckpt_read_json(jpath, &doc, err);
    if (!rc) rc = mfile_check(doc, jpath, k, &version, err);
    if (!rc) rc = k->meta(ctx, doc, jpath, version, &params, err);
    if (!rc) rc = ckpt_load(wpath, params, 0, err);
    if (!rc) rc = check_weights_finite(params, wpath, err);
    if (!rc) rc = check_pairing(doc, wpath, jpath, err);
    json_decref(doc);
    return rc;
}

#define MFILE_LOAD_ATTEMPTS 20

int mfile_load(const char *dir, const mfile_kind *k, void *ctx, hp_error *err)
{
    char base[4096], version[64], again[64];
    int rc = HP_OK;
    /* a save may switch DIR/current (and remove the version being read, or turn an
     * unversioned directory into a versioned one) in the middle of a load: try again on the
     * new version then, as long as saves keep switching it */
    for (int attempt = 0; attempt < MFILE_LOAD_ATTEMPTS; attempt++) {
        version[0] = 0;
        rc = mfile_dir_resolve(dir, base, sizeof base, version, sizeof version, err);
        if (!rc) rc = load_files(base, k, ctx, err);
        if (!rc) break;
        if (k->reset) k->reset(ctx);
        hp_error tmp = { 0 };
        char b2[4096];
        if (mfile_dir_resolve(dir, b2, sizeof b2, again, sizeof again, &tmp) || !strcmp(again, version)) break;
    }
    return rc;
}

int mfile_kind_of(const char *dir, char *kind, hp_error *err)
{
    char base[4096], version[64], jpath[4096];
    json_t *doc = NULL;
    int rc = mfile_dir_resolve(dir, base, sizeof base, version, sizeof version, err);
    if (!rc) rc = join(jpath, sizeof jpath, base, MFILE_META, err);
    if (!rc) rc = ckpt_read_json(jpath, &doc, err);
    if (rc) return rc;
    const char *f = json_string_value(json_object_get(doc, "format"));
    const char *kd = json_string_value(json_object_get(doc, "kind"));
    if (f && strcmp(f, MFILE_LEGACY_FORMAT) == 0) kd = "recommender";
    else if (!f || strcmp(f, MFILE_FORMAT) != 0 || !kd || strlen(kd) >= MFILE_KIND_MAX)
        rc = hp_fail(err, HP_ERR_FORMAT, "%s: not a hyperp model (format is not \"%s\")", jpath, MFILE_FORMAT);
    if (!rc) snprintf(kind, MFILE_KIND_MAX, "%s", kd);
    json_decref(doc);
    return rc;
}
