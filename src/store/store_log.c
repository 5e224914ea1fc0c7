/* store log: audit rows, retention, model registry, export and scan records. */
#include "store/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ audit */

static int meta_get(store *s, const char *key, char *out, size_t size, hp_error *err)
{
    sqlite3_stmt *st;
    out[0] = 0;
    int rc = store_prep(s, "SELECT value FROM meta WHERE key = ?", &st, err);
    if (!rc) rc = store_bind(s, st, err, "t", key);
    if (!rc && sqlite3_step(st) == SQLITE_ROW) store_col_copy(st, 0, out, size);
    sqlite3_finalize(st);
    return rc;
}

static int meta_set(store *s, const char *key, const char *value, hp_error *err)
{
    return store_run(s, err, NULL, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)",
                     "tt", key, value);
}

int store_audit_insert(store *s, const store_audit *a, hp_error *err)
{
    const char *subject = a->subject[0] ? a->subject : NULL;
    const char *nonce = a->subject_nonce[0] ? a->subject_nonce : NULL;
    const char *commit = a->subject_commit[0] ? a->subject_commit : NULL;
    char seq[32];
    snprintf(seq, sizeof seq, "%lld", (long long)a->seq);
    int rc = store_begin(s, err);
    if (!rc) rc = store_run(s, err, NULL,
        "INSERT INTO audit(seq, at, actor, action, purpose, subject, subject_nonce,"
        " subject_commit, model_version, inputs_hash, outcome, prev, hash)"
        " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "iittttttttttt",
        a->seq, a->at, a->actor, a->action, a->purpose, subject, nonce, commit,
        a->model_version, a->inputs_hash, a->outcome, a->prev, a->hash);
    if (!rc) rc = meta_set(s, "audit_head_seq", seq, err);
    if (!rc) rc = meta_set(s, "audit_head_hash", a->hash, err);
    if (rc) {
        store_rollback(s);
        return rc;
    }
    return store_commit(s, err);
}

int store_audit_anchor(store *s, int64_t *seq, char hash[65], hp_error *err)
{
    char buf[32];
    int rc = meta_get(s, "audit_anchor_seq", buf, sizeof buf, err);
    if (!rc) rc = meta_get(s, "audit_anchor_hash", hash, 65, err);
    *seq = buf[0] ? (int64_t)strtoll(buf, NULL, 10) : 0;
    return rc;
}

int store_audit_kept_head(store *s, int64_t *seq, char hash[65], int *found, hp_error *err)
{
    char buf[32];
    int rc = meta_get(s, "audit_head_seq", buf, sizeof buf, err);
    if (!rc) rc = meta_get(s, "audit_head_hash", hash, 65, err);
    *seq = buf[0] ? (int64_t)strtoll(buf, NULL, 10) : 0;
    *found = !rc && buf[0] && hash[0];
    return rc;
}

int store_audit_head(store *s, int64_t *seq, char hash[65], hp_error *err)
{
    sqlite3_stmt *st;
    int64_t kseq;
    char khash[65];
    int kept;
    int rc = store_audit_kept_head(s, &kseq, khash, &kept, err);
    if (!rc) rc = store_prep(s, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", &st, err);
    if (rc) return rc;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        store_col_copy(st, 1, hash, 65);
    } else if (r == SQLITE_DONE) {
        rc = store_audit_anchor(s, seq, hash, err);
    } else rc = store_sqlerr(s, err, r, "read audit");
    sqlite3_finalize(st);
    if (!rc && kept && kseq > *seq) {
        *seq = kseq;
        memcpy(hash, khash, 65);
    }
    return rc;
}

int store_audit_count_after(store *s, int64_t seq, const char *action, const char *purpose,
                            int64_t *n, hp_error *err)
{
    return store_query_int(s, err, n, "SELECT count(*) FROM audit WHERE seq > ?1 AND action = ?2"
                           " AND (?3 IS NULL OR purpose = ?3)", "itt", seq, action, purpose);
}

typedef struct { store_audit_fn fn; void *ctx; } audit_iter;

static int audit_row(void *ctx, sqlite3_stmt *st)
{
    audit_iter *it = ctx;
    store_audit a;
    memset(&a, 0, sizeof a);
    a.seq = sqlite3_column_int64(st, 0);
    a.at = sqlite3_column_int64(st, 1);
    store_col_copy(st, 2, a.actor, sizeof a.actor);
    store_col_copy(st, 3, a.action, sizeof a.action);
    store_col_copy(st, 4, a.purpose, sizeof a.purpose);
    store_col_copy(st, 5, a.subject, sizeof a.subject);
    store_col_copy(st, 6, a.subject_nonce, sizeof a.subject_nonce);
    store_col_copy(st, 7, a.subject_commit, sizeof a.subject_commit);
    store_col_copy(st, 8, a.model_version, sizeof a.model_version);
    store_col_copy(st, 9, a.inputs_hash, sizeof a.inputs_hash);
    store_col_copy(st, 10, a.outcome, sizeof a.outcome);
    store_col_copy(st, 11, a.prev, sizeof a.prev);
    store_col_copy(st, 12, a.hash, sizeof a.hash);
    a.subject_redacted = a.subject_commit[0] && !a.subject[0];
    return it->fn(it->ctx, &a);
}

