/* Ingest: files -> typed columnar tables, every value validated here, at the edge.
 *
 * Each row is parsed in two passes: `stage` checks every field and computes its typed value
 * without touching the tables; only if all fields are good does `commit` write the row (and
 * intern its strings). So a rejected row leaves no trace: no half row, no stray id. */
#include "data/data.h"
#include "data/parse.h"
#include "io/io.h"
#include "io/io_out.h"
#include "text/pii.h"

#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One field's validated value, between stage and commit. */
typedef struct {
    int missing;
    double v, lo, hi;
    int64_t ts;
    int32_t ref;           /* customer/product: row in the referenced table */
    const char *s;         /* trimmed text (categorical, id, multi list, text, kind) */
    size_t len;
} staged;

typedef struct {
    data_dataset *ds;
    const data_ingest_opts *opts;
    data_ingest_report *rep;
    FILE *rejects;
    int rejects_nomem;     /* a rejected value could not be masked (left out of the file) */
    int *src_index;        /* per table column: source field index or -1 (absent) */
    staged *stage;         /* per table column */
    data_table *implicit_products; /* products made from ids seen when no products file */
    size_t *missing_len;   /* lengths of the current table's missing tokens */
    size_t missing_max;
    char row_id[24];       /* "@row" ids */
    const data_table *table; /* the table being read */
    uint64_t *seen_in;     /* multi: per dict code, the number of the last list that had it */
    size_t seen_cap;
    uint64_t list_no;      /* number of the list being appended (never 0) */
    int json_array;        /* the table being read is a JSON array: a record is named by its
                              index, since a whole array is often written on one line */
} ingest_ctx;

#define ROW_NUMBER_COLUMN "@row"
#define DUPLICATE_SKIPPED 1 /* stage_row: a repeated id of a "duplicates": "first" table */
#define SRC_ROW_NUMBER (-2)

static void note(ingest_ctx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(ingest_ctx *cx, const char *fmt, ...)
{
    if (!cx->opts || !cx->opts->note) return;
    char msg[HP_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cx->opts->note(cx->opts->progress_ctx, msg);
}

/* ------------------------------------------------------------------ rejects */

static void csv_quote(FILE *f, const char *s, size_t len)
{
    int need = 0;
    for (size_t i = 0; i < len; i++) need |= s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!need) { fwrite(s, 1, len, f); return; }
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') fputc('"', f);
        fputc(s[i], f);
    }
    fputc('"', f);
}

/* One field of a rejected row, PII-masked as text columns are (cards keep their last 4
 * digits): the rejects file is read by people and kept longer than the data. */
static void put_masked(ingest_ctx *cx, FILE *f, const char *s, size_t len)
{
    if (!s || !len || pii_scan(s, len, NULL, 0) == 0) {
        if (s) csv_quote(f, s, len);
        return;
    }
    char *m = pii_mask(s, len, NULL, NULL);
    if (!m) {
        cx->rejects_nomem = 1; /* reported by close_rejects: the field is left empty */
        return;
    }
    csv_quote(f, m, strlen(m));
    hp_free(m);
}

/* The customer a rejected row is about (its id, or the customer it references), so that an
 * erasure can drop exactly that customer's rows from the file. */
static void row_subject(const ingest_ctx *cx, const data_table *t, const io_record *rec, long record,
                        const char **s, size_t *len, char num[24])
{
    int col = t->kind == DATA_T_CUSTOMERS ? t->id_col : -1;
    for (int i = 0; col < 0 && t->kind != DATA_T_PRODUCTS && i < t->ncols; i++)
        if (t->cols[i].role == DATA_ROLE_CUSTOMER) col = i;
    int src = col >= 0 && cx->src_index ? cx->src_index[col] : -1;
    *s = NULL;
    *len = 0;
    if (src == SRC_ROW_NUMBER) {
        *len = (size_t)snprintf(num, 24, "%ld", record);
        *s = num;
    } else if (src >= 0 && src < rec->nfields && rec->field[src]) {
        *s = rec->field[src];
        *len = rec->len[src];
        hp_trim(s, len);
    }
}

/* Where a record is, for messages: "customers.csv:12", or in a JSON array its JSON path and
 * the line it starts on, "customers.json[3] (line 1)". */
static const char *record_where(const ingest_ctx *cx, const data_table *t, long line, long record, char *buf,
                                size_t size)
{
    if (cx->json_array) snprintf(buf, size, "%s[%ld] (line %ld)", t->file, record, line);
    else snprintf(buf, size, "%s:%ld", t->file, line);
    return buf;
}

/* A sample for the user, cut to HP_ERROR_MAX when long. */
static void sample_line(char *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sample_line(char *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, HP_ERROR_MAX, fmt, ap);
    va_end(ap);
}

/* Reports one rejected row: counted, sampled for the user, written to the rejects file. Values
 * are masked for PII everywhere (the reason may quote one). */
