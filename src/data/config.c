/* Dataset config: JSON that maps files and columns to roles (docs/config.md). Strict: an
 * unknown key is an error, so a typo never silently drops a column. */
#include "data/data.h"
#include "data/parse.h"
#include "io/io.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONFIG_VERSION 1

static const char *k_role_names[DATA_ROLE_COUNT_] = {
    "ignore", "id", "numeric", "band", "categorical", "multi", "text", "timestamp",
    "protected", "label", "held", "customer", "product", "kind", "value", "amount",
};

const char *data_role_name(data_role r) { return r < DATA_ROLE_COUNT_ ? k_role_names[r] : "?"; }

int data_role_parse(const char *name)
{
    for (int r = 0; r < DATA_ROLE_COUNT_; r++)
        if (strcmp(name, k_role_names[r]) == 0) return r;
    return -1;
}

static const char *k_table_names[DATA_T_COUNT] = { "customers", "products", "interactions", "transactions" };

const char *data_table_name(data_table_kind k) { return k < DATA_T_COUNT ? k_table_names[k] : "?"; }

/* Which roles each table accepts, as bit masks. */
#define R(x) (1u << DATA_ROLE_##x)
static const unsigned k_allowed[DATA_T_COUNT] = {
    R(IGNORE) | R(ID) | R(NUMERIC) | R(BAND) | R(CATEGORICAL) | R(MULTI) | R(TEXT) | R(TIMESTAMP) |
        R(PROTECTED) | R(LABEL) | R(HELD),
    R(IGNORE) | R(ID) | R(NUMERIC) | R(BAND) | R(CATEGORICAL) | R(MULTI) | R(TEXT),
    R(IGNORE) | R(CUSTOMER) | R(PRODUCT) | R(KIND) | R(VALUE) | R(TIMESTAMP),
    R(IGNORE) | R(CUSTOMER) | R(TIMESTAMP) | R(AMOUNT) | R(NUMERIC) | R(CATEGORICAL) | R(TEXT),
};
static const unsigned k_required[DATA_T_COUNT] = { R(ID), R(ID), R(CUSTOMER) | R(PRODUCT), R(CUSTOMER) | R(AMOUNT) };
#undef R

/* Roles that must appear at most once in a table. */
static int role_is_single(data_role r)
{
    return r == DATA_ROLE_ID || r == DATA_ROLE_CUSTOMER || r == DATA_ROLE_PRODUCT ||
           r == DATA_ROLE_KIND || r == DATA_ROLE_VALUE || r == DATA_ROLE_AMOUNT || r == DATA_ROLE_LABEL;
}

/* ------------------------------------------------------------------ small JSON helpers */

/* Every message names the JSON path of the value at fault ("customers.missing[1]"), so a
 * value of the wrong type is never taken for something else, nor silently dropped. */
typedef struct {
    const char *name;   /* config name for messages */
    hp_error *err;
} cfg_ctx;

#define PATH_MAX_LEN 512

static int cfg_fail(cfg_ctx *c, const char *path, const char *fmt, const char *arg)
{
    char what[256];
    snprintf(what, sizeof what, fmt, arg);
    return hp_fail(c->err, HP_ERR_INVAL, "%s: %s: %s", c->name, path, what);
}

/* path.key (or key at the top level) into out; a path too long for messages ends in "...". */
static const char *key_path(char *out, const char *path, const char *key)
{
    int n = snprintf(out, PATH_MAX_LEN, "%s%s%s", path, *path ? "." : "", key);
    if (n < 0 || n >= PATH_MAX_LEN) memcpy(out + PATH_MAX_LEN - 4, "...", 4);
    return out;
}

/* Fails on any key of obj not in allowed (NULL-terminated). */
static int check_keys(cfg_ctx *c, const char *path, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++) ok |= strcmp(*a, key) == 0;
        if (!ok) {
            char p[PATH_MAX_LEN];
            return cfg_fail(c, key_path(p, path, key), "unknown key '%s'", key);
        }
    }
    return HP_OK;
}

