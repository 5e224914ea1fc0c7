/* privacy: purposes, config, context, keys, pseudonyms, id checks. */
#include "privacy/privacy.h"
#include "privacy/privacy_internal.h"
#include "io/io.h"
#include "io/io_out.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ purposes */

static const char *const k_purposes[PRIVACY_PURPOSE_COUNT] = {
    "personalisation", "credit_profiling", "marketing", "analytics", "sale_sharing",
};

const char *privacy_purpose_name(privacy_purpose p)
{
    return (unsigned)p < PRIVACY_PURPOSE_COUNT ? k_purposes[p] : "?";
}

int privacy_purpose_parse(const char *s, privacy_purpose *out, hp_error *err)
{
    for (int i = 0; i < PRIVACY_PURPOSE_COUNT; i++)
        if (!strcmp(s, k_purposes[i])) {
            *out = (privacy_purpose)i;
            return HP_OK;
        }
    if (!strcmp(s, "personalization")) {
        *out = PRIVACY_PERSONALISATION;
        return HP_OK;
    }
    return hp_fail(err, HP_ERR_INVAL, "unknown purpose '%.40s' (purposes: personalisation, "
                   "credit_profiling, marketing, analytics, sale_sharing)", s);
}

/* ------------------------------------------------------------------ config */

void privacy_config_default(privacy_config *c)
{
    memset(c, 0, sizeof *c);
    c->retention_days[STORE_CAT_CUSTOMER] = 365;
    c->retention_days[STORE_CAT_TRANSACTIONS] = 730;
    c->retention_days[STORE_CAT_FEEDBACK] = 730;
    c->retention_days[STORE_CAT_FEATURES] = 30;
    c->retention_days[STORE_CAT_LOGS] = 90;
    c->k_anonymity = 5;
    const char *qi[] = { "industry", "region", "employees", "revenue" };
    for (size_t i = 0; i < HP_ARRAY_LEN(qi); i++) snprintf(c->qi[i], sizeof c->qi[i], "%s", qi[i]);
    c->nqi = (int)HP_ARRAY_LEN(qi);
}

static int load_retention(privacy_config *c, json_t *o, const char *path, hp_error *err)
{
    const char *key;
    json_t *v;
    if (!json_is_object(o)) return hp_fail(err, HP_ERR_FORMAT, "%s: retention_days: expected an object", path);
    json_object_foreach(o, key, v) {
        int cat = -1;
        for (int i = 0; i < STORE_CAT_COUNT; i++)
            if (!strcmp(key, store_category_name((store_category)i))) cat = i;
        if (cat < 0)
            return hp_fail(err, HP_ERR_FORMAT, "%s: retention_days.%s: unknown category (customer, "
                           "transactions, feedback, features, logs)", path, key);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 36500)
            return hp_fail(err, HP_ERR_FORMAT, "%s: retention_days.%s: expected days 0..36500", path, key);
        c->retention_days[cat] = json_integer_value(v);
    }
    return HP_OK;
}

static int load_erase_mode(privacy_config *c, json_t *v, const char *path, hp_error *err)
{
    const char *s = json_string_value(v);
    const char *names[] = { "never", "queue", "immediate" };
    for (int i = 0; s && i < 3; i++)
        if (!strcmp(s, names[i])) {
            c->erase_on_withdrawal = (privacy_erase_mode)i;
            return HP_OK;
        }
    return hp_fail(err, HP_ERR_FORMAT, "%s: erase_on_withdrawal: expected \"never\", \"queue\" "
                   "or \"immediate\"", path);
}

static int load_qi(privacy_config *c, json_t *v, const char *path, hp_error *err)
{
    if (!json_is_array(v) || json_array_size(v) > PRIVACY_MAX_QI)
        return hp_fail(err, HP_ERR_FORMAT, "%s: quasi_identifiers: expected up to %d names", path,
                       PRIVACY_MAX_QI);
    c->nqi = 0;
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
        if (!json_is_string(x)) return hp_fail(err, HP_ERR_FORMAT, "%s: quasi_identifiers[%zu]: expected a string", path, i);
        snprintf(c->qi[c->nqi++], sizeof c->qi[0], "%s", json_string_value(x));
    }
    return HP_OK;
}

