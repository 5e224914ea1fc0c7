/* consent ordering, the model's consent snapshot, the audit chain over exact bytes and its
 * head outside the table, opening stores, key files and text decoding for PII scans
 * (issue 8, defects 7, 8, 11, 12 and the smaller ones of the privacy part). */
#include "check.h"
#include "core/hp.h"
#include "privacy/audit.h"
#include "privacy/privacy.h"
#include "privacy/scan_text.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOW 1750000000 /* 2025-06-15: tests pin the clock */

static char g_dir[64];
static int g_seq;

static const char *tmp_path(const char *name)
{
    return check_path(g_dir, name);
}

/* A fresh store with a fixed key and the clock at NOW. */
static void open_ctx(privacy_ctx **out)
{
    char name[32];
    hp_error err = { 0 };
    snprintf(name, sizeof name, "c%d.db", g_seq++);
    int rc = privacy_open(out, tmp_path(name), NULL, &err);
    CHECKF(rc == HP_OK, "%s", err.msg);
    if (rc) exit(1); /* every later check would dereference NULL */
    privacy_ctx *ctx = *out;
    unsigned char key[32];
    for (int i = 0; i < 32; i++) key[i] = (unsigned char)(i * 5 + 3);
    privacy_add_key(ctx, key, sizeof key, &err);
    privacy_set_now(ctx, NOW);
    privacy_set_actor(ctx, "test");
}

/* Records one event from the customer's own channel; at_offset is --at relative to now
 * (has_at 0 when no_at). */
static int event_at(privacy_ctx *ctx, const char *id, privacy_purpose p, privacy_event ev,
                    int64_t at_offset, int no_at)
{
    hp_error err = { 0 };
    privacy_consent_req r = { .customer_id = id, .purpose = p, .event = ev, .basis = "consent",
                              .source = "web", .notice_version = "v1",
                              .at = privacy_now(ctx) + at_offset, .has_at = !no_at };
    int rc = privacy_consent_record(ctx, &r, &err);
    if (rc) fprintf(stderr, "  record: %s\n", err.msg);
    return rc;
}

static int gate(privacy_ctx *ctx, const char *id, privacy_purpose p)
{
    hp_error err = { 0 };
    return privacy_allowed(ctx, id, p, PRIVACY_REQ_NO_AUDIT, NULL, &err);
}

/* ------------------------------------------------------------------ defect 7: ordering */

/* A give dated inside the clock-skew allowance must not outrank an opt-out recorded after it,
 * for every kind of opt-out. */
TEST(a_future_dated_give_never_outranks_a_later_opt_out)
{
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx);
    CHECK_EQ_INT(event_at(ctx, "X", PRIVACY_PERSONALISATION, PRIVACY_GIVE, 290, 0), HP_OK);
    CHECK_EQ_INT(gate(ctx, "X", PRIVACY_PERSONALISATION), 1);
    CHECK_EQ_INT(event_at(ctx, "X", PRIVACY_PERSONALISATION, PRIVACY_WITHDRAW, 0, 1), HP_OK);
    CHECK_EQ_INT(gate(ctx, "X", PRIVACY_PERSONALISATION), 0);
    const char *ids[] = { "X" };
    uint8_t ok[1] = { 1 };
    size_t n = 9;
    hp_error err = { 0 };
    CHECK_EQ_INT(privacy_allowed_bulk(ctx, ids, 1, PRIVACY_PERSONALISATION, PRIVACY_REQ_NO_AUDIT,
                                      ok, &n, &err), HP_OK);
    CHECK(ok[0] == 0 && n == 0);
    /* an objection and a GPC opt-out the same way, also when they are dated a little earlier */
    CHECK_EQ_INT(event_at(ctx, "M", PRIVACY_MARKETING, PRIVACY_GIVE, 290, 0), HP_OK);
    CHECK_EQ_INT(event_at(ctx, "M", PRIVACY_MARKETING, PRIVACY_OBJECT, -5, 0), HP_OK);
    CHECK_EQ_INT(gate(ctx, "M", PRIVACY_MARKETING), 0);
    CHECK_EQ_INT(event_at(ctx, "G", PRIVACY_SALE_SHARING, PRIVACY_GIVE, 299, 0), HP_OK);
    CHECK_EQ_INT(event_at(ctx, "G", PRIVACY_SALE_SHARING, PRIVACY_GPC, 0, 1), HP_OK);
    CHECK_EQ_INT(gate(ctx, "G", PRIVACY_SALE_SHARING), 0);
    /* the same a minute later: the future date bought nothing */
    privacy_set_now(ctx, privacy_now(ctx) + 60);
    CHECK_EQ_INT(gate(ctx, "X", PRIVACY_PERSONALISATION), 0);
    privacy_close(ctx);
}

