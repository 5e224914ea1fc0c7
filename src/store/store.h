/* store: the one module that writes SQL. A SQLite file (WAL, foreign keys on,
 * synchronous=FULL, secure_delete on) holding customers, consent events, feedback events,
 * transactions, cached features, the audit log, the model registry, export and scan records.
 *
 * The file is created and migrated on first open (PRAGMA user_version is the schema
 * version; a file from a newer build is refused with HP_ERR_VERSION). Every statement is
 * prepared with bound parameters: no value is ever pasted into SQL text.
 *
 * Durability: a write function returns HP_OK only after its transaction committed with
 * synchronous=FULL, so an acknowledged write survives SIGKILL and power loss. Several writes
 * become one transaction between store_begin and store_commit (which nest by counting).
 *
 * Strings returned in row structs are copied into the struct (fixed buffers, cut to fit);
 * callbacks receive pointers valid only during the call. Functions return HP_OK or a
 * negative hp_status with a sentence in err. */
#ifndef STORE_H
#define STORE_H

#include "core/hp.h"
#include <stdint.h>

#define STORE_SCHEMA_VERSION 4
#define STORE_DEFAULT_PATH "artifacts/hyperp.db"

typedef struct store store;

/* Opens (creating and migrating) the store at path. *out is NULL on failure. */
int store_open(store **out, const char *path, hp_error *err);
/* Opens a store that must exist already (migrating it when older): commands that only read
 * or change what is there must not create an empty store at a mistyped path.
 * HP_ERR_NOTFOUND naming the path when there is no file. */
int store_open_existing(store **out, const char *path, hp_error *err);
/* Closes the store; NULL is a no-op. Rolls back an unfinished transaction. */
void store_close(store *s);
const char *store_path(const store *s);

/* Transactions (BEGIN IMMEDIATE: the write lock is taken up front). Nest by counting;
 * only the outermost commit writes. store_rollback undoes the whole outermost one. */
int store_begin(store *s, hp_error *err);
int store_commit(store *s, hp_error *err);
void store_rollback(store *s);

/* PRAGMA integrity_check; HP_OK when it says "ok". */
int store_integrity_check(store *s, hp_error *err);
/* Copies the WAL into the database and truncates the WAL file to zero bytes, so that
 * erased data does not linger in old WAL frames. HP_ERR_WRITE if a reader blocks it. */
int store_checkpoint_truncate(store *s, hp_error *err);

/* ------------------------------------------------------------------ customers */

/* HP_ERR_INVAL when the id holds a card number, an e-mail address or an IBAN (pii_scan): ids
 * are stored in clear, so they must be pseudonymous (PCI-DSS: no card number in clear). The
 * message does not quote the id. */
int store_id_check_pii(const char *id, hp_error *err);
/* attrs_json: a JSON object of quasi-identifiers (may be NULL); last_activity drives
 * retention of the customer category. Inserts or updates; refuses an id store_id_check_pii
 * refuses (the rows of every other table reference a customer row). */
int store_customer_upsert(store *s, const char *id, const char *attrs_json, int64_t now,
                          hp_error *err);
/* Sets *found to 1 when the customer exists. */
int store_customer_exists(store *s, const char *id, int *found, hp_error *err);
/* Calls fn for each customer (id, attrs JSON or NULL); stops early when fn returns non-zero
 * and returns that value. */
typedef int (*store_customer_fn)(void *ctx, const char *id, const char *attrs_json);
int store_customer_each(store *s, store_customer_fn fn, void *ctx, hp_error *err);
int store_customer_count(store *s, int64_t *n, hp_error *err);
/* Calls fn for each customer whose last activity is before cutoff (the customer category's
 * retention); stops early on non-zero and returns it. */
typedef int (*store_id_fn)(void *ctx, const char *id);
int store_customer_each_older(store *s, int64_t cutoff, store_id_fn fn, void *ctx, hp_error *err);

