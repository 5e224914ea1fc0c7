/* rights: access/portability export (Art. 15/20), erasure (Art. 17), retention purge. */
#include "privacy/privacy_internal.h"
#include "data/parse.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ export */

typedef struct {
    json_t *tables;
    int64_t rows;
} export_acc;

static int export_row(void *ctx, const char *table, int ncols, const char *const *names,
                      const char *const *values)
{
    export_acc *acc = ctx;
    json_t *arr = json_object_get(acc->tables, table);
    if (!arr) {
        arr = json_array();
        json_object_set_new(acc->tables, table, arr);
    }
    json_t *row = json_object();
    for (int i = 0; i < ncols; i++)
        json_object_set_new(row, names[i], values[i] ? json_string(values[i]) : json_null());
    json_array_append_new(arr, row);
    acc->rows++;
    return 0;
}

static json_t *consent_state(privacy_ctx *ctx, const char *id, hp_error *err)
{
    json_t *o = json_object();
    for (int p = 0; p < PRIVACY_PURPOSE_COUNT; p++) {
        privacy_decision why;
        int rc = privacy_allowed(ctx, id, (privacy_purpose)p, PRIVACY_REQ_NO_AUDIT, &why, err);
        if (rc < 0) {
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, privacy_purpose_name((privacy_purpose)p),
                            json_pack("{s:b, s:s}", "allowed", why.allowed, "reason", why.reason));
    }
    return o;
}

static int write_export(FILE *f, const char *id, const char *ps, int64_t now, json_t *tables,
                        json_t *state)
{
    char when[32];
    data_format_timestamp(now, when, sizeof when);
    json_t *doc = json_pack("{s:i, s:s, s:s, s:s, s:o, s:o}", "hyperp_export", 1,
                            "generated_at", when, "customer_id", id, "pseudonym", ps,
                            "consent_state", state, "tables", tables);
    if (!doc) return HP_ERR_NOMEM;
    int rc = json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ? HP_ERR_IO : HP_OK;
    if (!rc && fputc('\n', f) == EOF) rc = HP_ERR_IO;
    json_decref(doc);
    return rc;
}

int privacy_export(privacy_ctx *ctx, const char *customer_id, void *f, hp_error *err)
{
    char ps[PRIVACY_MAX_KEYS][PRIVACY_PSEUDONYM_LEN];
    const char *ptrs[PRIVACY_MAX_KEYS];
    int rc = privacy_id_check(customer_id, err);
    if (!rc) rc = privacy_pseudonyms_all(ctx, customer_id, ps, ptrs, err);
    if (rc) return rc;
    export_acc acc = { json_object(), 0 };
    rc = store_subject_rows(ctx->st, customer_id, ptrs, ctx->nkeys, export_row, &acc, err);
    if (!rc && acc.rows == 0)
        rc = hp_fail(err, HP_ERR_NOTFOUND, "customer '%s': nothing is held about this customer", customer_id);
    json_t *state = rc ? NULL : consent_state(ctx, customer_id, err);
    if (!rc && !state) rc = err ? err->status : HP_ERR_IO;
    if (rc) {
        json_decref(acc.tables);
        return rc;
    }
    rc = write_export(f, customer_id, ps[0], privacy_now(ctx), acc.tables, state);
    if (rc) return hp_fail(err, rc, "writing the export failed");
    char outcome[64];
    snprintf(outcome, sizeof outcome, "exported %lld rows", (long long)acc.rows);
    return privacy_audit(ctx, "export", NULL, ps[0], NULL, outcome, err);
}

/* ------------------------------------------------------------------ erasure */