static void reject(ingest_ctx *cx, data_table *t, const io_record *rec, long record, const char *column,
                   const char *reason)
{
    data_ingest_report *rep = cx->rep;
    char why[HP_ERROR_MAX];
    data_quote_value(reason, strlen(reason), sizeof why - 1, why, sizeof why);
    rep->rejected[t->kind]++;
    rep->total_rejected++;
    if (rep->nsamples < DATA_REJECT_SAMPLES) {
        char *m = rep->samples[rep->nsamples++], where[HP_ERROR_MAX];
        record_where(cx, t, rec->line, record, where, sizeof where);
        if (column) sample_line(m, "%s: column '%s': %s", where, column, why);
        else sample_line(m, "%s: %s", where, why);
    }
    if (!cx->rejects) return;
    FILE *f = cx->rejects;
    csv_quote(f, t->file, strlen(t->file));
    fprintf(f, ",%ld,", rec->line);
    if (column) csv_quote(f, column, strlen(column));
    fputc(',', f);
    csv_quote(f, why, strlen(why));
    fputc(',', f);
    /* the record as read (masked), re-joined as one CSV field, so nothing else of it is lost */
    char *joined = NULL, num[24];
    size_t jlen = 0, slen;
    FILE *mem = open_memstream(&joined, &jlen);
    for (int i = 0; mem && i < rec->nfields; i++) {
        if (i) fputc(',', mem);
        put_masked(cx, mem, rec->field[i], rec->len[i]);
    }
    if (mem) fclose(mem);
    else cx->rejects_nomem = 1;
    if (joined) csv_quote(f, joined, jlen);
    free(joined);
    fputc(',', f);
    const char *subject;
    row_subject(cx, t, rec, record, &subject, &slen, num);
    put_masked(cx, f, subject, slen);
    fputc('\n', f);
}

/* ------------------------------------------------------------------ staging one field */

static int is_missing(const ingest_ctx *cx, const data_table *t, const char *s, size_t len)
{
    if (!s) return 1;
    if (len > cx->missing_max) return 0;
    for (int i = 0; i < t->nmissing; i++)
        if (cx->missing_len[i] == len && memcmp(t->missing[i], s, len) == 0) return 1;
    return 0;
}

/* Lengths of the table's missing-value tokens, so the per-field test is cheap. */
static int prepare_missing(ingest_ctx *cx, const data_table *t)
{
    size_t *lens = hp_realloc(cx->missing_len, (size_t)(t->nmissing + 1) * sizeof *lens);
    if (!lens) return HP_ERR_NOMEM;
    cx->missing_len = lens;
    cx->missing_max = 0;
    for (int i = 0; i < t->nmissing; i++) {
        lens[i] = strlen(t->missing[i]);
        if (lens[i] > cx->missing_max) cx->missing_max = lens[i];
    }
    return HP_OK;
}

static int stage_label(const data_column *c, staged *st, hp_error *err)
{
    static const char *yes[] = { "1", "yes", "true", "y", "t" }, *no[] = { "0", "no", "false", "n", "f" };
    if (c->npositive) {
        st->v = 0;
        for (int i = 0; i < c->npositive; i++)
            if (strlen(c->positive[i]) == st->len && strncasecmp(c->positive[i], st->s, st->len) == 0) st->v = 1;
        return HP_OK;
    }
    for (size_t i = 0; i < HP_ARRAY_LEN(yes); i++) {
        if (strlen(yes[i]) == st->len && strncasecmp(yes[i], st->s, st->len) == 0) { st->v = 1; return HP_OK; }
        if (strlen(no[i]) == st->len && strncasecmp(no[i], st->s, st->len) == 0) { st->v = 0; return HP_OK; }
    }
    char q[128];
    data_quote_value(st->s, st->len, 40, q, sizeof q);
    return hp_fail(err, HP_ERR_FORMAT, "'%s' is not a label (expected yes/no, true/false or 1/0, "
                   "or set \"positive\" in the config)", q);
}

static int stage_ref(ingest_ctx *cx, const data_column *c, staged *st, hp_error *err)
{
    int is_customer = c->role == DATA_ROLE_CUSTOMER;
    data_table *ref = &cx->ds->t[is_customer ? DATA_T_CUSTOMERS : DATA_T_PRODUCTS];
    if (!is_customer && cx->implicit_products) {
        st->ref = -2; /* resolved at commit: the id joins the implicit catalogue */
        return HP_OK;
    }
    data_column *id = ref->id_col >= 0 ? &ref->cols[ref->id_col] : NULL;
    st->ref = id ? data_dict_find(&id->dict, st->s, st->len) : -1;
    char q[128];
    if (st->ref < 0)
        return hp_fail(err, HP_ERR_FORMAT, "unknown %s '%s'", is_customer ? "customer" : "product",
                       (data_quote_value(st->s, st->len, 60, q, sizeof q), q));
    return HP_OK;
}

static int stage_id(const ingest_ctx *cx, const data_table *t, const data_column *c, staged *st, hp_error *err)
{
    int32_t prev = data_dict_find(&c->dict, st->s, st->len);
    if (prev < 0) return HP_OK;
    if (t->keep_first) return DUPLICATE_SKIPPED; /* "duplicates": "first": not an error */
    char q[128], first[HP_ERROR_MAX];
    /* in a JSON array the first one is named by its index: the array may be a single line */
    if (cx->json_array) snprintf(first, sizeof first, "[%ld], line %ld", t->record[prev], t->line[prev]);
    else snprintf(first, sizeof first, "line %ld", t->line[prev]);
    return hp_fail(err, HP_ERR_FORMAT, "duplicate id '%s' (first at %s)",
                   (data_quote_value(st->s, st->len, 60, q, sizeof q), q), first);
}

