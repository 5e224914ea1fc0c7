/* store rows: customers, consent, feedback, transactions, features, notes, erasure. */
#include "store/store_internal.h"
#include "text/pii.h"

#include <stdio.h>
#include <string.h>

/* Steps st to the end, calling row(ctx, st) for each row; a non-zero return stops and is
 * returned. Finalizes st. */
typedef int (*row_fn)(void *ctx, sqlite3_stmt *st);

int store_each_row(store *s, sqlite3_stmt *st, row_fn row, void *ctx, hp_error *err)
{
    int rc = HP_OK, r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = row(ctx, st))) break;
    if (!rc && r != SQLITE_DONE) rc = store_sqlerr(s, err, r, "read");
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------------ customers */

/* Customer ids are stored in clear in every table (the key of the rows erasure finds), so an
 * id must be pseudonymous: a card number there breaks PCI-DSS (no PAN stored in clear), an
 * e-mail address or an IBAN is a direct identifier. The message never quotes the id. */
int store_id_check_pii(const char *id, hp_error *err)
{
    pii_match m[8];
    size_t n = id ? pii_scan(id, strlen(id), m, HP_ARRAY_LEN(m)) : 0;
    if (n == PII_SCAN_NOMEM) return hp_fail(err, HP_ERR_NOMEM, "out of memory checking a customer id");
    for (size_t i = 0; i < n && i < HP_ARRAY_LEN(m); i++) {
        pii_type t = m[i].type;
        const char *what = t == PII_CARD ? "a card number (PCI-DSS: a card number must not be stored in clear)"
                         : t == PII_EMAIL ? "an e-mail address (a direct identifier)"
                         : t == PII_IBAN ? "an IBAN (a direct identifier)" : NULL;
        if (what)
            return hp_fail(err, HP_ERR_INVAL, "customer id looks like %s: not stored; use a "
                           "pseudonymous id (your own customer number) instead", what);
    }
    return HP_OK;
}

int store_customer_upsert(store *s, const char *id, const char *attrs_json, int64_t now,
                          hp_error *err)
{
    int rc = store_id_check_pii(id, err); /* every other table's rows reference this one */
    if (rc) return rc;
    return store_run(s, err, NULL,
        "INSERT INTO customers(id, attrs, created_at, last_activity) VALUES(?1, ?2, ?3, ?3)"
        " ON CONFLICT(id) DO UPDATE SET attrs = coalesce(?2, attrs), last_activity = ?3",
        "tti", id, attrs_json, now);
}

int store_customer_exists(store *s, const char *id, int *found, hp_error *err)
{
    int64_t n;
    int rc = store_query_int(s, err, &n, "SELECT count(*) FROM customers WHERE id = ?", "t", id);
    *found = !rc && n > 0;
    return rc;
}

int store_customer_count(store *s, int64_t *n, hp_error *err)
{
    return store_query_int(s, err, n, "SELECT count(*) FROM customers", "");
}

typedef struct { store_customer_fn fn; void *ctx; } customer_iter;

static int customer_row(void *ctx, sqlite3_stmt *st)
{
    customer_iter *it = ctx;
    return it->fn(it->ctx, (const char *)sqlite3_column_text(st, 0),
                  (const char *)sqlite3_column_text(st, 1));
}

int store_customer_each(store *s, store_customer_fn fn, void *ctx, hp_error *err)
{
    sqlite3_stmt *st;
    int rc = store_prep(s, "SELECT id, attrs FROM customers ORDER BY id", &st, err);
    customer_iter it = { fn, ctx };
    return rc ? rc : store_each_row(s, st, customer_row, &it, err);
}

typedef struct { store_id_fn fn; void *ctx; } older_iter;

static int older_row(void *ctx, sqlite3_stmt *st)
{
    older_iter *it = ctx;
    return it->fn(it->ctx, (const char *)sqlite3_column_text(st, 0));
}

int store_customer_each_older(store *s, int64_t cutoff, store_id_fn fn, void *ctx, hp_error *err)
{
    sqlite3_stmt *st;
    int rc = store_prep(s, "SELECT id FROM customers WHERE last_activity < ? ORDER BY id", &st, err);
    if (!rc) rc = store_bind(s, st, err, "i", cutoff);
    if (rc) {
        sqlite3_finalize(st);
        return rc;
    }
    older_iter it = { fn, ctx };
    return store_each_row(s, st, older_row, &it, err);
}

