/* Model, training, split and evaluation settings: defaults, then the config's sections,
 * parsed strictly (an unknown key names its JSON path). */
#include "rec/rec.h"
#include "data/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void rec_config_defaults(rec_config *c)
{
    memset(c, 0, sizeof *c);
    c->arch = (rec_arch){ .dim = 32, .hidden = 64, .text_buckets = 1 << 15, .max_tokens = 64 };
    for (int m = 0; m < REC_MOD_COUNT; m++) c->arch.enabled[m] = 1;
    c->train = (rec_train_cfg){ .loss = REC_LOSS_SOFTMAX, .negatives = 32, .epochs = 30, .batch = 256,
                                  .lr = 3e-3f, .lr_min = 1e-4f, .weight_decay = 1e-4f, .clip = 5.0f,
                                  .id_dropout = 0.2f, .dropout = 0.1f, .patience = 4, .warmup = 100,
                                  .seed = 42, .threads = 1 };
    c->split = (rec_split_cfg){ .method = REC_SPLIT_CUSTOMER, .test_fraction = 0.2f, .valid_fraction = 0.1f,
                                  .seed = 7 };
    c->eval.k = 10;
    c->eval.ease_max_items = 10000;
}

static void free_list(char **l, int n)
{
    for (int i = 0; i < n; i++) hp_free(l[i]);
    hp_free(l);
}

void rec_config_free(rec_config *c)
{
    free_list(c->train.positive_kinds, c->train.npositive_kinds);
    free_list(c->split.target_kinds, c->split.ntarget_kinds);
    hp_free(c->split.folds_file);
    hp_free(c->split.hidden_file);
    hp_free(c->split.test_file);
    hp_free(c->split.cut);
    hp_free(c->split.valid_cut);
    hp_free(c->eval.oracle_file);
    hp_free(c->eval.out_dir);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------------ typed readers */

typedef struct {
    const char *where;      /* "config.json: train" */
    const char *base_dir;
    hp_error *err;
} rd;

static int bad(rd *r, const char *key, const char *what)
{
    return hp_fail(r->err, HP_ERR_INVAL, "%s.%s: %s", r->where, key, what);
}

static int rd_int(rd *r, json_t *o, const char *key, int lo, int hi, int *out)
{
    json_t *v = json_object_get(o, key);
    if (!v) return HP_OK;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        char msg[96];
        snprintf(msg, sizeof msg, "expected an integer in %d..%d", lo, hi);
        return bad(r, key, msg);
    }
    *out = (int)json_integer_value(v);
    return HP_OK;
}

static int rd_float(rd *r, json_t *o, const char *key, double lo, double hi, float *out)
{
    json_t *v = json_object_get(o, key);
    if (!v) return HP_OK;
    if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi) {
        char msg[96];
        snprintf(msg, sizeof msg, "expected a number in %g..%g", lo, hi);
        return bad(r, key, msg);
    }
    *out = (float)json_number_value(v);
    return HP_OK;
}

/* Paths are made absolute (relative ones from base_dir, then from the working directory),
 * so a model trained here can be evaluated from anywhere. */
static int rd_path(rd *r, json_t *o, const char *key, char **out)
{
    json_t *v = json_object_get(o, key);
    if (!v) return HP_OK;
    if (!json_is_string(v)) return bad(r, key, "expected a path");
    const char *s = json_string_value(v), *base = r->base_dir && *r->base_dir ? r->base_dir : ".";
    char cwd[4096] = "";
    if (s[0] != '/' && base[0] != '/' && !getcwd(cwd, sizeof cwd)) cwd[0] = 0;
    hp_free(*out);
    size_t n = strlen(cwd) + strlen(base) + strlen(s) + 3;
    if (s[0] == '/') *out = hp_strdup(s);
    else if ((*out = hp_malloc(n))) snprintf(*out, n, "%s%s%s/%s", cwd, cwd[0] ? "/" : "", base, s);
    return *out ? HP_OK : HP_ERR_NOMEM;
}

/* Index of the first element before i of array a equal to the string s, or -1. */
static int earlier_copy(json_t *a, size_t i, const char *s)
{
    for (size_t k = 0; k < i; k++)
        if (strcmp(json_string_value(json_array_get(a, k)), s) == 0) return (int)k;
    return -1;
}

