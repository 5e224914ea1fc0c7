/* libFuzzer target: the ingest commit path, bytes -> tables. The input is one table's file
 * read through the real ingest with the built-in config (examples/synthetic.json, compiled
 * in); fixed small customers and products files sit beside it for the other tables to
 * reference. Then every column of every table is walked for the storage invariants that
 * downstream code trusts (offsets monotone and inside their buffers, every text value
 * NUL-terminated inside the buffer, codes inside their dictionary or table), and the
 * stored values are compared with an independent read of the same bytes.
 *
 * An empty text field was once stored without its terminator, so data_col_text returned
 * the next row's text: the comparison with the source catches that class of defect.
 *
 * First byte: bits 0-1 the table (customers, products, interactions, transactions), bits
 * 2-3 the format (CSV, JSONL, JSON array, CSV), bit 4 keeps PII (no masking, so text
 * values can be compared byte for byte), bit 5 writes the summary too. */
#define _GNU_SOURCE
#include "data/data.h"
#include "io/io.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "invariant failed: %s (line %d)\n", #cond, __LINE__); abort(); } } while (0)

static char g_dir[64];
static int g_fd = -1;
static char g_input[64];

static void write_text(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
}

/* The input lives in a memory file named through /proc, so no disk is written per run. */
static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/hyperp_fuzz_ingest_XXXXXX");
    CHECK(mkdtemp(g_dir) != NULL);
    atexit(remove_dir);
    write_text("customers.csv", "customer_id,industry,employees,revenue,financial_needs,preferences,message\n"
                                "C1,Retail,10-50,1M-5M,\"Loans, Cards\",Cloud,hello\n"
                                "C2,Health,<10,,Cards,,\n"
                                "C3,Retail,50-100,5M+,,\"Cloud, R&D\",bye\n");
    write_text("products.csv", "product_id,name,category,term_months,risk_class,min_revenue,fee_level\n"
                               "P1,Loan,credit,12,low,0,low\nP2,Card,cards,0,mid,1000,high\n");
    g_fd = memfd_create("fuzz_input", 0);
    CHECK(g_fd >= 0);
    snprintf(g_input, sizeof g_input, "/proc/self/fd/%d", g_fd);
}

static void set_input(const uint8_t *data, size_t size)
{
    CHECK(ftruncate(g_fd, 0) == 0);
    CHECK(pwrite(g_fd, data, size, 0) == (ssize_t)size);
}

/* ------------------------------------------------------------------ storage invariants */

static void check_dict(const data_dict *d)
{
    CHECK(d->n <= d->cap || d->n == 0);
    for (uint32_t k = 0; k < d->n; k++) {
        CHECK(d->str[k] != NULL);
        CHECK(memchr(d->str[k], 0, (size_t)d->len[k] + 1) == d->str[k] + d->len[k]);
        CHECK(data_dict_find(d, d->str[k], d->len[k]) == (int32_t)k);
    }
}

static void check_text(const data_column *c, size_t nrows)
{
    if (!nrows) return;
    CHECK(c->off != NULL && c->off[0] == 0);
    for (size_t r = 0; r < nrows; r++) CHECK(c->off[r] <= c->off[r + 1]);
    CHECK(c->off[nrows] == c->nitems && c->nitems <= c->items_cap);
    for (size_t r = 0; r < nrows; r++) {
        const char *s = data_col_text(c, r);
        size_t stored = (size_t)(c->off[r + 1] - c->off[r]);
        CHECK(s != NULL);
        if (stored <= 1) { /* missing (no bytes) or empty (a terminator alone) */
            CHECK(*s == 0);
            continue;
        }
        CHECK(s >= c->text && s < c->text + c->nitems);
        CHECK(s == c->text + c->off[r]);
        CHECK(memchr(s, 0, (size_t)(c->text + c->nitems - s)) == s + stored - 1);
        CHECK(io_utf8_invalid_at(s, stored - 1) < 0);
    }
}

static void check_multi(const data_column *c, size_t nrows)
{
    if (!nrows) return;
    CHECK(c->off != NULL && c->off[0] == 0);
    CHECK(c->off[nrows] == c->nitems && c->nitems <= c->items_cap);
    uint32_t *seen = calloc(c->dict.n + 1, sizeof *seen);
    CHECK(seen != NULL);
    for (size_t r = 0; r < nrows; r++) {
        CHECK(c->off[r] <= c->off[r + 1]);
        for (uint64_t i = c->off[r]; i < c->off[r + 1]; i++) {
            int32_t code = c->items[i];
            CHECK(code >= 0 && (uint32_t)code < c->dict.n);
            CHECK(seen[code] != r + 1); /* no item twice in one list */
            seen[code] = (uint32_t)(r + 1);
        }
    }
    free(seen);
}

