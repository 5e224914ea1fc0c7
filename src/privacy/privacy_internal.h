/* privacy internals shared by src/privacy files only. */
#ifndef PRIVACY_INTERNAL_H
#define PRIVACY_INTERNAL_H

#include "privacy/privacy.h"

struct privacy_ctx {
    store *st;                 /* owned */
    privacy_config cfg;
    unsigned char key[PRIVACY_MAX_KEYS][64];
    size_t keylen[PRIVACY_MAX_KEYS];
    int nkeys;                 /* 0: no key loaded; key[0] is the current one */
    int64_t now;               /* 0: wall clock; tests pin time here */
    char actor[64];            /* who acts ("cli", "service", "test"), written to the audit log */
    char warning[4096];        /* "" or a sentence for the user, e.g. a key file others can read */
};
#include "privacy/audit.h"

/* Pseudonyms of id under every loaded key; ptrs[k] points into out[k]. HP_ERR_NOTFOUND
 * when no key is loaded. */
int privacy_pseudonyms_all(const privacy_ctx *ctx, const char *id,
                           char out[PRIVACY_MAX_KEYS][PRIVACY_PSEUDONYM_LEN], const char *ptrs[],
                           hp_error *err);

/* Appends an audit entry stamped now by ctx->actor. subject is a pseudonym or NULL. */
int privacy_audit(privacy_ctx *ctx, const char *action, const char *purpose, const char *subject,
                  const char *inputs_hash, const char *outcome, hp_error *err);

/* Erases one customer (privacy_erase without the NOTFOUND check); used by purge. */
int privacy_erase_one(privacy_ctx *ctx, const char *customer_id, privacy_erase_result *res,
                      hp_error *err);

/* The audit action of a retention purge that deleted customers (in the delete's transaction):
 * like "erase", a model whose consent snapshot is older is due for retraining. */
#define PRIVACY_RETENTION_ERASE_ACTION "retention.erase"

/* Suppression token of id under key k: "sx_" + 32 hex of HMAC-SHA256(key, "hyperp-suppression"
 * NUL id). Unlinkable to the pseudonym; needs k < nkeys. */
void privacy_suppression_token(const privacy_ctx *ctx, int k, const char *id,
                               char out[PRIVACY_PSEUDONYM_LEN]);
/* Before an erasure: keeps a suppression record per purpose whose withdrawal, objection or GPC
 * opt-out is in force (inside the caller's transaction). */
int privacy_suppress_opt_outs(privacy_ctx *ctx, const char *id, hp_error *err);
/* Sets *any when some purpose is allowed for id now. */
int privacy_any_allowed(privacy_ctx *ctx, const char *id, int *any, hp_error *err);

#endif