/* The string at path.key, or NULL when the key is absent; a value of another type fails. */
static int opt_string(cfg_ctx *c, const char *path, json_t *obj, const char *key, const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v) return HP_OK;
    char p[PATH_MAX_LEN];
    if (!json_is_string(v)) return cfg_fail(c, key_path(p, path, key), "expected a string%s", "");
    *out = json_string_value(v);
    return HP_OK;
}

/* A copy of the non-empty string at path.key (left unchanged when the key is absent). */
static int opt_string_dup(cfg_ctx *c, const char *path, json_t *obj, const char *key, char **out)
{
    const char *s;
    int rc = opt_string(c, path, obj, key, &s);
    if (rc || !s) return rc;
    char p[PATH_MAX_LEN];
    if (!*s) return cfg_fail(c, key_path(p, path, key), "expected a non-empty string%s", "");
    hp_free(*out);
    *out = hp_strdup(s);
    return *out ? HP_OK : HP_ERR_NOMEM;
}

/* The boolean at path.key (left unchanged when the key is absent). */
static int opt_bool(cfg_ctx *c, const char *path, json_t *obj, const char *key, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return HP_OK;
    char p[PATH_MAX_LEN];
    if (!json_is_boolean(v)) return cfg_fail(c, key_path(p, path, key), "expected true or false%s", "");
    *out = json_is_true(v);
    return HP_OK;
}

static void free_string_list(char ***list, int *n)
{
    for (int i = 0; i < *n; i++) hp_free((*list)[i]);
    hp_free(*list);
    *list = NULL;
    *n = 0;
}

/* The array of strings at path.key, replacing *out and *n only when it is whole (so a bad
 * list never leaves a count that does not match the array). Absent: left unchanged. */
static int opt_string_list(cfg_ctx *c, const char *path, json_t *obj, const char *key, char ***out, int *n)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return HP_OK;
    char p[PATH_MAX_LEN];
    key_path(p, path, key);
    if (!json_is_array(v)) return cfg_fail(c, p, "expected an array of strings%s", "");
    size_t count = json_array_size(v);
    if (count > 100000) return cfg_fail(c, p, "more than 100000 strings%s", "");
    char **list = hp_calloc(count ? count : 1, sizeof *list);
    if (!list) return HP_ERR_NOMEM;
    int got = 0, rc = HP_OK;
    for (size_t i = 0; !rc && i < count; i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s)) {
            char ip[PATH_MAX_LEN + 24];
            snprintf(ip, sizeof ip, "%s[%zu]", p, i);
            rc = cfg_fail(c, ip, "expected a string (in an array of strings)%s", "");
        } else if (!(list[got++] = hp_strdup(json_string_value(s)))) {
            rc = HP_ERR_NOMEM;
        }
    }
    if (rc) {
        free_string_list(&list, &got);
        return rc;
    }
    free_string_list(out, n);
    *out = list;
    *n = got;
    return HP_OK;
}

/* ------------------------------------------------------------------ columns */

/* A role name (the string v at path). */
static int parse_role(cfg_ctx *c, const char *path, json_t *v, data_role *out)
{
    if (!json_is_string(v)) return cfg_fail(c, path, "expected a role name (a string)%s", "");
    int r = data_role_parse(json_string_value(v));
    if (r < 0)
        return cfg_fail(c, path, "unknown role '%s' (roles: id, numeric, band, categorical, multi, "
                        "text, timestamp, protected, label, held, customer, product, kind, value, "
                        "amount, ignore)", json_string_value(v));
    *out = (data_role)r;
    return HP_OK;
}

/* A timestamp column's declared "format", checked now so a typo is the config's error, not one
 * rejected row per line. */
static int parse_timestamp_format(cfg_ctx *c, const char *path, json_t *obj, data_column *col)
{
    char p[PATH_MAX_LEN], why[200];
    int rc = opt_string_dup(c, path, obj, "format", &col->format);
    if (rc || !json_object_get(obj, "format")) return rc;
    if (data_timestamp_format_check(col->format, why, sizeof why))
        return cfg_fail(c, key_path(p, path, "format"), "%s", why);
    return HP_OK;
}