/* The rule in both directions: an opt-out recorded after a give wins whatever its date; a
 * give recorded after an opt-out wins only when it is also dated after it. */
TEST(recording_order_and_dates_both_have_to_agree_for_a_give)
{
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx);
    /* a backdated withdrawal (a letter entered late) recorded after a give: denied */
    CHECK_EQ_INT(event_at(ctx, "A", PRIVACY_ANALYTICS, PRIVACY_GIVE, -10, 0), HP_OK);
    CHECK_EQ_INT(event_at(ctx, "A", PRIVACY_ANALYTICS, PRIVACY_WITHDRAW, -3600, 0), HP_OK);
    CHECK_EQ_INT(gate(ctx, "A", PRIVACY_ANALYTICS), 0);
    /* a give recorded later but dated before the withdrawal is history, not a lift */
    CHECK_EQ_INT(event_at(ctx, "B", PRIVACY_ANALYTICS, PRIVACY_WITHDRAW, -10, 0), HP_OK);
    CHECK_EQ_INT(event_at(ctx, "B", PRIVACY_ANALYTICS, PRIVACY_GIVE, -3600, 0), HP_OK);
    CHECK_EQ_INT(gate(ctx, "B", PRIVACY_ANALYTICS), 0);
    /* the customer's own consent recorded and dated after it lifts it */
    CHECK_EQ_INT(event_at(ctx, "B", PRIVACY_ANALYTICS, PRIVACY_GIVE, 0, 1), HP_OK);
    CHECK_EQ_INT(gate(ctx, "B", PRIVACY_ANALYTICS), 1);
    /* a future-dated opt-out counts from when it was recorded: a consent given a few seconds
     * later, inside its skew, lifts it */
    CHECK_EQ_INT(event_at(ctx, "C", PRIVACY_ANALYTICS, PRIVACY_WITHDRAW, 290, 0), HP_OK);
    privacy_set_now(ctx, privacy_now(ctx) + 5);
    CHECK_EQ_INT(event_at(ctx, "C", PRIVACY_ANALYTICS, PRIVACY_GIVE, 0, 1), HP_OK);
    CHECK_EQ_INT(gate(ctx, "C", PRIVACY_ANALYTICS), 1);
    /* the same second: recording order decides */
    CHECK_EQ_INT(event_at(ctx, "D", PRIVACY_ANALYTICS, PRIVACY_GIVE, 0, 1), HP_OK);
    CHECK_EQ_INT(event_at(ctx, "D", PRIVACY_ANALYTICS, PRIVACY_WITHDRAW, 0, 1), HP_OK);
    CHECK_EQ_INT(gate(ctx, "D", PRIVACY_ANALYTICS), 0);
    CHECK_EQ_INT(event_at(ctx, "D", PRIVACY_ANALYTICS, PRIVACY_GIVE, 0, 1), HP_OK);
    CHECK_EQ_INT(gate(ctx, "D", PRIVACY_ANALYTICS), 1);
    privacy_close(ctx);
}

/* An erasure keeps the opt-out as a suppression record dated when it took effect (not its
 * future --at), and it stays ahead of everything recorded again. */
TEST(suppression_records_keep_the_effective_date)
{
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx);
    hp_error err = { 0 };
    CHECK_EQ_INT(event_at(ctx, "S", PRIVACY_MARKETING, PRIVACY_GIVE, -100, 0), HP_OK);
    CHECK_EQ_INT(event_at(ctx, "S", PRIVACY_MARKETING, PRIVACY_OBJECT, 290, 0), HP_OK);
    privacy_erase_result er;
    CHECK_EQ_INT(privacy_erase(ctx, "S", &er, &err), HP_OK);
    CHECK_EQ_INT(gate(ctx, "S", PRIVACY_MARKETING), 0);
    privacy_set_now(ctx, privacy_now(ctx) + 10); /* before the objection's --at, after it was recorded */
    CHECK_EQ_INT(event_at(ctx, "S", PRIVACY_MARKETING, PRIVACY_GIVE, 0, 1), HP_OK);
    CHECK_EQ_INT(gate(ctx, "S", PRIVACY_MARKETING), 1);
    privacy_close(ctx);
}