/* ------------------------------------------------------------------ consent */

typedef struct {
    char customer_id[80];
    char purpose[32];
    char event[16];          /* give, withdraw, object, gpc */
    char basis[32];          /* lawful basis (consent, contract, legitimate_interest, ...) */
    char source[64];         /* web, branch, call_centre, rm, gpc, import ... */
    char notice_version[64]; /* version of the privacy notice shown */
    int64_t at;              /* when the subject acted */
    int64_t recorded_at;     /* when we stored it */
    int64_t rowid;
} store_consent;

/* Appends one consent event (history is never rewritten); the customer row must exist. */
int store_consent_add(store *s, const store_consent *c, int64_t *rowid, hp_error *err);
/* The latest event for (customer, purpose), latest by at then rowid; event_filter NULL for
 * any event. *found is 0 when there is none. */
int store_consent_latest(store *s, const char *customer_id, const char *purpose,
                         const char *event_filter, store_consent *out, int *found, hp_error *err);
/* Calls fn for each event of one customer in recording order. */
typedef int (*store_consent_fn)(void *ctx, const store_consent *c);
int store_consent_each(store *s, const char *customer_id, store_consent_fn fn, void *ctx,
                       hp_error *err);
int store_consent_exists_rowid(store *s, int64_t rowid, int *found, hp_error *err);
/* Calls fn for each event of one customer and purpose in recording order (rowid: the order
 * in which the gate reads them; it compares the dates itself, see privacy/consent.c). */
int store_consent_history(store *s, const char *customer_id, const char *purpose,
                          store_consent_fn fn, void *ctx, hp_error *err);

/* Suppression records: a keyed token of an erased customer (never the id or the pseudonym),
 * the purpose and the opt-out event (withdraw, object, gpc) that stays in force after the
 * customer's rows are gone. One per (token, purpose); a newer one replaces it. */
int store_suppression_put(store *s, const char *token, const char *purpose, const char *event,
                          int64_t at, hp_error *err);
/* The record for (token, purpose); *found 0 when none. Fills event and at of out. */
int store_suppression_get(store *s, const char *token, const char *purpose, store_consent *out,
                          int *found, hp_error *err);
int store_suppression_count(store *s, int64_t *n, hp_error *err);

/* ------------------------------------------------------------------ feedback, transactions, features */

int store_feedback_add(store *s, const char *customer_id, const char *product_id,
                       const char *kind, double value, int64_t at, int64_t *rowid, hp_error *err);
int store_feedback_exists_rowid(store *s, int64_t rowid, int *found, hp_error *err);
int store_transaction_add(store *s, const char *customer_id, double amount, int64_t at,
                          hp_error *err);
/* Caches a derived feature value (a blob) for a customer; replaces the old one. */
int store_feature_put(store *s, const char *customer_id, const char *name, const void *blob,
                      size_t n, int64_t at, hp_error *err);
/* A free-text note about a customer; callers mask PII before calling (see text/pii.h). */
int store_note_add(store *s, const char *customer_id, const char *field, const char *text,
                   int64_t at, hp_error *err);

/* ------------------------------------------------------------------ subject rows (export, erase) */

/* Calls fn once per row held about a customer in any table, with the table name and the
 * row's columns as text (NULL for SQL NULL, hex for blobs). Audit rows are matched by the
 * pseudonyms given (the audit log never holds raw ids). */
typedef int (*store_row_fn)(void *ctx, const char *table, int ncols, const char *const *names,
                            const char *const *values);
int store_subject_rows(store *s, const char *id, const char *const *pseudonyms, int npseud,
                       store_row_fn fn, void *ctx, hp_error *err);

typedef struct {
    int64_t customers, consent, feedback, transactions, features, notes, audit_redacted,
        erasure_requests;
} store_erase_counts;

