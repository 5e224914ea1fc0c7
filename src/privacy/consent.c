/* consent: recording consent events and the processing gate. */
#include "privacy/privacy_internal.h"
#include "data/parse.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define FUTURE_SKEW_SECONDS 300 /* clocks of the systems that send consent differ a little */
#define EARLIEST_CONSENT 946684800 /* 2000-01-01: anything older is a data error */

static const char *const k_events[] = { "give", "withdraw", "object", "gpc" };
static const char *const k_bases[] = { "consent", "contract", "legal_obligation",
                                       "legitimate_interest", "vital_interest", "public_task" };

int privacy_audit(privacy_ctx *ctx, const char *action, const char *purpose, const char *subject,
                  const char *inputs_hash, const char *outcome, hp_error *err)
{
    audit_event e = { .actor = ctx->actor, .action = action, .purpose = purpose,
                      .subject = subject, .inputs_hash = inputs_hash, .outcome = outcome };
    return audit_append(ctx->st, privacy_now(ctx), &e, err);
}

/* ------------------------------------------------------------------ validation */

static int check_text(const char *what, const char *s, size_t max, hp_error *err)
{
    size_t n = strlen(s);
    if (n == 0 || n >= max) return hp_fail(err, HP_ERR_INVAL, "%s: expected 1 to %zu characters", what, max - 1);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return hp_fail(err, HP_ERR_INVAL, "%s: control characters are not allowed", what);
    return HP_OK;
}

static int check_basis(const char *basis, hp_error *err)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(k_bases); i++)
        if (!strcmp(basis, k_bases[i])) return HP_OK;
    return hp_fail(err, HP_ERR_INVAL, "unknown lawful basis '%.40s' (consent, contract, "
                   "legal_obligation, legitimate_interest, vital_interest, public_task)", basis);
}

static int check_time(const privacy_ctx *ctx, int64_t at, hp_error *err)
{
    char when[32], now[32];
    data_format_timestamp(at, when, sizeof when);
    data_format_timestamp(privacy_now(ctx), now, sizeof now);
    if (at > privacy_now(ctx) + FUTURE_SKEW_SECONDS)
        return hp_fail(err, HP_ERR_RANGE, "consent dated in the future (%s is after now, %s)", when, now);
    if (at < EARLIEST_CONSENT)
        return hp_fail(err, HP_ERR_RANGE, "consent dated %s, before 2000-01-01: check the date", when);
    return HP_OK;
}

static int check_request(const privacy_ctx *ctx, const privacy_consent_req *r, hp_error *err)
{
    int rc = privacy_id_check(r->customer_id, err);
    if (!rc && (unsigned)r->purpose >= PRIVACY_PURPOSE_COUNT) rc = hp_fail(err, HP_ERR_INVAL, "unknown purpose");
    if (!rc && (unsigned)r->event > PRIVACY_GPC) rc = hp_fail(err, HP_ERR_INVAL, "unknown consent event");
    if (!rc && r->event == PRIVACY_GPC && r->purpose != PRIVACY_SALE_SHARING)
        rc = hp_fail(err, HP_ERR_INVAL, "a Global Privacy Control signal opts out of sale_sharing only");
    if (!rc && r->basis) rc = check_basis(r->basis, err);
    if (!rc && r->event == PRIVACY_GIVE)
        rc = r->notice_version ? check_text("notice version", r->notice_version, 64, err)
                               : hp_fail(err, HP_ERR_INVAL, "giving consent needs the version of the privacy notice shown");
    if (!rc && r->source) rc = check_text("source", r->source, 64, err);
    if (!rc && r->at) rc = check_time(ctx, r->at, err);
    return rc;
}

/* ------------------------------------------------------------------ the decision */

static void reason(privacy_decision *why, int allowed, const char *fmt, const char *a, int64_t t)
{
    char when[32];
    data_format_timestamp(t, when, sizeof when);
    when[10] = 0; /* the date is enough */
    why->allowed = allowed;
    snprintf(why->reason, sizeof why->reason, fmt, a, when);
}