/* An array of distinct non-empty strings (an empty array is fine: "none"). */
static int rd_list(rd *r, json_t *o, const char *key, char ***out, int *n)
{
    json_t *v = json_object_get(o, key);
    if (!v) return HP_OK;
    if (!json_is_array(v)) return bad(r, key, "expected an array of strings");
    free_list(*out, *n);
    *n = 0;
    *out = hp_calloc(json_array_size(v) + 1, sizeof **out);
    if (!*out) return HP_ERR_NOMEM;
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *s = json_array_get(v, i);
        char msg[160];
        if (!json_is_string(s) || !*json_string_value(s)) {
            snprintf(msg, sizeof msg, "[%zu] is not a non-empty string", i);
            return bad(r, key, msg);
        }
        int dup = earlier_copy(v, i, json_string_value(s));
        if (dup >= 0) {
            snprintf(msg, sizeof msg, "[%zu] '%.80s' is listed twice (also [%d])", i, json_string_value(s), dup);
            return bad(r, key, msg);
        }
        if (!((*out)[(*n)++] = hp_strdup(json_string_value(s)))) return HP_ERR_NOMEM;
    }
    return HP_OK;
}

static int rd_enum(rd *r, json_t *o, const char *key, const char *const *names, int n, int *out)
{
    json_t *v = json_object_get(o, key);
    if (!v) return HP_OK;
    for (int i = 0; json_is_string(v) && i < n; i++)
        if (strcmp(json_string_value(v), names[i]) == 0) { *out = i; return HP_OK; }
    char msg[160] = "expected one of:";
    for (int i = 0; i < n; i++) snprintf(msg + strlen(msg), sizeof msg - strlen(msg), " \"%s\"", names[i]);
    return bad(r, key, msg);
}

static int check_keys(rd *r, json_t *o, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++) ok |= strcmp(*a, key) == 0;
        if (!ok) return bad(r, key, "unknown key");
    }
    return HP_OK;
}

/* ------------------------------------------------------------------ sections */

/* A non-empty list of distinct encoder names: a model without any encoder has nothing to
 * score from, and a name given twice is a typo for another one. */
static int parse_encoders(rd *r, json_t *enc, rec_arch *a)
{
    if (!json_is_array(enc)) return bad(r, "encoders", "expected an array of encoder names");
    if (json_array_size(enc) == 0)
        return bad(r, "encoders", "is empty: name at least one of numeric, categorical, interests, text, history");
    for (int m = 0; m < REC_MOD_COUNT; m++) a->enabled[m] = 0;
    for (size_t i = 0; i < json_array_size(enc); i++) {
        json_t *s = json_array_get(enc, i);
        char msg[160];
        int found = -1;
        for (int m = 0; json_is_string(s) && m < REC_MOD_COUNT; m++)
            if (strcmp(json_string_value(s), rec_modality_name(m)) == 0) found = m;
        if (found < 0) {
            snprintf(msg, sizeof msg, "[%zu] is not an encoder (numeric, categorical, interests, text, history)", i);
            return bad(r, "encoders", msg);
        }
        if (a->enabled[found]) {
            snprintf(msg, sizeof msg, "[%zu] '%s' is listed twice", i, rec_modality_name(found));
            return bad(r, "encoders", msg);
        }
        a->enabled[found] = 1;
    }
    return HP_OK;
}

static int parse_arch(rd *r, json_t *o, rec_arch *a)
{
    static const char *const keys[] = { "dim", "hidden", "text_buckets", "max_tokens", "encoders",
                                        "include_protected", NULL };
    int rc = check_keys(r, o, keys);
    if (!rc) rc = rd_int(r, o, "dim", 2, 1024, &a->dim);
    if (!rc) rc = rd_int(r, o, "hidden", 1, 4096, &a->hidden);
    if (!rc) rc = rd_int(r, o, "text_buckets", 16, 1 << 24, &a->text_buckets);
    if (!rc && (a->text_buckets & (a->text_buckets - 1))) rc = bad(r, "text_buckets", "must be a power of two");
    if (!rc) rc = rd_int(r, o, "max_tokens", 1, 4096, &a->max_tokens);
    json_t *ip = json_object_get(o, "include_protected");
    if (!rc && ip) {
        if (!json_is_boolean(ip)) rc = bad(r, "include_protected", "expected true or false");
        else a->include_protected = json_is_true(ip);
    }
    json_t *enc = json_object_get(o, "encoders");
    if (!rc && enc) rc = parse_encoders(r, enc, a);
    return rc;
}