/* Rewrites a dataset export without the lines that carry any of the pseudonyms. */
static int scrub_dataset(const char *path, const char *const *ps, int n, int64_t *dropped,
                         hp_error *err)
{
    char tmp[4096], *line = NULL;
    size_t cap = 0;
    FILE *in = fopen(path, "r");
    if (!in) return errno == ENOENT ? HP_OK : hp_fail(err, HP_ERR_IO, "%s: %s", path, strerror(errno));
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    if (!out) {
        fclose(in);
        return hp_fail(err, HP_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
    }
    int bad = 0;
    while (getline(&line, &cap, in) > 0) {
        int hit = 0;
        for (int i = 0; i < n && !hit; i++) hit = strstr(line, ps[i]) != NULL;
        if (hit) (*dropped)++;
        else bad |= fputs(line, out) < 0;
    }
    free(line);
    fclose(in);
    bad |= fflush(out) != 0 || fsync(fileno(out)) != 0;
    bad |= fclose(out) != 0;
    if (bad || rename(tmp, path)) {
        remove(tmp);
        return hp_fail(err, HP_ERR_IO, "%s: rewrite failed: %s", path, strerror(errno));
    }
    return HP_OK;
}

typedef struct {
    const char *const *ps;
    int n;
    int64_t files;
    hp_error *err;
    int rc;
} scrub_ctx;

static int scrub_export(void *ctx, const char *path, const char *kind, int64_t k, int64_t at)
{
    scrub_ctx *sc = ctx;
    int64_t hits = 0;
    (void)k;
    (void)at;
    sc->rc = !strcmp(kind, "audit") ? audit_redact_file(path, sc->ps, sc->n, &hits, sc->err)
                                    : scrub_dataset(path, sc->ps, sc->n, &hits, sc->err);
    sc->files += hits > 0;
    return sc->rc ? 1 : 0;
}

static void erase_outcome(const privacy_erase_result *r, char *out, size_t size)
{
    const store_erase_counts *c = &r->rows;
    snprintf(out, size, "erased rows: customers %lld, consent %lld, feedback %lld, transactions "
             "%lld, features %lld, notes %lld, audit subjects redacted %lld, export files %lld",
             (long long)c->customers, (long long)c->consent, (long long)c->feedback,
             (long long)c->transactions, (long long)c->features, (long long)c->notes,
             (long long)c->audit_redacted, (long long)r->export_files_rewritten);
}

int privacy_erase_one(privacy_ctx *ctx, const char *customer_id, privacy_erase_result *res,
                      hp_error *err)
{
    char ps[PRIVACY_MAX_KEYS][PRIVACY_PSEUDONYM_LEN], outcome[256];
    const char *ptrs[PRIVACY_MAX_KEYS];
    memset(res, 0, sizeof *res);
    int rc = privacy_pseudonyms_all(ctx, customer_id, ps, ptrs, err);
    if (!rc) rc = store_subject_erase(ctx->st, customer_id, ptrs, ctx->nkeys, &res->rows, err);
    if (rc) return rc;
    scrub_ctx sc = { ptrs, ctx->nkeys, 0, err, HP_OK };
    rc = store_export_each(ctx->st, scrub_export, &sc, err);
    if (rc > 0) rc = sc.rc;
    res->export_files_rewritten = sc.files;
    /* models trained on the customer's data still encode it: the registry says retrain */
    if (!rc) rc = store_model_mark_retrain(ctx->st, "erasure request", privacy_now(ctx), err);
    res->models_marked = !rc;
    erase_outcome(res, outcome, sizeof outcome);
    if (!rc) rc = privacy_audit(ctx, "erase", NULL, NULL, NULL, outcome, err);
    if (!rc) rc = store_checkpoint_truncate(ctx->st, err);
    sodium_memzero(ps, sizeof ps);
    return rc;
}

static int count_row(void *ctx, const char *table, int ncols, const char *const *names,
                     const char *const *values)
{
    (void)table, (void)ncols, (void)names, (void)values;
    (*(int64_t *)ctx)++;
    return 0;
}

int privacy_erase(privacy_ctx *ctx, const char *customer_id, privacy_erase_result *res,
                  hp_error *err)
{
    char ps[PRIVACY_MAX_KEYS][PRIVACY_PSEUDONYM_LEN];
    const char *ptrs[PRIVACY_MAX_KEYS];
    int64_t rows = 0;
    int rc = privacy_id_check(customer_id, err);
    if (!rc) rc = privacy_pseudonyms_all(ctx, customer_id, ps, ptrs, err);
    if (!rc) rc = store_subject_rows(ctx->st, customer_id, ptrs, ctx->nkeys, count_row, &rows, err);
    if (rc) return rc;
    if (rows == 0)
        return hp_fail(err, HP_ERR_NOTFOUND, "customer '%s': nothing is held about this customer", customer_id);
    return privacy_erase_one(ctx, customer_id, res, err);
}

/* ------------------------------------------------------------------ purge */

typedef struct {
    char **ids;
    size_t n, cap;
} id_list;

static int collect_id(void *ctx, const char *id)
{
    id_list *l = ctx;
    if (hp_grow((void **)&l->ids, &l->cap, l->n + 1, sizeof *l->ids)) return 1;
    return (l->ids[l->n] = hp_strdup(id)) ? (l->n++, 0) : 1;
}

static void id_list_free(id_list *l)
{
    for (size_t i = 0; i < l->n; i++) hp_free(l->ids[i]);
    hp_free(l->ids);
}

static int purge_erasures(privacy_ctx *ctx, int dry_run, privacy_purge_result *res, hp_error *err)
{
    if (dry_run) return store_erasure_count(ctx->st, &res->erasures, err);
    id_list l = { 0 };
    int rc = store_erasure_each(ctx->st, collect_id, &l, err);
    if (rc > 0) rc = hp_fail(err, HP_ERR_NOMEM, "out of memory listing erasure requests");
    for (size_t i = 0; !rc && i < l.n; i++) {
        privacy_erase_result er;
        rc = privacy_erase_one(ctx, l.ids[i], &er, err);
        res->erasures += !rc;
    }
    id_list_free(&l);
    return rc;
}

int privacy_purge(privacy_ctx *ctx, int dry_run, privacy_purge_result *res, hp_error *err)
{
    memset(res, 0, sizeof *res);
    int64_t now = privacy_now(ctx);
    int rc = HP_OK;
    for (int c = 0; !rc && c < STORE_CAT_COUNT; c++) {
        int64_t days = ctx->cfg.retention_days[c];
        if (days <= 0) continue;
        res->cutoff[c] = now - days * 86400;
        rc = dry_run ? store_count_older(ctx->st, (store_category)c, res->cutoff[c], &res->rows[c], err)
                     : store_delete_older(ctx->st, (store_category)c, res->cutoff[c], &res->rows[c], err);
    }
    if (!rc) rc = purge_erasures(ctx, dry_run, res, err);
    if (rc || dry_run) return rc;
    char outcome[256];
    snprintf(outcome, sizeof outcome, "purged: customer %lld, transactions %lld, feedback %lld, "
             "features %lld, logs %lld; erasures %lld", (long long)res->rows[0],
             (long long)res->rows[1], (long long)res->rows[2], (long long)res->rows[3],
             (long long)res->rows[4], (long long)res->erasures);
    rc = privacy_audit(ctx, "purge", NULL, NULL, NULL, outcome, err);
    return rc ? rc : store_checkpoint_truncate(ctx->st, err);
}
