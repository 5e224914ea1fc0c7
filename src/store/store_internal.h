/* store internals shared by the store's own files (never included outside src/store). */
#ifndef STORE_INTERNAL_H
#define STORE_INTERNAL_H

#include "store/store.h"
#include <sqlite3.h>
#include <stdarg.h>

struct store {
    sqlite3 *db;
    char *path;
    int depth;   /* nesting of store_begin */
};

/* Turns a SQLite result code into an hp_status with "path: what: sqlite message". */
int store_sqlerr(store *s, hp_error *err, int rc, const char *what);
int store_prep(store *s, const char *sql, sqlite3_stmt **st, hp_error *err);
/* fmt: t text (NULL -> NULL), i int64_t, d double, b blob (const void *, size_t). */
int store_bind(store *s, sqlite3_stmt *st, hp_error *err, const char *fmt, ...);
int store_run(store *s, hp_error *err, int64_t *changes, const char *sql, const char *fmt, ...);
int store_query_int(store *s, hp_error *err, int64_t *out, const char *sql, const char *fmt, ...);
/* Steps st to its end calling row(ctx, st) per row; non-zero stops and is returned.
 * Always finalizes st. */
int store_each_row(store *s, sqlite3_stmt *st, int (*row)(void *ctx, sqlite3_stmt *st),
                   void *ctx, hp_error *err);
/* Copies a text column into dst (cut to fit; "" for NULL). */
void store_col_copy(sqlite3_stmt *st, int col, char *dst, size_t size);

#endif