static int stage_value(ingest_ctx *cx, const data_table *t, const data_column *c, staged *st, hp_error *err)
{
    switch (c->role) {
    case DATA_ROLE_ID: return stage_id(cx, t, c, st, err);
    case DATA_ROLE_NUMERIC: case DATA_ROLE_VALUE: case DATA_ROLE_AMOUNT:
        return data_parse_number(st->s, st->len, &st->v, err);
    case DATA_ROLE_HELD: {
        int rc = data_parse_number(st->s, st->len, &st->v, err);
        char q[128];
        if (!rc && st->v != 0 && st->v != 1)
            return hp_fail(err, HP_ERR_FORMAT, "'%s' is not a 0/1 holding flag",
                           (data_quote_value(st->s, st->len, 40, q, sizeof q), q));
        return rc;
    }
    case DATA_ROLE_BAND: {
        int rc = data_band_parse(st->s, st->len, &st->lo, &st->hi, err);
        st->v = rc ? NAN : data_band_value(st->lo, st->hi);
        return rc;
    }
    case DATA_ROLE_TIMESTAMP: return data_parse_timestamp_as(st->s, st->len, c->format, &st->ts, err);
    case DATA_ROLE_LABEL: return stage_label(c, st, err);
    case DATA_ROLE_CUSTOMER: case DATA_ROLE_PRODUCT: return stage_ref(cx, c, st, err);
    default: return HP_OK; /* categorical, protected, kind, multi, text: any UTF-8 string */
    }
}

static int role_required(data_role r)
{
    return r == DATA_ROLE_ID || r == DATA_ROLE_CUSTOMER || r == DATA_ROLE_PRODUCT || r == DATA_ROLE_AMOUNT;
}

/* ------------------------------------------------------------------ row filter ("where") */

static int where_holds(const ingest_ctx *cx, const data_table *t, const data_where *w, const io_record *rec)
{
    const char *s = w->src < rec->nfields ? rec->field[w->src] : NULL;
    size_t len = s ? rec->len[w->src] : 0;
    if (s) hp_trim(&s, &len);
    if (is_missing(cx, t, s, len)) return 0; /* a missing value fails every condition ("present" tests it) */
    double v = 0;
    hp_error ignore = { 0 };
    int numeric = (w->is_num || (w->op >= DATA_WHERE_LT && w->op <= DATA_WHERE_GE)) &&
                  data_parse_number(s, len, &v, &ignore) == HP_OK;
    size_t n = w->str ? strlen(w->str) : 0;
    switch (w->op) {
    case DATA_WHERE_EQ: case DATA_WHERE_NE: {
        int eq = w->is_num ? numeric && v == w->num : len == n && memcmp(s, w->str, n) == 0;
        return w->op == DATA_WHERE_EQ ? eq : !eq;
    }
    case DATA_WHERE_LT: return numeric && v < w->num;
    case DATA_WHERE_LE: return numeric && v <= w->num;
    case DATA_WHERE_GT: return numeric && v > w->num;
    case DATA_WHERE_GE: return numeric && v >= w->num;
    case DATA_WHERE_PREFIX: return len >= n && memcmp(s, w->str, n) == 0;
    case DATA_WHERE_NOT_PREFIX: return !(len >= n && memcmp(s, w->str, n) == 0);
    case DATA_WHERE_HAS_DIGIT:
        for (size_t i = 0; i < len; i++)
            if (s[i] >= '0' && s[i] <= '9') return 1;
        return 0;
    case DATA_WHERE_PRESENT: return 1;
    }
    return 0;
}

static int row_passes(const ingest_ctx *cx, const data_table *t, const io_record *rec)
{
    for (int i = 0; i < t->nwhere; i++)
        if (!where_holds(cx, t, &t->where[i], rec)) return 0;
    return 1;
}

/* The source field of each condition, found as a config column name is (exact, else the one
 * that differs only in case); a column the file lacks stops ingest. */
static int header_index(const data_table *t, const io_source *src, const char *name, int *out, hp_error *err);

static int map_where(data_table *t, const io_source *src, hp_error *err)
{
    for (int i = 0; i < t->nwhere; i++) {
        int rc = header_index(t, src, t->where[i].column, &t->where[i].src, err);
        if (rc) return rc;
        if (t->where[i].src < 0)
            return hp_fail(err, HP_ERR_FORMAT, "%s: no column '%s' (named by the config's %s.where[%d])", t->file,
                           t->where[i].column, data_table_name(t->kind), i);
    }
    return HP_OK;
}

/* Validates every field of rec; on failure *bad is the column index. */
static int stage_row(ingest_ctx *cx, data_table *t, const io_record *rec, long record, int *bad, hp_error *err)
{
    for (int i = 0; i < t->ncols; i++) {
        const data_column *c = &t->cols[i];
        staged *st = &cx->stage[i];
        int src = cx->src_index[i];
        st->s = src >= 0 ? rec->field[src] : NULL;
        st->len = src >= 0 ? rec->len[src] : 0;
        if (src == SRC_ROW_NUMBER) { /* "@row": the record number is the id */
            st->len = (size_t)snprintf(cx->row_id, sizeof cx->row_id, "%ld", record);
            st->s = cx->row_id;
        }
        if (st->s) hp_trim(&st->s, &st->len);
        st->missing = c->role == DATA_ROLE_IGNORE || is_missing(cx, t, st->s, st->len);
        *bad = i;
        if (st->missing) {
            if (role_required(c->role)) return hp_fail(err, HP_ERR_FORMAT, "missing value (required)");
            continue;
        }
        int rc = stage_value(cx, t, c, st, err);
        if (rc) return rc;
    }
    return HP_OK;
}

/* ------------------------------------------------------------------ committing one row */

/* Marks code as seen in the current list; 1 if it already was. Constant time: seen_in[code]
 * holds the number of the last list that had the code, so no list is ever scanned (a
 * field of 400k items once took 16 s of pairwise comparisons). */