static int parse_column_object(cfg_ctx *c, const char *path, json_t *obj, data_column *col)
{
    static const char *const keys[] = { "role", "optional", "separator", "positive", "product", "format", NULL };
    char p[PATH_MAX_LEN];
    int rc = check_keys(c, path, obj, keys);
    if (rc) return rc;
    json_t *role = json_object_get(obj, "role");
    if (!role) return cfg_fail(c, path, "missing key 'role'%s", "");
    if ((rc = parse_role(c, key_path(p, path, "role"), role, &col->role))) return rc;
    if ((rc = opt_bool(c, path, obj, "optional", &col->optional))) return rc;
    const char *sep;
    if ((rc = opt_string(c, path, obj, "separator", &sep))) return rc;
    if (sep && strlen(sep) != 1)
        return cfg_fail(c, key_path(p, path, "separator"), "expected one character%s", "");
    if (sep) col->separator = sep[0];
    if ((rc = opt_string_list(c, path, obj, "positive", &col->positive, &col->npositive))) return rc;
    if (json_object_get(obj, "positive") && !col->npositive)
        return cfg_fail(c, key_path(p, path, "positive"), "expected at least one value%s", "");
    if ((rc = parse_timestamp_format(c, path, obj, col))) return rc;
    return opt_string_dup(c, path, obj, "product", &col->product);
}

static int parse_column(cfg_ctx *c, data_table *t, const char *tpath, const char *name, json_t *v,
                        data_column *col)
{
    char path[PATH_MAX_LEN];
    snprintf(path, sizeof path, "%s.columns.%s", tpath, name);
    memset(col, 0, sizeof *col);
    col->separator = ',';
    if (!(col->name = hp_strdup(name))) return HP_ERR_NOMEM;
    int rc;
    if (json_is_object(v)) rc = parse_column_object(c, path, v, col);
    else if (json_is_string(v)) rc = parse_role(c, path, v, &col->role);
    else rc = cfg_fail(c, path, "expected a role name or an object with 'role'%s", "");
    if (rc) return rc;
    if (!(k_allowed[t->kind] & (1u << col->role))) {
        char msg[128];
        snprintf(msg, sizeof msg, "role '%s' is not allowed in table %s", data_role_name(col->role),
                 data_table_name(t->kind));
        return cfg_fail(c, path, "%s", msg);
    }
    if (col->npositive && col->role != DATA_ROLE_LABEL)
        return cfg_fail(c, path, "'positive' applies only to role 'label'%s", "");
    if (col->product && col->role != DATA_ROLE_HELD)
        return cfg_fail(c, path, "'product' applies only to role 'held'%s", "");
    if (col->format && col->role != DATA_ROLE_TIMESTAMP)
        return cfg_fail(c, path, "'format' applies only to role 'timestamp'%s", "");
    return HP_OK;
}

static int parse_columns(cfg_ctx *c, data_table *t, const char *tpath, json_t *cols)
{
    char path[PATH_MAX_LEN];
    snprintf(path, sizeof path, "%s.columns", tpath);
    if (!json_is_object(cols) || json_object_size(cols) == 0)
        return cfg_fail(c, path, "expected an object mapping column names to roles%s", "");
    t->specs = hp_calloc(json_object_size(cols), sizeof *t->specs);
    if (!t->specs) return HP_ERR_NOMEM;
    unsigned seen = 0;
    const char *name;
    json_t *v;
    json_object_foreach(cols, name, v) {
        data_column *col = &t->specs[t->nspecs++];
        int rc = parse_column(c, t, tpath, name, v, col);
        if (rc) return rc;
        if (role_is_single(col->role) && (seen & (1u << col->role)))
            return cfg_fail(c, path, "more than one column has role '%s'", data_role_name(col->role));
        seen |= 1u << col->role;
    }
    unsigned missing = k_required[t->kind] & ~seen;
    for (int r = 0; r < DATA_ROLE_COUNT_; r++)
        if (missing & (1u << r)) return cfg_fail(c, path, "no column has the required role '%s'", k_role_names[r]);
    return HP_OK;
}