static int load_key(privacy_config *c, const char *key, json_t *v, const char *path, hp_error *err)
{
    if (!strcmp(key, "hyperp_privacy")) {
        if (json_integer_value(v) != 1)
            return hp_fail(err, HP_ERR_VERSION, "%s: hyperp_privacy: this build reads version 1", path);
        return HP_OK;
    }
    if (!strcmp(key, "retention_days")) return load_retention(c, v, path, err);
    if (!strcmp(key, "erase_on_withdrawal")) return load_erase_mode(c, v, path, err);
    if (!strcmp(key, "quasi_identifiers")) return load_qi(c, v, path, err);
    if (!strcmp(key, "k_anonymity")) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000)
            return hp_fail(err, HP_ERR_FORMAT, "%s: k_anonymity: expected an integer 1..1000", path);
        c->k_anonymity = (int)json_integer_value(v);
        return HP_OK;
    }
    return hp_fail(err, HP_ERR_FORMAT, "%s: %s: unknown key", path, key);
}

int privacy_config_load(privacy_config *c, const char *path, hp_error *err)
{
    char *buf;
    size_t len;
    int rc = io_read_file(path, &buf, &len, err);
    if (rc) {
        char why[HP_ERROR_MAX];
        snprintf(why, sizeof why, "%s", err ? err->msg : "");
        return hp_fail(err, rc, "privacy config %s", why); /* "privacy config P: cannot open: ..." */
    }
    const char *text = buf;
    /* the same text rules as the dataset config: a UTF-8 BOM skipped, UTF-16 refused */
    if ((rc = io_config_text(path, &text, &len, err))) {
        hp_free(buf);
        return rc;
    }
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    hp_free(buf);
    if (!root && je.line > 0)
        return hp_fail(err, HP_ERR_FORMAT, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    if (!root) return hp_fail(err, HP_ERR_FORMAT, "%s: %s", path, je.text); /* no position: a read error */
    if (!json_is_object(root)) rc = hp_fail(err, HP_ERR_FORMAT, "%s: expected a JSON object", path);
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (rc) break;
        rc = load_key(c, key, v, path, err);
    }
    json_decref(root);
    return rc;
}

/* ------------------------------------------------------------------ context */

static int open_ctx(privacy_ctx **out, const char *db_path, const privacy_config *cfg, int create, hp_error *err)
{
    *out = NULL;
    if (sodium_init() < 0) return hp_fail(err, HP_ERR_WRITE, "libsodium failed to initialise");
    privacy_ctx *ctx = hp_calloc(1, sizeof *ctx);
    if (!ctx) return hp_fail(err, HP_ERR_NOMEM, "out of memory");
    if (cfg) ctx->cfg = *cfg;
    else privacy_config_default(&ctx->cfg);
    snprintf(ctx->actor, sizeof ctx->actor, "library");
    int rc = create ? store_open(&ctx->st, db_path, err) : store_open_existing(&ctx->st, db_path, err);
    if (rc) {
        privacy_close(ctx);
        return rc;
    }
    *out = ctx;
    return HP_OK;
}

int privacy_open(privacy_ctx **out, const char *db_path, const privacy_config *cfg, hp_error *err)
{
    return open_ctx(out, db_path, cfg, 1, err);
}

int privacy_open_existing(privacy_ctx **out, const char *db_path, const privacy_config *cfg, hp_error *err)
{
    return open_ctx(out, db_path, cfg, 0, err);
}

void privacy_close(privacy_ctx *ctx)
{
    if (!ctx) return;
    store_close(ctx->st);
    sodium_memzero(ctx, sizeof *ctx); /* the keys, and the rest with them */
    hp_free(ctx);
}