/* Every audit column in chain order; the text view and the exact-bytes view read the same rows. */
static const char k_audit_select[] =
    "SELECT seq, at, actor, action, purpose, subject, subject_nonce, subject_commit,"
    " model_version, inputs_hash, outcome, prev, hash FROM audit ORDER BY rowid";

int store_audit_each(store *s, store_audit_fn fn, void *ctx, hp_error *err)
{
    sqlite3_stmt *st;
    int rc = store_prep(s, k_audit_select, &st, err);
    audit_iter it = { fn, ctx };
    return rc ? rc : store_each_row(s, st, audit_row, &it, err);
}

static void bytes_col(sqlite3_stmt *st, int col, store_bytes *b)
{
    b->null = sqlite3_column_type(st, col) == SQLITE_NULL;
    b->p = (const char *)sqlite3_column_text(st, col);
    b->n = b->p ? (size_t)sqlite3_column_bytes(st, col) : 0;
    if (!b->p) b->p = "";
}

typedef struct { store_audit_bytes_fn fn; void *ctx; } audit_bytes_iter;

static int audit_bytes_row(void *ctx, sqlite3_stmt *st)
{
    static const char *const names[] = { "seq", "at", "actor", "action", "purpose", "subject",
        "subject_nonce", "subject_commit", "model_version", "inputs_hash", "outcome", "prev", "hash" };
    audit_bytes_iter *it = ctx;
    store_audit_bytes a;
    memset(&a, 0, sizeof a);
    /* the types first: reading a column as text converts it */
    for (int i = 0; i < 13 && !a.bad_type; i++) {
        int t = sqlite3_column_type(st, i);
        int optional = i >= 5 && i <= 7; /* subject, nonce, commitment */
        int ok = i < 2 ? t == SQLITE_INTEGER
               : optional ? t == SQLITE_NULL || (t == SQLITE_TEXT && sqlite3_column_bytes(st, i) > 0)
               : t == SQLITE_TEXT;
        if (!ok) a.bad_type = names[i];
    }
    a.seq = sqlite3_column_int64(st, 0);
    a.at = sqlite3_column_int64(st, 1);
    store_bytes *cols[] = { &a.actor, &a.action, &a.purpose, &a.subject, &a.subject_nonce,
                            &a.subject_commit, &a.model_version, &a.inputs_hash, &a.outcome,
                            &a.prev, &a.hash };
    for (int i = 0; i < 11; i++) bytes_col(st, i + 2, cols[i]);
    return it->fn(it->ctx, &a);
}

int store_audit_each_bytes(store *s, store_audit_bytes_fn fn, void *ctx, hp_error *err)
{
    sqlite3_stmt *st;
    int rc = store_prep(s, k_audit_select, &st, err);
    audit_bytes_iter it = { fn, ctx };
    return rc ? rc : store_each_row(s, st, audit_bytes_row, &it, err);
}

/* ------------------------------------------------------------------ retention */

static const struct { const char *name, *count_sql, *delete_sql; } k_categories[STORE_CAT_COUNT] = {
    { "customer", "SELECT count(*) FROM customers WHERE last_activity < ?",
      "DELETE FROM customers WHERE last_activity < ?" },
    { "transactions", "SELECT count(*) FROM transactions WHERE at < ?",
      "DELETE FROM transactions WHERE at < ?" },
    { "feedback", "SELECT count(*) FROM feedback WHERE at < ?", "DELETE FROM feedback WHERE at < ?" },
    { "features", "SELECT count(*) FROM features WHERE at < ?", "DELETE FROM features WHERE at < ?" },
    /* the log is a chain: only a prefix can go, up to the last entry older than the cutoff */
    { "logs", "SELECT count(*) FROM audit WHERE seq <= (SELECT max(seq) FROM audit WHERE at < ?)",
      "DELETE FROM audit WHERE seq <= (SELECT max(seq) FROM audit WHERE at < ?)" },
};

const char *store_category_name(store_category c)
{
    return (unsigned)c < STORE_CAT_COUNT ? k_categories[c].name : "?";
}

int store_count_older(store *s, store_category c, int64_t cutoff, int64_t *n, hp_error *err)
{
    if ((unsigned)c >= STORE_CAT_COUNT) return hp_fail(err, HP_ERR_INVAL, "unknown category");
    return store_query_int(s, err, n, k_categories[c].count_sql, "i", cutoff);
}

/* Keeps the hash of the last entry that goes, so verification of the rest still starts
 * from a known link. */