/* ------------------------------------------------------------------ tables */

static int join_path(const char *base, const char *file, char **out)
{
    if (file[0] == '/' || !base || !*base) {
        *out = hp_strdup(file);
    } else {
        size_t n = strlen(base) + strlen(file) + 2;
        if ((*out = hp_malloc(n))) snprintf(*out, n, "%s/%s", base, file);
    }
    return *out ? HP_OK : HP_ERR_NOMEM;
}

/* The string at path.key as one of names (values[i] for names[i]); absent: unchanged. */
static int opt_choice(cfg_ctx *c, const char *path, json_t *obj, const char *key, const char *const *names,
                      const int *values, const char *expected, int *out)
{
    const char *s;
    int rc = opt_string(c, path, obj, key, &s);
    if (rc || !s) return rc;
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = values[i];
            return HP_OK;
        }
    char p[PATH_MAX_LEN];
    return cfg_fail(c, key_path(p, path, key), "expected %s", expected);
}

static int parse_delimiter(cfg_ctx *c, const char *path, json_t *obj, char *out)
{
    const char *d;
    int rc = opt_string(c, path, obj, "delimiter", &d);
    if (rc || !d) return rc;
    char p[PATH_MAX_LEN];
    key_path(p, path, "delimiter");
    if (strcmp(d, "\\t") == 0 || strcmp(d, "tab") == 0) d = "\t";
    unsigned char ch = (unsigned char)d[0];
    if (strlen(d) != 1 || ch >= 0x80)
        return cfg_fail(c, p, "expected one ASCII character (or \"tab\")%s", "");
    if (ch == '"' || ch == '\n' || ch == '\r')
        return cfg_fail(c, p, "a quote or a line break cannot be the delimiter%s", "");
    *out = (char)ch;
    return HP_OK;
}

static int parse_source_options(cfg_ctx *c, const char *path, json_t *obj, data_table *t)
{
    static const char *const formats[] = { "csv", "json", "jsonl", NULL };
    static const int format_ids[] = { IO_FMT_CSV, IO_FMT_JSON, IO_FMT_JSONL };
    static const char *const encodings[] = { "utf-8", "utf8", "latin-1", "latin1", "iso-8859-1", NULL };
    static const int encoding_ids[] = { IO_ENC_UTF8, IO_ENC_UTF8, IO_ENC_LATIN1, IO_ENC_LATIN1, IO_ENC_LATIN1 };
    int rc = opt_choice(c, path, obj, "format", formats, format_ids, "\"csv\", \"json\" or \"jsonl\"",
                        &t->format);
    if (!rc) rc = opt_choice(c, path, obj, "encoding", encodings, encoding_ids, "\"utf-8\" or \"latin-1\"",
                             &t->encoding);
    if (!rc) rc = parse_delimiter(c, path, obj, &t->delimiter);
    if (!rc) rc = opt_string_list(c, path, obj, "missing", &t->missing, &t->nmissing);
    if (!rc) rc = opt_bool(c, path, obj, "optional", &t->optional);
    int mask = 1;
    if (!rc) rc = opt_bool(c, path, obj, "mask_pii", &mask);
    t->keep_pii = !mask;
    return rc;
}

/* "names" of a file without a header line: non-empty, trimmed as header names are, and distinct
 * without regard to case (as header names are matched), so each config column means one. */
static int check_names(cfg_ctx *c, const char *path, data_table *t)
{
    char p[PATH_MAX_LEN], ip[PATH_MAX_LEN + 24];
    key_path(p, path, "names");
    if (!t->nnames) return cfg_fail(c, p, "expected at least one column name (the columns in file order)%s", "");
    for (int i = 0; i < t->nnames; i++) {
        char *name = t->names[i];
        const char *s = name;
        size_t n = strlen(name);
        hp_trim(&s, &n);
        memmove(name, s, n);
        name[n] = 0;
        snprintf(ip, sizeof ip, "%s[%d]", p, i);
        if (!n) return cfg_fail(c, ip, "expected a column name, not an empty string%s", "");
        for (int j = 0; j < i; j++) {
            if (strcasecmp(t->names[j], name) != 0) continue;
            char what[200];
            snprintf(what, sizeof what, "'%.80s' is named twice (also [%d]; names are compared without regard to case)",
                     name, j);
            return cfg_fail(c, ip, "%s", what);
        }
    }
    return HP_OK;
}