/* ------------------------------------------------------------------ defect 8: snapshot */

static int64_t models_due(privacy_ctx *ctx)
{
    hp_error err = { 0 };
    int64_t n = -1;
    CHECK_EQ_INT(store_model_retrain_due(privacy_store(ctx), &n, &err), HP_OK);
    return n;
}

/* The training gate reads the snapshot, something lands, then the model is registered. */
static int train_around(privacy_ctx *ctx, void (*meanwhile)(privacy_ctx *), int *due)
{
    hp_error err = { 0 };
    int64_t snap = -1;
    const char *ids[] = { "T1", "T2" };
    uint8_t ok[2];
    size_t n;
    CHECK_EQ_INT(privacy_consent_snapshot(ctx, &snap, &err), HP_OK);
    CHECK_EQ_INT(privacy_allowed_bulk(ctx, ids, 2, PRIVACY_PERSONALISATION, 0, ok, &n, &err), HP_OK);
    CHECK(ok[0] && ok[1]);
    if (meanwhile) meanwhile(ctx);
    int rc = privacy_register_model(ctx, "recommender", "v1", "m", "inputs", snap, due, &err);
    CHECKF(rc == HP_OK, "%s", err.msg);
    return rc;
}

static void erase_t1(privacy_ctx *ctx)
{
    hp_error err = { 0 };
    privacy_erase_result er;
    CHECK_EQ_INT(privacy_erase(ctx, "T1", &er, &err), HP_OK);
}

static void withdraw_t1(privacy_ctx *ctx)
{
    CHECK_EQ_INT(event_at(ctx, "T1", PRIVACY_PERSONALISATION, PRIVACY_WITHDRAW, 0, 1), HP_OK);
}

static void unrelated_events(privacy_ctx *ctx)
{
    CHECK_EQ_INT(event_at(ctx, "T1", PRIVACY_MARKETING, PRIVACY_WITHDRAW, 0, 1), HP_OK);
    CHECK_EQ_INT(event_at(ctx, "T3", PRIVACY_PERSONALISATION, PRIVACY_GIVE, 0, 1), HP_OK);
}

static void erase_t1_interrupted(privacy_ctx *ctx)
{
    hp_error err = { 0 };
    const char *p = tmp_path("blocked.csv");
    CHECK_EQ_INT(mkdir(p, 0700), 0); /* the export cannot be rewritten: the erasure stays pending */
    CHECK_EQ_INT(store_export_record(privacy_store(ctx), p, "dataset", 5, NOW, &err), HP_OK);
    privacy_erase_result er;
    CHECK(privacy_erase(ctx, "T1", &er, &err) != HP_OK);
}

static void customers_t1_t2(privacy_ctx *ctx)
{
    CHECK_EQ_INT(event_at(ctx, "T1", PRIVACY_PERSONALISATION, PRIVACY_GIVE, -60, 0), HP_OK);
    CHECK_EQ_INT(event_at(ctx, "T2", PRIVACY_PERSONALISATION, PRIVACY_GIVE, -60, 0), HP_OK);
}

/* An erasure or withdrawal that commits between the training gate and the registration
 * leaves the new model due for retraining; events that do not touch what it was trained on
 * do not. */
TEST(a_model_is_due_when_an_erasure_lands_while_it_trains)
{
    struct { void (*fn)(privacy_ctx *); int want; const char *what; } cases[] = {
        { NULL, 0, "nothing" },
        { erase_t1, 1, "erasure" },
        { withdraw_t1, 1, "withdrawal of personalisation" },
        { unrelated_events, 0, "a marketing withdrawal and a new consent" },
        { erase_t1_interrupted, 1, "an erasure whose file step is unfinished" },
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(cases); i++) {
        privacy_ctx *ctx = NULL;
        open_ctx(&ctx);
        customers_t1_t2(ctx);
        int due = -1;
        train_around(ctx, cases[i].fn, &due);
        CHECKF(due == cases[i].want, "%s: due %d", cases[i].what, due);
        CHECKF(models_due(ctx) == cases[i].want, "%s: registry says %lld", cases[i].what,
               (long long)models_due(ctx));
        privacy_close(ctx);
        if (cases[i].fn == erase_t1_interrupted) rmdir(tmp_path("blocked.csv"));
    }
    /* an erasure before the gate is not in the model: the gate left the customer out */
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx);
    customers_t1_t2(ctx);
    CHECK_EQ_INT(event_at(ctx, "T9", PRIVACY_PERSONALISATION, PRIVACY_GIVE, -60, 0), HP_OK);
    hp_error err = { 0 };
    privacy_erase_result er;
    CHECK_EQ_INT(privacy_erase(ctx, "T9", &er, &err), HP_OK);
    int due = -1;
    train_around(ctx, NULL, &due);
    CHECK_EQ_INT(due, 0);
    /* and an erasure after the registration marks it as before */
    erase_t1(ctx);
    CHECK_EQ_INT(models_due(ctx), 1);
    privacy_close(ctx);
}