static int parse_train(rd *r, json_t *o, rec_train_cfg *t)
{
    static const char *const keys[] = { "loss", "negatives", "epochs", "batch", "lr", "lr_min", "weight_decay",
                                        "clip", "id_dropout", "dropout", "patience", "warmup", "seed",
                                        "threads", "positive_kinds", NULL };
    static const char *const losses[] = { "softmax", "bpr", "bce" };
    int loss = (int)t->loss, seed = (int)t->seed;
    int rc = check_keys(r, o, keys);
    if (!rc) rc = rd_enum(r, o, "loss", losses, 3, &loss);
    if (!rc) rc = rd_int(r, o, "negatives", 1, 100000, &t->negatives);
    if (!rc) rc = rd_int(r, o, "epochs", 1, 100000, &t->epochs);
    if (!rc) rc = rd_int(r, o, "batch", 1, 65536, &t->batch);
    if (!rc) rc = rd_float(r, o, "lr", 1e-7, 10, &t->lr);
    if (!rc) rc = rd_float(r, o, "lr_min", 0, 10, &t->lr_min);
    if (!rc) rc = rd_float(r, o, "weight_decay", 0, 10, &t->weight_decay);
    if (!rc) rc = rd_float(r, o, "clip", 0, 1e6, &t->clip);
    if (!rc) rc = rd_float(r, o, "id_dropout", 0, 0.99, &t->id_dropout);
    if (!rc) rc = rd_float(r, o, "dropout", 0, 0.99, &t->dropout);
    if (!rc) rc = rd_int(r, o, "patience", 1, 1000, &t->patience);
    if (!rc) rc = rd_int(r, o, "warmup", 0, 1000000, &t->warmup);
    if (!rc) rc = rd_int(r, o, "seed", 0, 2147483647, &seed);
    if (!rc) rc = rd_int(r, o, "threads", 1, 256, &t->threads);
    if (!rc) rc = rd_list(r, o, "positive_kinds", &t->positive_kinds, &t->npositive_kinds);
    t->loss = (rec_loss)loss;
    t->seed = (uint64_t)seed;
    /* The rate decays from lr to lr_min: a floor above the peak is a mistake when given,
     * and the default floor (1e-4) follows a smaller lr down. */
    if (!rc && t->lr_min > t->lr && !json_object_get(o, "lr_min")) t->lr_min = t->lr;
    if (!rc && t->lr_min > t->lr) {
        char msg[160];
        snprintf(msg, sizeof msg, "%g is above train.lr %g (the rate decays from lr down to lr_min)",
                 (double)t->lr_min, (double)t->lr);
        rc = bad(r, "lr_min", msg);
    }
    return rc;
}

/* Method "given" takes its test set from split.test_file: the keys of the other methods' test
 * sets would be silently ignored, so they are refused, and test_file with another method too. */
static int check_given_keys(rd *r, json_t *o, const rec_split_cfg *s)
{
    static const char *const others[] = { "test_fraction", "folds_file", "test_fold", "hidden_file" };
    if (s->method != REC_SPLIT_GIVEN)
        return s->test_file ? bad(r, "test_file", "is read only by method \"given\" (set split.method to \"given\")")
                            : HP_OK;
    if (!s->test_file) return bad(r, "test_file", "required by method \"given\" (the interactions that are the test set)");
    for (size_t i = 0; i < HP_ARRAY_LEN(others); i++)
        if (json_object_get(o, others[i]))
            return bad(r, others[i], "not used by method \"given\" (its test set is split.test_file)");
    return HP_OK;
}

/* A timestamp string as ingest reads one without a format ("2011-09-01T00:00"). */
static int rd_time(rd *r, json_t *o, const char *key, char **out, int64_t *t)
{
    json_t *v = json_object_get(o, key);
    if (!v) return HP_OK;
    hp_error perr = { 0 };
    if (!json_is_string(v) ||
        data_parse_timestamp_as(json_string_value(v), strlen(json_string_value(v)), NULL, t, &perr) != HP_OK)
        return bad(r, key, "expected a date or date-time string (\"2011-09-01\", \"2011-09-01T00:00\")");
    hp_free(*out);
    return (*out = hp_strdup(json_string_value(v))) ? HP_OK : HP_ERR_NOMEM;
}