/* "header": false with "names" for a CSV file without a header line. Both keys are refused
 * where they mean nothing: names beside a header line (which names the columns), and either
 * for JSON, whose records name their own fields. */
static int parse_header(cfg_ctx *c, const char *path, json_t *obj, data_table *t)
{
    char p[PATH_MAX_LEN];
    json_t *hv = json_object_get(obj, "header"), *nv = json_object_get(obj, "names");
    int header = 1, rc = opt_bool(c, path, obj, "header", &header);
    if (rc || (!hv && !nv)) return rc;
    int format = t->format != IO_FMT_AUTO ? t->format : (int)io_format_of_path(t->file);
    if (format != IO_FMT_CSV)
        return cfg_fail(c, key_path(p, path, hv ? "header" : "names"),
                        "applies only to CSV files (JSON records name their own fields)%s", "");
    if (header && nv)
        return cfg_fail(c, key_path(p, path, "names"),
                        "applies only with \"header\": false (the header line names the columns)%s", "");
    if (!nv) return cfg_fail(c, key_path(p, path, "header"),
                             "false needs \"names\": the column names in file order%s", "");
    t->no_header = 1;
    if ((rc = opt_string_list(c, path, obj, "names", &t->names, &t->nnames))) return rc;
    return check_names(c, path, t);
}

/* ------------------------------------------------------------------ row filter ("where") */

static const char *const k_where_ops[] = { "=", "!=", "<", "<=", ">", ">=", "prefix", "not_prefix", "has_digit",
                                           "present", NULL };

/* What value an op takes: 0 none, 1 a string or a number, 2 a number, 3 a string. */
static int where_operand(data_where_op op)
{
    if (op == DATA_WHERE_HAS_DIGIT || op == DATA_WHERE_PRESENT) return 0;
    if (op == DATA_WHERE_EQ || op == DATA_WHERE_NE) return 1;
    return op == DATA_WHERE_PREFIX || op == DATA_WHERE_NOT_PREFIX ? 3 : 2;
}

static int parse_where_value(cfg_ctx *c, const char *path, json_t *obj, data_where *w)
{
    static const char *const needs[] = { "", "a string or a number", "a number", "a string" };
    char p[PATH_MAX_LEN];
    json_t *v = json_object_get(obj, "value");
    int want = where_operand(w->op);
    key_path(p, path, "value");
    if (!want) return v ? cfg_fail(c, p, "op '%s' takes no value", k_where_ops[w->op]) : HP_OK;
    if (!v) return cfg_fail(c, path, "missing key 'value' (%s)", needs[want]);
    if (json_is_number(v) && want != 3) {
        w->is_num = 1;
        w->num = json_number_value(v);
        return HP_OK;
    }
    if (!json_is_string(v) || want == 2) return cfg_fail(c, p, "expected %s", needs[want]);
    return (w->str = hp_strdup(json_string_value(v))) ? HP_OK : HP_ERR_NOMEM;
}

static int parse_where_one(cfg_ctx *c, const char *path, json_t *obj, data_where *w)
{
    static const char *const keys[] = { "column", "op", "value", NULL };
    static const int ids[] = { DATA_WHERE_EQ, DATA_WHERE_NE, DATA_WHERE_LT, DATA_WHERE_LE, DATA_WHERE_GT,
                               DATA_WHERE_GE, DATA_WHERE_PREFIX, DATA_WHERE_NOT_PREFIX, DATA_WHERE_HAS_DIGIT,
                               DATA_WHERE_PRESENT };
    if (!json_is_object(obj)) return cfg_fail(c, path, "expected an object {\"column\", \"op\", \"value\"}%s", "");
    int rc = check_keys(c, path, obj, keys), op = -1;
    if (!rc) rc = opt_string_dup(c, path, obj, "column", &w->column);
    if (!rc && !w->column) rc = cfg_fail(c, path, "missing key 'column'%s", "");
    if (!rc) rc = opt_choice(c, path, obj, "op", k_where_ops, ids,
                             "one of =, !=, <, <=, >, >=, prefix, not_prefix, has_digit, present", &op);
    if (!rc && op < 0) rc = cfg_fail(c, path, "missing key 'op'%s", "");
    w->op = (data_where_op)op;
    if (!rc) rc = parse_where_value(c, path, obj, w);
    return rc;
}

