/* store: SQLite access. Every value reaches SQL through a bound parameter of a prepared
 * statement; the only SQL text built at run time names tables from the fixed lists below
 * or from sqlite_master (store_each_value). */
#include "store/store.h"
#include "store/store_internal.h"
#include "io/io_out.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ------------------------------------------------------------------ schema migrations */

/* Migration i brings the schema from version i to i+1. Never edit a shipped one: append. */
static const char *const k_migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE schema_version(version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE customers(id TEXT PRIMARY KEY, attrs TEXT, created_at INTEGER NOT NULL,"
    " last_activity INTEGER NOT NULL);"
    "CREATE INDEX customers_activity ON customers(last_activity);"
    "CREATE TABLE consent(id INTEGER PRIMARY KEY,"
    " customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
    " purpose TEXT NOT NULL,"
    " event TEXT NOT NULL CHECK(event IN ('give','withdraw','object','gpc')),"
    " basis TEXT NOT NULL, source TEXT NOT NULL, notice_version TEXT NOT NULL,"
    " at INTEGER NOT NULL, recorded_at INTEGER NOT NULL);"
    "CREATE INDEX consent_subject ON consent(customer_id, purpose, at);"
    "CREATE TABLE feedback(id INTEGER PRIMARY KEY,"
    " customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
    " product_id TEXT NOT NULL, kind TEXT NOT NULL, value REAL, at INTEGER NOT NULL);"
    "CREATE INDEX feedback_subject ON feedback(customer_id);"
    "CREATE INDEX feedback_at ON feedback(at);"
    "CREATE TABLE transactions(id INTEGER PRIMARY KEY,"
    " customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
    " amount REAL NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX transactions_subject ON transactions(customer_id);"
    "CREATE TABLE features(customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL, value BLOB, at INTEGER NOT NULL, PRIMARY KEY(customer_id, name));"
    "CREATE TABLE notes(id INTEGER PRIMARY KEY,"
    " customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
    " field TEXT NOT NULL, text TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX notes_subject ON notes(customer_id);"
    "CREATE TABLE erasure_requests(customer_id TEXT PRIMARY KEY"
    " REFERENCES customers(id) ON DELETE CASCADE, requested_at INTEGER NOT NULL);"
    "CREATE TABLE audit(seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL,"
    " action TEXT NOT NULL, purpose TEXT, subject TEXT, subject_nonce TEXT,"
    " subject_commit TEXT, model_version TEXT, inputs_hash TEXT, outcome TEXT,"
    " prev TEXT NOT NULL, hash TEXT NOT NULL);"
    "CREATE INDEX audit_subject ON audit(subject);"
    "CREATE INDEX audit_at ON audit(at);"
    "CREATE TABLE models(id INTEGER PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL,"
    " path TEXT, created_at INTEGER NOT NULL, retrain_due INTEGER NOT NULL DEFAULT 0,"
    " retrain_reason TEXT, retrain_since INTEGER);"
    "CREATE TABLE exports(path TEXT PRIMARY KEY, kind TEXT NOT NULL, k INTEGER,"
    " at INTEGER NOT NULL);"
    "CREATE TABLE pii_scans(id INTEGER PRIMARY KEY, path TEXT NOT NULL, counts TEXT NOT NULL,"
    " findings INTEGER NOT NULL, at INTEGER NOT NULL);",
    /* 2: suppression records that outlive erasure (a keyed token, never the id or the
     * pseudonym), erasures whose file steps are not finished yet */
    "CREATE TABLE suppressions(token TEXT NOT NULL, purpose TEXT NOT NULL,"
    " event TEXT NOT NULL CHECK(event IN ('withdraw','object','gpc')), at INTEGER NOT NULL,"
    " PRIMARY KEY(token, purpose));"
    "CREATE TABLE erasure_pending(id INTEGER PRIMARY KEY, pseudonyms TEXT NOT NULL,"
    " counts TEXT NOT NULL, started_at INTEGER NOT NULL);",
    /* 3: output files holding raw customer ids (rejects, recommendations, subject exports,
     * masked text), so that erasure can rewrite them; paths only, never their contents */
    "CREATE TABLE outputs(path TEXT PRIMARY KEY, kind TEXT NOT NULL, at INTEGER NOT NULL);",
    /* 4: the device and inode an output had when registered, so that erasure rewrites a path
     * replaced by a symbolic link only when the link leads to that same file */
    "ALTER TABLE outputs ADD COLUMN dev INTEGER; ALTER TABLE outputs ADD COLUMN ino INTEGER;",
};

/* ------------------------------------------------------------------ statement helpers */

int store_sqlerr(store *s, hp_error *err, int rc, const char *what)
{
    /* a file that cannot be opened is the caller's path; busy, locked, I/O errors and a full
     * disk are operational failures (HP_ERR_WRITE: not bad input) */
    int prim = rc & 0xff;
    int status = (prim == SQLITE_NOMEM) ? HP_ERR_NOMEM
               : (prim == SQLITE_CONSTRAINT) ? HP_ERR_INVAL
               : (prim == SQLITE_NOTADB || prim == SQLITE_CORRUPT) ? HP_ERR_FORMAT
               : (prim == SQLITE_CANTOPEN || prim == SQLITE_PERM || prim == SQLITE_AUTH) ? HP_ERR_IO
               : HP_ERR_WRITE;
    return hp_fail(err, status, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

int store_prep(store *s, const char *sql, sqlite3_stmt **st, hp_error *err)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        *st = NULL;
        return store_sqlerr(s, err, rc, "prepare");
    }
    return HP_OK;
}

/* Binds by a format: t text (NULL -> SQL NULL), i int64, d double, b blob (ptr, size_t). */
static int bind_va(sqlite3_stmt *st, const char *fmt, va_list ap)
{
    int rc = SQLITE_OK;
    for (int i = 0; fmt[i] && rc == SQLITE_OK; i++) {
        switch (fmt[i]) {
        case 't': {
            const char *v = va_arg(ap, const char *);
            rc = v ? sqlite3_bind_text(st, i + 1, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i + 1);
            break;
        }
        case 'i': rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t)); break;
        case 'd': rc = sqlite3_bind_double(st, i + 1, va_arg(ap, double)); break;
        case 'b': {
            const void *p = va_arg(ap, const void *);
            size_t n = va_arg(ap, size_t);
            rc = sqlite3_bind_blob(st, i + 1, p, (int)n, SQLITE_TRANSIENT);
            break;
        }
        default: rc = SQLITE_MISUSE;
        }
    }
    return rc;
}