/* Deletes every row about the customer in every table (one transaction; secure_delete
 * zeroes the freed bytes), redacts audit subjects equal to any of the pseudonyms (the
 * chained commitment stays, so the chain still verifies) and removes pending erasure
 * requests. Does not checkpoint: call store_checkpoint_truncate after the commit. */
int store_subject_erase(store *s, const char *id, const char *const *pseudonyms, int npseud,
                        store_erase_counts *out, hp_error *err);

/* Pending erasure requests (queued by consent withdrawal when configured). */
int store_erasure_request(store *s, const char *customer_id, int64_t at, hp_error *err);
/* Removes a queued request (the customer consented again); *n gets 0 or 1 (may be NULL). */
int store_erasure_cancel(store *s, const char *customer_id, int64_t *n, hp_error *err);
int store_erasure_each(store *s, store_id_fn fn, void *ctx, hp_error *err);
int store_erasure_count(store *s, int64_t *n, hp_error *err);

/* Erasures in progress: the rows are gone (same transaction as the delete) but the export
 * files, the model registry and the audit entry are not done yet. pseudonyms is a
 * space-separated list (what the export files are scrubbed of), counts the row counts text. */
int store_erasure_pending_add(store *s, const char *pseudonyms, const char *counts, int64_t at,
                              int64_t *id, hp_error *err);
typedef int (*store_pending_fn)(void *ctx, int64_t id, const char *pseudonyms, const char *counts);
int store_erasure_pending_each(store *s, store_pending_fn fn, void *ctx, hp_error *err);
int store_erasure_pending_done(store *s, int64_t id, hp_error *err);
int store_erasure_pending_count(store *s, int64_t *n, hp_error *err);

/* Calls fn for every text value in every table (table, column, value): PCI scans, tests. */
typedef int (*store_value_fn)(void *ctx, const char *table, const char *column,
                              const char *value);
int store_each_value(store *s, store_value_fn fn, void *ctx, hp_error *err);

/* ------------------------------------------------------------------ retention */

typedef enum {
    STORE_CAT_CUSTOMER = 0, /* customers (by last activity), with their consent, notes */
    STORE_CAT_TRANSACTIONS,
    STORE_CAT_FEEDBACK,
    STORE_CAT_FEATURES,
    STORE_CAT_LOGS,         /* audit entries (a chain prefix; the anchor is kept) */
    STORE_CAT_COUNT
} store_category;

const char *store_category_name(store_category c);
/* Rows of category c older than cutoff (seconds since epoch). */
int store_count_older(store *s, store_category c, int64_t cutoff, int64_t *n, hp_error *err);
/* Deletes them; for logs, first records the last removed entry as the chain anchor. */
int store_delete_older(store *s, store_category c, int64_t cutoff, int64_t *n, hp_error *err);

/* ------------------------------------------------------------------ audit rows */

typedef struct {
    int64_t seq, at;
    char actor[64], action[64], purpose[32];
    char subject[80];          /* pseudonym; "" when none or redacted */
    int subject_redacted;
    char subject_nonce[33];    /* hex; "" when none or redacted */
    char subject_commit[65];   /* hex BLAKE2b-256 keyed by the nonce; "" when no subject */
    char model_version[64];
    char inputs_hash[65];
    char outcome[256];
    char prev[65], hash[65];   /* hex */
} store_audit;

/* Inserts the entry and, in the same transaction (callers hold one), keeps its seq and hash as
 * the log's head in the meta table, where a DELETE FROM audit does not reach. */
int store_audit_insert(store *s, const store_audit *a, hp_error *err);
/* The head the next entry links to: the last row's seq and hash, or the kept head when it is
 * further (rows were removed: the next entry then shows the gap instead of hiding it), the
 * anchor when the log was purged; seq 0 and "" when empty. */
int store_audit_head(store *s, int64_t *seq, char hash[65], hp_error *err);
/* The head kept in the meta table by store_audit_insert; *found 0 for a store whose entries
 * were all written before it was kept. */