/* "where": [{"column": "Quantity", "op": ">", "value": 0}, ...], every condition must hold. */
static int parse_where(cfg_ctx *c, const char *path, json_t *obj, data_table *t)
{
    json_t *v = json_object_get(obj, "where");
    char p[PATH_MAX_LEN], ip[PATH_MAX_LEN + 24];
    if (!v) return HP_OK;
    key_path(p, path, "where");
    if (!json_is_array(v) || json_array_size(v) > 1000)
        return cfg_fail(c, p, "expected an array of conditions (at most 1000)%s", "");
    if (!(t->where = hp_calloc(json_array_size(v) + 1, sizeof *t->where))) return HP_ERR_NOMEM;
    for (size_t i = 0; i < json_array_size(v); i++) {
        snprintf(ip, sizeof ip, "%s[%zu]", p, i);
        t->nwhere++;
        int rc = parse_where_one(c, ip, json_array_get(v, i), &t->where[i]);
        if (rc) return rc;
    }
    return HP_OK;
}

static int parse_duplicates(cfg_ctx *c, const char *path, json_t *obj, data_table *t)
{
    static const char *const names[] = { "reject", "first", NULL };
    static const int ids[] = { 0, 1 };
    char p[PATH_MAX_LEN];
    if (json_object_get(obj, "duplicates") && t->kind != DATA_T_CUSTOMERS && t->kind != DATA_T_PRODUCTS)
        return cfg_fail(c, key_path(p, path, "duplicates"), "applies only to customers and products (tables with an id)%s", "");
    return opt_choice(c, path, obj, "duplicates", names, ids, "\"reject\" or \"first\"", &t->keep_first);
}

static int set_default_missing(data_table *t)
{
    static const char *defaults[] = { "", "NA", "N/A", "null", "NULL" };
    t->missing = hp_calloc(HP_ARRAY_LEN(defaults), sizeof *t->missing);
    if (!t->missing) return HP_ERR_NOMEM;
    for (size_t i = 0; i < HP_ARRAY_LEN(defaults); i++)
        if (!(t->missing[t->nmissing++] = hp_strdup(defaults[i]))) return HP_ERR_NOMEM;
    return HP_OK;
}

static int parse_table(cfg_ctx *c, data_table *t, json_t *obj, const char *base_dir)
{
    static const char *const keys[] = { "file", "format", "encoding", "delimiter", "missing",
                                        "optional", "columns", "default_kind", "mask_pii", "header", "names",
                                        "where", "duplicates", NULL };
    const char *path = data_table_name(t->kind);
    char p[PATH_MAX_LEN];
    if (!json_is_object(obj)) return cfg_fail(c, path, "expected an object%s", "");
    int rc = check_keys(c, path, obj, keys);
    if (rc) return rc;
    t->configured = 1;
    if ((rc = set_default_missing(t))) return rc;
    const char *file;
    if ((rc = opt_string(c, path, obj, "file", &file))) return rc;
    if (!file) return cfg_fail(c, path, "missing key 'file' (a path)%s", "");
    if (!*file) return cfg_fail(c, key_path(p, path, "file"), "expected a path, not an empty string%s", "");
    if ((rc = join_path(base_dir, file, &t->file))) return rc;
    if ((rc = parse_source_options(c, path, obj, t))) return rc;
    if ((rc = parse_header(c, path, obj, t))) return rc;
    if ((rc = parse_where(c, path, obj, t))) return rc;
    if ((rc = parse_duplicates(c, path, obj, t))) return rc;
    if (json_object_get(obj, "default_kind") && t->kind != DATA_T_INTERACTIONS)
        return cfg_fail(c, key_path(p, path, "default_kind"), "applies only to interactions%s", "");
    if ((rc = opt_string_dup(c, path, obj, "default_kind", &t->default_kind))) return rc;
    if (!t->default_kind && !(t->default_kind = hp_strdup("held"))) return HP_ERR_NOMEM;
    json_t *cols = json_object_get(obj, "columns");
    if (!cols) return cfg_fail(c, path, "missing key 'columns'%s", "");
    return parse_columns(c, t, path, cols);
}