int store_bind(store *s, sqlite3_stmt *st, hp_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = bind_va(st, fmt, ap);
    va_end(ap);
    return rc == SQLITE_OK ? HP_OK : store_sqlerr(s, err, rc, "bind");
}

/* Prepares sql and binds the arguments fmt describes; on failure nothing is left open. */
static int prep_bound(store *s, hp_error *err, sqlite3_stmt **st, const char *sql, const char *fmt, va_list ap)
{
    int rc = store_prep(s, sql, st, err);
    if (rc) return rc;
    int b = bind_va(*st, fmt, ap);
    if (b == SQLITE_OK) return HP_OK;
    sqlite3_finalize(*st);
    *st = NULL;
    return store_sqlerr(s, err, b, "bind");
}

/* Runs a statement that returns no rows; *changes gets the rows changed (may be NULL). */
int store_run(store *s, hp_error *err, int64_t *changes, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    va_start(ap, fmt);
    int rc = prep_bound(s, err, &st, sql, fmt, ap);
    va_end(ap);
    if (rc) return rc;
    int b;
    while ((b = sqlite3_step(st)) == SQLITE_ROW) {}
    if (b != SQLITE_DONE) rc = store_sqlerr(s, err, b, "write");
    else if (changes) *changes = sqlite3_changes(s->db);
    sqlite3_finalize(st);
    return rc;
}

