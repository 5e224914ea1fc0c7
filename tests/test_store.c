/* store: creation and migration, version refusal, foreign keys, and crash safety (a child
 * writing consent and feedback is SIGKILLed mid-burst; every acknowledged write must be
 * there and the file must pass PRAGMA integrity_check). */
#include "check.h"
#include "core/hp.h"
#include "store/store.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_dir[64];

static const char *db_path(const char *name)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "%s/%s", g_dir, name);
    return buf;
}

static long long sql_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

TEST(created_on_first_use_and_migrated)
{
    const char *p = db_path("a.db");
    hp_error err = { 0 };
    store *s;
    CHECK(access(p, F_OK) != 0);
    CHECK_EQ_INT(store_open(&s, p, &err), HP_OK);
    CHECK(access(p, F_OK) == 0);
    CHECK_EQ_INT(store_integrity_check(s, &err), HP_OK);
    store_close(s);
    CHECK_EQ_INT(sql_int(p, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    CHECK_EQ_INT(sql_int(p, "SELECT max(version) FROM schema_version"), STORE_SCHEMA_VERSION);
    CHECK_EQ_INT(store_open(&s, p, &err), HP_OK); /* reopening migrates nothing */
    store_close(s);
    CHECK_EQ_INT(sql_int(p, "SELECT count(*) FROM schema_version"), STORE_SCHEMA_VERSION);
    sqlite3 *db;
    sqlite3_open(p, &db);
    char *msg = NULL;
    sqlite3_exec(db, "INSERT INTO schema_version VALUES(99, 0)", NULL, NULL, &msg);
    sqlite3_free(msg);
    sqlite3_close(db);
    CHECK_EQ_INT(store_open(&s, p, &err), HP_ERR_VERSION);
    CHECK(strstr(err.msg, "newer than this build") != NULL);
    CHECK(s == NULL);
}

TEST(foreign_keys_and_constraints)
{
    hp_error err = { 0 };
    store *s;
    CHECK_EQ_INT(store_open(&s, db_path("b.db"), &err), HP_OK);
    store_consent c = { .customer_id = "NOPE", .purpose = "marketing", .event = "give",
                        .basis = "consent", .source = "web", .notice_version = "v1", .at = 1, .recorded_at = 1 };
    CHECK_EQ_INT(store_consent_add(s, &c, NULL, &err), HP_ERR_INVAL); /* no such customer */
    CHECK(strstr(err.msg, "FOREIGN KEY") != NULL);
    CHECK_EQ_INT(store_customer_upsert(s, "C1", "{\"industry\":\"Retail\"}", 100, &err), HP_OK);
    CHECK_EQ_INT(store_consent_add(s, &c, NULL, &err), HP_ERR_INVAL);
    snprintf(c.customer_id, sizeof c.customer_id, "C1");
    snprintf(c.event, sizeof c.event, "maybe");
    CHECK_EQ_INT(store_consent_add(s, &c, NULL, &err), HP_ERR_INVAL); /* CHECK constraint */
    snprintf(c.event, sizeof c.event, "give");
    int64_t id;
    CHECK_EQ_INT(store_consent_add(s, &c, &id, &err), HP_OK);
    int found;
    store_consent got;
    CHECK_EQ_INT(store_consent_latest(s, "C1", "marketing", NULL, &got, &found, &err), HP_OK);
    CHECK(found && got.rowid == id && !strcmp(got.notice_version, "v1"));
    /* a value with SQL in it is data, not SQL */
    CHECK_EQ_INT(store_customer_upsert(s, "x'); DROP TABLE customers; --", NULL, 1, &err), HP_OK);
    int64_t n;
    CHECK_EQ_INT(store_customer_count(s, &n, &err), HP_OK);
    CHECK_EQ_INT(n, 2);
    store_close(s);
}

/* ------------------------------------------------------------------ crash safety */

static void child_burst(const char *path, int fd)
{
    hp_error err = { 0 };
    store *s;
    if (store_open(&s, path, &err)) _exit(3);
    for (int i = 0; i < 100000; i++) {
        int64_t id;
        char line[64];
        int rc;
        if (i % 2 == 0) {
            store_consent c = { .customer_id = "C1", .purpose = "personalisation", .basis = "consent",
                                .source = "web", .notice_version = "v2", .at = 1000 + i, .recorded_at = 1000 + i };
            snprintf(c.event, sizeof c.event, "%s", i % 4 ? "withdraw" : "give");
            rc = store_consent_add(s, &c, &id, &err);
        } else rc = store_feedback_add(s, "C1", "P7", "clicked", 1.0, 1000 + i, &id, &err);
        if (rc) _exit(4);
        /* acknowledged only after the commit returned */
        int n = snprintf(line, sizeof line, "%c %lld\n", i % 2 ? 'f' : 'c', (long long)id);
        if (write(fd, line, (size_t)n) != n) _exit(5);
    }
    _exit(0);
}

typedef struct { char kind; long long id; } ack;

static size_t read_acks(FILE *f, ack *acks, size_t max, size_t kill_after, pid_t pid)
{
    size_t n = 0;
    char line[64];
    while (fgets(line, sizeof line, f)) {
        char k;
        long long id;
        if (sscanf(line, "%c %lld", &k, &id) != 2) continue; /* a torn last line */
        if (n < max) acks[n++] = (ack){ k, id };
        if (n == kill_after) kill(pid, SIGKILL);
    }
    return n;
}

TEST(sigkill_loses_no_acknowledged_write)
{
    const char *p = db_path("crash.db");
    hp_error err = { 0 };
    store *s;
    CHECK_EQ_INT(store_open(&s, p, &err), HP_OK);
    CHECK_EQ_INT(store_customer_upsert(s, "C1", NULL, 1, &err), HP_OK);
    store_close(s);
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child_burst(p, fds[1]);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    static ack acks[100000];
    double t0 = hp_now();
    size_t n = read_acks(f, acks, HP_ARRAY_LEN(acks), 300, pid);
    fclose(f);
    int status;
    waitpid(pid, &status, 0);
    CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child was not killed (status %d)", status);
    CHECK(n >= 300);
    CHECK_EQ_INT(store_open(&s, p, &err), HP_OK);
    CHECK_EQ_INT(store_integrity_check(s, &err), HP_OK);
    size_t missing = 0;
    for (size_t i = 0; i < n; i++) {
        int found = 0;
        if (acks[i].kind == 'c') store_consent_exists_rowid(s, acks[i].id, &found, &err);
        else store_feedback_exists_rowid(s, acks[i].id, &found, &err);
        missing += !found;
    }
    CHECK_EQ_INT(missing, 0);
    printf("crash test: %zu writes acknowledged before SIGKILL (%.2f s), %zu missing after reopen, "
           "integrity_check ok\n", n, hp_now() - t0, missing);
    store_close(s);
}

/* A file written by the first schema gains the suppression, pending-erasure and output tables. */
TEST(version_1_file_is_migrated)
{
    const char *p = db_path("v1.db");
    hp_error err = { 0 };
    store *s;
    CHECK_EQ_INT(store_open(&s, p, &err), HP_OK);
    CHECK_EQ_INT(store_exec_unsafe(s, "DROP TABLE suppressions; DROP TABLE erasure_pending; DROP TABLE outputs;"
                                   " DELETE FROM schema_version WHERE version >= 2; PRAGMA user_version = 1", &err), HP_OK);
    store_close(s);
    CHECK_EQ_INT(sql_int(p, "SELECT max(version) FROM schema_version"), 1);
    CHECK_EQ_INT(store_open(&s, p, &err), HP_OK);
    int64_t n = -1;
    CHECK_EQ_INT(store_suppression_count(s, &n, &err), HP_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(store_erasure_pending_count(s, &n, &err), HP_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(store_output_record(s, "/tmp/x.jsonl", "recommendations", 1, (store_file_id){ 1, 2 }, &err), HP_OK); /* versions 3, 4 */
    store_close(s);
    CHECK_EQ_INT(sql_int(p, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
}

/* "database is locked" is an operational failure (exit 1), not bad input (exit 2). */
TEST(locked_store_is_not_bad_input)
{
    const char *p = db_path("locked.db");
    hp_error err = { 0 };
    store *a, *b;
    CHECK_EQ_INT(store_open(&a, p, &err), HP_OK);
    CHECK_EQ_INT(store_open(&b, p, &err), HP_OK);
    CHECK_EQ_INT(store_begin(a, &err), HP_OK); /* holds the write lock (busy timeout: 5 s) */
    int rc = store_customer_upsert(b, "C1", NULL, 1, &err);
    CHECKF(rc == HP_ERR_WRITE, "%d: %s", rc, err.msg);
    CHECK(strstr(err.msg, "locked") != NULL);
    store_rollback(a);
    CHECK_EQ_INT(store_customer_upsert(b, "C1", NULL, 1, &err), HP_OK);
    store_close(a);
    store_close(b);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/hyperp_store_XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    RUN(created_on_first_use_and_migrated);
    RUN(foreign_keys_and_constraints);
    RUN(sigkill_loses_no_acknowledged_write);
    RUN(version_1_file_is_migrated);
    RUN(locked_store_is_not_bad_input);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", g_dir);
    return check_summary("test_store");
}
