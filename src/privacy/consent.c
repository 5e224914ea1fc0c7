/* consent: recording consent events and the processing gate. */
#include "privacy/privacy_internal.h"
#include "data/parse.h"

#include <ctype.h>
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

/* Source and notice version go into the chained audit outcome, which erasure cannot remove:
 * they are tokens (letters, digits and . _ : + / -, starting with a letter or digit), never
 * free text that could carry personal data. */
static int check_token(const char *what, const char *s, size_t max, hp_error *err)
{
    size_t n = strlen(s);
    if (n == 0 || n >= max) return hp_fail(err, HP_ERR_INVAL, "%s: expected 1 to %zu characters", what, max - 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isalnum(c) || (i > 0 && strchr("._:+/-", c))))
            return hp_fail(err, HP_ERR_INVAL, "%s: character %zu is not allowed (letters, digits and "
                           ". _ : + / - after the first; it is kept in the audit log)", what, i + 1);
    }
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
    int rc = privacy_id_check_storable(r->customer_id, err);
    if (!rc && (unsigned)r->purpose >= PRIVACY_PURPOSE_COUNT) rc = hp_fail(err, HP_ERR_INVAL, "unknown purpose");
    if (!rc && (unsigned)r->event > PRIVACY_GPC) rc = hp_fail(err, HP_ERR_INVAL, "unknown consent event");
    if (!rc && r->event == PRIVACY_GPC && r->purpose != PRIVACY_SALE_SHARING)
        rc = hp_fail(err, HP_ERR_INVAL, "a Global Privacy Control signal opts out of sale_sharing only");
    if (!rc && r->basis) rc = check_basis(r->basis, err);
    if (!rc && r->event == PRIVACY_GIVE)
        rc = r->notice_version ? check_token("notice version", r->notice_version, 64, err)
                               : hp_fail(err, HP_ERR_INVAL, "giving consent needs the version of the privacy notice shown");
    if (!rc && r->source) rc = check_token("source", r->source, 64, err);
    if (!rc && r->notice_version && r->event != PRIVACY_GIVE)
        rc = check_token("notice version", r->notice_version, 64, err);
    if (!rc && r->has_at) rc = check_time(ctx, r->at, err);
    return rc;
}

/* ------------------------------------------------------------------ the decision */

/* Channels where the customer acts themself: after a withdrawal, an objection or a GPC
 * opt-out only a give with basis consent from one of these lifts it (docs/privacy.md). */
static const char *const k_customer_sources[] = { "customer", "web", "app", "branch-customer-signed" };

int privacy_source_is_customer(const char *source)
{
    for (size_t i = 0; source && i < HP_ARRAY_LEN(k_customer_sources); i++)
        if (!strcmp(source, k_customer_sources[i])) return 1;
    return 0;
}

static int customer_consent(const store_consent *c)
{
    return !strcmp(c->event, "give") && !strcmp(c->basis, "consent") && privacy_source_is_customer(c->source);
}

/* Purposes where no basis but consent may follow an opt-out (direct marketing: Art. 21(3);
 * sale/sharing: CCPA opt-out). */
static int consent_only_after_stop(privacy_purpose p)
{
    return p == PRIVACY_MARKETING || p == PRIVACY_SALE_SHARING;
}

/* The order of events (docs/privacy.md, "Which event is the latest").
 *
 * An event's effective time is when the customer acted (--at) but never later than when it
 * was recorded: the 5-minute clock-skew allowance lets a sender's clock run ahead, and a date
 * ahead of ours means "now", never "after whatever is recorded next".
 *
 * Events are read in recording order, and an opt-out (withdraw, object, gpc) always takes
 * effect: one recorded after a give outranks it whatever their dates. A give takes effect
 * only when it is dated (effective time) no earlier than the opt-out in force, so a give
 * recorded later but dated before an opt-out is history, not a lift. In short: a give
 * decides only when it is later than the opt-out in both orders; when the two orders
 * disagree, the opt-out wins (not processing someone who consented harms nobody; processing
 * someone who opted out is the breach). Among gives, an older-dated one recorded later does
 * not replace the newer one as the decision's basis. A suppression record kept through an
 * erasure counts as an opt-out recorded before everything the store now holds. */