int64_t privacy_now(const privacy_ctx *ctx) { return ctx->now ? ctx->now : (int64_t)time(NULL); }
void privacy_set_now(privacy_ctx *ctx, int64_t now) { ctx->now = now; }
void privacy_set_actor(privacy_ctx *ctx, const char *actor) { snprintf(ctx->actor, sizeof ctx->actor, "%s", actor); }
const char *privacy_warning(const privacy_ctx *ctx) { return ctx->warning; }
privacy_config *privacy_cfg(privacy_ctx *ctx) { return &ctx->cfg; }
int privacy_nkeys(const privacy_ctx *ctx) { return ctx->nkeys; }
store *privacy_store(privacy_ctx *ctx) { return ctx->st; }

/* ------------------------------------------------------------------ keys and pseudonyms */

void *privacy_fopen_private(const char *path)
{
    return io_out_fopen(path, NULL, NULL, 0, NULL); /* one rule for every output: io/io_out.h */
}

int privacy_add_key(privacy_ctx *ctx, const unsigned char *key, size_t n, hp_error *err)
{
    if (n < 16 || n > 64) return hp_fail(err, HP_ERR_FORMAT, "pseudonym key: %zu bytes; need 16 to 64", n);
    if (sodium_is_zero(key, n))
        return hp_fail(err, HP_ERR_FORMAT, "pseudonym key: all zeros; generate one with: "
                       "head -c 32 /dev/urandom | xxd -p -c 64");
    if (ctx->nkeys == PRIVACY_MAX_KEYS)
        return hp_fail(err, HP_ERR_RANGE, "pseudonym key: at most %d keys (1 current + retired)", PRIVACY_MAX_KEYS);
    memcpy(ctx->key[ctx->nkeys], key, n);
    ctx->keylen[ctx->nkeys++] = n;
    return HP_OK;
}

static int add_hex_key(privacy_ctx *ctx, const char *hex, size_t len, const char *where, hp_error *err)
{
    unsigned char k[64];
    size_t got = 0;
    const char *end;
    if (len < 32 || len > 128 || sodium_hex2bin(k, sizeof k, hex, len, NULL, &got, &end) ||
        end != hex + len)
        return hp_fail(err, HP_ERR_FORMAT, "%s: a pseudonym key must be 32 to 128 hex digits "
                       "(generate one with: head -c 32 /dev/urandom | xxd -p -c 64)", where);
    int rc = privacy_add_key(ctx, k, got, err);
    sodium_memzero(k, sizeof k);
    return rc;
}

#define KEY_FILE_MAX 65536 /* a few hex lines and comments; anything bigger is not a key file */

/* Reads the whole key file: a NUL in it would otherwise end a line early and a key would be
 * read cut short (or a retired key lost) without a word. */
static int read_key_file(const char *path, char *buf, size_t *n, struct stat *st, hp_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return hp_fail(err, HP_ERR_IO, "HYPERP_PSEUDONYM_KEY_FILE %s: %s", path, strerror(errno));
    int rc = fstat(fd, st) ? hp_fail(err, HP_ERR_IO, "%s: %s", path, strerror(errno))
           : !S_ISREG(st->st_mode) ? hp_fail(err, HP_ERR_IO, "HYPERP_PSEUDONYM_KEY_FILE %s: not a regular file", path)
           : HP_OK;
    *n = 0;
    ssize_t got = 1;
    while (!rc && got > 0 && *n < KEY_FILE_MAX) {
        got = read(fd, buf + *n, KEY_FILE_MAX - *n);
        if (got < 0 && errno != EINTR) rc = hp_fail(err, HP_ERR_IO, "%s: %s", path, strerror(errno));
        else if (got > 0) *n += (size_t)got;
    }
    if (!rc && *n == KEY_FILE_MAX)
        rc = hp_fail(err, HP_ERR_FORMAT, "%s: %d bytes or more: not a pseudonym key file", path, KEY_FILE_MAX);
    close(fd);
    return rc;
}