/* T1 was last active 400 days ago (past the default 365-day customer retention), T2 now. */
static void customers_t1_old_t2(privacy_ctx *ctx)
{
    privacy_set_now(ctx, NOW - 400 * 86400);
    CHECK_EQ_INT(event_at(ctx, "T1", PRIVACY_PERSONALISATION, PRIVACY_GIVE, -60, 0), HP_OK);
    privacy_set_now(ctx, NOW);
    CHECK_EQ_INT(event_at(ctx, "T2", PRIVACY_PERSONALISATION, PRIVACY_GIVE, -60, 0), HP_OK);
}

static int64_t g_purged_customers;

static void purge(privacy_ctx *ctx)
{
    hp_error err = { 0 };
    privacy_purge_result pr;
    CHECKF(privacy_purge(ctx, 0, &pr, &err) == HP_OK, "%s", err.msg);
    g_purged_customers = pr.rows[STORE_CAT_CUSTOMER];
}

/* A retention purge that deletes a customer is an erasure for the models: one registered
 * before it is marked, one whose training gate ran before it registers as due; a purge that
 * deletes no customer (or a dry run) marks nothing. */
TEST(a_retention_purge_marks_models_like_an_erasure)
{
    privacy_ctx *ctx = NULL;
    hp_error err = { 0 };
    int due = -1;
    /* registered, then purged */
    open_ctx(&ctx);
    customers_t1_old_t2(ctx);
    train_around(ctx, NULL, &due);
    CHECK_EQ_INT(due, 0);
    privacy_purge_result dry;
    CHECK_EQ_INT(privacy_purge(ctx, 1, &dry, &err), HP_OK);
    CHECK_EQ_INT(dry.rows[STORE_CAT_CUSTOMER], 1);
    CHECK_EQ_INT(models_due(ctx), 0);
    purge(ctx);
    CHECK_EQ_INT(g_purged_customers, 1);
    CHECK_EQ_INT(models_due(ctx), 1);
    privacy_close(ctx);
    /* purged while training: the snapshot check sees it */
    open_ctx(&ctx);
    customers_t1_old_t2(ctx);
    due = -1;
    train_around(ctx, purge, &due);
    CHECK_EQ_INT(g_purged_customers, 1);
    CHECK_EQ_INT(due, 1);
    CHECK_EQ_INT(models_due(ctx), 1);
    privacy_close(ctx);
    /* nobody past retention: neither path marks */
    open_ctx(&ctx);
    customers_t1_t2(ctx);
    due = -1;
    train_around(ctx, purge, &due);
    CHECK_EQ_INT(g_purged_customers, 0);
    CHECK_EQ_INT(due, 0);
    purge(ctx);
    CHECK_EQ_INT(models_due(ctx), 0);
    privacy_close(ctx);
}

/* ------------------------------------------------------------------ defect 11: audit */

static void build_chain(privacy_ctx *ctx, int n)
{
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "A%d", i);
        CHECK_EQ_INT(event_at(ctx, id, PRIVACY_ANALYTICS, PRIVACY_GIVE, -10, 0), HP_OK);
    }
}

static int verify_after(privacy_ctx *ctx, const char *tamper_sql, const char *expect, audit_report *ar)
{
    hp_error err = { 0 };
    if (tamper_sql) CHECKF(store_exec_unsafe(privacy_store(ctx), tamper_sql, &err) == HP_OK, "%s", err.msg);
    return audit_verify_store_expect(privacy_store(ctx), expect, ar, &err);
}