/* Runs a query whose first row's first column is an integer (0 when no row). */
int store_query_int(store *s, hp_error *err, int64_t *out, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    va_start(ap, fmt);
    int rc = prep_bound(s, err, &st, sql, fmt, ap);
    va_end(ap);
    *out = 0;
    if (rc) return rc;
    int b = sqlite3_step(st);
    if (b == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    else if (b != SQLITE_DONE) rc = store_sqlerr(s, err, b, "query");
    sqlite3_finalize(st);
    return rc;
}

void store_col_copy(sqlite3_stmt *st, int col, char *dst, size_t size)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    snprintf(dst, size, "%s", v ? (const char *)v : "");
}

/* Executes a script of several statements without parameters (migrations only). */
static int exec_script(store *s, const char *sql, hp_error *err)
{
    while (sql && *sql) {
        sqlite3_stmt *st;
        const char *tail;
        int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, &tail);
        if (rc != SQLITE_OK) return store_sqlerr(s, err, rc, "migration");
        if (st) {
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {}
            sqlite3_finalize(st);
            if (rc != SQLITE_DONE) return store_sqlerr(s, err, rc, "migration");
        }
        sql = tail;
    }
    return HP_OK;
}

/* ------------------------------------------------------------------ open, close, transactions */

static int pragma(store *s, const char *sql, const char *want, hp_error *err)
{
    sqlite3_stmt *st;
    int rc = store_prep(s, sql, &st, err);
    if (rc) return rc;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW && want) {
        const unsigned char *v = sqlite3_column_text(st, 0);
        if (!v || strcmp((const char *)v, want))
            rc = hp_fail(err, HP_ERR_WRITE, "%s: %s returned '%s'", s->path, sql, v ? (const char *)v : "");
    } else if (r != SQLITE_ROW && r != SQLITE_DONE) rc = store_sqlerr(s, err, r, sql);
    sqlite3_finalize(st);
    return rc;
}

static int schema_version(store *s, int64_t *v, hp_error *err)
{
    int64_t has;
    int rc = store_query_int(s, err, &has,
        "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_version'", "");
    if (rc || !has) {
        *v = 0;
        return rc;
    }
    return store_query_int(s, err, v, "SELECT max(version) FROM schema_version", "");
}

static int migrate(store *s, int64_t now, hp_error *err)
{
    int64_t v;
    int rc = store_begin(s, err);
    if (!rc) rc = schema_version(s, &v, err);
    int64_t latest = (int64_t)HP_ARRAY_LEN(k_migrations);
    if (!rc && v > latest)
        rc = hp_fail(err, HP_ERR_VERSION, "%s: schema version %lld is newer than this build's %lld",
                     s->path, (long long)v, (long long)latest);
    for (; !rc && v < latest; v++) {
        rc = exec_script(s, k_migrations[v], err);
        if (!rc) rc = store_run(s, err, NULL, "INSERT INTO schema_version VALUES(?, ?)", "ii", v + 1, now);
    }
    if (!rc) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %lld", (long long)latest);
        rc = pragma(s, sql, NULL, err);
    }
    if (rc) {
        store_rollback(s);
        return rc;
    }
    return store_commit(s, err);
}

static int configure(store *s, hp_error *err)
{
    sqlite3_busy_timeout(s->db, 5000);
    int rc = pragma(s, "PRAGMA journal_mode=WAL", "wal", err);
    if (!rc) rc = pragma(s, "PRAGMA synchronous=FULL", NULL, err);
    if (!rc) rc = pragma(s, "PRAGMA foreign_keys=ON", NULL, err);
    if (!rc) rc = pragma(s, "PRAGMA secure_delete=ON", NULL, err);
    return rc;
}

/* The store holds personal data: owner-only (0600). Called right after sqlite3_open_v2
 * created the file and before anything is written to it; SQLite gives the -wal, -shm and
 * -journal files it creates later the database file's mode, and existing ones of ours that
 * are wider are narrowed here too. */