/* ------------------------------------------------------------------ consent */

int store_consent_add(store *s, const store_consent *c, int64_t *rowid, hp_error *err)
{
    int rc = store_run(s, err, NULL,
        "INSERT INTO consent(customer_id, purpose, event, basis, source, notice_version, at,"
        " recorded_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?)", "ttttttii",
        c->customer_id, c->purpose, c->event, c->basis, c->source, c->notice_version,
        c->at, c->recorded_at);
    if (!rc && rowid) *rowid = sqlite3_last_insert_rowid(s->db);
    return rc;
}

static void consent_from_row(sqlite3_stmt *st, store_consent *c)
{
    store_col_copy(st, 0, c->customer_id, sizeof c->customer_id);
    store_col_copy(st, 1, c->purpose, sizeof c->purpose);
    store_col_copy(st, 2, c->event, sizeof c->event);
    store_col_copy(st, 3, c->basis, sizeof c->basis);
    store_col_copy(st, 4, c->source, sizeof c->source);
    store_col_copy(st, 5, c->notice_version, sizeof c->notice_version);
    c->at = sqlite3_column_int64(st, 6);
    c->recorded_at = sqlite3_column_int64(st, 7);
    c->rowid = sqlite3_column_int64(st, 8);
}

#define CONSENT_COLS "customer_id, purpose, event, basis, source, notice_version, at, recorded_at, id"

int store_consent_latest(store *s, const char *customer_id, const char *purpose,
                         const char *event_filter, store_consent *out, int *found, hp_error *err)
{
    sqlite3_stmt *st;
    *found = 0;
    int rc = store_prep(s, "SELECT " CONSENT_COLS " FROM consent WHERE customer_id = ?1 AND"
                        " purpose = ?2 AND (?3 IS NULL OR event = ?3) ORDER BY at DESC, id DESC"
                        " LIMIT 1", &st, err);
    if (rc) return rc;
    rc = store_bind(s, st, err, "ttt", customer_id, purpose, event_filter);
    int r = rc ? SQLITE_DONE : sqlite3_step(st);
    if (r == SQLITE_ROW) {
        consent_from_row(st, out);
        *found = 1;
    } else if (r != SQLITE_DONE) rc = store_sqlerr(s, err, r, "read consent");
    sqlite3_finalize(st);
    return rc;
}

typedef struct { store_consent_fn fn; void *ctx; } consent_iter;

static int consent_row(void *ctx, sqlite3_stmt *st)
{
    consent_iter *it = ctx;
    store_consent c;
    consent_from_row(st, &c);
    return it->fn(it->ctx, &c);
}

int store_consent_each(store *s, const char *customer_id, store_consent_fn fn, void *ctx,
                       hp_error *err)
{
    sqlite3_stmt *st;
    int rc = store_prep(s, "SELECT " CONSENT_COLS " FROM consent WHERE customer_id = ?"
                        " ORDER BY id", &st, err);
    if (!rc) rc = store_bind(s, st, err, "t", customer_id);
    if (rc) {
        sqlite3_finalize(st);
        return rc;
    }
    consent_iter it = { fn, ctx };
    return store_each_row(s, st, consent_row, &it, err);
}

int store_consent_exists_rowid(store *s, int64_t rowid, int *found, hp_error *err)
{
    int64_t n;
    int rc = store_query_int(s, err, &n, "SELECT count(*) FROM consent WHERE id = ?", "i", rowid);
    *found = !rc && n > 0;
    return rc;
}

/* ------------------------------------------------------------------ feedback, transactions, features, notes */

int store_feedback_add(store *s, const char *customer_id, const char *product_id,
                       const char *kind, double value, int64_t at, int64_t *rowid, hp_error *err)
{
    int rc = store_run(s, err, NULL, "INSERT INTO feedback(customer_id, product_id, kind, value,"
                       " at) VALUES(?, ?, ?, ?, ?)", "tttdi", customer_id, product_id, kind, value, at);
    if (!rc && rowid) *rowid = sqlite3_last_insert_rowid(s->db);
    return rc;
}