/* ------------------------------------------------------------------ dataset */

static void init_tables(data_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    for (int k = 0; k < DATA_T_COUNT; k++) {
        ds->t[k].kind = (data_table_kind)k;
        ds->t[k].id_col = -1;
    }
}

/* A top-level key that is neither part of the format nor a registered section: refused first,
 * naming every key a config may have (a typo, or a module this build does not have). */
static int check_top_keys(cfg_ctx *c, json_t *root)
{
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        data_section_check_fn check;
        void *ctx;
        if (data_config_is_fixed_key(key) || data_config_section_find(key, &check, &ctx)) continue;
        char known[512];
        data_config_known_keys(known, sizeof known);
        return hp_fail(c->err, HP_ERR_INVAL, "%s: %.60s: unknown key '%.60s' (known: %s)", c->name, key, key, known);
    }
    return HP_OK;
}

/* Each top-level key that is not part of the format must be a registered section: an object,
 * checked by its module, kept as text. Anything else is refused, naming what may be there. */
static int parse_sections(cfg_ctx *c, data_dataset *ds, json_t *root, const char *base_dir)
{
    const char *key;
    json_t *v;
    ds->sections = hp_calloc(json_object_size(root) + 1, sizeof *ds->sections);
    if (!ds->sections) return HP_ERR_NOMEM;
    json_object_foreach(root, key, v) {
        if (data_config_is_fixed_key(key)) continue;
        data_section_check_fn check;
        void *ctx;
        if (!data_config_section_find(key, &check, &ctx)) return HP_ERR_INVAL; /* check_top_keys said so */
        if (!json_is_object(v)) return cfg_fail(c, key, "expected an object%s", "");
        int rc = check(ctx, c->name, key, v, base_dir, c->err);
        if (rc) return rc;
        data_section_text *s = &ds->sections[ds->nsections++];
        s->name = hp_strdup(key);
        s->json = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!s->name || !s->json) return HP_ERR_NOMEM;
    }
    return HP_OK;
}

int data_config_parse(data_dataset *ds, const char *json, size_t len, const char *name,
                      const char *base_dir, hp_error *err)
{
    init_tables(ds);
    cfg_ctx c = { name, err };
    /* a UTF-8 BOM (editors on Windows save one) is skipped, UTF-16 refused: io_config_text */
    int rc = io_config_text(name, &json, &len, err);
    if (rc) return rc;
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) return hp_fail(err, HP_ERR_INVAL, "%s:%d:%d: %s", name, je.line, je.column, je.text);
    json_t *ver = json_is_object(root) ? json_object_get(root, "hyperp_dataset") : NULL;
    if (!json_is_object(root)) rc = cfg_fail(&c, "(top)", "expected a JSON object%s", "");
    else if ((rc = check_top_keys(&c, root))) {}
    else if (!json_is_integer(ver))
        rc = cfg_fail(&c, "hyperp_dataset", "missing or not an integer (this build reads version 1)%s", "");
    else if (json_integer_value(ver) != CONFIG_VERSION)
        rc = hp_fail(err, HP_ERR_VERSION, "%s: hyperp_dataset: version %lld, this build reads version %d",
                     name, (long long)json_integer_value(ver), CONFIG_VERSION);
    if (!rc) rc = opt_string_dup(&c, "", root, "name", &ds->name);
    for (int k = 0; !rc && k < DATA_T_COUNT; k++) {
        json_t *t = json_object_get(root, k_table_names[k]);
        if (t) rc = parse_table(&c, &ds->t[k], t, base_dir);
    }
    if (!rc) rc = parse_sections(&c, ds, root, base_dir);
    if (!rc && base_dir && !(ds->config_dir = hp_strdup(base_dir))) rc = HP_ERR_NOMEM;
    if (!rc && !ds->t[DATA_T_CUSTOMERS].configured)
        rc = cfg_fail(&c, "customers", "missing: every dataset needs a customers table%s", "");
    json_decref(root);
    if (rc) data_dataset_free(ds);
    return rc;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? hp_strndup(path, (size_t)(slash - path)) : hp_strdup(".");
}