static void check_codes(const data_dataset *ds, const data_table *t, const data_column *c)
{
    size_t limit = c->dict.n;
    if (c->role == DATA_ROLE_CUSTOMER) limit = ds->t[DATA_T_CUSTOMERS].nrows;
    if (c->role == DATA_ROLE_PRODUCT) limit = ds->t[DATA_T_PRODUCTS].nrows;
    for (size_t r = 0; r < t->nrows; r++) {
        int32_t code = c->code[r];
        CHECK(code >= -1 && (code < 0 || (size_t)code < limit));
        if (c->role == DATA_ROLE_ID) CHECK(code == (int32_t)r); /* unique, interned in row order */
        if (c->role == DATA_ROLE_CUSTOMER || c->role == DATA_ROLE_PRODUCT || c->role == DATA_ROLE_KIND)
            CHECK(code >= 0);
        const char *s = data_col_str(c, r);
        if (c->role != DATA_ROLE_CUSTOMER && c->role != DATA_ROLE_PRODUCT) CHECK((s == NULL) == (code < 0));
    }
}

static void check_table(const data_dataset *ds, const data_table *t)
{
    CHECK(t->nrows <= t->cap || (t->nrows == 0 && t->cap == 0));
    if (t->id_col >= 0) CHECK(t->id_col < t->ncols && t->cols[t->id_col].role == DATA_ROLE_ID);
    for (size_t r = 0; r + 1 < t->nrows; r++)
        if (t->record[r] >= 0 && t->record[r + 1] >= 0) CHECK(t->record[r] < t->record[r + 1]);
    for (int i = 0; i < t->ncols; i++) {
        const data_column *c = &t->cols[i];
        check_dict(&c->dict);
        if (!t->nrows) continue;
        if (data_role_has_num(c->role)) CHECK(c->num != NULL);
        if (c->role == DATA_ROLE_BAND) {
            CHECK(c->lo && c->hi);
            for (size_t r = 0; r < t->nrows; r++) CHECK(!(c->lo[r] > c->hi[r]));
        }
        if (data_role_has_code(c->role)) {
            CHECK(c->code != NULL);
            check_codes(ds, t, c);
        }
        if (c->role == DATA_ROLE_TIMESTAMP) CHECK(c->ts != NULL);
        if (c->role == DATA_ROLE_TEXT) check_text(c, t->nrows);
        if (c->role == DATA_ROLE_MULTI) check_multi(c, t->nrows);
    }
}

/* ------------------------------------------------------------------ stored = source */

static int is_missing(const data_table *t, const char *s, size_t len)
{
    if (!s) return 1;
    for (int i = 0; i < t->nmissing; i++)
        if (strlen(t->missing[i]) == len && memcmp(t->missing[i], s, len) == 0) return 1;
    return 0;
}

/* Index of the source column that column name reads: exact, else without regard to case. */
static int source_index(const io_source *src, const char *name)
{
    for (int i = 0; i < io_source_ncolumns(src); i++)
        if (strcmp(io_source_column(src, i), name) == 0) return i;
    for (int i = 0; i < io_source_ncolumns(src); i++)
        if (strcasecmp(io_source_column(src, i), name) == 0) return i;
    return -1;
}