/* Decides without auditing. */
static int decide(privacy_ctx *ctx, const char *id, privacy_purpose p, unsigned flags,
                  privacy_decision *why, hp_error *err)
{
    store_consent c;
    int found;
    memset(why, 0, sizeof *why);
    if (p == PRIVACY_SALE_SHARING && (flags & PRIVACY_REQ_GPC)) {
        snprintf(why->reason, sizeof why->reason, "Global Privacy Control signal on the request");
        return HP_OK;
    }
    int rc = store_consent_latest(ctx->st, id, privacy_purpose_name(p), NULL, &c, &found, err);
    if (rc) return rc;
    if (!found) {
        snprintf(why->reason, sizeof why->reason, "no consent on record (opt-in required)");
        return HP_OK;
    }
    if (strcmp(c.event, "give")) {
        const char *fmt = !strcmp(c.event, "object") ? "objection%s (Art. 21) on %s"
                        : !strcmp(c.event, "gpc") ? "Global Privacy Control opt-out%s on %s"
                        : "consent withdrawn%s on %s";
        reason(why, 0, fmt, "", c.at);
        return HP_OK;
    }
    if (p == PRIVACY_MARKETING && strcmp(c.basis, "consent")) {
        store_consent o;
        rc = store_consent_latest(ctx->st, id, privacy_purpose_name(p), "object", &o, &found, err);
        if (rc) return rc;
        if (found) {
            reason(why, 0, "objection to direct marketing (Art. 21%s) on %s overrides legitimate "
                   "interest", "(3)", o.at);
            return HP_OK;
        }
    }
    reason(why, 1, "%s given on %s", c.basis, c.at);
    return HP_OK;
}

int privacy_allowed(privacy_ctx *ctx, const char *customer_id, privacy_purpose purpose,
                    unsigned flags, privacy_decision *why, hp_error *err)
{
    privacy_decision local;
    char ps[PRIVACY_PSEUDONYM_LEN], outcome[192];
    if (!why) why = &local;
    int rc = privacy_id_check(customer_id, err);
    if (!rc && (unsigned)purpose >= PRIVACY_PURPOSE_COUNT) rc = hp_fail(err, HP_ERR_INVAL, "unknown purpose");
    if (!rc && !(flags & PRIVACY_REQ_NO_AUDIT)) rc = privacy_pseudonym(ctx, customer_id, ps, err);
    if (!rc) rc = decide(ctx, customer_id, purpose, flags, why, err);
    if (rc) return rc;
    if (!(flags & PRIVACY_REQ_NO_AUDIT)) {
        snprintf(outcome, sizeof outcome, "%s: %s", why->allowed ? "allowed" : "denied", why->reason);
        rc = privacy_audit(ctx, "gate", privacy_purpose_name(purpose), ps, NULL, outcome, err);
        if (rc) return rc;
    }
    return why->allowed;
}

/* Keyed hash of the batch's ids, so the log proves which batch was gated without naming it. */
static void batch_hash(const privacy_ctx *ctx, const char *const *ids, size_t n, char out[65])
{
    out[0] = 0;
    if (!ctx->nkeys) return;
    crypto_generichash_state st;
    unsigned char h[32];
    size_t klen = HP_MIN(ctx->keylen[0], (size_t)crypto_generichash_KEYBYTES_MAX);
    crypto_generichash_init(&st, ctx->key[0], klen, sizeof h);
    for (size_t i = 0; i < n; i++)
        crypto_generichash_update(&st, (const unsigned char *)ids[i], strlen(ids[i]) + 1);
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(out, 65, h, sizeof h);
}

