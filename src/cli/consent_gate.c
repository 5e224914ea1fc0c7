/* The consent gate for commands that process customers' data (train, recommend): asks the
 * privacy store, once for the whole table, which customers may be processed for a purpose. */
#include "cli/cli.h"
#include "io/io.h"
#include "privacy/privacy.h"

#include <stdio.h>
#include <stdlib.h>

int cli_load_key(privacy_ctx *ctx, hp_error *err)
{
    static int warned; /* once per run, though train loads the key twice */
    int rc = privacy_load_key(ctx, err);
    if (!rc && ctx->warning[0] && !warned++) fprintf(stderr, "hyperp: warning: %s\n", ctx->warning);
    return rc;
}

const char *cli_consent_db(const char *flag, int disabled)
{
    if (disabled) return NULL;
    if (flag) return flag;
    const char *env = getenv("HYPERP_DB");
    return env && *env ? env : NULL;
}

int cli_consent_gate_snapshot(const char *db, const data_table *customers, int purpose,
                              uint8_t **allowed, size_t *nallowed, int64_t *snapshot, hp_error *err)
{
    *allowed = NULL;
    *nallowed = 0;
    privacy_ctx ctx;
    /* a consent store that does not exist is a mistyped path: an empty one would deny everyone */
    int rc = privacy_open_existing(&ctx, db, NULL, err);
    if (rc) return rc;
    snprintf(ctx.actor, sizeof ctx.actor, "cli");
    size_t n = customers->nrows;
    const char **ids = hp_malloc((n + 1) * sizeof *ids);
    uint8_t *ok = hp_calloc(n + 1, 1);
    rc = ids && ok ? cli_load_key(&ctx, err) : hp_fail(err, HP_ERR_NOMEM, "consent gate: out of memory");
    for (size_t i = 0; !rc && i < n; i++) ids[i] = data_col_str(&customers->cols[customers->id_col], i);
    /* read before any decision: whatever lands while the gate decides is after it */
    if (!rc && snapshot) rc = privacy_consent_snapshot(&ctx, snapshot, err);
    if (!rc) rc = privacy_allowed_bulk(&ctx, ids, n, (privacy_purpose)purpose, 0, ok, nallowed, err);
    if (!rc) cli_print_audit_head(ctx.st);
    privacy_close(&ctx);
    hp_free(ids);
    if (rc) {
        hp_free(ok);
        return rc;
    }
    *allowed = ok;
    return HP_OK;
}

int cli_consent_gate(const char *db, const data_table *customers, int purpose, uint8_t **allowed,
                     size_t *nallowed, hp_error *err)
{
    return cli_consent_gate_snapshot(db, customers, purpose, allowed, nallowed, NULL, err);
}

/* Registers a trained model in the privacy store: its version is a hash of its weights, the
 * training inputs are identified by a hash of which customers were allowed, and it is held
 * against the consent snapshot its gate used (an erasure or withdrawal since: due at once). */
int cli_register_model(const char *db, const char *model_dir, const uint8_t *allowed, size_t n,
                       int64_t snapshot, hp_error *err)
{
    char path[4096], version[32], inputs[32];
    snprintf(path, sizeof path, "%s/model.safetensors", model_dir);
    char *buf;
    size_t len;
    int rc = io_read_file(path, &buf, &len, err);
    if (rc) return rc;
    snprintf(version, sizeof version, "%016llx", (unsigned long long)hp_hash_bytes(buf, len));
    hp_free(buf);
    snprintf(inputs, sizeof inputs, "%016llx", (unsigned long long)hp_hash_bytes(allowed, n));
    privacy_ctx ctx;
    if ((rc = privacy_open_existing(&ctx, db, NULL, err))) return rc;
    snprintf(ctx.actor, sizeof ctx.actor, "cli");
    int due = 0;
    rc = cli_load_key(&ctx, err);
    if (!rc) rc = privacy_register_model(&ctx, "recommender", version, model_dir, inputs, snapshot, &due, err);
    if (!rc) cli_print_audit_head(ctx.st);
    privacy_close(&ctx);
    if (!rc && due)
        fprintf(stderr, "note: an erasure or a withdrawal landed while this model was training: it is "
                "registered as due for retraining\n");
    return rc;
}
