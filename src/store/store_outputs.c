/* store outputs: the registry of output files that hold raw customer ids (migration 3), with
 * the file each path was when registered (migration 4). */
#include "store/store_internal.h"

int store_output_record(store *s, const char *path, const char *kind, int64_t at, store_file_id id,
                        hp_error *err)
{
    return store_run(s, err, NULL, "INSERT OR REPLACE INTO outputs(path, kind, at, dev, ino) VALUES(?, ?, ?, ?, ?)",
                     "ttiii", path, kind, at, id.dev, id.ino);
}

typedef struct { store_output_fn fn; void *ctx; } output_iter;

static int output_row(void *ctx, sqlite3_stmt *st)
{
    output_iter *it = ctx;
    store_file_id id = { sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4) }; /* NULL: 0, unknown */
    return it->fn(it->ctx, (const char *)sqlite3_column_text(st, 0),
                  (const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st, 2), id);
}

int store_output_each(store *s, store_output_fn fn, void *ctx, hp_error *err)
{
    sqlite3_stmt *st;
    int rc = store_prep(s, "SELECT path, kind, at, dev, ino FROM outputs ORDER BY at, path", &st, err);
    output_iter it = { fn, ctx };
    return rc ? rc : store_each_row(s, st, output_row, &it, err);
}

int store_output_forget(store *s, const char *path, hp_error *err)
{
    return store_run(s, err, NULL, "DELETE FROM outputs WHERE path = ?", "t", path);
}
