/* Dataset configs: every field of the wrong JSON type is an error naming its JSON path.
 *
 * The systematic part takes each shipped config (the built-in one and the examples/ folder),
 * replaces every value in it, one at a time, by a value of each other JSON type (string,
 * number, array, object, null, boolean) and requires an HP_ERR_INVAL whose message names the
 * replaced value's path: from the dataset parser, or for the model/train/split/evaluate
 * sections from the model settings parser that reads them. No case may crash or leak
 * (ASan/LeakSanitizer watch the whole run). */
#define _GNU_SOURCE
#include "check.h"
#include "data/data.h"
#include "io/io.h"
#include "rec/rec.h"
#include "privacy/privacy.h"

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char g_dir[64];

static const char *path_in(const char *name)
{
    return check_path(g_dir, name);
}

static void write_bytes(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(text, 1, len, f);
    fclose(f);
}

/* Loads config text the way the CLI does (from a file) and then reads its model sections,
 * so both parsers see it. Returns the first failure's status. */
static int load_config_text(const char *text, size_t len, hp_error *err)
{
    const char *file = path_in("c.json");
    write_bytes(file, text, len);
    data_dataset ds;
    int rc = data_config_load(&ds, file, err);
    if (rc) return rc;
    rec_config mc;
    rc = rec_config_from_dataset(&mc, &ds, err);
    if (!rc) rec_config_free(&mc);
    data_dataset_free(&ds);
    return rc;
}

/* ------------------------------------------------------------------ mutation walk */

typedef enum { T_STRING, T_NUMBER, T_ARRAY, T_OBJECT, T_NULL, T_BOOL } json_class;

static json_class class_of(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING: return T_STRING;
    case JSON_INTEGER: case JSON_REAL: return T_NUMBER;
    case JSON_ARRAY: return T_ARRAY;
    case JSON_OBJECT: return T_OBJECT;
    case JSON_NULL: return T_NULL;
    default: return T_BOOL;
    }
}

/* One replacement value per class: the plausible-looking wrong values a hand edit makes. */
static json_t *replacement(json_class k)
{
    switch (k) {
    case T_STRING: return json_string("NA");
    case T_NUMBER: return json_integer(7);
    case T_ARRAY: return json_pack("[s]", "NA");
    case T_OBJECT: return json_object();
    case T_NULL: return json_null();
    default: return json_true();
    }
}

typedef struct {
    json_t *root;
    const char *example;   /* which config, for messages */
    int cases, failures;
} walk;

/* The message names path: "<file>: <path>:" (for an array item, the array's path will do:
 * the model settings parser names the list). */
static int names_path(const char *msg, const char *path)
{
    char want[600];
    snprintf(want, sizeof want, "%s: %s:", path_in("c.json"), path);
    if (strstr(msg, want)) return 1;
    const char *bracket = strrchr(path, '[');
    if (!bracket || path[strlen(path) - 1] != ']') return 0;
    snprintf(want, sizeof want, "%s: %.*s:", path_in("c.json"), (int)(bracket - path), path);
    return strstr(msg, want) != NULL;
}

static void try_case(walk *w, const char *path, json_class k)
{
    char *text = json_dumps(w->root, JSON_PRESERVE_ORDER);
    hp_error err = { 0 };
    int rc = text ? load_config_text(text, strlen(text), &err) : HP_ERR_NOMEM;
    free(text);
    w->cases++;
    static const char *names[] = { "string", "number", "array", "object", "null", "boolean" };
    if (rc == HP_ERR_INVAL && names_path(err.msg, path)) return;
    if (w->failures++ < 20)
        fprintf(stderr, "  %s: %s as a %s: rc %d, message '%s'\n", w->example, path, names[k], rc, err.msg);
}

static void mutate_tree(walk *w, json_t *node, const char *path);

