/* data: schema-typed, columnar tables of customers, products, interactions and transactions,
 * and the ingest that fills them from files described by a dataset config.
 *
 * A dataset config (docs/config.md) maps each file's columns to roles. Ingest validates
 * every value at the edge: a bad row is reported as "file:line: column 'x': reason",
 * counted, written to the rejects file and left out whole (never half a row); a
 * whole-file problem ends ingest with one sentence. Downstream code trusts the tables. */
#ifndef DATA_H
#define DATA_H

#include "core/hp.h"
#include <stdint.h>

/* ------------------------------------------------------------------ roles */

typedef enum {
    DATA_ROLE_IGNORE = 0,
    DATA_ROLE_ID,          /* the row's own id (customers, products): unique, required */
    DATA_ROLE_NUMERIC,     /* a number; missing -> NaN */
    DATA_ROLE_BAND,        /* "500-1000", "50M-80M", "1.5B+": lo/hi kept, value = data_band_value */
    DATA_ROLE_CATEGORICAL, /* one value from a vocabulary */
    DATA_ROLE_MULTI,       /* a list of vocabulary values ("Loans, Cards") */
    DATA_ROLE_TEXT,        /* free text */
    DATA_ROLE_TIMESTAMP,   /* a date or date-time */
    DATA_ROLE_PROTECTED,   /* a protected attribute (categorical, kept apart from features) */
    DATA_ROLE_LABEL,       /* a 0/1 outcome (customers): "positive" values say which are 1 */
    DATA_ROLE_HELD,        /* customers: a 0/1 product-holding flag; the column names the product */
    DATA_ROLE_CUSTOMER,    /* interactions/transactions: reference to a customer id */
    DATA_ROLE_PRODUCT,     /* interactions: reference to a product id */
    DATA_ROLE_KIND,        /* interactions: held / adopted / clicked / rated / ... */
    DATA_ROLE_VALUE,       /* interactions: optional numeric value (a rating, an amount) */
    DATA_ROLE_AMOUNT,      /* transactions: signed amount */
    DATA_ROLE_COUNT_
} data_role;

/* Role name as written in configs ("band"); data_role_parse returns -1 for an unknown name. */
const char *data_role_name(data_role r);
int data_role_parse(const char *name);

/* ------------------------------------------------------------------ dictionary */

/* Interns strings to dense codes 0..n-1. Strings live in the dictionary's own arena. */
typedef struct {
    char **str;          /* (n) code -> string */
    uint32_t *len;       /* (n) code -> byte length */
    uint32_t *hash;      /* (n) code -> hash, so probes compare hashes before bytes */
    uint32_t n, cap;
    uint64_t *slots;     /* (nslots) open addressing: hash << 32 | (code + 1), 0 = empty; the
                            hash in the slot saves a cache miss per probe on big vocabularies */
    uint32_t nslots;
    char *arena;         /* current arena block */
    size_t arena_used, arena_cap;
    char **blocks;       /* all arena blocks, for freeing */
    size_t nblocks, blocks_cap;
} data_dict;

void data_dict_init(data_dict *d);
void data_dict_free(data_dict *d);
/* Code of s (len bytes), adding it if new. Returns the code or a negative status. */
int32_t data_dict_intern(data_dict *d, const char *s, size_t len);
/* Code of s or -1. */
int32_t data_dict_find(const data_dict *d, const char *s, size_t len);

/* ------------------------------------------------------------------ columns and tables */

typedef struct {
    char *name;            /* column name in the file */
    data_role role;
    int optional;          /* config: absent from the file is not an error */
    int present;           /* found in the file */
    char separator;        /* multi: list separator (default ',') */
    char **positive;       /* label: values that mean 1 (default: 1, yes, true, y) */
    int npositive;
    char *product;         /* held: product id (default: the column name) */
    char *format;          /* timestamp: declared format ("%d/%m/%Y", "epoch"); NULL: the unambiguous forms */

    /* storage, by role; all arrays have the table's nrows entries unless noted */
    float *num;            /* numeric, band (representative value), label, held, value, amount; NaN missing */
    float *lo, *hi;        /* band bounds; NaN missing; hi may be +inf */
    int32_t *code;         /* id, categorical, protected, kind: dict code; customer/product: row
                              in the referenced table; -1 missing */
    int64_t *ts;           /* timestamp: seconds since epoch UTC; INT64_MIN missing */
    uint64_t *off;         /* multi, text: (nrows+1) offsets into items / text */
    int32_t *items;        /* multi: dict codes */
    char *text;            /* text: UTF-8 bytes, each value NUL-terminated */
    size_t nitems, items_cap;
    data_dict dict;        /* vocabulary of id, categorical, protected, kind, multi */
} data_column;