/* cut, valid_cut and new_only belong to method "time"; valid_cut and new_only need a cut. */
static int parse_cut(rd *r, json_t *o, rec_split_cfg *s)
{
    int64_t cut = 0, valid = 0;
    int rc = rd_time(r, o, "cut", &s->cut, &cut);
    if (!rc) rc = rd_time(r, o, "valid_cut", &s->valid_cut, &valid);
    json_t *no = json_object_get(o, "new_only");
    if (!rc && no && !json_is_boolean(no)) rc = bad(r, "new_only", "expected true or false");
    if (!rc && no) s->new_only = json_is_true(no);
    const char *given = s->cut ? "cut" : s->valid_cut ? "valid_cut" : no ? "new_only" : NULL;
    if (!rc && given && s->method != REC_SPLIT_TIME) rc = bad(r, given, "applies only to method \"time\"");
    if (!rc && !s->cut && given) rc = bad(r, given, "needs split.cut (the start of the test period)");
    if (!rc && s->cut && json_object_get(o, "test_fraction"))
        rc = bad(r, "test_fraction", "not used with split.cut (the cut decides the test period)");
    if (!rc && s->valid_cut && valid >= cut) rc = bad(r, "valid_cut", "must be before split.cut");
    return rc;
}

static int parse_split(rd *r, json_t *o, rec_split_cfg *s)
{
    static const char *const keys[] = { "method", "test_fraction", "valid_fraction", "target_kinds",
                                        "folds_file", "test_fold", "hidden_file", "test_file", "seed",
                                        "cut", "valid_cut", "new_only", NULL };
    static const char *const methods[] = { "customer", "time", "folds", "given" };
    int method = (int)s->method, seed = (int)s->seed;
    int rc = check_keys(r, o, keys);
    if (!rc) rc = rd_enum(r, o, "method", methods, 4, &method);
    if (!rc) rc = rd_float(r, o, "test_fraction", 0.01, 0.9, &s->test_fraction);
    if (!rc) rc = rd_float(r, o, "valid_fraction", 0, 0.5, &s->valid_fraction);
    if (!rc) rc = rd_list(r, o, "target_kinds", &s->target_kinds, &s->ntarget_kinds);
    if (!rc) rc = rd_path(r, o, "folds_file", &s->folds_file);
    if (!rc) rc = rd_int(r, o, "test_fold", 0, 1000, &s->test_fold);
    if (!rc) rc = rd_path(r, o, "hidden_file", &s->hidden_file);
    if (!rc) rc = rd_path(r, o, "test_file", &s->test_file);
    if (!rc) rc = rd_int(r, o, "seed", 0, 2147483647, &seed);
    s->method = (rec_split_method)method;
    s->seed = (uint64_t)seed;
    if (!rc && s->method == REC_SPLIT_FOLDS && !s->folds_file) rc = bad(r, "folds_file", "required by method \"folds\"");
    if (!rc) rc = check_given_keys(r, o, s);
    if (!rc) rc = parse_cut(r, o, s);
    if (!rc && s->method != REC_SPLIT_GIVEN && s->test_fraction + s->valid_fraction >= 0.95f)
        rc = bad(r, "valid_fraction", "test_fraction + valid_fraction must leave training data (below 0.95)");
    return rc;
}

static int parse_eval(rd *r, json_t *o, rec_eval_cfg *e)
{
    static const char *const keys[] = { "k", "oracle_file", "out_dir", "ease_max_items", NULL };
    int rc = check_keys(r, o, keys);
    if (!rc) rc = rd_int(r, o, "k", 1, 1000, &e->k);
    if (!rc) rc = rd_int(r, o, "ease_max_items", 0, 100000, &e->ease_max_items);
    if (!rc) rc = rd_path(r, o, "oracle_file", &e->oracle_file);
    json_t *od = json_object_get(o, "out_dir");
    if (!rc && od) {
        if (!json_is_string(od)) rc = bad(r, "out_dir", "expected a path");
        else if (!(e->out_dir = hp_strdup(json_string_value(od)))) rc = HP_ERR_NOMEM;
    }
    return rc;
}

int rec_config_from_json(rec_config *c, json_t *j, const char *where, const char *base_dir, hp_error *err)
{
    static const char *const keys[] = { "model", "train", "split", "evaluate", NULL };
    rd top = { where, base_dir, err };
    int rc = check_keys(&top, j, keys);
    static const char *names[] = { "model", "train", "split", "evaluate" };
    for (int s = 0; !rc && s < 4; s++) {
        json_t *o = json_object_get(j, names[s]);
        if (!o) continue;
        char w[256];
        snprintf(w, sizeof w, "%s: %s", where, names[s]);
        rd r = { w, base_dir, err };
        if (!json_is_object(o)) return hp_fail(err, HP_ERR_INVAL, "%s: expected an object", w);
        if (s == 0) rc = parse_arch(&r, o, &c->arch);
        else if (s == 1) rc = parse_train(&r, o, &c->train);
        else if (s == 2) rc = parse_split(&r, o, &c->split);
        else rc = parse_eval(&r, o, &c->eval);
    }
    return rc;
}