static int seen_before(ingest_ctx *cx, int32_t code)
{
    size_t need = (size_t)code + 1;
    if (need > cx->seen_cap) {
        size_t cap = cx->seen_cap ? cx->seen_cap : 256;
        while (cap < need) cap *= 2;
        uint64_t *p = hp_realloc(cx->seen_in, cap * sizeof *p);
        if (!p) return HP_ERR_NOMEM;
        memset(p + cx->seen_cap, 0, (cap - cx->seen_cap) * sizeof *p);
        cx->seen_in = p;
        cx->seen_cap = cap;
    }
    if (cx->seen_in[code] == cx->list_no) return 1;
    cx->seen_in[code] = cx->list_no;
    return 0;
}

/* Splits a list at the column's separator and stores its items in first-seen order, with
 * blanks trimmed and empty and repeated items dropped ("b, a, b,, c" -> b, a, c). */
static int append_items(ingest_ctx *cx, data_column *c, size_t row, const char *s, size_t len)
{
    const char *end = s + len;
    cx->list_no++;
    while (s < end) {
        const char *sep = memchr(s, c->separator, (size_t)(end - s));
        const char *item = s;
        size_t n = (size_t)((sep ? sep : end) - s);
        s = sep ? sep + 1 : end;
        hp_trim(&item, &n);
        if (!n) continue;
        int32_t code = data_dict_intern(&c->dict, item, n);
        if (code < 0) return code;
        int dup = seen_before(cx, code);
        if (dup < 0) return dup;
        if (dup) continue;
        if (hp_grow((void **)&c->items, &c->items_cap, c->nitems + 1, sizeof *c->items)) return HP_ERR_NOMEM;
        c->items[c->nitems++] = code;
    }
    c->off[row + 1] = c->nitems;
    return HP_OK;
}

/* Free text is masked for PII (PCI-DSS: card numbers keep their last 4 digits) before it is
 * stored, so nothing downstream (features, logs, model files) ever sees it. */
static int append_masked_text(ingest_ctx *cx, data_column *c, size_t row, const char *s, size_t len);

static int append_text(data_column *c, size_t row, const char *s, size_t len)
{
    if (hp_grow((void **)&c->text, &c->items_cap, c->nitems + len + 1, 1)) return HP_ERR_NOMEM;
    memcpy(c->text + c->nitems, s, len);
    c->text[c->nitems + len] = 0;
    c->nitems += len + 1;
    c->off[row + 1] = c->nitems;
    return HP_OK;
}

static int32_t implicit_product(ingest_ctx *cx, const char *s, size_t len);

static int append_masked_text(ingest_ctx *cx, data_column *c, size_t row, const char *s, size_t len)
{
    if (cx->table->keep_pii || pii_scan(s, len, NULL, 0) == 0) return append_text(c, row, s, len);
    size_t counts[PII_TYPE_COUNT] = { 0 };
    char *masked = pii_mask(s, len, NULL, counts);
    if (!masked) return HP_ERR_NOMEM;
    for (int k = 0; k < PII_TYPE_COUNT; k++) cx->rep->pii_masked += counts[k];
    int rc = append_text(c, row, masked, strlen(masked));
    hp_free(masked);
    return rc;
}

static int commit_field(ingest_ctx *cx, data_column *c, size_t row, const staged *st)
{
    if (st->missing) {
        data_column_set_missing(c, row);
        if (c->role == DATA_ROLE_KIND) {
            const char *k = cx->ds->t[DATA_T_INTERACTIONS].default_kind;
            int32_t code = data_dict_intern(&c->dict, k, strlen(k));
            if (code < 0) return code;
            c->code[row] = code;
        }
        return HP_OK;
    }
    if (c->num) c->num[row] = (float)st->v;
    if (c->lo) { c->lo[row] = (float)st->lo; c->hi[row] = (float)st->hi; }
    if (c->ts) c->ts[row] = st->ts;
    switch (c->role) {
    case DATA_ROLE_CUSTOMER: c->code[row] = st->ref; return HP_OK;
    case DATA_ROLE_PRODUCT:
        c->code[row] = st->ref >= 0 ? st->ref : implicit_product(cx, st->s, st->len);
        return c->code[row] < 0 ? c->code[row] : HP_OK;
    case DATA_ROLE_MULTI: return append_items(cx, c, row, st->s, st->len);
    case DATA_ROLE_TEXT: return append_masked_text(cx, c, row, st->s, st->len);
    default: break;
    }
    if (c->code) {
        int32_t code = data_dict_intern(&c->dict, st->s, st->len);
        if (code < 0) return code;
        c->code[row] = code;
    }
    return HP_OK;
}

static int commit_row(ingest_ctx *cx, data_table *t, long line, long record)
{
    int rc = data_table_reserve(t, t->nrows + 1);
    if (rc) return rc;
    size_t row = t->nrows;
    t->line[row] = line;
    t->record[row] = record;
    for (int i = 0; i < t->ncols; i++)
        if ((rc = commit_field(cx, &t->cols[i], row, &cx->stage[i]))) return rc;
    t->nrows++;
    return HP_OK;
}

/* ------------------------------------------------------------------ implicit catalogue */

/* When no products file is configured, the catalogue is the set of product ids seen (in
 * interactions or holding-flag columns), with no features but the id. */