#define DATA_TS_MISSING INT64_MIN

/* A row filter condition of a table's "where" list: a record is read only when all hold. */
typedef enum {
    DATA_WHERE_EQ = 0, DATA_WHERE_NE,          /* the field equals (or not) a string, or a number */
    DATA_WHERE_LT, DATA_WHERE_LE, DATA_WHERE_GT, DATA_WHERE_GE, /* numeric: a non-number fails */
    DATA_WHERE_PREFIX, DATA_WHERE_NOT_PREFIX,  /* the field starts (or not) with a string */
    DATA_WHERE_HAS_DIGIT,                      /* the field holds a digit 0-9 */
    DATA_WHERE_PRESENT                         /* the field is not missing */
} data_where_op;

typedef struct {
    char *column;          /* source column name, matched as a config column name is */
    data_where_op op;
    char *str;             /* string operand (eq, ne, prefix, not_prefix), or NULL */
    double num;            /* numeric operand when is_num */
    int is_num;
    int src;               /* ingest: the source field index */
} data_where;

typedef enum { DATA_T_CUSTOMERS = 0, DATA_T_PRODUCTS, DATA_T_INTERACTIONS, DATA_T_TRANSACTIONS, DATA_T_COUNT } data_table_kind;

typedef struct {
    data_table_kind kind;
    char *file;            /* path as resolved (relative to the config's folder) */
    const char *buf;       /* data_config_set_buffer: read these bytes instead (borrowed) */
    size_t buf_len;
    int configured;        /* the config has this table */
    int loaded;            /* a file was read (or, for products, the catalogue implied) */
    int implied;           /* products without a file: the product ids seen in the data */
    int optional;          /* config: a missing file is skipped with a note */
    int keep_pii;          /* config "mask_pii": false keeps card numbers, IBANs, e-mails, ...
                              in text columns; by default they are masked before storage */
    /* source options */
    int format;            /* io_format */
    int encoding;          /* io_encoding */
    char delimiter;
    char **missing;        /* tokens that mean "no value" */
    int nmissing;
    int no_header;         /* CSV: config "header": false, the first line is data */
    char **names;          /* with no_header: the column names in file order */
    int nnames;
    data_where *where;     /* config "where": records failing a condition are skipped (counted) */
    int nwhere;
    int keep_first;        /* config "duplicates": "first": a repeated id keeps the first row and
                              skips the others (counted), instead of rejecting them */

    data_column *specs;    /* columns as configured; a name may be a glob ("ind_*_ult1") */
    int nspecs;
    char *default_kind;    /* interactions without a kind column: this kind (default "held") */
    data_column *cols;     /* columns as found in the file (specs with globs expanded) */
    int ncols;
    size_t nrows, cap;
    long nrecords;         /* records read from the file, rejected ones included */
    int id_col;            /* index of the id column or -1 */
    long *line;            /* (nrows) source line of each row, for later messages */
    long *record;          /* (nrows) 0-based record number in the file (rejected records
                              count too), so fixed splits given by row number apply */
} data_table;

const char *data_table_name(data_table_kind k);

/* Column of the table with this role (the first one), or NULL. */
data_column *data_table_col_role(const data_table *t, data_role r);
data_column *data_table_col_named(const data_table *t, const char *name);

/* Storage helpers used by ingest and by code that builds tables (implicit products). */
int data_role_has_num(data_role r);
int data_role_has_code(data_role r);
int data_table_reserve(data_table *t, size_t need);
data_column *data_table_add_column(data_table *t, const data_column *spec, const char *name);
void data_column_set_missing(data_column *c, size_t row);

/* String of row's value in a dict-coded column, or NULL when missing. */
const char *data_col_str(const data_column *c, size_t row);
/* Text of a text column for row ("" when missing). */
const char *data_col_text(const data_column *c, size_t row);

/* ------------------------------------------------------------------ dataset */

/* A top-level section of a config that belongs to another module ("train", "risk"): the config
 * keeps its JSON text for the module to parse (data_dataset_section). */
typedef struct {
    char *name;
    char *json;            /* compact JSON text of the section's object */
} data_section_text;

typedef struct {
    data_table t[DATA_T_COUNT];
    char *config_path;     /* NULL for the built-in default */
    char *config_dir;      /* folder relative paths in the config are resolved from */
    char *name;
    data_section_text *sections; /* the config's module sections, in config order */
    int nsections;
} data_dataset;

/* JSON text of the config's section of this name, or NULL when the config has none. */
const char *data_dataset_section(const data_dataset *ds, const char *name);