/* Every one of these changes the table's bytes, types or length; each must break the chain. */
TEST(audit_verify_reads_the_tables_exact_bytes_and_its_kept_head)
{
    const char *tamper[] = {
        "UPDATE audit SET outcome = outcome || char(0) || 'x' WHERE seq = 3",
        "UPDATE audit SET outcome = outcome || char(0) || 'x'",
        "UPDATE audit SET actor = actor || char(0) WHERE seq = 2",
        "UPDATE audit SET outcome = CAST(outcome AS BLOB) WHERE seq = 3",
        "UPDATE audit SET purpose = CAST(purpose AS BLOB) WHERE seq = 4",
        "UPDATE audit SET model_version = NULL WHERE seq = 3",
        "UPDATE audit SET subject = '' WHERE seq = 5",
        "DELETE FROM audit",
        "DELETE FROM audit WHERE seq = 6",
        "DELETE FROM audit WHERE seq >= 4",
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(tamper); i++) {
        privacy_ctx *ctx = NULL;
        open_ctx(&ctx);
        build_chain(ctx, 6);
        audit_report ar;
        CHECKF(verify_after(ctx, NULL, NULL, &ar) == HP_OK, "%s", ar.problem);
        CHECK_EQ_INT(ar.entries, 6);
        CHECK_EQ_INT(ar.head_seq, 6);
        CHECKF(verify_after(ctx, tamper[i], NULL, &ar) == HP_ERR_FORMAT, "not caught: %s", tamper[i]);
        privacy_close(ctx);
    }
}

/* Whoever also clears the kept head in meta is caught only against a head kept elsewhere; an
 * entry appended after a truncation links to the kept head, so the gap stays visible. */
TEST(truncation_is_caught_against_a_head_kept_elsewhere)
{
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx);
    build_chain(ctx, 4);
    audit_report ar;
    CHECK_EQ_INT(verify_after(ctx, NULL, NULL, &ar), HP_OK);
    char head[65];
    memcpy(head, ar.head, sizeof head);
    build_chain(ctx, 2); /* the log grows: the old head is still in it */
    CHECKF(verify_after(ctx, NULL, head, &ar) == HP_OK, "%s", ar.problem);
    CHECK(verify_after(ctx, NULL, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &ar)
          == HP_ERR_FORMAT);
    CHECKF(strstr(ar.problem, "expected head") != NULL, "%s", ar.problem);
    CHECK_EQ_INT(verify_after(ctx, "DELETE FROM audit WHERE seq >= 3; DELETE FROM meta WHERE key"
                              " LIKE 'audit_head_%'", NULL, &ar), HP_OK); /* meta is no defence */
    CHECK_EQ_INT(verify_after(ctx, NULL, head, &ar), HP_ERR_FORMAT);
    privacy_close(ctx);
    /* a new entry after a DELETE links to the head kept in meta: the gap is reported */
    open_ctx(&ctx);
    build_chain(ctx, 5);
    CHECK_EQ_INT(verify_after(ctx, "DELETE FROM audit WHERE seq >= 4", NULL, &ar), HP_ERR_FORMAT);
    CHECKF(strstr(ar.problem, "truncated") != NULL, "%s", ar.problem);
    build_chain(ctx, 1);
    CHECK_EQ_INT(verify_after(ctx, NULL, NULL, &ar), HP_ERR_FORMAT);
    CHECKF(strstr(ar.problem, "sequence gap") != NULL, "%s", ar.problem);
    privacy_close(ctx);
}

static size_t slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap, f) : 0;
    if (f) fclose(f);
    return n;
}

static int has_bytes(const char *buf, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(buf + i, needle, k)) return 1;
    return 0;
}

static int verify_buf(const char *buf, size_t n, const char *expect)
{
    hp_error err = { 0 };
    audit_report ar;
    return audit_verify_bytes("mem", buf, n, expect, &ar, &err);
}

