/* privacy internals shared by src/privacy files only. */
#ifndef PRIVACY_INTERNAL_H
#define PRIVACY_INTERNAL_H

#include "privacy/privacy.h"
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

#endif