/* Replaces the value at path (held by set/restore through its parent) by each other class. */
static void mutate_value(walk *w, json_t *parent, const char *key, size_t index, const char *path)
{
    json_t *orig = json_is_object(parent) ? json_object_get(parent, key) : json_array_get(parent, index);
    json_incref(orig);
    for (int k = 0; k <= T_BOOL; k++) {
        if ((json_class)k == class_of(orig)) continue;
        json_t *r = replacement((json_class)k);
        if (json_is_object(parent)) json_object_set_new(parent, key, r);
        else json_array_set_new(parent, index, r);
        try_case(w, path, (json_class)k);
    }
    if (json_is_object(parent)) json_object_set(parent, key, orig);
    else json_array_set(parent, index, orig);
    mutate_tree(w, orig, path);
    json_decref(orig);
}

static void mutate_tree(walk *w, json_t *node, const char *path)
{
    char child[600];
    if (json_is_object(node)) {
        size_t n = json_object_size(node), i = 0;
        const char **keys = calloc(n ? n : 1, sizeof *keys);
        const char *key;
        json_t *v;
        json_object_foreach(node, key, v) keys[i++] = key; /* keys stay valid: only values change */
        for (i = 0; i < n; i++) {
            snprintf(child, sizeof child, "%s%s%s", path, *path ? "." : "", keys[i]);
            mutate_value(w, node, keys[i], 0, child);
        }
        free(keys);
    } else if (json_is_array(node)) {
        for (size_t i = 0; i < json_array_size(node); i++) {
            snprintf(child, sizeof child, "%s[%zu]", path, i);
            mutate_value(w, node, NULL, i, child);
        }
    }
}

/* Runs the walk over one config text; the unmutated config must load. */
static void mutate_config(const char *example, const char *text)
{
    hp_error err = { 0 };
    CHECKF(text && load_config_text(text, strlen(text), &err) == HP_OK, "%s: %s", example, err.msg);
    json_error_t je;
    json_t *root = text ? json_loads(text, JSON_PRESERVE_ORDER, &je) : NULL;
    CHECKF(root != NULL, "%s does not parse", example);
    if (!root) return;
    walk w = { .root = root, .example = example };
    mutate_tree(&w, root, "");
    json_decref(root);
    CHECKF(w.failures == 0, "%s: %d of %d wrong-type values not refused with their path", example,
           w.failures, w.cases);
    CHECKF(w.cases > 100, "%s: only %d cases", example, w.cases);
    printf("  %s: %d wrong-type values, each refused with its JSON path\n", example, w.cases);
}

static char *read_example(const char *name)
{
    char *buf = NULL;
    size_t len;
    if (io_read_file(name, &buf, &len, NULL)) return NULL;
    return buf;
}

TEST(every_field_of_the_wrong_type_names_its_path)
{
    mutate_config("built-in config", data_default_config);
    static const char *examples[] = { "examples/synthetic.json", "examples/santander.json",
                                      "examples/bank_marketing.json" };
    for (size_t i = 0; i < HP_ARRAY_LEN(examples); i++) {
        char *text = read_example(examples[i]);
        CHECKF(text != NULL, "cannot read %s (tests run from the repository root)", examples[i]);
        mutate_config(examples[i], text);
        free(text);
    }
}

/* ------------------------------------------------------------------ named cases */

static void config_error(const char *config, const char *want)
{
    data_dataset ds;
    hp_error err = { 0 };
    int rc = data_config_parse(&ds, config, strlen(config), "c.json", g_dir, &err);
    CHECKF(rc == HP_ERR_INVAL, "rc %d for %s", rc, config);
    CHECKF(strstr(err.msg, want) != NULL, "message '%s' lacks '%s'", err.msg, want);
    if (rc == HP_OK) data_dataset_free(&ds);
}

#define CFG(table_extra, columns) \
    "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"a.csv\"" table_extra ",\"columns\":{\"id\":\"id\"" columns "}}}"