int data_config_load(data_dataset *ds, const char *path, hp_error *err)
{
    char *buf;
    size_t len;
    init_tables(ds);
    int rc = io_read_file(path, &buf, &len, err);
    if (rc) return rc;
    char *dir = dir_of(path);
    rc = dir ? data_config_parse(ds, buf, len, path, dir, err) : HP_ERR_NOMEM;
    hp_free(buf);
    hp_free(dir);
    if (!rc && !(ds->config_path = hp_strdup(path))) {
        data_dataset_free(ds);
        rc = hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", path);
    }
    return rc;
}

int data_config_default(data_dataset *ds, const char *data_dir, hp_error *err)
{
    return data_config_parse(ds, data_default_config, strlen(data_default_config),
                             "built-in config", data_dir, err);
}

int data_config_set_file(data_dataset *ds, data_table_kind k, const char *path, hp_error *err)
{
    data_table *t = &ds->t[k];
    if (!t->configured)
        return hp_fail(err, HP_ERR_INVAL, "the config has no %s table to read '%s' into",
                       data_table_name(k), path);
    hp_free(t->file);
    if (!(t->file = hp_strdup(path))) return HP_ERR_NOMEM;
    t->optional = 0;
    t->format = IO_FMT_AUTO; /* the new file's extension says what it is */
    return HP_OK;
}

int data_config_set_buffer(data_dataset *ds, data_table_kind k, const char *name, const char *buf, size_t len,
                           int format, hp_error *err)
{
    int rc = data_config_set_file(ds, k, name, err);
    if (rc) return rc;
    ds->t[k].buf = buf;
    ds->t[k].buf_len = len;
    ds->t[k].format = format;
    return HP_OK;
}

static void free_column(data_column *c)
{
    hp_free(c->name);
    for (int i = 0; i < c->npositive; i++) hp_free(c->positive[i]);
    hp_free(c->positive);
    hp_free(c->product);
    hp_free(c->format);
    hp_free(c->num);
    hp_free(c->lo);
    hp_free(c->hi);
    hp_free(c->code);
    hp_free(c->ts);
    hp_free(c->off);
    hp_free(c->items);
    hp_free(c->text);
    data_dict_free(&c->dict);
}

void data_dataset_free(data_dataset *ds)
{
    if (!ds) return;
    for (int k = 0; k < DATA_T_COUNT; k++) {
        data_table *t = &ds->t[k];
        for (int i = 0; i < t->nspecs; i++) free_column(&t->specs[i]);
        for (int i = 0; i < t->ncols; i++) free_column(&t->cols[i]);
        for (int i = 0; i < t->nmissing; i++) hp_free(t->missing[i]);
        for (int i = 0; i < t->nnames; i++) hp_free(t->names[i]);
        hp_free(t->names);
        for (int i = 0; i < t->nwhere; i++) {
            hp_free(t->where[i].column);
            hp_free(t->where[i].str);
        }
        hp_free(t->where);
        hp_free(t->specs);
        hp_free(t->cols);
        hp_free(t->missing);
        hp_free(t->file);
        hp_free(t->default_kind);
        hp_free(t->line);
        hp_free(t->record);
    }
    hp_free(ds->config_path);
    hp_free(ds->config_dir);
    hp_free(ds->name);
    for (int i = 0; i < ds->nsections; i++) {
        hp_free(ds->sections[i].name);
        free(ds->sections[i].json); /* from json_dumps */
    }
    hp_free(ds->sections);
    memset(ds, 0, sizeof *ds);
}