int store_feedback_exists_rowid(store *s, int64_t rowid, int *found, hp_error *err)
{
    int64_t n;
    int rc = store_query_int(s, err, &n, "SELECT count(*) FROM feedback WHERE id = ?", "i", rowid);
    *found = !rc && n > 0;
    return rc;
}

int store_transaction_add(store *s, const char *customer_id, double amount, int64_t at,
                          hp_error *err)
{
    return store_run(s, err, NULL, "INSERT INTO transactions(customer_id, amount, at)"
                     " VALUES(?, ?, ?)", "tdi", customer_id, amount, at);
}

int store_feature_put(store *s, const char *customer_id, const char *name, const void *blob,
                      size_t n, int64_t at, hp_error *err)
{
    return store_run(s, err, NULL, "INSERT OR REPLACE INTO features(customer_id, name, value, at)"
                     " VALUES(?, ?, ?, ?)", "ttbi", customer_id, name, blob, n, at);
}

int store_note_add(store *s, const char *customer_id, const char *field, const char *text,
                   int64_t at, hp_error *err)
{
    return store_run(s, err, NULL, "INSERT INTO notes(customer_id, field, text, at)"
                     " VALUES(?, ?, ?, ?)", "ttti", customer_id, field, text, at);
}

/* ------------------------------------------------------------------ subject rows and erasure */

/* Tables that hold rows about one customer, and the column naming the customer. */
static const struct { const char *table, *column; } k_subject_tables[] = {
    { "customers", "id" }, { "consent", "customer_id" }, { "feedback", "customer_id" },
    { "transactions", "customer_id" }, { "features", "customer_id" }, { "notes", "customer_id" },
    { "erasure_requests", "customer_id" },
};

typedef struct { store_row_fn fn; void *ctx; const char *table; int nomem; } subject_iter;

/* Blobs are hex-encoded in full (an Art. 15 copy holds every byte). A positive return stops
 * the walk; out of memory is reported through it->rc. */
static int subject_row(void *ctx, sqlite3_stmt *st)
{
    subject_iter *it = ctx;
    const char *names[32], *values[32];
    char *hex[32] = { 0 };
    int n = HP_MIN(sqlite3_column_count(st), 32), rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        names[i] = sqlite3_column_name(st, i);
        if (sqlite3_column_type(st, i) == SQLITE_BLOB) {
            const unsigned char *b = sqlite3_column_blob(st, i);
            size_t len = (size_t)sqlite3_column_bytes(st, i);
            static const char digits[] = "0123456789abcdef";
            if (!(hex[i] = hp_malloc(2 * len + 1))) {
                it->nomem = 1;
                rc = 1;
                break;
            }
            for (size_t j = 0; j < len; j++) {
                hex[i][2 * j] = digits[b[j] >> 4];
                hex[i][2 * j + 1] = digits[b[j] & 15];
            }
            hex[i][2 * len] = 0;
            values[i] = hex[i];
        } else values[i] = (const char *)sqlite3_column_text(st, i);
    }
    if (!rc) rc = it->fn(it->ctx, it->table, n, names, values);
    for (int i = 0; i < n; i++) hp_free(hex[i]);
    return rc;
}

static int subject_select(store *s, const char *table, const char *column, const char *value,
                          subject_iter *it, hp_error *err)
{
    char sql[160];
    sqlite3_stmt *st;
    snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE %s = ?", table, column);
    int rc = store_prep(s, sql, &st, err);
    if (!rc) rc = store_bind(s, st, err, "t", value);
    if (rc) {
        sqlite3_finalize(st);
        return rc;
    }
    it->table = table;
    return store_each_row(s, st, subject_row, it, err);
}

int store_subject_rows(store *s, const char *id, const char *const *pseudonyms, int npseud,
                       store_row_fn fn, void *ctx, hp_error *err)
{
    subject_iter it = { fn, ctx, NULL, 0 };
    int rc = HP_OK;
    for (size_t i = 0; !rc && i < HP_ARRAY_LEN(k_subject_tables); i++)
        rc = subject_select(s, k_subject_tables[i].table, k_subject_tables[i].column, id, &it, err);
    for (int i = 0; !rc && i < npseud; i++)
        rc = subject_select(s, "audit", "subject", pseudonyms[i], &it, err);
    if (it.nomem) rc = hp_fail(err, HP_ERR_NOMEM, "out of memory reading the rows of a customer");
    return rc;
}