/* The reported crash: "missing" freed, its count kept, then freed again. */
TEST(missing_as_a_string_is_an_error_not_a_crash)
{
    config_error(CFG(",\"missing\":\"NA\"", ""), "c.json: customers.missing: expected an array of strings");
    config_error(CFG(",\"missing\":[\"NA\",3]", ""), "c.json: customers.missing[1]: expected a string");
    config_error(CFG(",\"missing\":{}", ""), "customers.missing: expected an array of strings");
    config_error(CFG(",\"missing\":null", ""), "customers.missing: expected an array of strings");
    data_dataset ds;
    hp_error err = { 0 };
    const char *ok = CFG(",\"missing\":[\"-\",\"?\"]", "");
    CHECKF(data_config_parse(&ds, ok, strlen(ok), "c.json", g_dir, &err) == HP_OK, "%s", err.msg);
    CHECK_EQ_INT(ds.t[DATA_T_CUSTOMERS].nmissing, 2);
    CHECK_STR(ds.t[DATA_T_CUSTOMERS].missing[1], "?");
    data_dataset_free(&ds);
}

TEST(each_table_option_names_its_path)
{
    config_error(CFG(",\"format\":7", ""), "c.json: customers.format: expected a string");
    config_error(CFG(",\"format\":\"xml\"", ""), "customers.format: expected \"csv\", \"json\" or \"jsonl\"");
    config_error(CFG(",\"encoding\":[\"utf-8\"]", ""), "customers.encoding: expected a string");
    config_error(CFG(",\"encoding\":\"utf-16\"", ""), "customers.encoding: expected \"utf-8\" or \"latin-1\"");
    config_error(CFG(",\"delimiter\":\";;\"", ""), "customers.delimiter: expected one ASCII character");
    config_error(CFG(",\"delimiter\":\"\\\"\"", ""), "customers.delimiter: a quote or a line break");
    config_error(CFG(",\"delimiter\":false", ""), "customers.delimiter: expected a string");
    config_error(CFG(",\"optional\":\"yes\"", ""), "customers.optional: expected true or false");
    config_error(CFG(",\"mask_pii\":0", ""), "customers.mask_pii: expected true or false");
    config_error("{\"hyperp_dataset\":1,\"customers\":{\"file\":[\"a.csv\"],\"columns\":{\"id\":\"id\"}}}",
                 "customers.file: expected a string");
    config_error("{\"hyperp_dataset\":1,\"customers\":{\"file\":\"\",\"columns\":{\"id\":\"id\"}}}",
                 "customers.file: expected a path");
    config_error("{\"hyperp_dataset\":1,\"name\":3,\"customers\":{\"file\":\"a\",\"columns\":{\"id\":\"id\"}}}",
                 "c.json: name: expected a string");
    config_error(CFG(",\"default_kind\":\"x\"", ""), "customers.default_kind: applies only to interactions");
    config_error("{\"hyperp_dataset\":1,\"customers\":{\"file\":\"a\",\"columns\":{\"id\":\"id\"}},"
                 "\"interactions\":{\"file\":\"i\",\"default_kind\":1,\"columns\":{\"c\":\"customer\",\"p\":\"product\"}}}",
                 "interactions.default_kind: expected a string");
}

TEST(each_column_option_names_its_path)
{
    config_error(CFG("", ",\"x\":7"), "customers.columns.x: expected a role name or an object");
    config_error(CFG("", ",\"x\":{\"role\":7}"), "customers.columns.x.role: expected a role name");
    config_error(CFG("", ",\"x\":{\"role\":\"bnd\"}"), "customers.columns.x.role: unknown role 'bnd'");
    config_error(CFG("", ",\"x\":{}"), "customers.columns.x: missing key 'role'");
    config_error(CFG("", ",\"x\":{\"role\":\"multi\",\"optional\":1}"), "customers.columns.x.optional: expected true or false");
    config_error(CFG("", ",\"x\":{\"role\":\"multi\",\"separator\":59}"), "customers.columns.x.separator: expected a string");
    config_error(CFG("", ",\"x\":{\"role\":\"multi\",\"separator\":\"\"}"), "customers.columns.x.separator: expected one character");
    config_error(CFG("", ",\"x\":{\"role\":\"label\",\"positive\":\"yes\"}"), "customers.columns.x.positive: expected an array of strings");
    config_error(CFG("", ",\"x\":{\"role\":\"label\",\"positive\":[\"yes\",true]}"), "customers.columns.x.positive[1]: expected a string");
    config_error(CFG("", ",\"x\":{\"role\":\"label\",\"positive\":[]}"), "customers.columns.x.positive: expected at least one value");
    config_error(CFG("", ",\"x\":{\"role\":\"held\",\"product\":{}}"), "customers.columns.x.product: expected a string");
}