int store_audit_kept_head(store *s, int64_t *seq, char hash[65], int *found, hp_error *err);
int store_audit_anchor(store *s, int64_t *seq, char hash[65], hp_error *err);
/* Entries after seq with this action (and this purpose, unless purpose is NULL). */
int store_audit_count_after(store *s, int64_t seq, const char *action, const char *purpose,
                            int64_t *n, hp_error *err);
typedef int (*store_audit_fn)(void *ctx, const store_audit *a);
int store_audit_each(store *s, store_audit_fn fn, void *ctx, hp_error *err);

/* An audit row as stored, for verification: each text column's exact bytes (embedded NULs
 * and any length; null set for SQL NULL), and bad_type naming the first column whose SQLite
 * type is not the one written (seq and at INTEGER; subject, subject_nonce, subject_commit
 * NULL or non-empty TEXT; the others TEXT), so a value cast, emptied or set to NULL is not the
 * same entry. Pointers are valid during the callback only. */
typedef struct { const char *p; size_t n; int null; } store_bytes;
typedef struct {
    int64_t seq, at;
    store_bytes actor, action, purpose, subject, subject_nonce, subject_commit, model_version,
        inputs_hash, outcome, prev, hash;
    const char *bad_type;
} store_audit_bytes;
typedef int (*store_audit_bytes_fn)(void *ctx, const store_audit_bytes *a);
int store_audit_each_bytes(store *s, store_audit_bytes_fn fn, void *ctx, hp_error *err);
/* Test hook: raw SQL against the file, for tamper tests only (never used by the product). */
int store_exec_unsafe(store *s, const char *sql, hp_error *err);

/* ------------------------------------------------------------------ model registry, exports, scans */

int store_model_register(store *s, const char *name, const char *version, const char *path,
                         int64_t at, hp_error *err);
/* Same, registered as due for retraining already when due is set (reason stored with it). */
int store_model_register_due(store *s, const char *name, const char *version, const char *path,
                             int64_t at, int due, const char *reason, hp_error *err);
/* Marks every registered model as due for retraining (reason is stored, no customer data). */
int store_model_mark_retrain(store *s, const char *reason, int64_t at, hp_error *err);
int store_model_retrain_due(store *s, int64_t *n, hp_error *err);

/* Files the project wrote that hold pseudonymised customer data; erasure rewrites them. */
int store_export_record(store *s, const char *path, const char *kind, int64_t k, int64_t at,
                        hp_error *err);
typedef int (*store_export_fn)(void *ctx, const char *path, const char *kind, int64_t k,
                               int64_t at);
int store_export_each(store *s, store_export_fn fn, void *ctx, hp_error *err);

/* Output files the project wrote that hold raw customer ids (rejects, recommendations, a
 * subject's export, masked text): erasure rewrites or removes them. kind names the format;
 * path is absolute. Recording a path again replaces its row. id: the file the path was when
 * recorded (st_dev, st_ino), so that erasure can tell whether a path now leads elsewhere;
 * { 0, 0 } when unknown (a row of an older store, a path not written yet). */
typedef struct { int64_t dev, ino; } store_file_id;
int store_output_record(store *s, const char *path, const char *kind, int64_t at, store_file_id id,
                        hp_error *err);
typedef int (*store_output_fn)(void *ctx, const char *path, const char *kind, int64_t at, store_file_id id);
int store_output_each(store *s, store_output_fn fn, void *ctx, hp_error *err);
/* Drops the record of a file that erasure removed. */
int store_output_forget(store *s, const char *path, hp_error *err);

/* Result of a PII scan of a file (counts as JSON, never the found values). */
int store_scan_record(store *s, const char *path, const char *counts_json, int64_t findings,
                      int64_t at, hp_error *err);
typedef int (*store_scan_fn)(void *ctx, const char *path, const char *counts_json,
                             int64_t findings, int64_t at);
int store_scan_each(store *s, store_scan_fn fn, void *ctx, hp_error *err);

#endif