/* The value row r should hold for column c, from the source record's field. */
static void compare_value(const data_dataset *ds, const data_table *t, const data_column *c, size_t r,
                          const char *f, size_t len)
{
    if (f) hp_trim(&f, &len);
    int missing = is_missing(t, f, len);
    const char *got = NULL;
    switch (c->role) {
    case DATA_ROLE_TEXT:
        if (!t->keep_pii) return; /* masked: not the source bytes */
        got = data_col_text(c, r);
        CHECK(missing ? *got == 0 : strlen(got) == len && memcmp(got, f, len) == 0);
        return;
    case DATA_ROLE_ID: case DATA_ROLE_CATEGORICAL: case DATA_ROLE_PROTECTED:
        got = data_col_str(c, r);
        CHECK(missing ? got == NULL : got && strlen(got) == len && memcmp(got, f, len) == 0);
        return;
    case DATA_ROLE_CUSTOMER: case DATA_ROLE_PRODUCT: {
        const data_table *ref = &ds->t[c->role == DATA_ROLE_CUSTOMER ? DATA_T_CUSTOMERS : DATA_T_PRODUCTS];
        got = data_col_str(&ref->cols[ref->id_col], (size_t)c->code[r]);
        CHECK(!missing && got && strlen(got) == len && memcmp(got, f, len) == 0);
        return;
    }
    case DATA_ROLE_KIND:
        got = data_col_str(c, r);
        if (missing) CHECK(got && strcmp(got, t->default_kind) == 0);
        else CHECK(got && strlen(got) == len && memcmp(got, f, len) == 0);
        return;
    default: return;
    }
}

/* Reads the same bytes again with the io layer alone and checks each stored row against its
 * record (rows know their record number). */
static void compare_with_source(const data_dataset *ds, const data_table *t, const uint8_t *data, size_t size)
{
    const char *keys[64];
    int nkeys = 0;
    for (int i = 0; i < t->nspecs && nkeys < 64; i++)
        if (!strpbrk(t->specs[i].name, "*?[") && t->specs[i].name[0] != '@') keys[nkeys++] = t->specs[i].name;
    io_source_opts o = { .format = (io_format)t->format, .delimiter = t->delimiter, .keys = keys, .nkeys = nkeys };
    if (o.format == IO_FMT_AUTO) o.format = IO_FMT_CSV;
    io_source *src;
    hp_error err;
    CHECK(io_source_open_buffer(&src, "again", (const char *)data, size, &o, &err) == HP_OK);
    int *idx = calloc((size_t)t->ncols + 1, sizeof *idx);
    CHECK(idx != NULL);
    for (int i = 0; i < t->ncols; i++) idx[i] = source_index(src, t->cols[i].name);
    io_record rec;
    size_t row = 0;
    for (long record = 0; row < t->nrows; record++) {
        int rc = io_source_next(src, &rec, &err);
        CHECK(rc != 0 && (rc > 0 || rc == HP_ERR_FORMAT)); /* every stored row has its record */
        if (rc < 0 || t->record[row] != record) continue;
        CHECK(t->line[row] == rec.line);
        for (int i = 0; i < t->ncols; i++)
            if (idx[i] >= 0) compare_value(ds, t, &t->cols[i], row, rec.field[idx[i]], rec.len[idx[i]]);
        row++;
    }
    free(idx);
    io_source_free(src);
}

/* ------------------------------------------------------------------ entry point */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const data_table_kind tables[] = { DATA_T_CUSTOMERS, DATA_T_PRODUCTS, DATA_T_INTERACTIONS,
                                              DATA_T_TRANSACTIONS };
    static const io_format formats[] = { IO_FMT_CSV, IO_FMT_JSONL, IO_FMT_JSON, IO_FMT_CSV };
    if (g_fd < 0) setup();
    if (size < 1) return 0;
    uint8_t mode = data[0];
    data++, size--;
    data_table_kind kind = tables[mode & 3];
    set_input(data, size);
    data_dataset ds;
    hp_error err = { 0 };
    CHECK(data_config_default(&ds, g_dir, &err) == HP_OK);
    CHECK(data_config_set_file(&ds, kind, g_input, &err) == HP_OK);
    data_table *t = &ds.t[kind];
    t->format = formats[(mode >> 2) & 3];
    t->keep_pii = (mode >> 4) & 1;
    data_ingest_report rep;
    int rc = data_ingest(&ds, NULL, &rep, &err);
    if (rc) {
        CHECK(rc < 0 && err.msg[0]);
    } else {
        CHECK(rep.rows[kind] == t->nrows && (long)(t->nrows + rep.rejected[kind]) == t->nrecords);
        for (int k = 0; k < DATA_T_COUNT; k++) check_table(&ds, &ds.t[k]);
        compare_with_source(&ds, t, data, size);
        if (mode & 32) {
            FILE *null = fopen("/dev/null", "w");
            CHECK(null != NULL);
            CHECK(data_summary_write(&ds, &rep, null, (mode >> 6) & 1) == HP_OK);
            fclose(null);
        }
    }
    data_dataset_free(&ds);
    return 0;
}