static int64_t effective_at(const store_consent *c)
{
    return c->recorded_at > 0 && c->recorded_at < c->at ? c->recorded_at : c->at;
}

static int is_opt_out(const store_consent *c) { return strcmp(c->event, "give") != 0; }

/* The history of one (customer, purpose) read in recording order, up to a time. */
typedef struct {
    int64_t until;          /* events effective after it are not read */
    int n;                  /* events read */
    store_consent last;     /* the event that decides */
    store_consent stop;     /* the opt-out in force (latest effective; or suppression record) */
    int has_stop, lifted;   /* lifted: the customer's own consent took effect after stop */
} history;

static void history_apply(history *h, const store_consent *c)
{
    int64_t at = effective_at(c);
    h->n++;
    if (is_opt_out(c)) {
        if (!h->has_stop || at >= effective_at(&h->stop)) h->stop = *c;
        h->has_stop = 1;
        h->lifted = 0;
        h->last = *c;
        return;
    }
    if (h->has_stop && at < effective_at(&h->stop)) return; /* dated before the opt-out */
    if (customer_consent(c)) h->lifted = 1;
    if (h->n == 1 || is_opt_out(&h->last) || at >= effective_at(&h->last)) h->last = *c;
}

static int history_event(void *ctx, const store_consent *c)
{
    history *h = ctx;
    if (effective_at(c) <= h->until) history_apply(h, c);
    return 0;
}

/* Reads the history of (id, p) up to until, after the suppression record of an earlier
 * erasure of the same id (looked up under every key; the latest one). */
static int read_history(privacy_ctx *ctx, const char *id, privacy_purpose p, int64_t until,
                        history *h, hp_error *err)
{
    const char *purpose = privacy_purpose_name(p);
    memset(h, 0, sizeof *h);
    h->until = until;
    int rc = HP_OK;
    store_consent sup;
    int has_sup = 0;
    memset(&sup, 0, sizeof sup);
    if (ctx->nkeys) {
        for (int k = 0; !rc && k < ctx->nkeys; k++) {
            char tok[PRIVACY_PSEUDONYM_LEN];
            store_consent got;
            int found;
            privacy_suppression_token(ctx, k, id, tok);
            rc = store_suppression_get(ctx->st, tok, purpose, &got, &found, err);
            if (!rc && found && (!has_sup || got.at > sup.at)) sup = got, has_sup = 1;
        }
    } else {
        int64_t n = 0;
        rc = store_suppression_count(ctx->st, &n, err);
        if (!rc && n)
            rc = hp_fail(err, HP_ERR_NOTFOUND, "no pseudonym key loaded: the suppression records "
                         "kept after erasures cannot be checked (set HYPERP_PSEUDONYM_KEY_FILE or "
                         "HYPERP_PSEUDONYM_KEY)");
    }
    if (!rc && has_sup && sup.at <= until) history_apply(h, &sup);
    if (!rc) rc = store_consent_history(ctx->st, id, purpose, history_event, h, err);
    return rc > 0 ? HP_OK : rc;
}

static const char *stop_name(const store_consent *c)
{
    return !strcmp(c->event, "object") ? "objection (Art. 21)"
         : !strcmp(c->event, "gpc") ? "Global Privacy Control opt-out" : "consent withdrawn";
}

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
    history h;
    memset(why, 0, sizeof *why);
    if (p == PRIVACY_SALE_SHARING && (flags & PRIVACY_REQ_GPC)) {
        snprintf(why->reason, sizeof why->reason, "Global Privacy Control signal on the request");
        return HP_OK;
    }
    int rc = read_history(ctx, id, p, INT64_MAX, &h, err);
    if (rc) return rc;
    if (!h.n) {
        snprintf(why->reason, sizeof why->reason, "no consent on record (opt-in required)");
        return HP_OK;
    }
    const char *kept = !strcmp(h.stop.source, "suppression") ? " (kept after erasure)" : "";
    if (strcmp(h.last.event, "give")) {
        char fmt[96];
        snprintf(fmt, sizeof fmt, "%s%%s on %%s%s", stop_name(&h.last), kept);
        reason(why, 0, fmt, "", h.last.at);
        return HP_OK;
    }
    if (h.has_stop && !h.lifted) {
        char fmt[160];
        snprintf(fmt, sizeof fmt, "%s%%s on %%s%s: only the customer's own consent lifts it",
                 stop_name(&h.stop), kept);
        reason(why, 0, fmt, "", h.stop.at);
        return HP_OK;
    }
    if (h.has_stop && consent_only_after_stop(p) && strcmp(h.last.basis, "consent")) {
        reason(why, 0, p == PRIVACY_MARKETING
               ? "objection or withdrawal (Art. 21%s) on %s overrides a basis other than consent"
               : "opt-out of sale/sharing%s on %s overrides a basis other than consent", "", h.stop.at);
        return HP_OK;
    }
    reason(why, 1, "%s given on %s", h.last.basis, h.last.at);
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