/* An export ends at the head its header names; a NUL-cut tail or a removed last line fails. */
TEST(audit_exports_hold_their_head_and_every_byte)
{
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx);
    build_chain(ctx, 4);
    hp_error err = { 0 };
    const char *p = tmp_path("audit.jsonl");
    CHECK_EQ_INT(audit_export_file(privacy_store(ctx), p, NOW, &err), HP_OK);
    static char buf[1 << 16], cut[1 << 16];
    size_t n = slurp(p, buf, sizeof buf);
    CHECK_EQ_INT(verify_buf(buf, n, NULL), HP_OK);
    /* the last line removed */
    size_t end = n - 1;
    while (end > 0 && buf[end - 1] != '\n') end--;
    CHECK_EQ_INT(verify_buf(buf, end, NULL), HP_ERR_FORMAT);
    /* bytes after a NUL inside a line */
    size_t nl = (size_t)(strchr(buf, '\n') - buf) + 1; /* end of the header */
    size_t l2 = (size_t)(strchr(buf + nl, '\n') - buf);
    memcpy(cut, buf, l2);
    memcpy(cut + l2, "\0junk", 5);
    memcpy(cut + l2 + 5, buf + l2, n - l2);
    CHECK_EQ_INT(verify_buf(cut, n + 5, NULL), HP_ERR_FORMAT);
    /* a header without the head (older exports) still verifies; truncation then needs the
     * head kept elsewhere */
    audit_report ar;
    CHECK_EQ_INT(audit_verify_store(privacy_store(ctx), &ar, &err), HP_OK);
    int hl = snprintf(cut, sizeof cut, "{\"hyperp_audit\":1,\"anchor_seq\":0,\"anchor_hash\":\"%064d\"}\n", 0);
    memcpy(cut + hl, buf + nl, n - nl);
    CHECK_EQ_INT(verify_buf(cut, (size_t)hl + n - nl, NULL), HP_OK);
    CHECK_EQ_INT(verify_buf(cut, (size_t)hl + end - nl, NULL), HP_OK);
    CHECK_EQ_INT(verify_buf(cut, (size_t)hl + end - nl, ar.head), HP_ERR_FORMAT);
    CHECK_EQ_INT(verify_buf(cut, (size_t)hl + n - nl, ar.head), HP_OK);
    /* a NUL written into the table reaches the export as \u0000, which is refused */
    CHECK_EQ_INT(store_exec_unsafe(privacy_store(ctx), "UPDATE audit SET outcome = outcome || char(0) || 'x'"
                                   " WHERE seq = 2", &err), HP_OK);
    CHECK_EQ_INT(audit_export_file(privacy_store(ctx), p, NOW, &err), HP_OK);
    n = slurp(p, buf, sizeof buf);
    CHECK(has_bytes(buf, n, "\\u0000x"));
    CHECK_EQ_INT(verify_buf(buf, n, NULL), HP_ERR_FORMAT);
    privacy_close(ctx);
}

/* Reading commands open a store that must exist; nothing is created at a mistyped path. */
TEST(a_store_that_does_not_exist_is_not_created_by_reading)
{
    privacy_ctx *ctx = NULL;
    hp_error err = { 0 };
    const char *p = tmp_path("typo.db");
    CHECK_EQ_INT(privacy_open_existing(&ctx, p, NULL, &err), HP_ERR_NOTFOUND);
    CHECKF(strstr(err.msg, "typo.db: no such store") != NULL, "%s", err.msg);
    CHECK(access(p, F_OK) != 0);
    CHECK_EQ_INT(privacy_open_existing(&ctx, g_dir, NULL, &err), HP_ERR_IO); /* a directory */
    CHECK_EQ_INT(privacy_open(&ctx, p, NULL, &err), HP_OK);
    privacy_close(ctx);
    CHECK_EQ_INT(privacy_open_existing(&ctx, p, NULL, &err), HP_OK);
    privacy_close(ctx);
}

/* ------------------------------------------------------------------ defect 12: scan input */

static int decode(const char *buf, size_t n, char **out, size_t *len, scan_text_encoding *enc,
                  hp_error *err)
{
    return scan_text_decode("f.txt", buf, n, out, len, enc, err);
}

/* UTF-16 with a BOM is decoded (pairs included) and encoded back the same way; what is not
 * text is refused with the file, the line and why. */
