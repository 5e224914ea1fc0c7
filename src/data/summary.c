/* A readable (or JSON) account of what ingest loaded: per table the rows and rejects, per
 * column how full it is and what its values look like. */
#include "data/data.h"
#include "data/parse.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t present;
    double min, max, sum;      /* numeric roles, timestamps (seconds) */
    uint32_t distinct;         /* dict-coded roles */
    int32_t top[3];            /* most frequent codes */
    size_t top_count[3];
    double mean_items;         /* multi: items per row; text: bytes per row */
} col_stats;

static void top_codes(const data_column *c, const int32_t *codes, size_t n, col_stats *st)
{
    size_t *count = hp_calloc(c->dict.n ? c->dict.n : 1, sizeof *count);
    if (!count) return;
    for (size_t i = 0; i < n; i++)
        if (codes[i] >= 0 && (uint32_t)codes[i] < c->dict.n) count[codes[i]]++;
    for (int k = 0; k < 3; k++) {
        st->top[k] = -1;
        for (uint32_t code = 0; code < c->dict.n; code++)
            if (count[code] > (st->top[k] >= 0 ? st->top_count[k] : 0)) {
                st->top[k] = (int32_t)code;
                st->top_count[k] = count[code];
            }
        if (st->top[k] >= 0) count[st->top[k]] = 0;
    }
    hp_free(count);
}

static void column_stats(const data_table *t, const data_column *c, col_stats *st)
{
    memset(st, 0, sizeof *st);
    st->min = INFINITY;
    st->max = -INFINITY;
    for (int k = 0; k < 3; k++) st->top[k] = -1;
    for (size_t r = 0; r < t->nrows; r++) {
        double v = NAN;
        if (c->num) v = c->num[r];
        else if (c->ts) v = c->ts[r] == DATA_TS_MISSING ? NAN : (double)c->ts[r];
        else if (c->code) v = c->code[r] >= 0 ? 0 : NAN;
        else if (c->off) v = c->off[r + 1] > c->off[r] ? 0 : NAN;
        if (isnan(v)) continue;
        st->present++;
        if (c->num || c->ts) {
            st->sum += v;
            if (v < st->min) st->min = v;
            if (v > st->max) st->max = v;
        }
    }
    st->distinct = c->dict.n;
    if (c->role == DATA_ROLE_MULTI && c->off) {
        st->mean_items = t->nrows ? (double)c->off[t->nrows] / (double)t->nrows : 0;
        top_codes(c, c->items, c->nitems, st);
    } else if (c->role == DATA_ROLE_TEXT && c->off && t->nrows) {
        /* each present value carries one terminator byte; a missing one stores nothing */
        st->mean_items = (double)(c->off[t->nrows] - st->present) / (double)t->nrows;
    } else if (c->code && c->role != DATA_ROLE_ID && c->role != DATA_ROLE_CUSTOMER && c->role != DATA_ROLE_PRODUCT) {
        top_codes(c, c->code, t->nrows, st);
    }
}

/* A frequent value as the summary shows it: PII masked, cut to a readable length (a value is
 * customer data: the summary goes to terminals and logs). */
static const char *top_value(const data_column *c, int32_t code, char *q, size_t size)
{
    const char *v = c->dict.str[code];
    data_quote_value(v, strlen(v), 64, q, size);
    return q;
}

static void fmt_ts(double v, char *buf, size_t n)
{
    char full[32];
    data_format_timestamp((int64_t)v, full, sizeof full);
    snprintf(buf, n, "%.10s", full);
}

static void print_column(FILE *f, const data_table *t, const data_column *c)
{
    col_stats st;
    column_stats(t, c, &st);
    double fill = t->nrows ? 100.0 * (double)st.present / (double)t->nrows : 0;
    fprintf(f, "    %-22s %-12s %5.1f%% filled", c->name, data_role_name(c->role), fill);
    if (!c->present && c->role != DATA_ROLE_IGNORE && t->file && t->file[0] != '(')
        fprintf(f, "  (not in file)");
    if ((c->num) && st.present)
        fprintf(f, "  min %.4g  mean %.4g  max %.4g", st.min, st.sum / (double)st.present, st.max);
    if (c->ts && st.present) {
        char a[16], b[16];
        fmt_ts(st.min, a, sizeof a);
        fmt_ts(st.max, b, sizeof b);
        fprintf(f, "  %s .. %s", a, b);
    }
    if (c->role == DATA_ROLE_MULTI) fprintf(f, "  %.2f items/row", st.mean_items);
    if (c->role == DATA_ROLE_TEXT) fprintf(f, "  %.0f bytes/row", st.mean_items);
    if (c->dict.n && c->role != DATA_ROLE_CUSTOMER && c->role != DATA_ROLE_PRODUCT)
        fprintf(f, "  %u distinct", st.distinct);
    char q[96];
    for (int k = 0; k < 3 && st.top[k] >= 0; k++)
        fprintf(f, "%s%s (%zu)", k ? ", " : "  top: ", top_value(c, st.top[k], q, sizeof q), st.top_count[k]);
    fputc('\n', f);
}