static int erase_rows(store *s, const char *id, const char *const *pseudonyms, int npseud,
                      store_erase_counts *c, hp_error *err)
{
    int64_t *dst[] = { &c->customers, &c->consent, &c->feedback, &c->transactions,
                       &c->features, &c->notes, &c->erasure_requests };
    int rc = HP_OK;
    /* children first, so each count is the table's own rows (not cascade side effects) */
    for (size_t i = HP_ARRAY_LEN(k_subject_tables); !rc && i-- > 0;) {
        char sql[160];
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE %s = ?", k_subject_tables[i].table,
                 k_subject_tables[i].column);
        rc = store_run(s, err, dst[i], sql, "t", id);
    }
    for (int i = 0; !rc && i < npseud; i++) {
        int64_t n = 0;
        rc = store_run(s, err, &n, "UPDATE audit SET subject = NULL, subject_nonce = NULL"
                       " WHERE subject = ?", "t", pseudonyms[i]);
        c->audit_redacted += n;
    }
    return rc;
}

int store_subject_erase(store *s, const char *id, const char *const *pseudonyms, int npseud,
                        store_erase_counts *out, hp_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = store_begin(s, err);
    if (rc) return rc;
    if ((rc = erase_rows(s, id, pseudonyms, npseud, out, err))) {
        store_rollback(s);
        return rc;
    }
    return store_commit(s, err);
}

int store_erasure_request(store *s, const char *customer_id, int64_t at, hp_error *err)
{
    return store_run(s, err, NULL, "INSERT OR IGNORE INTO erasure_requests(customer_id,"
                     " requested_at) VALUES(?, ?)", "ti", customer_id, at);
}

typedef struct { store_id_fn fn; void *ctx; } id_iter;

static int id_row(void *ctx, sqlite3_stmt *st)
{
    id_iter *it = ctx;
    return it->fn(it->ctx, (const char *)sqlite3_column_text(st, 0));
}

int store_erasure_each(store *s, store_id_fn fn, void *ctx, hp_error *err)
{
    sqlite3_stmt *st;
    int rc = store_prep(s, "SELECT customer_id FROM erasure_requests ORDER BY requested_at", &st, err);
    id_iter it = { fn, ctx };
    return rc ? rc : store_each_row(s, st, id_row, &it, err);
}

int store_erasure_count(store *s, int64_t *n, hp_error *err)
{
    return store_query_int(s, err, n, "SELECT count(*) FROM erasure_requests", "");
}

/* ------------------------------------------------------------------ every value */

typedef struct { store_value_fn fn; void *ctx; const char *table; } value_iter;

static int value_row(void *ctx, sqlite3_stmt *st)
{
    value_iter *it = ctx;
    int rc = 0;
    for (int i = 0; !rc && i < sqlite3_column_count(st); i++) {
        int t = sqlite3_column_type(st, i);
        if (t != SQLITE_TEXT && t != SQLITE_BLOB) continue;
        const char *v = (const char *)sqlite3_column_text(st, i); /* blobs: bytes + NUL */
        if (v) rc = it->fn(it->ctx, it->table, sqlite3_column_name(st, i), v);
    }
    return rc;
}

static int table_name_row(void *ctx, sqlite3_stmt *st)
{
    char (*names)[64] = ctx;
    int i = 0;
    while (names[i][0] && i < 62) i++;
    store_col_copy(st, 0, names[i], 64);
    return 0;
}

int store_each_value(store *s, store_value_fn fn, void *ctx, hp_error *err)
{
    char names[64][64];
    memset(names, 0, sizeof names);
    sqlite3_stmt *st;
    int rc = store_prep(s, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
                        &st, err);
    if (!rc) rc = store_each_row(s, st, table_name_row, names, err);
    value_iter it = { fn, ctx, NULL };
    for (int i = 0; !rc && names[i][0]; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT * FROM \"%.63s\"", names[i]); /* names from sqlite_master */
        it.table = names[i];
        rc = store_prep(s, sql, &st, err);
        if (!rc) rc = store_each_row(s, st, value_row, &it, err);
    }
    return rc;
}