static int load_key_file(privacy_ctx *ctx, const char *path, hp_error *err)
{
    char *buf = hp_malloc(KEY_FILE_MAX);
    struct stat st;
    size_t n = 0;
    if (!buf) return hp_fail(err, HP_ERR_NOMEM, "out of memory reading %s", path);
    int rc = read_key_file(path, buf, &n, &st, err);
    const char *nul = rc ? NULL : memchr(buf, 0, n);
    if (nul) {
        size_t line = 1;
        for (const char *p = buf; p < nul; p++) line += *p == '\n';
        rc = hp_fail(err, HP_ERR_FORMAT, "%s:%zu: a NUL byte in the key file (a key would be read "
                     "cut short); write the hex keys one per line", path, line);
    }
    for (size_t at = 0, line = 1; !rc && at < n; line++) {
        const char *s = buf + at, *nl = memchr(s, '\n', n - at);
        size_t len = nl ? (size_t)(nl - s) : n - at;
        at += len + (nl != NULL);
        hp_trim(&s, &len);
        while (len && (s[len - 1] == '\n' || s[len - 1] == '\r')) len--;
        if (len && s[0] != '#') {
            char where[4200];
            snprintf(where, sizeof where, "%s:%zu", path, line);
            rc = add_hex_key(ctx, s, len, where, err);
        }
    }
    sodium_memzero(buf, KEY_FILE_MAX);
    hp_free(buf);
    if (!rc && ctx->nkeys == 0) rc = hp_fail(err, HP_ERR_FORMAT, "%s: no key in the file", path);
    if (!rc && (st.st_mode & (S_IRWXG | S_IRWXO)))
        snprintf(ctx->warning, sizeof ctx->warning, "HYPERP_PSEUDONYM_KEY_FILE %.3900s is readable "
                 "by other users (mode %04o): anyone who reads it can link pseudonyms to ids; "
                 "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
    return rc;
}

int privacy_load_key(privacy_ctx *ctx, hp_error *err)
{
    if (ctx->nkeys) return HP_OK;
    const char *file = getenv("HYPERP_PSEUDONYM_KEY_FILE");
    if (file && *file) return load_key_file(ctx, file, err);
    const char *hex = getenv("HYPERP_PSEUDONYM_KEY");
    if (hex && *hex) return add_hex_key(ctx, hex, strlen(hex), "HYPERP_PSEUDONYM_KEY", err);
    return hp_fail(err, HP_ERR_NOTFOUND, "no pseudonym key: set HYPERP_PSEUDONYM_KEY_FILE to a file "
                   "holding a hex key, or HYPERP_PSEUDONYM_KEY to the hex key (see docs/privacy.md)");
}

int privacy_pseudonym_k(const privacy_ctx *ctx, int k, const char *id,
                        char out[PRIVACY_PSEUDONYM_LEN], hp_error *err)
{
    if (k < 0 || k >= ctx->nkeys) {
        out[0] = 0;
        return hp_fail(err, HP_ERR_NOTFOUND, "no pseudonym key loaded (set HYPERP_PSEUDONYM_KEY_FILE "
                       "or HYPERP_PSEUDONYM_KEY)");
    }
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, ctx->key[k], ctx->keylen[k]);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)id, strlen(id));
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "ps_", 3);
    sodium_bin2hex(out + 3, PRIVACY_PSEUDONYM_LEN - 3, mac, 16);
    return HP_OK;
}

int privacy_pseudonym(const privacy_ctx *ctx, const char *id, char out[PRIVACY_PSEUDONYM_LEN],
                      hp_error *err)
{
    return privacy_pseudonym_k(ctx, 0, id, out, err);
}

void privacy_suppression_token(const privacy_ctx *ctx, int k, const char *id,
                               char out[PRIVACY_PSEUDONYM_LEN])
{
    static const char domain[] = "hyperp-suppression";
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, ctx->key[k], ctx->keylen[k]);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)domain, sizeof domain); /* with its NUL */
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)id, strlen(id));
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "sx_", 3);
    sodium_bin2hex(out + 3, PRIVACY_PSEUDONYM_LEN - 3, mac, 16);
}