static json_t *column_json(const data_table *t, const data_column *c)
{
    col_stats st;
    column_stats(t, c, &st);
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(c->name));
    json_object_set_new(o, "role", json_string(data_role_name(c->role)));
    json_object_set_new(o, "in_file", json_boolean(c->present));
    json_object_set_new(o, "filled", json_integer((json_int_t)st.present));
    if ((c->num || c->ts) && st.present) {
        json_object_set_new(o, "min", json_real(st.min));
        json_object_set_new(o, "mean", json_real(st.sum / (double)st.present));
        json_object_set_new(o, "max", json_real(st.max));
    }
    if (c->dict.n) json_object_set_new(o, "distinct", json_integer(st.distinct));
    if (c->role == DATA_ROLE_MULTI || c->role == DATA_ROLE_TEXT)
        json_object_set_new(o, c->role == DATA_ROLE_MULTI ? "items_per_row" : "bytes_per_row",
                            json_real(st.mean_items));
    json_t *top = json_array();
    for (int k = 0; k < 3 && st.top[k] >= 0; k++) {
        json_t *e = json_object();
        char q[96];
        json_object_set_new(e, "value", json_string(top_value(c, st.top[k], q, sizeof q)));
        json_object_set_new(e, "count", json_integer((json_int_t)st.top_count[k]));
        json_array_append_new(top, e);
    }
    json_object_set_new(o, "top", top);
    return o;
}

static int write_json(const data_dataset *ds, const data_ingest_report *rep, FILE *f)
{
    json_t *root = json_object(), *tables = json_object();
    for (int k = 0; k < DATA_T_COUNT; k++) {
        const data_table *t = &ds->t[k];
        if (!t->loaded) continue;
        json_t *o = json_object(), *cols = json_array();
        json_object_set_new(o, "file", json_string(t->file));
        json_object_set_new(o, "rows", json_integer((json_int_t)t->nrows));
        json_object_set_new(o, "rejected", json_integer(rep ? (json_int_t)rep->rejected[k] : 0));
        for (int i = 0; i < t->ncols; i++) json_array_append_new(cols, column_json(t, &t->cols[i]));
        json_object_set_new(o, "columns", cols);
        json_object_set_new(tables, data_table_name((data_table_kind)k), o);
    }
    json_object_set_new(root, "tables", tables);
    if (rep) {
        json_object_set_new(root, "rejected", json_integer((json_int_t)rep->total_rejected));
        json_object_set_new(root, "seconds", json_real(rep->seconds));
    }
    int rc = json_dumpf(root, f, JSON_INDENT(2)) == 0 ? HP_OK : HP_ERR_IO;
    fputc('\n', f);
    json_decref(root);
    return rc;
}

/* "customers: 300 rows from customers.csv, 2 rejected" */
static void print_table_line(FILE *f, const data_table *t, const data_ingest_report *rep)
{
    const char *name = data_table_name(t->kind);
    if (t->implied && t->configured) /* its file was not found (noted as skipped) */
        fprintf(f, "%s: %zu product ids seen in the data (%s not found)", name, t->nrows, t->file);
    else
        fprintf(f, "%s: %zu rows from %s", name, t->nrows, t->file);
    if (rep && rep->rejected[t->kind]) fprintf(f, ", %zu rejected", rep->rejected[t->kind]);
    fputc('\n', f);
}

int data_summary_write(const data_dataset *ds, const data_ingest_report *rep, void *file, int json)
{
    FILE *f = file;
    if (json) return write_json(ds, rep, f);
    for (int k = 0; k < DATA_T_COUNT; k++) {
        const data_table *t = &ds->t[k];
        /* an implied catalogue of no ids is the skipped products file: its note says so, and
         * "products: 0 rows from products.csv" after it would claim the file was read */
        if (!t->loaded || (t->implied && !t->nrows)) continue;
        print_table_line(f, t, rep);
        for (int i = 0; i < t->ncols; i++)
            if (t->cols[i].role != DATA_ROLE_IGNORE) print_column(f, t, &t->cols[i]);
    }
    return ferror(f) ? HP_ERR_IO : HP_OK;
}