/* ------------------------------------------------------------------ consent history, suppressions */

int store_consent_history(store *s, const char *customer_id, const char *purpose,
                          store_consent_fn fn, void *ctx, hp_error *err)
{
    sqlite3_stmt *st;
    int rc = store_prep(s, "SELECT " CONSENT_COLS " FROM consent WHERE customer_id = ? AND"
                        " purpose = ? ORDER BY id", &st, err);
    if (!rc) rc = store_bind(s, st, err, "tt", customer_id, purpose);
    if (rc) {
        sqlite3_finalize(st);
        return rc;
    }
    consent_iter it = { fn, ctx };
    return store_each_row(s, st, consent_row, &it, err);
}

int store_suppression_put(store *s, const char *token, const char *purpose, const char *event,
                          int64_t at, hp_error *err)
{
    return store_run(s, err, NULL, "INSERT INTO suppressions(token, purpose, event, at)"
                     " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(token, purpose) DO UPDATE SET"
                     " event = ?3, at = ?4 WHERE ?4 >= at", "ttti", token, purpose, event, at);
}

int store_suppression_get(store *s, const char *token, const char *purpose, store_consent *out,
                          int *found, hp_error *err)
{
    sqlite3_stmt *st;
    *found = 0;
    int rc = store_prep(s, "SELECT event, at FROM suppressions WHERE token = ? AND purpose = ?",
                        &st, err);
    if (!rc) rc = store_bind(s, st, err, "tt", token, purpose);
    int r = rc ? SQLITE_DONE : sqlite3_step(st);
    if (r == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        store_col_copy(st, 0, out->event, sizeof out->event);
        snprintf(out->purpose, sizeof out->purpose, "%s", purpose);
        snprintf(out->source, sizeof out->source, "suppression");
        out->at = sqlite3_column_int64(st, 1);
        *found = 1;
    } else if (r != SQLITE_DONE) rc = store_sqlerr(s, err, r, "read suppressions");
    sqlite3_finalize(st);
    return rc;
}

int store_suppression_count(store *s, int64_t *n, hp_error *err)
{
    return store_query_int(s, err, n, "SELECT count(*) FROM suppressions", "");
}

int store_erasure_cancel(store *s, const char *customer_id, int64_t *n, hp_error *err)
{
    return store_run(s, err, n, "DELETE FROM erasure_requests WHERE customer_id = ?", "t", customer_id);
}

/* ------------------------------------------------------------------ erasures in progress */

int store_erasure_pending_add(store *s, const char *pseudonyms, const char *counts, int64_t at,
                              int64_t *id, hp_error *err)
{
    int rc = store_run(s, err, NULL, "INSERT INTO erasure_pending(pseudonyms, counts, started_at)"
                       " VALUES(?, ?, ?)", "tti", pseudonyms, counts, at);
    if (!rc && id) *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

typedef struct { store_pending_fn fn; void *ctx; } pending_iter;

static int pending_row(void *ctx, sqlite3_stmt *st)
{
    pending_iter *it = ctx;
    return it->fn(it->ctx, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                  (const char *)sqlite3_column_text(st, 2));
}

int store_erasure_pending_each(store *s, store_pending_fn fn, void *ctx, hp_error *err)
{
    sqlite3_stmt *st;
    int rc = store_prep(s, "SELECT id, pseudonyms, counts FROM erasure_pending ORDER BY id", &st, err);
    pending_iter it = { fn, ctx };
    return rc ? rc : store_each_row(s, st, pending_row, &it, err);
}

int store_erasure_pending_done(store *s, int64_t id, hp_error *err)
{
    return store_run(s, err, NULL, "DELETE FROM erasure_pending WHERE id = ?", "i", id);
}

int store_erasure_pending_count(store *s, int64_t *n, hp_error *err)
{
    return store_query_int(s, err, n, "SELECT count(*) FROM erasure_pending", "");
}
