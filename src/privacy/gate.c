/* The consent gate over a customers table and the registration of what was trained on it
 * (spec in privacy.h): what train, recommend and the service call. */
#include "privacy/privacy.h"
#include "io/io.h"

#include <stdio.h>

int privacy_gate_table(privacy_ctx *ctx, const data_table *customers, privacy_purpose purpose, uint8_t **allowed,
                       size_t *nallowed, int64_t *snapshot, hp_error *err)
{
    *allowed = NULL;
    *nallowed = 0;
    size_t n = customers->nrows;
    const char **ids = hp_malloc((n + 1) * sizeof *ids);
    uint8_t *ok = hp_calloc(n + 1, 1);
    int rc = ids && ok ? HP_OK : hp_fail(err, HP_ERR_NOMEM, "consent gate: out of memory");
    for (size_t i = 0; !rc && i < n; i++) ids[i] = data_col_str(&customers->cols[customers->id_col], i);
    /* read before any decision: whatever lands while the gate decides is after it */
    if (!rc && snapshot) rc = privacy_consent_snapshot(ctx, snapshot, err);
    if (!rc) rc = privacy_allowed_bulk(ctx, ids, n, purpose, 0, ok, nallowed, err);
    hp_free(ids);
    if (rc) {
        hp_free(ok);
        return rc;
    }
    *allowed = ok;
    return HP_OK;
}

int privacy_register_trained(privacy_ctx *ctx, const char *kind, const char *model_dir, const char *weights_file,
                             const uint8_t *allowed, size_t n, int64_t snapshot, int *due, hp_error *err)
{
    char path[4096], version[32], inputs[32];
    int w = snprintf(path, sizeof path, "%s/%s", model_dir, weights_file);
    if (w < 0 || (size_t)w >= sizeof path) return hp_fail(err, HP_ERR_INVAL, "%s: path too long", model_dir);
    char *buf;
    size_t len;
    int rc = io_read_file(path, &buf, &len, err);
    if (rc) return rc;
    /* the version is a hash of the weights; the inputs, a hash of who was allowed */
    snprintf(version, sizeof version, "%016llx", (unsigned long long)hp_hash_bytes(buf, len));
    hp_free(buf);
    snprintf(inputs, sizeof inputs, "%016llx", (unsigned long long)hp_hash_bytes(allowed, n));
    return privacy_register_model(ctx, kind, version, model_dir, inputs, snapshot, due, err);
}