int privacy_any_allowed(privacy_ctx *ctx, const char *id, int *any, hp_error *err)
{
    return any_allowed(ctx, id, any, err);
}

int privacy_suppress_opt_outs(privacy_ctx *ctx, const char *id, hp_error *err)
{
    char tok[PRIVACY_PSEUDONYM_LEN];
    int rc = HP_OK;
    if (!ctx->nkeys) return privacy_pseudonym(ctx, id, tok, err); /* says: no key */
    privacy_suppression_token(ctx, 0, id, tok);
    for (int p = 0; !rc && p < PRIVACY_PURPOSE_COUNT; p++) {
        history h;
        rc = read_history(ctx, id, (privacy_purpose)p, INT64_MAX, &h, err);
        if (!rc && h.has_stop && (!h.lifted || consent_only_after_stop((privacy_purpose)p)))
            rc = store_suppression_put(ctx->st, tok, privacy_purpose_name((privacy_purpose)p),
                                       h.stop.event, effective_at(&h.stop), err);
    }
    sodium_memzero(tok, sizeof tok);
    return rc;
}

/* A withdrawal that leaves nothing allowed triggers erasure when configured (Art. 17(1)(b)).
 * An objection or a GPC opt-out never does: erasing them would erase the opt-out itself. */
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

/* A give dated after a withdrawal, objection or GPC opt-out that is still in force must be the
 * customer's own consent; for marketing and sale_sharing no other basis follows an opt-out.
 * The give is recorded after everything held, so the opt-outs it meets are those effective
 * no later than it; one dated before every opt-out is history and changes nothing. */
static int check_give(privacy_ctx *ctx, const store_consent *c, privacy_purpose p, hp_error *err)
{
    history h;
    int rc = read_history(ctx, c->customer_id, p, effective_at(c), &h, err);
    if (rc || !h.has_stop) return rc;
    int own = customer_consent(c);
    if ((!h.lifted && !own) || (consent_only_after_stop(p) && strcmp(c->basis, "consent"))) {
        char when[32];
        data_format_timestamp(h.stop.at, when, sizeof when);
        when[10] = 0;
        return hp_fail(err, HP_ERR_INVAL, "customer '%s': %s for %s on %s; only the customer's own "
                       "consent lifts it (basis consent, source customer, web, app or "
                       "branch-customer-signed), not basis %s from source %s: not recorded",
                       c->customer_id, stop_name(&h.stop), c->purpose, when, c->basis, c->source);
    }
    return HP_OK;
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
    c->at = r->has_at ? r->at : c->recorded_at;
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
    if (req->event == PRIVACY_GIVE) rc = check_give(ctx, &c, req->purpose, err);
    if (!rc) rc = store_customer_upsert(ctx->st, req->customer_id, NULL, c.recorded_at, err);
    if (!rc) rc = store_consent_add(ctx->st, &c, NULL, err);
    if (!rc) rc = privacy_audit(ctx, action, c.purpose, ps, NULL, outcome, err);
    /* a queued erasure is void once the customer allows something again */
    int any = 0;
    if (!rc && req->event == PRIVACY_GIVE) rc = any_allowed(ctx, req->customer_id, &any, err);
    if (!rc && any) rc = store_erasure_cancel(ctx->st, req->customer_id, NULL, err);
    if (rc) {
        store_rollback(ctx->st);
        return rc;
    }
    if ((rc = store_commit(ctx->st, err))) return rc;
    return req->event == PRIVACY_WITHDRAW ? after_withdrawal(ctx, req->customer_id, err) : HP_OK;
}