int privacy_allowed_bulk(privacy_ctx *ctx, const char *const *ids, size_t n,
                         privacy_purpose purpose, unsigned flags, uint8_t *allowed,
                         size_t *nallowed, hp_error *err)
{
    *nallowed = 0;
    if ((unsigned)purpose >= PRIVACY_PURPOSE_COUNT) return hp_fail(err, HP_ERR_INVAL, "unknown purpose");
    for (size_t i = 0; i < n; i++) {
        privacy_decision why;
        int rc = privacy_id_check(ids[i], err);
        if (rc) {
            hp_error_prefix(err, "id %zu of %zu", i + 1, n);
            return rc;
        }
        if ((rc = decide(ctx, ids[i], purpose, flags, &why, err))) return rc;
        allowed[i] = (uint8_t)why.allowed;
        *nallowed += (size_t)why.allowed;
    }
    if (flags & PRIVACY_REQ_NO_AUDIT) return HP_OK;
    char hash[65], outcome[96];
    batch_hash(ctx, ids, n, hash);
    snprintf(outcome, sizeof outcome, "allowed %zu of %zu", *nallowed, n);
    return privacy_audit(ctx, "gate.bulk", privacy_purpose_name(purpose), NULL, hash, outcome, err);
}

/* ------------------------------------------------------------------ recording */

static int any_allowed(privacy_ctx *ctx, const char *id, int *any, hp_error *err)
{
    *any = 0;
    for (int p = 0; p < PRIVACY_PURPOSE_COUNT && !*any; p++) {
        privacy_decision why;
        int rc = decide(ctx, id, (privacy_purpose)p, 0, &why, err);
        if (rc) return rc;
        *any = why.allowed;
    }
    return HP_OK;
}

/* A withdrawal that leaves nothing allowed triggers erasure when configured (Art. 17(1)(b)). */
static int after_withdrawal(privacy_ctx *ctx, const char *id, hp_error *err)
{
    int any;
    if (ctx->cfg.erase_on_withdrawal == PRIVACY_ERASE_NEVER) return HP_OK;
    int rc = any_allowed(ctx, id, &any, err);
    if (rc || any) return rc;
    if (ctx->cfg.erase_on_withdrawal == PRIVACY_ERASE_QUEUE)
        return store_erasure_request(ctx->st, id, privacy_now(ctx), err);
    privacy_erase_result res;
    return privacy_erase_one(ctx, id, &res, err);
}

static void fill_consent(const privacy_ctx *ctx, const privacy_consent_req *r, store_consent *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->customer_id, sizeof c->customer_id, "%s", r->customer_id);
    snprintf(c->purpose, sizeof c->purpose, "%s", privacy_purpose_name(r->purpose));
    snprintf(c->event, sizeof c->event, "%s", k_events[r->event]);
    snprintf(c->basis, sizeof c->basis, "%s", r->basis ? r->basis : "consent");
    snprintf(c->source, sizeof c->source, "%s", r->source ? r->source
             : r->event == PRIVACY_GPC ? "gpc" : "unspecified");
    snprintf(c->notice_version, sizeof c->notice_version, "%s", r->notice_version ? r->notice_version : "");
    c->recorded_at = privacy_now(ctx);
    c->at = r->at ? r->at : c->recorded_at;
}

int privacy_consent_record(privacy_ctx *ctx, const privacy_consent_req *req, hp_error *err)
{
    char ps[PRIVACY_PSEUDONYM_LEN], outcome[256];
    store_consent c;
    int rc = check_request(ctx, req, err);
    if (!rc) rc = privacy_pseudonym(ctx, req->customer_id, ps, err);
    if (rc) return rc;
    fill_consent(ctx, req, &c);
    snprintf(outcome, sizeof outcome, "recorded (basis %s, source %s, notice '%s')", c.basis,
             c.source, c.notice_version);
    char action[32];
    snprintf(action, sizeof action, "consent.%s", c.event);
    if ((rc = store_begin(ctx->st, err))) return rc;
    rc = store_customer_upsert(ctx->st, req->customer_id, NULL, c.recorded_at, err);
    if (!rc) rc = store_consent_add(ctx->st, &c, NULL, err);
    if (!rc) rc = privacy_audit(ctx, action, c.purpose, ps, NULL, outcome, err);
    if (rc) {
        store_rollback(ctx->st);
        return rc;
    }
    if ((rc = store_commit(ctx->st, err))) return rc;
    return req->event == PRIVACY_GIVE ? HP_OK : after_withdrawal(ctx, req->customer_id, err);
}
