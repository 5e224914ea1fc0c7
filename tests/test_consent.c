/* consent ordering, the model's consent snapshot, the audit chain over exact bytes and its
 * head outside the table, opening stores, key files and text decoding for PII scans
 * (issue 8, defects 7, 8, 11, 12 and the smaller ones of the privacy part). */
#include "check.h"
#include "core/hp.h"
#include "privacy/audit.h"
#include "privacy/privacy.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOW 1750000000 /* 2025-06-15: tests pin the clock */

static char g_dir[64];
static int g_seq;

static const char *tmp_path(const char *name)
{
    static char buf[4][160];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

/* A fresh store with a fixed key and the clock at NOW. */
static void open_ctx(privacy_ctx *ctx)
{
    char name[32];
    hp_error err = { 0 };
    snprintf(name, sizeof name, "c%d.db", g_seq++);
    int rc = privacy_open(ctx, tmp_path(name), NULL, &err);
    CHECKF(rc == HP_OK, "%s", err.msg);
    unsigned char key[32];
    for (int i = 0; i < 32; i++) key[i] = (unsigned char)(i * 5 + 3);
    privacy_add_key(ctx, key, sizeof key, &err);
    ctx->now = NOW;
    snprintf(ctx->actor, sizeof ctx->actor, "test");
}

/* Records one event from the customer's own channel; at_offset is --at relative to now
 * (has_at 0 when no_at). */
static int event_at(privacy_ctx *ctx, const char *id, privacy_purpose p, privacy_event ev,
                    int64_t at_offset, int no_at)
{
    hp_error err = { 0 };
    privacy_consent_req r = { .customer_id = id, .purpose = p, .event = ev, .basis = "consent",
                              .source = "web", .notice_version = "v1",
                              .at = ctx->now + at_offset, .has_at = !no_at };
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
    privacy_ctx ctx;
    open_ctx(&ctx);
    CHECK_EQ_INT(event_at(&ctx, "X", PRIVACY_PERSONALISATION, PRIVACY_GIVE, 290, 0), HP_OK);
    CHECK_EQ_INT(gate(&ctx, "X", PRIVACY_PERSONALISATION), 1);
    CHECK_EQ_INT(event_at(&ctx, "X", PRIVACY_PERSONALISATION, PRIVACY_WITHDRAW, 0, 1), HP_OK);
    CHECK_EQ_INT(gate(&ctx, "X", PRIVACY_PERSONALISATION), 0);
    const char *ids[] = { "X" };
    uint8_t ok[1] = { 1 };
    size_t n = 9;
    hp_error err = { 0 };
    CHECK_EQ_INT(privacy_allowed_bulk(&ctx, ids, 1, PRIVACY_PERSONALISATION, PRIVACY_REQ_NO_AUDIT,
                                      ok, &n, &err), HP_OK);
    CHECK(ok[0] == 0 && n == 0);
    /* an objection and a GPC opt-out the same way, also when they are dated a little earlier */
    CHECK_EQ_INT(event_at(&ctx, "M", PRIVACY_MARKETING, PRIVACY_GIVE, 290, 0), HP_OK);
    CHECK_EQ_INT(event_at(&ctx, "M", PRIVACY_MARKETING, PRIVACY_OBJECT, -5, 0), HP_OK);
    CHECK_EQ_INT(gate(&ctx, "M", PRIVACY_MARKETING), 0);
    CHECK_EQ_INT(event_at(&ctx, "G", PRIVACY_SALE_SHARING, PRIVACY_GIVE, 299, 0), HP_OK);
    CHECK_EQ_INT(event_at(&ctx, "G", PRIVACY_SALE_SHARING, PRIVACY_GPC, 0, 1), HP_OK);
    CHECK_EQ_INT(gate(&ctx, "G", PRIVACY_SALE_SHARING), 0);
    /* the same a minute later: the future date bought nothing */
    ctx.now += 60;
    CHECK_EQ_INT(gate(&ctx, "X", PRIVACY_PERSONALISATION), 0);
    privacy_close(&ctx);
}

/* The rule in both directions: an opt-out recorded after a give wins whatever its date; a
 * give recorded after an opt-out wins only when it is also dated after it. */
TEST(recording_order_and_dates_both_have_to_agree_for_a_give)
{
    privacy_ctx ctx;
    open_ctx(&ctx);
    /* a backdated withdrawal (a letter entered late) recorded after a give: denied */
    CHECK_EQ_INT(event_at(&ctx, "A", PRIVACY_ANALYTICS, PRIVACY_GIVE, -10, 0), HP_OK);
    CHECK_EQ_INT(event_at(&ctx, "A", PRIVACY_ANALYTICS, PRIVACY_WITHDRAW, -3600, 0), HP_OK);
    CHECK_EQ_INT(gate(&ctx, "A", PRIVACY_ANALYTICS), 0);
    /* a give recorded later but dated before the withdrawal is history, not a lift */
    CHECK_EQ_INT(event_at(&ctx, "B", PRIVACY_ANALYTICS, PRIVACY_WITHDRAW, -10, 0), HP_OK);
    CHECK_EQ_INT(event_at(&ctx, "B", PRIVACY_ANALYTICS, PRIVACY_GIVE, -3600, 0), HP_OK);
    CHECK_EQ_INT(gate(&ctx, "B", PRIVACY_ANALYTICS), 0);
    /* the customer's own consent recorded and dated after it lifts it */
    CHECK_EQ_INT(event_at(&ctx, "B", PRIVACY_ANALYTICS, PRIVACY_GIVE, 0, 1), HP_OK);
    CHECK_EQ_INT(gate(&ctx, "B", PRIVACY_ANALYTICS), 1);
    /* a future-dated opt-out counts from when it was recorded: a consent given a few seconds
     * later, inside its skew, lifts it */
    CHECK_EQ_INT(event_at(&ctx, "C", PRIVACY_ANALYTICS, PRIVACY_WITHDRAW, 290, 0), HP_OK);
    ctx.now += 5;
    CHECK_EQ_INT(event_at(&ctx, "C", PRIVACY_ANALYTICS, PRIVACY_GIVE, 0, 1), HP_OK);
    CHECK_EQ_INT(gate(&ctx, "C", PRIVACY_ANALYTICS), 1);
    /* the same second: recording order decides */
    CHECK_EQ_INT(event_at(&ctx, "D", PRIVACY_ANALYTICS, PRIVACY_GIVE, 0, 1), HP_OK);
    CHECK_EQ_INT(event_at(&ctx, "D", PRIVACY_ANALYTICS, PRIVACY_WITHDRAW, 0, 1), HP_OK);
    CHECK_EQ_INT(gate(&ctx, "D", PRIVACY_ANALYTICS), 0);
    CHECK_EQ_INT(event_at(&ctx, "D", PRIVACY_ANALYTICS, PRIVACY_GIVE, 0, 1), HP_OK);
    CHECK_EQ_INT(gate(&ctx, "D", PRIVACY_ANALYTICS), 1);
    privacy_close(&ctx);
}

/* An erasure keeps the opt-out as a suppression record dated when it took effect (not its
 * future --at), and it stays ahead of everything recorded again. */
TEST(suppression_records_keep_the_effective_date)
{
    privacy_ctx ctx;
    open_ctx(&ctx);
    hp_error err = { 0 };
    CHECK_EQ_INT(event_at(&ctx, "S", PRIVACY_MARKETING, PRIVACY_GIVE, -100, 0), HP_OK);
    CHECK_EQ_INT(event_at(&ctx, "S", PRIVACY_MARKETING, PRIVACY_OBJECT, 290, 0), HP_OK);
    privacy_erase_result er;
    CHECK_EQ_INT(privacy_erase(&ctx, "S", &er, &err), HP_OK);
    CHECK_EQ_INT(gate(&ctx, "S", PRIVACY_MARKETING), 0);
    ctx.now += 10; /* before the objection's --at, after it was recorded */
    CHECK_EQ_INT(event_at(&ctx, "S", PRIVACY_MARKETING, PRIVACY_GIVE, 0, 1), HP_OK);
    CHECK_EQ_INT(gate(&ctx, "S", PRIVACY_MARKETING), 1);
    privacy_close(&ctx);
}

/* ------------------------------------------------------------------ defect 8: snapshot */

static int64_t models_due(privacy_ctx *ctx)
{
    hp_error err = { 0 };
    int64_t n = -1;
    CHECK_EQ_INT(store_model_retrain_due(ctx->st, &n, &err), HP_OK);
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
    CHECK_EQ_INT(store_export_record(ctx->st, p, "dataset", 5, NOW, &err), HP_OK);
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
        privacy_ctx ctx;
        open_ctx(&ctx);
        customers_t1_t2(&ctx);
        int due = -1;
        train_around(&ctx, cases[i].fn, &due);
        CHECKF(due == cases[i].want, "%s: due %d", cases[i].what, due);
        CHECKF(models_due(&ctx) == cases[i].want, "%s: registry says %lld", cases[i].what,
               (long long)models_due(&ctx));
        privacy_close(&ctx);
        if (cases[i].fn == erase_t1_interrupted) rmdir(tmp_path("blocked.csv"));
    }
    /* an erasure before the gate is not in the model: the gate left the customer out */
    privacy_ctx ctx;
    open_ctx(&ctx);
    customers_t1_t2(&ctx);
    CHECK_EQ_INT(event_at(&ctx, "T9", PRIVACY_PERSONALISATION, PRIVACY_GIVE, -60, 0), HP_OK);
    hp_error err = { 0 };
    privacy_erase_result er;
    CHECK_EQ_INT(privacy_erase(&ctx, "T9", &er, &err), HP_OK);
    int due = -1;
    train_around(&ctx, NULL, &due);
    CHECK_EQ_INT(due, 0);
    /* and an erasure after the registration marks it as before */
    erase_t1(&ctx);
    CHECK_EQ_INT(models_due(&ctx), 1);
    privacy_close(&ctx);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/hyperp_consent_XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    RUN(a_future_dated_give_never_outranks_a_later_opt_out);
    RUN(recording_order_and_dates_both_have_to_agree_for_a_give);
    RUN(suppression_records_keep_the_effective_date);
    RUN(a_model_is_due_when_an_erasure_lands_while_it_trains);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", g_dir);
    return check_summary("test_consent");
}