/* Editors on Windows write a BOM; the data files' BOM was already skipped, the config's was
 * refused ("'[' or '{' expected"). */
TEST(config_with_a_utf8_bom_loads)
{
    const char *body = CFG("", ",\"x\":\"numeric\"");
    char text[512];
    snprintf(text, sizeof text, "\xEF\xBB\xBF%s", body);
    data_dataset ds;
    hp_error err = { 0 };
    int rc = data_config_parse(&ds, text, strlen(text), "c.json", g_dir, &err);
    CHECKF(rc == HP_OK, "%s", err.msg);
    if (rc == HP_OK) {
        CHECK_EQ_INT(ds.t[DATA_T_CUSTOMERS].nspecs, 2);
        data_dataset_free(&ds);
    }
    write_bytes(path_in("bom.json"), text, strlen(text));
    rc = data_config_load(&ds, path_in("bom.json"), &err);
    CHECKF(rc == HP_OK, "%s", err.msg);
    if (rc == HP_OK) data_dataset_free(&ds);
    /* only a leading BOM is skipped: one inside the text is still bad JSON */
    snprintf(text, sizeof text, " \xEF\xBB\xBF%s", body);
    rc = data_config_parse(&ds, text, strlen(text), "c.json", g_dir, &err);
    CHECKF(rc == HP_ERR_INVAL && strstr(err.msg, "c.json:1:") != NULL, "rc %d: %s", rc, err.msg);
}

/* The privacy config (privacy --config) reads its text as the dataset config does: a BOM was
 * refused there, with the BOM quoted in the message ("'[' or '{' expected near '...'"). */
TEST(privacy_config_with_a_utf8_bom_loads)
{
    const char *text = "\xEF\xBB\xBF{\"hyperp_privacy\": 1, \"k_anonymity\": 7}";
    write_bytes(path_in("privacy_bom.json"), text, strlen(text));
    privacy_config pc;
    privacy_config_default(&pc);
    hp_error err = { 0 };
    int rc = privacy_config_load(&pc, path_in("privacy_bom.json"), &err);
    CHECKF(rc == HP_OK, "%s", err.msg);
    CHECK_EQ_INT(pc.k_anonymity, 7);
}

/* A config saved as UTF-16 (with or without its byte-order mark) gets one sentence saying
 * what to do, from both loaders alike, where jansson said "unable to decode byte 0xff". */