TEST(scan_text_decodes_utf16_and_refuses_what_is_not_text)
{
    hp_error err = { 0 };
    char *t = NULL;
    size_t n = 0;
    scan_text_encoding enc;
    static const char le[] = "\xFF\xFE" "4\0" "1\0" " \0" "\xAC\x20" "=\xD8\x00\xDE" "\n\0";
    CHECK_EQ_INT(decode(le, sizeof le - 1, &t, &n, &enc, &err), HP_OK);
    CHECK_EQ_INT(enc, SCAN_TEXT_UTF16LE);
    CHECK(t && n == 11 && !memcmp(t, "41 \xE2\x82\xAC\xF0\x9F\x98\x80\n", 11)); /* euro, U+1F600 */
    char *back = NULL;
    size_t bn = 0;
    CHECK_EQ_INT(scan_text_encode(t, n, enc, 1, &back, &bn, &err), HP_OK);
    CHECK(bn == sizeof le - 1 && !memcmp(back, le, bn));
    hp_free(back);
    hp_free(t);
    static const char be[] = "\xFE\xFF" "\0c\0a\0r\0d";
    CHECK_EQ_INT(decode(be, sizeof be - 1, &t, &n, &enc, &err), HP_OK);
    CHECK(enc == SCAN_TEXT_UTF16BE && n == 4 && !memcmp(t, "card", 4));
    hp_free(t);
    CHECK_EQ_INT(decode("\xEF\xBB\xBF" "card", 7, &t, &n, &enc, &err), HP_OK);
    CHECK(enc == SCAN_TEXT_UTF8_BOM && n == 4 && !memcmp(t, "card", 4));
    hp_free(t);
    CHECK_EQ_INT(decode("caf\xE9" "\tok\r\n", 9, &t, &n, &enc, &err), HP_OK); /* Latin-1 is fine */
    hp_free(t);
    struct { const char *buf; size_t n; const char *why; } bad[] = {
        { "line\nc\0a\0r\0d\0", 13, "f.txt:2: a NUL byte" },      /* UTF-16 without a BOM */
        { "abc\x01", 4, "f.txt:1: control character 0x01" },
        { "\xFF\xFE" "a\0b", 5, "odd number of bytes" },
        { "\xFF\xFE" "a\0\x00\xD8" "b\0", 8, "unpaired UTF-16 surrogate" },
        { "\xFF\xFE" "a\0\x00\xDC", 6, "unpaired UTF-16 surrogate" },
        { "\xFF\xFE\0\0" "a\0\0\0", 8, "UTF-32" },
        { "\xFF\xFE" "a\0\0\0", 6, "a NUL byte" },                 /* U+0000 */
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(bad); i++) {
        t = (char *)1;
        CHECKF(decode(bad[i].buf, bad[i].n, &t, &n, &enc, &err) == HP_ERR_ENCODING, "case %zu", i);
        CHECKF(strstr(err.msg, bad[i].why) != NULL, "case %zu: %s", i, err.msg);
        CHECK(t == NULL);
    }
    CHECK_EQ_INT(scan_text_read(g_dir, &t, &n, &enc, &err), HP_ERR_IO);
    CHECKF(strstr(err.msg, "is a directory") != NULL, "%s", err.msg);
}

/* ------------------------------------------------------------------ smaller ones */

static void write_file(const char *path, const char *buf, size_t n, mode_t mode)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fwrite(buf, 1, n, f);
    fclose(f);
    chmod(path, mode);
}

/* A fresh context (a new store, no key) into *ctx, then the keys of the file at path. */
static int load_key_from(const char *path, privacy_ctx **out, hp_error *err)
{
    char name[32];
    snprintf(name, sizeof name, "k%d.db", g_seq++);
    privacy_close(*out);
    *out = NULL;
    if (privacy_open(out, tmp_path(name), NULL, err)) exit(1);
    privacy_ctx *ctx = *out;
    setenv("HYPERP_PSEUDONYM_KEY_FILE", path, 1);
    int rc = privacy_load_key(ctx, err);
    unsetenv("HYPERP_PSEUDONYM_KEY_FILE");
    return rc;
}

/* A NUL in a key file would cut the line (and lose the keys after it): refused. A key file
 * others may read works, with a warning. */
TEST(key_files_with_a_nul_are_refused_and_readable_ones_warned_about)
{
    static const char two[] = "00112233445566778899aabbccddeeff\0" "ffeeddccbbaa99887766554433221100\n";
    static const char good[] = "# current\n00112233445566778899aabbccddeeff\n";
    hp_error err = { 0 };
    privacy_ctx *ctx = NULL;
    const char *p = tmp_path("nul.key");
    write_file(p, two, sizeof two - 1, 0600);
    CHECK_EQ_INT(load_key_from(p, &ctx, &err), HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "nul.key:1: a NUL byte") != NULL, "%s", err.msg);
    CHECK_EQ_INT(privacy_nkeys(ctx), 0);
    p = tmp_path("open.key");
    write_file(p, good, sizeof good - 1, 0644);
    CHECK_EQ_INT(load_key_from(p, &ctx, &err), HP_OK);
    CHECK_EQ_INT(privacy_nkeys(ctx), 1);
    CHECKF(strstr(privacy_warning(ctx), "readable by other users (mode 0644)") != NULL, "%s", privacy_warning(ctx));
    chmod(p, 0600);
    CHECK_EQ_INT(load_key_from(p, &ctx, &err), HP_OK);
    CHECK_STR(privacy_warning(ctx), "");
    p = tmp_path("bad.key");
    write_file(p, "# c\nzz\n", 7, 0600);
    CHECK_EQ_INT(load_key_from(p, &ctx, &err), HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "bad.key:2:") != NULL, "%s", err.msg);
    privacy_close(ctx);
}