static int32_t implicit_product(ingest_ctx *cx, const char *s, size_t len)
{
    data_table *p = cx->implicit_products;
    data_column *id = &p->cols[p->id_col];
    int32_t code = data_dict_find(&id->dict, s, len);
    if (code >= 0) return code;
    if (data_table_reserve(p, p->nrows + 1)) return HP_ERR_NOMEM;
    code = data_dict_intern(&id->dict, s, len);
    if (code < 0) return code;
    id->code[p->nrows] = code;
    p->line[p->nrows] = 0;
    p->record[p->nrows] = (long)p->nrows;
    p->nrows++;
    return code;
}

static int make_implicit_products(ingest_ctx *cx)
{
    data_table *p = &cx->ds->t[DATA_T_PRODUCTS];
    data_column spec = { .role = DATA_ROLE_ID };
    if (!p->file && !(p->file = hp_strdup("(product ids seen in the data)"))) return HP_ERR_NOMEM;
    if (!data_table_add_column(p, &spec, "product_id")) return HP_ERR_NOMEM;
    p->id_col = 0;
    p->loaded = 1;
    p->implied = 1;
    cx->implicit_products = p;
    return HP_OK;
}

/* ------------------------------------------------------------------ mapping columns */

/* "file:line" of the header, for messages about header columns (JSON has no header line). */
static void header_where(const data_table *t, const io_source *src, char *buf, size_t size)
{
    long line = io_source_header_line(src);
    if (line > 0) snprintf(buf, size, "%s:%ld", t->file, line);
    else snprintf(buf, size, "%s", t->file);
}

/* The header column named name: an exact match, else one that differs only in case ("Age"
 * for "age"); -1 if none. Two columns that differ only in case are ambiguous: an error
 * naming both (exact duplicates are found for every used column in check_duplicate_names). */
static int header_index(const data_table *t, const io_source *src, const char *name, int *out, hp_error *err)
{
    int n = io_source_ncolumns(src);
    *out = -1;
    for (int i = 0; i < n; i++)
        if (strcmp(io_source_column(src, i), name) == 0) {
            *out = i;
            return HP_OK;
        }
    for (int i = 0; i < n; i++) {
        if (strcasecmp(io_source_column(src, i), name) != 0) continue;
        if (*out < 0) {
            *out = i;
            continue;
        }
        char where[HP_ERROR_MAX / 2];
        header_where(t, src, where, sizeof where);
        return hp_fail(err, HP_ERR_FORMAT, "%s: columns %d ('%s') and %d ('%s') both match '%s' "
                       "(case aside); name one of them exactly in the config", where, *out + 1,
                       io_source_column(src, *out), i + 1, io_source_column(src, i), name);
    }
    return HP_OK;
}

static int is_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

static int add_mapped(ingest_ctx *cx, data_table *t, const data_column *spec, const char *name, int src)
{
    data_column *c = data_table_add_column(t, spec, name);
    if (!c) return HP_ERR_NOMEM;
    c->present = src >= 0 || src == SRC_ROW_NUMBER;
    int *idx = hp_realloc(cx->src_index, (size_t)t->ncols * sizeof *idx);
    if (!idx) return HP_ERR_NOMEM;
    cx->src_index = idx;
    idx[t->ncols - 1] = src;
    if (c->role == DATA_ROLE_ID) t->id_col = t->ncols - 1;
    return HP_OK;
}

static void list_columns(const io_source *src, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < io_source_ncolumns(src) && used + 4 < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", io_source_column(src, i));
}

/* Which spec claimed each header column: spec index + 1, 0 = none. */
typedef struct {
    int *by;
} claims;

/* A header column already claimed by another spec of the same kind (two names that match
 * one column without regard to case, or two patterns) is an error: which one was meant? */
static int claim(const data_table *t, const io_source *src, claims *cl, int col, int spec, hp_error *err)
{
    int prev = cl->by[col] - 1;
    if (prev < 0) {
        cl->by[col] = spec + 1;
        return HP_OK;
    }
    char where[HP_ERROR_MAX / 2];
    header_where(t, src, where, sizeof where);
    return hp_fail(err, HP_ERR_FORMAT, "%s: column %d ('%s') is named by both '%s' and '%s' in the config",
                   where, col + 1, io_source_column(src, col), t->specs[prev].name, t->specs[spec].name);
}

static int map_spec(ingest_ctx *cx, data_table *t, int s, const io_source *src, claims *cl, hp_error *err)
{
    const data_column *spec = &t->specs[s];
    char cols[300];
    if (strcmp(spec->name, ROW_NUMBER_COLUMN) == 0) /* ids made from record numbers */
        return add_mapped(cx, t, spec, spec->name, SRC_ROW_NUMBER);
    if (!is_glob(spec->name)) {
        int i, rc = header_index(t, src, spec->name, &i, err);
        if (rc) return rc;
        if (i < 0 && !spec->optional) {
            list_columns(src, cols, sizeof cols);
            return hp_fail(err, HP_ERR_FORMAT, "%s: missing required column '%s' (columns: %s)",
                           t->file, spec->name, cols);
        }
        if (i >= 0 && (rc = claim(t, src, cl, i, s, err))) return rc;
        return add_mapped(cx, t, spec, spec->name, i);
    }
    int matched = 0;
    for (int i = 0; i < io_source_ncolumns(src); i++) {
        if (fnmatch(spec->name, io_source_column(src, i), 0) != 0) continue;
        int prev = cl->by[i] - 1;
        if (prev >= 0 && !is_glob(t->specs[prev].name)) continue; /* a literal name wins */
        int rc = claim(t, src, cl, i, s, err);
        if (!rc) rc = add_mapped(cx, t, spec, io_source_column(src, i), i);
        if (rc) return rc;
        matched++;
    }
    if (!matched && !spec->optional)
        return hp_fail(err, HP_ERR_FORMAT, "%s: no column matches '%s'", t->file, spec->name);
    return HP_OK;
}