static const char *const k_sections[] = { "model", "train", "split", "evaluate" };

/* The dataset's only target is a label column: labels, no holding flags, and no interactions
 * read from a file (configured, unless an optional file was found missing by ingest). */
static int label_only_data(const data_dataset *ds)
{
    const data_table *cu = &ds->t[DATA_T_CUSTOMERS], *it = &ds->t[DATA_T_INTERACTIONS];
    int label = 0, held = 0;
    for (int i = 0; i < cu->nspecs; i++) {
        label |= cu->specs[i].role == DATA_ROLE_LABEL;
        held |= cu->specs[i].role == DATA_ROLE_HELD;
    }
    int interactions_file = it->configured && !(cu->loaded && it->optional && it->nrecords == 0);
    return label && !held && !interactions_file;
}

int rec_config_from_dataset(rec_config *c, const data_dataset *ds, hp_error *err)
{
    rec_config_defaults(c);
    json_t *j = json_object();
    int rc = j ? HP_OK : HP_ERR_NOMEM;
    for (size_t s = 0; !rc && s < HP_ARRAY_LEN(k_sections); s++) {
        const char *text = data_dataset_section(ds, k_sections[s]);
        if (!text) continue;
        json_error_t je;
        json_t *o = json_loads(text, 0, &je);
        if (!o) rc = hp_fail(err, HP_ERR_INVAL, "config section %s: %s", k_sections[s], je.text);
        else json_object_set_new(j, k_sections[s], o);
    }
    const char *where = ds->config_path ? ds->config_path : "built-in config";
    if (!rc) rc = rec_config_from_json(c, j, where, ds->config_dir, err);
    /* propensity data (a yes/no outcome per customer) has known negatives: BCE learns from them,
     * where the ranking losses would find no positive interaction to rank */
    if (!rc && !json_object_get(json_object_get(j, "train"), "loss") && label_only_data(ds)) c->train.loss = REC_LOSS_BCE;
    json_decref(j);
    if (!rc && !c->eval.out_dir && !(c->eval.out_dir = hp_strdup("artifacts/results"))) rc = HP_ERR_NOMEM;
    if (rc) rec_config_free(c);
    return rc;
}

/* A section as the dataset config parser meets it: read into a default config the way
 * rec_config_from_dataset reads it, so its errors come when the config is loaded. */
static int check_section(void *ctx, const char *config, const char *section, json_t *value, const char *base_dir,
                         hp_error *err)
{
    (void)ctx;
    rec_config c;
    rec_config_defaults(&c);
    json_t *j = json_pack("{s:O}", section, value);
    int rc = j ? rec_config_from_json(&c, j, config, base_dir, err) : HP_ERR_NOMEM;
    json_decref(j);
    rec_config_free(&c);
    return rc;
}

int rec_config_register_sections(hp_error *err)
{
    int rc = HP_OK;
    for (size_t s = 0; !rc && s < HP_ARRAY_LEN(k_sections); s++)
        rc = data_config_section_register(k_sections[s], check_section, NULL, err);
    return rc;
}

/* A float as the shortest decimal that reads back to it: 0.99f is saved as 0.99, not as
 * 0.9900000095, which a range check on reload would refuse. */
static json_t *json_f(float x)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.7g", (double)x);
    return json_real(strtod(buf, NULL));
}

static json_t *list_json(char **l, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_string(l[i]));
    return a;
}

