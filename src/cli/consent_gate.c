/* The consent gate for commands that process customers' data (train, recommend): asks the
 * privacy store, once for the whole table, which customers may be processed for a purpose. */
#include "cli/cli.h"
#include "privacy/privacy.h"

#include <stdio.h>
#include <stdlib.h>

int cli_load_key(privacy_ctx *ctx, hp_error *err)
{
    static int warned; /* once per run, though train loads the key twice */
    int rc = privacy_load_key(ctx, err);
    if (!rc && privacy_warning(ctx)[0] && !warned++) fprintf(stderr, "hyperp: warning: %s\n", privacy_warning(ctx));
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
    privacy_ctx *ctx = NULL;
    /* a consent store that does not exist is a mistyped path: an empty one would deny everyone */
    int rc = privacy_open_existing(&ctx, db, NULL, err);
    if (rc) return rc;
    privacy_set_actor(ctx, "cli");
    rc = cli_load_key(ctx, err);
    if (!rc) rc = privacy_gate_table(ctx, customers, (privacy_purpose)purpose, allowed, nallowed, snapshot, err);
    if (!rc) cli_print_audit_head(privacy_store(ctx));
    privacy_close(ctx);
    return rc;
}

int cli_consent_gate(const char *db, const data_table *customers, int purpose, uint8_t **allowed,
                     size_t *nallowed, hp_error *err)
{
    return cli_consent_gate_snapshot(db, customers, purpose, allowed, nallowed, NULL, err);
}

int cli_register_model(const char *db, const char *model_dir, const uint8_t *allowed, size_t n,
                       int64_t snapshot, hp_error *err)
{
    privacy_ctx *ctx = NULL;
    int rc = privacy_open_existing(&ctx, db, NULL, err);
    if (rc) return rc;
    privacy_set_actor(ctx, "cli");
    int due = 0;
    rc = cli_load_key(ctx, err);
    if (!rc) rc = privacy_register_trained(ctx, "recommender", model_dir, "model.safetensors", allowed, n, snapshot, &due, err);
    if (!rc) cli_print_audit_head(privacy_store(ctx));
    privacy_close(ctx);
    if (!rc && due)
        fprintf(stderr, "note: an erasure or a withdrawal landed while this model was training: it is "
                "registered as due for retraining\n");
    return rc;
}