static const io_source *g_sort_src; /* qsort has no context argument; ingest is not reentrant here */

static int cmp_column_name(const void *a, const void *b)
{
    int i = *(const int *)a, j = *(const int *)b;
    int c = strcmp(io_source_column(g_sort_src, i), io_source_column(g_sort_src, j));
    return c ? c : (i > j) - (i < j);
}

/* Two header columns with the same name, one of which the config uses: the first used to be
 * read silently and the other reported as not in the config. Sorting keeps wide headers fast. */
static int check_duplicate_names(const data_table *t, const io_source *src, const claims *cl, hp_error *err)
{
    int n = io_source_ncolumns(src);
    if (n < 2) return HP_OK;
    int *idx = hp_malloc((size_t)n * sizeof *idx);
    if (!idx) return HP_ERR_NOMEM;
    for (int i = 0; i < n; i++) idx[i] = i;
    g_sort_src = src;
    qsort(idx, (size_t)n, sizeof *idx, cmp_column_name);
    int rc = HP_OK;
    for (int a = 0; a < n && !rc;) {
        int b = a + 1, used = cl->by[idx[a]] != 0;
        while (b < n && strcmp(io_source_column(src, idx[a]), io_source_column(src, idx[b])) == 0)
            used |= cl->by[idx[b++]] != 0;
        if (b - a > 1 && used) {
            char where[HP_ERROR_MAX / 2];
            header_where(t, src, where, sizeof where);
            rc = hp_fail(err, HP_ERR_FORMAT, "%s: columns %d and %d are both named '%s'; rename one "
                         "(the config cannot tell them apart)", where, idx[a] + 1, idx[a + 1] + 1,
                         io_source_column(src, idx[a]));
        }
        a = b;
    }
    hp_free(idx);
    return rc;
}

/* A column only a "where" condition reads is used all the same. */
static int used_by_where(const data_table *t, const char *name)
{
    for (int i = 0; i < t->nwhere; i++)
        if (strcasecmp(t->where[i].column, name) == 0) return 1;
    return 0;
}

/* Builds t->cols from the config's specs and the file's header. Literal names are mapped
 * before globs, so "ind_nomina_ult1": "ignore" beside "ind_*_ult1": "held" excludes one. */
static int map_columns(ingest_ctx *cx, data_table *t, const io_source *src, hp_error *err)
{
    int n = io_source_ncolumns(src), rc = HP_OK;
    if (t->ncols) return hp_fail(err, HP_ERR_INVAL, "%s: table read twice", t->file);
    claims cl = { hp_calloc((size_t)n + 1, sizeof *cl.by) };
    if (!cl.by) return HP_ERR_NOMEM;
    for (int pass = 0; pass < 2 && !rc; pass++)
        for (int s = 0; s < t->nspecs && !rc; s++)
            if (is_glob(t->specs[s].name) == pass) rc = map_spec(cx, t, s, src, &cl, err);
    if (!rc) rc = check_duplicate_names(t, src, &cl, err);
    int unused = 0;
    char names[200] = "";
    for (int i = 0; !rc && i < n; i++) {
        if (cl.by[i] || used_by_where(t, io_source_column(src, i))) continue;
        if (unused++ < 5)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s'%s'", unused > 1 ? ", " : "",
                     io_source_column(src, i));
    }
    if (unused) note(cx, "%s: %d column%s not in the config, not used: %s%s", t->file, unused,
                     unused > 1 ? "s" : "", names, unused > 5 ? ", ..." : "");
    hp_free(cl.by);
    staged *stage = rc ? NULL : hp_realloc(cx->stage, (size_t)(t->ncols ? t->ncols : 1) * sizeof *stage);
    if (!rc && !stage) rc = HP_ERR_NOMEM;
    if (stage) cx->stage = stage;
    return rc;
}

/* ------------------------------------------------------------------ reading one table */