TEST(utf16_configs_are_refused_alike)
{
    static const char le_bom[] = "\xFF\xFE{\0}\0", be_bom[] = "\xFE\xFF\0{\0}", le[] = "{\0}\0";
    const struct { const char *bytes; size_t len; } cases[] = {
        { le_bom, sizeof le_bom - 1 }, { be_bom, sizeof be_bom - 1 }, { le, sizeof le - 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *file = path_in("utf16.json");
        write_bytes(file, cases[i].bytes, cases[i].len);
        char want[600];
        snprintf(want, sizeof want, "%s: file is UTF-16; save it as UTF-8", file);
        data_dataset ds;
        hp_error err = { 0 };
        int rc = data_config_load(&ds, file, &err);
        CHECKF(rc == HP_ERR_ENCODING && strcmp(err.msg, want) == 0, "case %zu: rc %d: %s", i, rc, err.msg);
        if (rc == HP_OK) data_dataset_free(&ds);
        privacy_config pc;
        privacy_config_default(&pc);
        rc = privacy_config_load(&pc, file, &err);
        CHECKF(rc == HP_ERR_ENCODING && strcmp(err.msg, want) == 0, "case %zu: rc %d: %s", i, rc, err.msg);
    }
}

/* ------------------------------------------------------------------ sections by name */

typedef struct {
    int calls;
    char config[64], section[32], base_dir[64];
    long long level;
} toy_seen;

/* A module's checker: records what it was handed, refuses a "level" above 3 naming its path. */
static int toy_check(void *ctx, const char *config, const char *section, json_t *value, const char *base_dir,
                     hp_error *err)
{
    toy_seen *s = ctx;
    s->calls++;
    snprintf(s->config, sizeof s->config, "%s", config);
    snprintf(s->section, sizeof s->section, "%s", section);
    snprintf(s->base_dir, sizeof s->base_dir, "%s", base_dir ? base_dir : "");
    s->level = json_integer_value(json_object_get(value, "level"));
    if (s->level > 3) return hp_fail(err, HP_ERR_INVAL, "%s: %s.level: expected at most 3", config, section);
    return HP_OK;
}

TEST(a_registered_section_is_checked_by_its_module)
{
    static toy_seen seen;
    hp_error err = { 0 };
    CHECKF(data_config_section_register("toy", toy_check, &seen, &err) == HP_OK, "%s", err.msg);
    const char *ok = CFG("", "") ;
    char text[512];
    snprintf(text, sizeof text, "%.*s,\"toy\":{\"level\":2}}", (int)strlen(ok) - 1, ok);
    data_dataset ds;
    int rc = data_config_parse(&ds, text, strlen(text), "c.json", g_dir, &err);
    CHECKF(rc == HP_OK, "%s", err.msg);
    CHECK_EQ_INT(seen.calls, 1);
    CHECK_STR(seen.config, "c.json");
    CHECK_STR(seen.section, "toy");
    CHECK_STR(seen.base_dir, g_dir);
    CHECK_EQ_INT(seen.level, 2);
    if (!rc) {
        CHECK_STR(data_dataset_section(&ds, "toy"), "{\"level\":2}");
        CHECK(data_dataset_section(&ds, "train") == NULL);
        data_dataset_free(&ds);
    }
    /* the module's own error comes back whole */
    snprintf(text, sizeof text, "%.*s,\"toy\":{\"level\":5}}", (int)strlen(ok) - 1, ok);
    config_error(text, "c.json: toy.level: expected at most 3");
    snprintf(text, sizeof text, "%.*s,\"toy\":[1]}", (int)strlen(ok) - 1, ok);
    config_error(text, "c.json: toy: expected an object");
    /* an unknown section names every key a config may have, the registered ones included */
    snprintf(text, sizeof text, "%.*s,\"tyo\":{}}", (int)strlen(ok) - 1, ok);
    config_error(text, "c.json: tyo: unknown key 'tyo' (known: hyperp_dataset, name, customers, products, "
                       "interactions, transactions, model, train, split, evaluate, toy)");
    /* the recommender's sections still go to rec_cfg, with its messages */
    snprintf(text, sizeof text, "%.*s,\"train\":{\"lr\":-1}}", (int)strlen(ok) - 1, ok);
    config_error(text, "c.json: train.lr: expected a number in");
    /* names are checked: taken, a table, malformed */
    CHECK_EQ_INT(data_config_section_register("toy", toy_check, &seen, &err), HP_ERR_INVAL);
    CHECKF(strstr(err.msg, "config section 'toy' is registered already"), "%s", err.msg);
    CHECK_EQ_INT(data_config_section_register("train", toy_check, &seen, &err), HP_ERR_INVAL);
    CHECK_EQ_INT(data_config_section_register("customers", toy_check, &seen, &err), HP_ERR_INVAL);
    CHECKF(strstr(err.msg, "a key of the dataset format itself"), "%s", err.msg);
    CHECK_EQ_INT(data_config_section_register("Bad-Name", toy_check, &seen, &err), HP_ERR_INVAL);
    CHECK_EQ_INT(data_config_section_register("nocheck", NULL, NULL, &err), HP_ERR_INVAL);
}

static int any_check(void *ctx, const char *config, const char *section, json_t *value, const char *base_dir,
                     hp_error *err)
{
    (void)ctx, (void)config, (void)section, (void)value, (void)base_dir, (void)err;
    return HP_OK;
}

/* Modules may register from several threads while configs are parsed: every name lands once. */
static void *register_three(void *arg)
{
    int k = (int)(intptr_t)arg, *failures = hp_calloc(1, sizeof *failures);
    for (int i = 0; failures && i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "mod%d_%d", k, i);
        hp_error err = { 0 };
        *failures += data_config_section_register(name, any_check, NULL, &err) != HP_OK;
        const char *cfg = CFG("", "");
        data_dataset ds;
        if (data_config_parse(&ds, cfg, strlen(cfg), "c.json", "", &err) == HP_OK) data_dataset_free(&ds);
        else (*failures)++;
    }
    return failures;
}