static int save_anchor(store *s, int64_t cutoff, hp_error *err)
{
    sqlite3_stmt *st;
    int rc = store_prep(s, "SELECT seq, hash FROM audit WHERE seq = (SELECT max(seq) FROM audit"
                        " WHERE at < ?)", &st, err);
    if (!rc) rc = store_bind(s, st, err, "i", cutoff);
    if (!rc && sqlite3_step(st) == SQLITE_ROW) {
        char seq[32], hash[65];
        snprintf(seq, sizeof seq, "%lld", (long long)sqlite3_column_int64(st, 0));
        store_col_copy(st, 1, hash, sizeof hash);
        rc = meta_set(s, "audit_anchor_seq", seq, err);
        if (!rc) rc = meta_set(s, "audit_anchor_hash", hash, err);
    }
    sqlite3_finalize(st);
    return rc;
}

int store_delete_older(store *s, store_category c, int64_t cutoff, int64_t *n, hp_error *err)
{
    if ((unsigned)c >= STORE_CAT_COUNT) return hp_fail(err, HP_ERR_INVAL, "unknown category");
    int rc = store_begin(s, err);
    if (!rc && c == STORE_CAT_LOGS) rc = save_anchor(s, cutoff, err);
    if (!rc) rc = store_run(s, err, n, k_categories[c].delete_sql, "i", cutoff);
    if (rc) {
        store_rollback(s);
        return rc;
    }
    return store_commit(s, err);
}

/* ------------------------------------------------------------------ models, exports, scans */

int store_model_register(store *s, const char *name, const char *version, const char *path,
                         int64_t at, hp_error *err)
{
    return store_run(s, err, NULL, "INSERT INTO models(name, version, path, created_at)"
                     " VALUES(?, ?, ?, ?)", "ttti", name, version, path, at);
}

int store_model_register_due(store *s, const char *name, const char *version, const char *path,
                             int64_t at, int due, const char *reason, hp_error *err)
{
    if (!due) return store_model_register(s, name, version, path, at, err);
    return store_run(s, err, NULL, "INSERT INTO models(name, version, path, created_at, retrain_due,"
                     " retrain_reason, retrain_since) VALUES(?, ?, ?, ?, 1, ?, ?)", "tttiti",
                     name, version, path, at, reason, at);
}

int store_model_mark_retrain(store *s, const char *reason, int64_t at, hp_error *err)
{
    return store_run(s, err, NULL, "UPDATE models SET retrain_due = 1, retrain_reason = ?,"
                     " retrain_since = coalesce(retrain_since, ?)", "ti", reason, at);
}

int store_model_retrain_due(store *s, int64_t *n, hp_error *err)
{
    return store_query_int(s, err, n, "SELECT count(*) FROM models WHERE retrain_due = 1", "");
}

int store_export_record(store *s, const char *path, const char *kind, int64_t k, int64_t at,
                        hp_error *err)
{
    return store_run(s, err, NULL, "INSERT OR REPLACE INTO exports(path, kind, k, at)"
                     " VALUES(?, ?, ?, ?)", "ttii", path, kind, k, at);
}

typedef struct { store_export_fn fn; void *ctx; } export_iter;

static int export_row(void *ctx, sqlite3_stmt *st)
{
    export_iter *it = ctx;
    return it->fn(it->ctx, (const char *)sqlite3_column_text(st, 0),
                  (const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st, 2),
                  sqlite3_column_int64(st, 3));
}

int store_export_each(store *s, store_export_fn fn, void *ctx, hp_error *err)
{
    sqlite3_stmt *st;
    int rc = store_prep(s, "SELECT path, kind, k, at FROM exports ORDER BY at", &st, err);
    export_iter it = { fn, ctx };
    return rc ? rc : store_each_row(s, st, export_row, &it, err);
}

int store_scan_record(store *s, const char *path, const char *counts_json, int64_t findings,
                      int64_t at, hp_error *err)
{
    return store_run(s, err, NULL, "INSERT INTO pii_scans(path, counts, findings, at)"
                     " VALUES(?, ?, ?, ?)", "ttii", path, counts_json, findings, at);
}

typedef struct { store_scan_fn fn; void *ctx; } scan_iter;

static int scan_row(void *ctx, sqlite3_stmt *st)
{
    scan_iter *it = ctx;
    return it->fn(it->ctx, (const char *)sqlite3_column_text(st, 0),
                  (const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st, 2),
                  sqlite3_column_int64(st, 3));
}

int store_scan_each(store *s, store_scan_fn fn, void *ctx, hp_error *err)
{
    sqlite3_stmt *st;
    int rc = store_prep(s, "SELECT path, counts, findings, at FROM pii_scans ORDER BY id", &st, err);
    scan_iter it = { fn, ctx };
    return rc ? rc : store_each_row(s, st, scan_row, &it, err);
}
