/* Output paths of the commands: an output is never an input or a privacy store (writing there
 * would destroy it), is owner-only, and is registered in the store in use when it holds
 * customer ids, so that erasure can clean it (docs/privacy.md, "Files"). */
#include "cli/cli.h"
#include "io/io_out.h"
#include "privacy/privacy.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every store a command could be using: the one named, $HYPERP_DB, the default. */
static size_t known_stores(const char *named, const char *stores[3])
{
    size_t n = 0;
    const char *env = getenv("HYPERP_DB");
    if (named) stores[n++] = named;
    if (env && *env) stores[n++] = env;
    stores[n++] = STORE_DEFAULT_PATH;
    return n;
}

int cli_refuse_output(const char *flag, const char *out, const char *db, const char *const *inputs,
                      size_t n, hp_error *err)
{
    const char *stores[3];
    size_t ns = known_stores(db, stores);
    int rc = HP_OK;
    for (size_t i = 0; !rc && i < ns; i++) rc = io_out_refuse_store(out, stores[i], err);
    if (!rc) rc = io_out_refuse_same(out, inputs, n, err);
    if (rc) hp_error_prefix(err, "%s", flag);
    return rc;
}

int cli_refuse_outputs_in(const char *flag, const char *dir, const char *const *names, size_t nnames,
                          const char *db, const char *const *inputs, size_t n, hp_error *err)
{
    char path[4096];
    int rc = HP_OK;
    for (size_t i = 0; !rc && i < nnames; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = cli_refuse_output(flag, path, db, inputs, n, err);
    }
    return rc;
}

void *cli_open_output(const char *flag, const char *out, const char *db, const char *const *inputs,
                      size_t n, hp_error *err)
{
    int rc = cli_refuse_output(flag, out, db, inputs, n, err);
    FILE *f = rc ? NULL : io_out_fopen(out, db, inputs, n, err);
    if (!f && !rc) hp_error_prefix(err, "%s", flag);
    return f;
}

size_t cli_dataset_inputs(const data_dataset *ds, const char *config, const char **out, size_t max)
{
    size_t n = 0;
    if (config && n < max) out[n++] = config;
    for (int k = 0; k < DATA_T_COUNT && n < max; k++)
        if (ds->t[k].configured && ds->t[k].file) out[n++] = ds->t[k].file;
    return n;
}

int cli_register_output(const char *db, const char *path, int kind, hp_error *err)
{
    privacy_ctx *ctx = NULL;
    const char *slash = strrchr(db, '/');
    char dir[4096];
    int rc = HP_OK;
    if (slash && slash != db) { /* created on first use, as by the privacy commands */
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - db), db);
        rc = cli_mkdirs(dir, err);
    }
    if (!rc) rc = privacy_open(&ctx, db, NULL, err);
    if (rc) return rc;
    rc = privacy_register_output(ctx, path, (privacy_output_kind)kind, err);
    privacy_close(ctx);
    if (rc) hp_error_prefix(err, "%s was written but could not be registered in %s (erasure would miss it)", path, db);
    return rc;
}

int cli_start_output(io_out_file *o, const char *flag, const char *out, const char *db,
                     const char *const *inputs, size_t n, hp_error *err)
{
    int rc = cli_refuse_output(flag, out, db, inputs, n, err);
    if (!rc && (rc = io_out_start(o, out, db, inputs, n, err))) hp_error_prefix(err, "%s", flag);
    return rc;
}

int cli_finish_output(io_out_file *o, int rc, const char *db, int kind, hp_error *err)
{
    rc = io_out_finish(o, rc, err);
    if (rc || !db) return rc;
    if ((rc = cli_register_output(db, o->path, kind, err)) && io_out_is_file(o) && unlink(o->target) == 0)
        hp_error_prefix(err, "removed %s again", o->path);
    return rc;
}