int privacy_pseudonyms_all(const privacy_ctx *ctx, const char *id,
                           char out[PRIVACY_MAX_KEYS][PRIVACY_PSEUDONYM_LEN], const char *ptrs[],
                           hp_error *err)
{
    for (int k = 0; k < ctx->nkeys; k++) {
        int rc = privacy_pseudonym_k(ctx, k, id, out[k], err);
        if (rc) return rc;
        ptrs[k] = out[k];
    }
    return ctx->nkeys ? HP_OK : privacy_pseudonym_k(ctx, 0, id, out[0], err);
}

/* ------------------------------------------------------------------ ids */

int privacy_id_check(const char *id, hp_error *err)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0) return hp_fail(err, HP_ERR_INVAL, "customer id is empty");
    if (n > PRIVACY_ID_MAX)
        return hp_fail(err, HP_ERR_INVAL, "customer id '%.20s...' is %zu bytes long; at most %d",
                       id, n, PRIVACY_ID_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        int ok = isalnum(c) || (i > 0 && strchr("_.:@-", c));
        if (!ok) {
            char shown[24];
            size_t m = 0;
            for (size_t j = 0; j < n && m + 1 < sizeof shown; j++)
                shown[m++] = isprint((unsigned char)id[j]) ? id[j] : '?';
            shown[m] = 0;
            return hp_fail(err, HP_ERR_INVAL, "customer id '%s': character %zu is not allowed "
                           "(letters, digits and _ . : @ - after the first)", shown, i + 1);
        }
    }
    return HP_OK;
}

int privacy_id_check_storable(const char *id, hp_error *err)
{
    int rc = privacy_id_check(id, err);
    return rc ? rc : store_id_check_pii(id, err);
}

int privacy_consent_snapshot(privacy_ctx *ctx, int64_t *seq, hp_error *err)
{
    char hash[65];
    return store_audit_head(ctx->st, seq, hash, err);
}

/* What landed after the snapshot that the model may not hold: erasures (finished or still
 * pending), customers deleted past retention and opt-outs of the purpose training is gated on
 * (the actions after the first two are counted for that purpose only). */
static int revoked_since(privacy_ctx *ctx, int64_t snapshot, int64_t *n, hp_error *err)
{
    static const char *const actions[] = { "erase", PRIVACY_RETENTION_ERASE_ACTION, "consent.withdraw",
                                           "consent.object", "consent.gpc" };
    const char *purpose = privacy_purpose_name(PRIVACY_PERSONALISATION);
    int64_t k = 0;
    int rc = store_erasure_pending_count(ctx->st, n, err);
    for (size_t i = 0; !rc && i < HP_ARRAY_LEN(actions); i++) {
        rc = store_audit_count_after(ctx->st, snapshot, actions[i], i > 1 ? purpose : NULL, &k, err);
        *n += k;
    }
    return rc;
}

int privacy_register_model(privacy_ctx *ctx, const char *name, const char *version, const char *path,
                           const char *inputs_hash, int64_t snapshot, int *due, hp_error *err)
{
    int64_t revoked = 0;
    char reason[128], outcome[192];
    snprintf(reason, sizeof reason, "erasure, retention deletion or withdrawal after its consent snapshot (audit seq %lld)",
             (long long)snapshot);
    int rc = store_begin(ctx->st, err);
    if (rc) return rc;
    rc = revoked_since(ctx, snapshot, &revoked, err);
    if (!rc) rc = store_model_register_due(ctx->st, name, version, path, privacy_now(ctx),
                                           revoked > 0, reason, err);
    snprintf(outcome, sizeof outcome, "registered; consent snapshot at audit seq %lld%s",
             (long long)snapshot, revoked ? "; due for retraining: erasure, retention deletion or withdrawal since" : "");
    audit_event e = { .actor = ctx->actor, .action = "train", .purpose = privacy_purpose_name(PRIVACY_PERSONALISATION),
                      .model_version = version, .inputs_hash = inputs_hash, .outcome = outcome };
    if (!rc) rc = audit_append(ctx->st, privacy_now(ctx), &e, err);
    if (rc) {
        store_rollback(ctx->st);
        return rc;
    }
    if (due) *due = revoked > 0;
    return store_commit(ctx->st, err);
}