TEST(a_missing_privacy_config_names_the_file_without_a_line)
{
    privacy_config cfg;
    hp_error err = { 0 };
    privacy_config_default(&cfg);
    CHECK_EQ_INT(privacy_config_load(&cfg, tmp_path("none.json"), &err), HP_ERR_IO);
    CHECKF(strstr(err.msg, "none.json: cannot open") != NULL && !strstr(err.msg, ":-1:"), "%s", err.msg);
    const char *p = tmp_path("cut.json");
    write_file(p, "{\n \"k_anonymity\": ", 19, 0600);
    CHECK_EQ_INT(privacy_config_load(&cfg, p, &err), HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "cut.json:2:") != NULL, "%s", err.msg);
}

/* Writes buf with text inserted at offset at. */
static void write_with(const char *path, const char *buf, size_t n, size_t at, const char *text)
{
    static char out[1 << 16];
    size_t k = strlen(text);
    CHECK(n + k <= sizeof out && at <= n);
    memcpy(out, buf, at);
    memcpy(out + at, text, k);
    memcpy(out + at + k, buf + at, n - at);
    write_file(path, out, n + k, 0600);
}

/* A key given twice in an exported line: the chain was hashed over the value jansson keeps
 * (the last), a reader that takes the first sees the forged one. Refused, naming file:line. */
TEST(audit_verify_refuses_a_key_given_twice)
{
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx);
    build_chain(ctx, 3);
    hp_error err = { 0 };
    audit_report ar;
    const char *p = tmp_path("dupkey.jsonl"), *dup = tmp_path("dup.jsonl"), *duph = tmp_path("duphead.jsonl");
    CHECK_EQ_INT(audit_export_file(privacy_store(ctx), p, NOW, &err), HP_OK);
    static char buf[1 << 16];
    size_t n = slurp(p, buf, sizeof buf);
    CHECK_EQ_INT(audit_verify_file(p, &ar, &err), HP_OK);
    const char *line3 = strchr(strchr(buf, '\n') + 1, '\n') + 1;
    const char *outcome = strstr(line3, "\"outcome\":");
    CHECK(outcome != NULL && outcome < strchr(line3, '\n'));
    write_with(dup, buf, n, (size_t)(outcome - buf), "\"outcome\":\"denied: forged\",");
    CHECK_EQ_INT(audit_verify_file(dup, &ar, &err), HP_ERR_FORMAT);
    CHECKF(strstr(ar.problem, "dup.jsonl:3: a key appears twice in the entry") != NULL, "%s", ar.problem);
    CHECK_EQ_INT(ar.bad_seq, 2);
    /* the header too: its anchor is read once */
    write_with(duph, buf, n, 1, "\"anchor_seq\":7,");
    CHECK_EQ_INT(audit_verify_file(duph, &ar, &err), HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "duphead.jsonl:1: not a hyperp audit export") != NULL, "%s", err.msg);
    privacy_close(ctx);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/hyperp_consent_XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    RUN(a_future_dated_give_never_outranks_a_later_opt_out);
    RUN(recording_order_and_dates_both_have_to_agree_for_a_give);
    RUN(suppression_records_keep_the_effective_date);
    RUN(a_model_is_due_when_an_erasure_lands_while_it_trains);
    RUN(a_retention_purge_marks_models_like_an_erasure);
    RUN(audit_verify_reads_the_tables_exact_bytes_and_its_kept_head);
    RUN(truncation_is_caught_against_a_head_kept_elsewhere);
    RUN(audit_exports_hold_their_head_and_every_byte);
    RUN(audit_verify_refuses_a_key_given_twice);
    RUN(a_store_that_does_not_exist_is_not_created_by_reading);
    RUN(scan_text_decodes_utf16_and_refuses_what_is_not_text);
    RUN(key_files_with_a_nul_are_refused_and_readable_ones_warned_about);
    RUN(a_missing_privacy_config_names_the_file_without_a_line);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", g_dir);
    return check_summary("test_consent");
}
