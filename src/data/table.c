/* Table accessors and storage growth. */
#include "data/data.h"

#include <math.h>
#include <string.h>

data_column *data_table_col_role(const data_table *t, data_role r)
{
    for (int i = 0; i < t->ncols; i++)
        if (t->cols[i].role == r) return &t->cols[i];
    return NULL;
}

data_column *data_table_col_named(const data_table *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0) return &t->cols[i];
    return NULL;
}

const char *data_col_str(const data_column *c, size_t row)
{
    if (!c->code || c->code[row] < 0 || (uint32_t)c->code[row] >= c->dict.n) return NULL;
    return c->dict.str[c->code[row]];
}

const char *data_col_text(const data_column *c, size_t row)
{
    /* A missing value stores no bytes (not even a terminator): off[row] then already points
     * at the next row's text, or past the end of the buffer for the last row. */
    if (!c->text || !c->off || c->off[row + 1] == c->off[row]) return "";
    return c->text + c->off[row];
}

int data_role_has_num(data_role r)
{
    return r == DATA_ROLE_NUMERIC || r == DATA_ROLE_BAND || r == DATA_ROLE_LABEL || r == DATA_ROLE_HELD ||
           r == DATA_ROLE_VALUE || r == DATA_ROLE_AMOUNT;
}

int data_role_has_code(data_role r)
{
    return r == DATA_ROLE_ID || r == DATA_ROLE_CATEGORICAL || r == DATA_ROLE_PROTECTED ||
           r == DATA_ROLE_KIND || r == DATA_ROLE_CUSTOMER || r == DATA_ROLE_PRODUCT;
}

static int grow_array(void **p, size_t n, size_t elem)
{
    void *q = hp_realloc(*p, n * elem);
    if (!q) return HP_ERR_NOMEM;
    *p = q;
    return HP_OK;
}

/* Makes room for at least need rows in every column of t. */
int data_table_reserve(data_table *t, size_t need)
{
    if (need <= t->cap) return HP_OK;
    size_t cap = t->cap ? t->cap : 1024;
    while (cap < need) cap *= 2;
    if (grow_array((void **)&t->line, cap, sizeof *t->line)) return HP_ERR_NOMEM;
    if (grow_array((void **)&t->record, cap, sizeof *t->record)) return HP_ERR_NOMEM;
    for (int i = 0; i < t->ncols; i++) {
        data_column *c = &t->cols[i];
        data_role r = c->role;
        if (data_role_has_num(r) && grow_array((void **)&c->num, cap, sizeof *c->num)) return HP_ERR_NOMEM;
        if (r == DATA_ROLE_BAND && (grow_array((void **)&c->lo, cap, sizeof *c->lo) ||
                                    grow_array((void **)&c->hi, cap, sizeof *c->hi)))
            return HP_ERR_NOMEM;
        if (data_role_has_code(r) && grow_array((void **)&c->code, cap, sizeof *c->code)) return HP_ERR_NOMEM;
        if (r == DATA_ROLE_TIMESTAMP && grow_array((void **)&c->ts, cap, sizeof *c->ts)) return HP_ERR_NOMEM;
        if (r == DATA_ROLE_MULTI || r == DATA_ROLE_TEXT) {
            int fresh = c->off == NULL;
            if (grow_array((void **)&c->off, cap + 1, sizeof *c->off)) return HP_ERR_NOMEM;
            if (fresh) c->off[0] = 0;
        }
    }
    t->cap = cap;
    return HP_OK;
}

/* Appends a column (copying the config fields of spec) and gives it storage for the rows
 * the table already has, filled as missing. Returns the new column or NULL. */
data_column *data_table_add_column(data_table *t, const data_column *spec, const char *name)
{
    data_column *cols = hp_realloc(t->cols, (size_t)(t->ncols + 1) * sizeof *cols);
    if (!cols) return NULL;
    t->cols = cols;
    data_column *c = &cols[t->ncols];
    memset(c, 0, sizeof *c);
    c->role = spec->role;
    c->optional = spec->optional;
    c->separator = spec->separator ? spec->separator : ',';
    c->name = hp_strdup(name);
    if (spec->product) c->product = hp_strdup(spec->product);
    if (spec->format) c->format = hp_strdup(spec->format);
    if (spec->npositive) {
        c->positive = hp_calloc((size_t)spec->npositive, sizeof *c->positive);
        for (int i = 0; c->positive && i < spec->npositive; i++)
            c->positive[c->npositive++] = hp_strdup(spec->positive[i]);
    }
    data_dict_init(&c->dict);
    t->ncols++;
    if (!c->name || (spec->product && !c->product) || (spec->format && !c->format) || (spec->npositive && !c->positive)) return NULL;
    size_t cap = t->cap;
    t->cap = 0; /* force allocation of the new column's arrays at the current capacity */
    if (data_table_reserve(t, cap ? cap : 1)) return NULL;
    for (size_t row = 0; row < t->nrows; row++) data_column_set_missing(c, row);
    return c;
}

void data_column_set_missing(data_column *c, size_t row)
{
    if (c->num) c->num[row] = NAN;
    if (c->lo) c->lo[row] = c->hi[row] = NAN;
    if (c->code) c->code[row] = -1;
    if (c->ts) c->ts[row] = DATA_TS_MISSING;
    if (c->off) c->off[row + 1] = c->off[row];
}