/* Config sections by name. A module registers each of its sections once (from the list in
 * src/lib/lib_sections.c, or a program or test at start); the config parser then accepts a
 * top-level object of that name, calls check on it and keeps its text. check gets the config's
 * name for messages ("c.json"), the section's key, its value (a JSON object: anything else is
 * refused before), the folder relative paths are resolved from and ctx; it returns HP_OK, or
 * HP_ERR_INVAL with a message naming the JSON path ("c.json: train.lr: ..."). A key that is
 * neither part of the format nor registered is refused, naming the known ones. Registration is
 * thread-safe; a name is 1-31 characters a-z, 0-9, _, not a table or other key of the format,
 * and registered once (else HP_ERR_INVAL); the modules' sections (src/lib) are registered
 * before the first lookup or registration, so they are never taken by another. */
struct json_t;
typedef int (*data_section_check_fn)(void *ctx, const char *config, const char *section, struct json_t *value,
                                     const char *base_dir, hp_error *err);
int data_config_section_register(const char *name, data_section_check_fn check, void *ctx, hp_error *err);
/* 1 and the section's checker when name is registered, else 0. */
int data_config_section_find(const char *name, data_section_check_fn *check, void **ctx);
/* 1 for a key of the dataset format itself (hyperp_dataset, name, the tables). */
int data_config_is_fixed_key(const char *name);
/* "hyperp_dataset, name, customers, ..., model, train, ...": every key a config may have. */
void data_config_known_keys(char *buf, size_t size);

/* Parses a dataset config (JSON text). base_dir resolves relative file paths. Unknown keys,
 * unknown roles, role/table mismatches and missing required parts are errors whose message
 * names the JSON path, as do values of the wrong JSON type ("c.json: customers.missing:
 * expected an array of strings"); a leading UTF-8 BOM is skipped and UTF-16 text refused
 * (io_config_text). On failure ds is left empty (nothing to free). */
int data_config_parse(data_dataset *ds, const char *json, size_t len, const char *name,
                      const char *base_dir, hp_error *err);
int data_config_load(data_dataset *ds, const char *path, hp_error *err);
/* The built-in config: the synthetic generator's files and the hackathon profile format. */
extern const char data_default_config[];
int data_config_default(data_dataset *ds, const char *data_dir, hp_error *err);

/* Points a table at another file (CLI overrides); the table becomes required. */
int data_config_set_file(data_dataset *ds, data_table_kind k, const char *path, hp_error *err);

/* Points a table at bytes in memory (one request's record, say): name stands for the file in
 * messages, format is an io_format; buf is borrowed until ingest has read it. The table
 * becomes required. */
int data_config_set_buffer(data_dataset *ds, data_table_kind k, const char *name, const char *buf, size_t len,
                           int format, hp_error *err);

void data_dataset_free(data_dataset *ds);

/* The files of ds's loaded tables as [{"table", "file", "bytes", "mtime"}] (a new JSON array;
 * tables read from memory or a device are left out). */
struct json_t;
struct json_t *data_files_fingerprint(const data_dataset *ds);
/* How many of the recorded files (a data_files_fingerprint array) differ in size or time
 * from the ones ds was read from, the first one described in why. */
int data_files_changed(const data_dataset *ds, struct json_t *recorded, char *why, size_t size);

/* ------------------------------------------------------------------ ingest */

#define DATA_REJECT_SAMPLES 5

typedef struct {
    const char *rejects_path;   /* CSV of rejected rows (file,line,column,reason,record); NULL: none */
    void (*progress)(void *ctx, const char *table, size_t rows, double fraction);
    void *progress_ctx;
    /* Called for notes such as "products: file not found, skipped (optional)"; may be NULL. */
    void (*note)(void *ctx, const char *msg);
} data_ingest_opts;

typedef struct {
    size_t rows[DATA_T_COUNT];
    size_t rejected[DATA_T_COUNT];
    size_t filtered[DATA_T_COUNT];   /* records left out by the table's "where" */
    size_t duplicates[DATA_T_COUNT]; /* rows of a repeated id skipped ("duplicates": "first") */
    size_t total_rejected;
    size_t pii_masked;     /* PII matches masked in text columns (cards, IBANs, e-mails, ...) */
    char samples[DATA_REJECT_SAMPLES][HP_ERROR_MAX]; /* the first few reject messages */
    int nsamples;
    double seconds;
} data_ingest_report;

/* Reads every configured table into ds. Bad rows are rejected and reported (the return is
 * still HP_OK); a whole-file problem returns a negative status with err naming the file. */
int data_ingest(data_dataset *ds, const data_ingest_opts *opts, data_ingest_report *rep, hp_error *err);

/* ------------------------------------------------------------------ summary */

/* Writes a readable summary of the loaded tables (rows, per-column fill rate, ranges,
 * cardinalities, top values) to f; as JSON when json is non-zero. */
int data_summary_write(const data_dataset *ds, const data_ingest_report *rep, void *file, int json);

#endif