json_t *rec_config_to_json(const rec_config *c)
{
    static const char *losses[] = { "softmax", "bpr", "bce" }, *methods[] = { "customer", "time", "folds", "given" };
    json_t *enc = json_array();
    for (int m = 0; m < REC_MOD_COUNT; m++)
        if (c->arch.enabled[m]) json_array_append_new(enc, json_string(rec_modality_name(m)));
    json_t *model = json_pack("{s:i, s:i, s:i, s:i, s:o, s:b}", "dim", c->arch.dim, "hidden", c->arch.hidden,
                              "text_buckets", c->arch.text_buckets, "max_tokens", c->arch.max_tokens,
                              "encoders", enc, "include_protected", c->arch.include_protected);
    json_t *train = json_pack("{s:s, s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:i, s:I, s:i, s:o}",
                              "loss", losses[c->train.loss], "negatives", c->train.negatives,
                              "epochs", c->train.epochs, "batch", c->train.batch, "lr", json_f(c->train.lr),
                              "lr_min", json_f(c->train.lr_min), "weight_decay", json_f(c->train.weight_decay),
                              "clip", json_f(c->train.clip), "id_dropout", json_f(c->train.id_dropout),
                              "dropout", json_f(c->train.dropout), "patience", c->train.patience,
                              "warmup", c->train.warmup, "seed", (json_int_t)c->train.seed,
                              "threads", c->train.threads,
                              "positive_kinds", list_json(c->train.positive_kinds, c->train.npositive_kinds));
    json_t *split = json_pack("{s:s, s:o, s:o, s:I}", "method", methods[c->split.method],
                              "valid_fraction", json_f(c->split.valid_fraction),
                              "target_kinds", list_json(c->split.target_kinds, c->split.ntarget_kinds),
                              "seed", (json_int_t)c->split.seed);
    if (c->split.cut) json_object_set_new(split, "cut", json_string(c->split.cut));
    if (c->split.valid_cut) json_object_set_new(split, "valid_cut", json_string(c->split.valid_cut));
    if (c->split.cut) json_object_set_new(split, "new_only", json_boolean(c->split.new_only));
    if (c->split.method != REC_SPLIT_GIVEN) { /* "given" refuses them: its test set is the file */
        if (!c->split.cut) json_object_set_new(split, "test_fraction", json_f(c->split.test_fraction));
        json_object_set_new(split, "test_fold", json_integer(c->split.test_fold));
    }
    if (c->split.test_file) json_object_set_new(split, "test_file", json_string(c->split.test_file));
    if (c->split.folds_file) json_object_set_new(split, "folds_file", json_string(c->split.folds_file));
    if (c->split.hidden_file) json_object_set_new(split, "hidden_file", json_string(c->split.hidden_file));
    json_t *eval = json_pack("{s:i}", "k", c->eval.k);
    if (c->eval.oracle_file) json_object_set_new(eval, "oracle_file", json_string(c->eval.oracle_file));
    if (c->eval.out_dir) json_object_set_new(eval, "out_dir", json_string(c->eval.out_dir));
    return json_pack("{s:o, s:o, s:o, s:o}", "model", model, "train", train, "split", split, "evaluate", eval);
}

/* ------------------------------------------------------------------ against the data */

/* "adopted, clicked, held" (the kinds in the interactions, as many as fit). */
static void list_kinds(const data_column *kind, char *out, size_t size)
{
    out[0] = 0;
    for (uint32_t k = 0; k < kind->dict.n; k++) {
        size_t used = strlen(out);
        if (used + strlen(kind->dict.str[k]) + 8 >= size) {
            snprintf(out + used, size - used, ", ...");
            return;
        }
        snprintf(out + used, size - used, "%s%s", k ? ", " : "", kind->dict.str[k]);
    }
}

/* Fails on the first name of list (the config's path.key) that is not a kind in the data. */
static int check_kind_list(const char *where, const char *path, char **list, int n, const data_column *kind,
                           hp_error *err)
{
    for (int i = 0; i < n; i++) {
        if (data_dict_find(&kind->dict, list[i], strlen(list[i])) >= 0) continue;
        char kinds[256];
        list_kinds(kind, kinds, sizeof kinds);
        return hp_fail(err, HP_ERR_INVAL, "%s: %s[%d]: '%.80s' is not a kind in the interactions (their kinds: %s)",
                       where, path, i, list[i], kinds[0] ? kinds : "none");
    }
    return HP_OK;
}

int rec_config_check_kinds(const rec_config *c, const data_dataset *ds, hp_error *err)
{
    const data_column *kind = data_table_col_role(&ds->t[DATA_T_INTERACTIONS], DATA_ROLE_KIND);
    if (!kind) return HP_OK; /* no interactions at all: the split says so */
    const char *where = ds->config_path ? ds->config_path : "built-in config";
    int rc = check_kind_list(where, "train.positive_kinds", c->train.positive_kinds, c->train.npositive_kinds, kind, err);
    if (!rc) rc = check_kind_list(where, "split.target_kinds", c->split.target_kinds, c->split.ntarget_kinds, kind, err);
    return rc;
}