static int open_source(data_table *t, io_source **src, hp_error *err)
{
    const char **keys = hp_calloc((size_t)(t->nspecs + t->nwhere) + 1, sizeof *keys);
    if (!keys) return HP_ERR_NOMEM;
    int nkeys = 0;
    for (int i = 0; i < t->nspecs; i++) /* a pattern names no JSON key: it only matches CSV headers */
        if (!is_glob(t->specs[i].name) && strcmp(t->specs[i].name, ROW_NUMBER_COLUMN) != 0) keys[nkeys++] = t->specs[i].name;
    for (int i = 0; i < t->nwhere; i++) { /* a filter's column need not be a config column */
        int known = 0;
        for (int j = 0; j < nkeys; j++) known |= strcmp(keys[j], t->where[i].column) == 0;
        if (!known) keys[nkeys++] = t->where[i].column;
    }
    io_source_opts o = { .format = (io_format)t->format, .encoding = (io_encoding)t->encoding,
                         .delimiter = t->delimiter, .keys = keys, .nkeys = nkeys,
                         .no_header = t->no_header, .names = (const char *const *)t->names, .nnames = t->nnames };
    int rc = t->buf ? io_source_open_buffer(src, t->file, t->buf, t->buf_len, &o, err)
                    : io_source_open(src, t->file, &o, err);
    if (rc == HP_ERR_FORMAT && t->no_header && err) { /* the names do not fit the file: say which key gave them */
        char msg[HP_ERROR_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        hp_fail(err, rc, "%s (config: %s.names)", msg, data_table_name(t->kind));
    }
    if (!rc && t->no_header && io_source_format(*src) != IO_FMT_CSV)
        rc = hp_fail(err, HP_ERR_FORMAT, "%s: %s.header is false, but this file is read as JSON: header and names "
                     "apply only to CSV files", t->file, data_table_name(t->kind));
    hp_free(keys);
    return rc;
}

static int read_records(ingest_ctx *cx, data_table *t, io_source *src, hp_error *err)
{
    io_record rec;
    hp_error rerr = { 0 };
    for (long record = 0;; record++) {
        int rc = io_source_next(src, &rec, &rerr);
        if (rc == 0) return HP_OK;
        t->nrecords = record + 1;
        if (rc == HP_ERR_FORMAT) {
            const char *col = rec.bad_field >= 0 && rec.bad_field < io_source_ncolumns(src)
                                  ? io_source_column(src, rec.bad_field) : NULL;
            reject(cx, t, &rec, record, col, rerr.msg);
            continue;
        }
        char where[HP_ERROR_MAX];
        if (rc < 0) return hp_fail(err, rc, "%s: %s", record_where(cx, t, rec.line, record, where, sizeof where), rerr.msg);
        if (!row_passes(cx, t, &rec)) {
            cx->rep->filtered[t->kind]++;
            continue;
        }
        int bad = -1;
        if ((rc = stage_row(cx, t, &rec, record, &bad, &rerr)) == DUPLICATE_SKIPPED) {
            cx->rep->duplicates[t->kind]++;
            continue;
        }
        if (rc) {
            reject(cx, t, &rec, record, t->cols[bad].name, rerr.msg);
            continue;
        }
        if ((rc = commit_row(cx, t, rec.line, record))) return hp_fail(err, rc, "%s: out of memory", t->file);
        if (cx->opts && cx->opts->progress && t->nrows % 65536 == 0)
            cx->opts->progress(cx->opts->progress_ctx, data_table_name(t->kind), t->nrows, -1);
    }
}

static int load_table(ingest_ctx *cx, data_table *t, hp_error *err)
{
    io_source *src = NULL;
    int rc = prepare_missing(cx, t);
    cx->table = t;
    if (!rc) rc = open_source(t, &src, err);
    cx->json_array = src && io_source_format(src) == IO_FMT_JSON;
    if (!rc) rc = map_columns(cx, t, src, err);
    if (!rc) rc = map_where(t, src, err);
    if (!rc) rc = read_records(cx, t, src, err);
    if (!rc && t->nwhere)
        note(cx, "%s: %zu of %ld records left out by %s.where", t->file, cx->rep->filtered[t->kind], t->nrecords,
             data_table_name(t->kind));
    if (!rc && cx->rep->duplicates[t->kind])
        note(cx, "%s: %zu rows of an id seen before skipped (%s.duplicates: \"first\")", t->file,
             cx->rep->duplicates[t->kind], data_table_name(t->kind));
    io_source_free(src);
    if (!rc) {
        t->loaded = 1;
        cx->rep->rows[t->kind] = t->nrows;
    }
    return rc;
}

/* ------------------------------------------------------------------ holdings and interactions */

/* The interactions table always has customer, product, kind, value and timestamp columns,
 * whether read from a file or made from holding flags, so downstream code need not ask. */
static int ensure_interaction_columns(data_table *t)
{
    static const struct { data_role role; const char *name; } need[] = {
        { DATA_ROLE_CUSTOMER, "customer_id" }, { DATA_ROLE_PRODUCT, "product_id" },
        { DATA_ROLE_KIND, "kind" }, { DATA_ROLE_VALUE, "value" }, { DATA_ROLE_TIMESTAMP, "timestamp" },
    };
    if (!t->default_kind && !(t->default_kind = hp_strdup("held"))) return HP_ERR_NOMEM;
    for (size_t i = 0; i < HP_ARRAY_LEN(need); i++) {
        if (data_table_col_role(t, need[i].role)) continue;
        data_column spec = { .role = need[i].role };
        data_column *c = data_table_add_column(t, &spec, need[i].name);
        if (!c) return HP_ERR_NOMEM;
        if (c->role != DATA_ROLE_KIND) continue;
        int32_t code = data_dict_intern(&c->dict, t->default_kind, strlen(t->default_kind));
        if (code < 0) return code;
        for (size_t row = 0; row < t->nrows; row++) c->code[row] = code;
    }
    if (!t->file && !(t->file = hp_strdup("(holding flags of customers)"))) return HP_ERR_NOMEM;
    return HP_OK;
}

static int add_interaction(ingest_ctx *cx, data_table *it, size_t customer, int32_t product,
                           const char *kind, float value)
{
    int rc = data_table_reserve(it, it->nrows + 1);
    if (rc) return rc;
    size_t row = it->nrows;
    for (int i = 0; i < it->ncols; i++) data_column_set_missing(&it->cols[i], row);
    data_table_col_role(it, DATA_ROLE_CUSTOMER)->code[row] = (int32_t)customer;
    data_table_col_role(it, DATA_ROLE_PRODUCT)->code[row] = product;
    data_table_col_role(it, DATA_ROLE_VALUE)->num[row] = value;
    data_column *kc = data_table_col_role(it, DATA_ROLE_KIND);
    int32_t code = data_dict_intern(&kc->dict, kind, strlen(kind));
    if (code < 0) return code;
    kc->code[row] = code;
    it->line[row] = cx->ds->t[DATA_T_CUSTOMERS].line[customer];
    it->record[row] = -1; /* made from a customers row, not read from a file */
    it->nrows++;
    return HP_OK;
}

/* The product a holding flag or a label column stands for. */
static int32_t column_product(ingest_ctx *cx, const data_column *c, hp_error *err)
{
    const char *name = c->product ? c->product : c->name;
    if (cx->implicit_products) return implicit_product(cx, name, strlen(name));
    data_table *p = &cx->ds->t[DATA_T_PRODUCTS];
    int32_t code = data_dict_find(&p->cols[p->id_col].dict, name, strlen(name));
    if (code < 0)
        return hp_fail(err, HP_ERR_INVAL, "customers column '%s': product '%s' is not in %s", c->name, name, p->file);
    return code;
}

/* Turns holding-flag columns (role "held") into "held" interactions, and a label column
 * into "label" interactions with value 0/1 on the product the label is about (a
 * propensity data set is a one-product catalogue with known negatives). */
static int expand_customer_columns(ingest_ctx *cx, hp_error *err)
{
    data_table *cu = &cx->ds->t[DATA_T_CUSTOMERS], *it = &cx->ds->t[DATA_T_INTERACTIONS];
    if (!data_table_col_role(cu, DATA_ROLE_HELD) && !data_table_col_role(cu, DATA_ROLE_LABEL)) return HP_OK;
    int rc = ensure_interaction_columns(it);
    for (int i = 0; !rc && i < cu->ncols; i++) {
        const data_column *c = &cu->cols[i];
        if (c->role != DATA_ROLE_HELD && c->role != DATA_ROLE_LABEL) continue;
        int32_t product = column_product(cx, c, err);
        if (product < 0) return product;
        int label = c->role == DATA_ROLE_LABEL;
        for (size_t row = 0; !rc && row < cu->nrows; row++) {
            float v = c->num[row];
            if (label ? !isnan(v) : v == 1)
                rc = add_interaction(cx, it, row, product, label ? "label" : "held", label ? v : 1);
        }
    }
    it->loaded = 1;
    cx->rep->rows[DATA_T_INTERACTIONS] = it->nrows;
    return rc;
}


/* ------------------------------------------------------------------ entry point */

static int file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

static int ingest_table(ingest_ctx *cx, data_table_kind k, hp_error *err)
{
    data_table *t = &cx->ds->t[k];
    if (!t->configured) return HP_OK;
    if (t->optional && !file_exists(t->file)) {
        note(cx, "%s: %s not found, skipped (optional)", data_table_name(k), t->file);
        return HP_OK;
    }
    int rc = load_table(cx, t, err);
    if (!rc && k == DATA_T_INTERACTIONS) rc = ensure_interaction_columns(t);
    return rc;
}

/* The rejects file holds customer data: owner-only, and never one of the files being read
 * (opening it would truncate that input before it is read). */
static int open_rejects(ingest_ctx *cx, hp_error *err)
{
    const char *path = cx->opts ? cx->opts->rejects_path : NULL;
    if (!path) return HP_OK;
    const char *inputs[DATA_T_COUNT];
    size_t n = 0;
    for (int k = 0; k < DATA_T_COUNT; k++)
        if (cx->ds->t[k].configured && cx->ds->t[k].file) inputs[n++] = cx->ds->t[k].file;
    hp_error oerr = { 0 };
    if (!(cx->rejects = io_out_fopen(path, NULL, inputs, n, &oerr)))
        return hp_fail(err, oerr.status, "rejects file %s", oerr.msg);
    fputs("file,line,column,reason,record,customer_id\n", cx->rejects);
    return HP_OK;
}

static int close_rejects(ingest_ctx *cx, hp_error *err)
{
    if (!cx->rejects) return HP_OK;
    int bad = ferror(cx->rejects);
    bad |= fclose(cx->rejects) != 0;
    cx->rejects = NULL;
    if (bad) return hp_fail(err, HP_ERR_WRITE, "%s: error writing rejects file", cx->opts->rejects_path);
    if (cx->rejects_nomem)
        return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory masking a rejected row (its values were left out)",
                       cx->opts->rejects_path);
    return HP_OK;
}