TEST(sections_register_from_many_threads)
{
    pthread_t th[4];
    for (int k = 0; k < 4; k++) CHECK(pthread_create(&th[k], NULL, register_three, (void *)(intptr_t)k) == 0);
    for (int k = 0; k < 4; k++) {
        void *r = NULL;
        pthread_join(th[k], &r);
        CHECK(r && *(int *)r == 0);
        hp_free(r);
    }
    char known[512];
    data_config_known_keys(known, sizeof known);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 3; i++) {
            char name[40];
            snprintf(name, sizeof name, ", mod%d_%d", k, i);
            CHECKF(strstr(known, name) != NULL, "%s missing from %s", name + 2, known);
        }
}

/* Propensity data (a yes/no label is the only target) trains with BCE unless a loss is given. */
TEST(label_only_data_defaults_to_bce)
{
    static const struct { const char *columns, *train; int loss; } cases[] = {
        { ",\"y\":\"label\"", "", REC_LOSS_BCE },
        { ",\"y\":\"label\"", ",\"train\":{\"epochs\":2}", REC_LOSS_BCE },
        { ",\"y\":\"label\"", ",\"train\":{\"loss\":\"softmax\"}", REC_LOSS_SOFTMAX },
        { ",\"y\":\"label\",\"h\":\"held\"", "", REC_LOSS_SOFTMAX },
        { ",\"h\":\"held\"", "", REC_LOSS_SOFTMAX },
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(cases); i++) {
        char text[512];
        snprintf(text, sizeof text, "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"a.csv\",\"columns\":{\"id\":\"id\"%s}}%s}",
                 cases[i].columns, cases[i].train);
        data_dataset ds;
        hp_error err = { 0 };
        int rc = data_config_parse(&ds, text, strlen(text), "c.json", g_dir, &err);
        CHECKF(rc == HP_OK, "%s", err.msg);
        if (rc) continue;
        rec_config mc;
        CHECKF(rec_config_from_dataset(&mc, &ds, &err) == HP_OK, "%s", err.msg);
        CHECKF(mc.train.loss == (rec_loss)cases[i].loss, "case %zu: loss %d", i, (int)mc.train.loss);
        rec_config_free(&mc);
        data_dataset_free(&ds);
    }
    /* interactions read from a file are targets too */
    const char *it = "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"a.csv\",\"columns\":{\"id\":\"id\",\"y\":\"label\"}},"
                     "\"interactions\":{\"file\":\"i.csv\",\"columns\":{\"c\":\"customer\",\"p\":\"product\"}}}";
    data_dataset ds;
    hp_error err = { 0 };
    if (data_config_parse(&ds, it, strlen(it), "c.json", g_dir, &err) == HP_OK) {
        rec_config mc;
        if (rec_config_from_dataset(&mc, &ds, &err) == HP_OK) {
            CHECK_EQ_INT(mc.train.loss, REC_LOSS_SOFTMAX);
            rec_config_free(&mc);
        }
        data_dataset_free(&ds);
    }
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/hyperp_test_config_XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    RUN(missing_as_a_string_is_an_error_not_a_crash);
    RUN(each_table_option_names_its_path);
    RUN(each_column_option_names_its_path);
    RUN(config_with_a_utf8_bom_loads);
    RUN(privacy_config_with_a_utf8_bom_loads);
    RUN(utf16_configs_are_refused_alike);
    RUN(every_field_of_the_wrong_type_names_its_path);
    RUN(a_registered_section_is_checked_by_its_module);
    RUN(label_only_data_defaults_to_bce);
    RUN(sections_register_from_many_threads);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return check_summary("test_config");
}