static int make_private(const char *path, hp_error *err)
{
    char canon[PATH_MAX], side[PATH_MAX + 16];
    static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
    int rc = HP_OK;
    for (size_t i = 0; !rc && i < HP_ARRAY_LEN(suffix); i++) {
        snprintf(side, sizeof side, "%s%s", path, suffix[i]);
        rc = io_out_make_private(side, err);
        if (!rc && io_out_canonical(path, canon, sizeof canon, NULL) == HP_OK) {
            snprintf(side, sizeof side, "%s%s", canon, suffix[i]); /* SQLite's own name for it */
            rc = io_out_make_private(side, err);
        }
    }
    return rc;
}

static int open_mode(store **out, const char *path, int create, hp_error *err)
{
    *out = NULL;
    store *s = hp_calloc(1, sizeof *s);
    if (!s || !(s->path = hp_strdup(path))) {
        hp_free(s);
        return hp_fail(err, HP_ERR_NOMEM, "out of memory opening %s", path);
    }
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0), NULL);
    int status = rc == SQLITE_OK ? HP_OK : store_sqlerr(s, err, rc, "cannot open");
    if (!status) status = make_private(path, err);
    if (!status) status = configure(s, err);
    if (!status) status = migrate(s, (int64_t)time(NULL), err);
    if (status) {
        store_close(s);
        return status;
    }
    *out = s;
    return HP_OK;
}

int store_open(store **out, const char *path, hp_error *err)
{
    return open_mode(out, path, 1, err);
}

int store_open_existing(store **out, const char *path, hp_error *err)
{
    struct stat st;
    *out = NULL;
    if (stat(path, &st) != 0)
        return errno == ENOENT
            ? hp_fail(err, HP_ERR_NOTFOUND, "%s: no such store (check --db or HYPERP_DB; a store "
                      "is created by recording consent or a PII scan, never by a command that "
                      "only reads or changes what is held)", path)
            : hp_fail(err, HP_ERR_IO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return hp_fail(err, HP_ERR_IO, "%s: not a store (not a regular file)", path);
    /* SQLite would take an empty file for a new database and migrate it: a store truncated
     * by accident must not verify as an intact, empty log */
    if (st.st_size == 0) return hp_fail(err, HP_ERR_IO, "%s: not a store (an empty file)", path);
    return open_mode(out, path, 0, err);
}

void store_close(store *s)
{
    if (!s) return;
    if (s->depth) {
        s->depth = 1;
        store_rollback(s);
    }
    sqlite3_close(s->db);
    hp_free(s->path);
    hp_free(s);
}

const char *store_path(const store *s) { return s->path; }

int store_begin(store *s, hp_error *err)
{
    if (s->depth++) return HP_OK;
    int rc = store_run(s, err, NULL, "BEGIN IMMEDIATE", "");
    if (rc) s->depth = 0;
    return rc;
}

int store_commit(store *s, hp_error *err)
{
    if (s->depth == 0) return hp_fail(err, HP_ERR_INVAL, "commit without begin");
    if (--s->depth) return HP_OK;
    int rc = store_run(s, err, NULL, "COMMIT", "");
    if (rc) store_run(s, NULL, NULL, "ROLLBACK", "");
    return rc;
}

void store_rollback(store *s)
{
    if (s->depth == 0) return;
    s->depth = 0;
    store_run(s, NULL, NULL, "ROLLBACK", "");
}

int store_integrity_check(store *s, hp_error *err)
{
    return pragma(s, "PRAGMA integrity_check", "ok", err);
}

int store_checkpoint_truncate(store *s, hp_error *err)
{
    int log = -1, done = -1;
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
    if (rc != SQLITE_OK) return store_sqlerr(s, err, rc, "checkpoint");
    if (log != 0)
        return hp_fail(err, HP_ERR_WRITE, "%s: WAL not truncated (%d frames; another process "
                       "is reading); run the command again when it has finished", s->path, log);
    return HP_OK;
}

int store_exec_unsafe(store *s, const char *sql, hp_error *err)
{
    return exec_script(s, sql, err);
}