int data_ingest(data_dataset *ds, const data_ingest_opts *opts, data_ingest_report *rep, hp_error *err)
{
    data_ingest_report local;
    if (!rep) rep = &local;
    memset(rep, 0, sizeof *rep);
    double t0 = hp_now();
    ingest_ctx cx = { .ds = ds, .opts = opts, .rep = rep };
    int rc = open_rejects(&cx, err);
    data_table *products = &ds->t[DATA_T_PRODUCTS];
    if (!rc) rc = ingest_table(&cx, DATA_T_PRODUCTS, err);
    if (!rc && !products->loaded) rc = make_implicit_products(&cx);
    static const data_table_kind order[] = { DATA_T_CUSTOMERS, DATA_T_INTERACTIONS, DATA_T_TRANSACTIONS };
    for (size_t i = 0; !rc && i < HP_ARRAY_LEN(order); i++) {
        rc = ingest_table(&cx, order[i], err);
        /* holding flags and labels become interactions after the interactions file, whose
         * columns must be mapped on an empty table */
        if (!rc && order[i] == DATA_T_INTERACTIONS) rc = expand_customer_columns(&cx, err);
    }
    if (cx.implicit_products) rep->rows[DATA_T_PRODUCTS] = products->nrows;
    int crc = close_rejects(&cx, err);
    hp_free(cx.src_index);
    hp_free(cx.stage);
    hp_free(cx.missing_len);
    hp_free(cx.seen_in);
    rep->seconds = hp_now() - t0;
    return rc ? rc : crc;
}
