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
    int rc = json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ? HP_ERR_WRITE : HP_OK;
    if (!rc && fputc('\n', f) == EOF) rc = HP_ERR_WRITE;
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
    if (!rc && !state) rc = err ? err->status : HP_ERR_WRITE;
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
    if (!in) return errno == ENOENT ? HP_OK : hp_fail(err, HP_ERR_WRITE, "%s: %s", path, strerror(errno));
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = privacy_fopen_private(tmp);
    if (!out) {
        fclose(in);
        return hp_fail(err, HP_ERR_WRITE, "%s: cannot write: %s", tmp, strerror(errno));
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
        return hp_fail(err, HP_ERR_WRITE, "%s: rewrite failed: %s", path, strerror(errno));
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

static void erase_counts(const store_erase_counts *c, char *out, size_t size)
{
    snprintf(out, size, "erased rows: customers %lld, consent %lld, feedback %lld, transactions "
             "%lld, features %lld, notes %lld, audit subjects redacted %lld",
             (long long)c->customers, (long long)c->consent, (long long)c->feedback,
             (long long)c->transactions, (long long)c->features, (long long)c->notes,
             (long long)c->audit_redacted);
}

/* An erasure whose rows are gone but whose file, registry and audit steps are not done. */
typedef struct {
    int64_t id;
    char pseudonyms[PRIVACY_MAX_KEYS * PRIVACY_PSEUDONYM_LEN];
    char counts[256];
} pending;

typedef struct {
    pending *p;
    size_t n, cap;
} pending_list;

static int collect_pending(void *ctx, int64_t id, const char *pseudonyms, const char *counts)
{
    pending_list *l = ctx;
    if (hp_grow((void **)&l->p, &l->cap, l->n + 1, sizeof *l->p)) return 1;
    pending *e = &l->p[l->n++];
    e->id = id;
    snprintf(e->pseudonyms, sizeof e->pseudonyms, "%s", pseudonyms ? pseudonyms : "");
    snprintf(e->counts, sizeof e->counts, "%s", counts ? counts : "");
    return 0;
}

/* Scrubs the export files of one pending erasure, marks the models, then audits it and drops
 * the pending record in one transaction. Safe to repeat: scrubbing twice changes nothing. */
static int finish_one(privacy_ctx *ctx, pending *e, int64_t *files, hp_error *err)
{
    const char *ptrs[PRIVACY_MAX_KEYS];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(e->pseudonyms, " ", &save); t && n < PRIVACY_MAX_KEYS;
         t = strtok_r(NULL, " ", &save))
        ptrs[n++] = t;
    scrub_ctx sc = { ptrs, n, 0, err, HP_OK };
    int rc = n ? store_export_each(ctx->st, scrub_export, &sc, err) : HP_OK;
    if (rc > 0) rc = sc.rc;
    if (files) *files += sc.files;
    if (rc) {
        hp_error_prefix(err, "erasure: the rows are erased but an export file is not; fix this and "
                        "run erase or purge again to finish");
        return rc;
    }
    char outcome[320];
    snprintf(outcome, sizeof outcome, "%s, export files %lld", e->counts, (long long)sc.files);
    if ((rc = store_begin(ctx->st, err))) return rc;
    /* models trained on the customer's data still encode it: the registry says retrain */
    rc = store_model_mark_retrain(ctx->st, "erasure request", privacy_now(ctx), err);
    if (!rc) rc = privacy_audit(ctx, "erase", NULL, NULL, NULL, outcome, err);
    if (!rc) rc = store_erasure_pending_done(ctx->st, e->id, err);
    if (rc) {
        store_rollback(ctx->st);
        return rc;
    }
    return store_commit(ctx->st, err);
}

/* Finishes every pending erasure (only: just that one when not 0); *matched is set when one
 * of them carried one of the nps pseudonyms ps. */
static int finish_pending(privacy_ctx *ctx, int64_t only, const char *const *ps, int nps,
                          int *matched, int64_t *files, int64_t *done, hp_error *err)
{
    pending_list l = { 0 };
    int rc = store_erasure_pending_each(ctx->st, collect_pending, &l, err);
    if (rc > 0) rc = hp_fail(err, HP_ERR_NOMEM, "out of memory listing pending erasures");
    for (size_t i = 0; !rc && i < l.n; i++) {
        if (only && l.p[i].id != only) continue;
        for (int k = 0; k < nps; k++)
            if (strstr(l.p[i].pseudonyms, ps[k])) *matched = 1;
        rc = finish_one(ctx, &l.p[i], files, err);
        if (!rc && done) (*done)++;
    }
    if (l.p) sodium_memzero(l.p, l.cap * sizeof *l.p);
    hp_free(l.p);
    return rc;
}

/* Step 1, one transaction: suppression records for the opt-outs in force, every row deleted,
 * audit subjects redacted, and a pending record naming what the files still have to lose.
 * Step 2 (finish_pending) may fail and be resumed without losing track of the customer. */
int privacy_erase_one(privacy_ctx *ctx, const char *customer_id, privacy_erase_result *res,
                      hp_error *err)
{
    char ps[PRIVACY_MAX_KEYS][PRIVACY_PSEUDONYM_LEN], counts[256];
    char joined[PRIVACY_MAX_KEYS * PRIVACY_PSEUDONYM_LEN] = "";
    const char *ptrs[PRIVACY_MAX_KEYS];
    int64_t pending_id = 0;
    memset(res, 0, sizeof *res);
    int rc = privacy_pseudonyms_all(ctx, customer_id, ps, ptrs, err);
    if (rc) return rc;
    for (int k = 0; k < ctx->nkeys; k++)
        snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s", k ? " " : "", ps[k]);
    if ((rc = store_begin(ctx->st, err))) return rc;
    rc = privacy_suppress_opt_outs(ctx, customer_id, err);
    if (!rc) rc = store_subject_erase(ctx->st, customer_id, ptrs, ctx->nkeys, &res->rows, err);
    erase_counts(&res->rows, counts, sizeof counts);
    if (!rc) rc = store_erasure_pending_add(ctx->st, joined, counts, privacy_now(ctx), &pending_id, err);
    if (rc) store_rollback(ctx->st);
    else rc = store_commit(ctx->st, err);
    if (!rc) rc = finish_pending(ctx, pending_id, NULL, 0, NULL, &res->export_files_rewritten, NULL, err);
    res->models_marked = !rc;
    if (!rc) rc = store_checkpoint_truncate(ctx->st, err);
    sodium_memzero(ps, sizeof ps);
    sodium_memzero(joined, sizeof joined);
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
    int matched = 0;
    memset(res, 0, sizeof *res);
    int rc = privacy_id_check(customer_id, err);
    if (!rc) rc = privacy_pseudonyms_all(ctx, customer_id, ps, ptrs, err);
    /* an earlier erasure that stopped half-way is finished first */
    if (!rc) rc = finish_pending(ctx, 0, ptrs, ctx->nkeys, &matched, &res->export_files_rewritten, NULL, err);
    if (!rc) rc = store_subject_rows(ctx->st, customer_id, ptrs, ctx->nkeys, count_row, &rows, err);
    if (rc) return rc;
    if (rows == 0 && matched) {
        res->resumed = 1;
        res->models_marked = 1;
        return store_checkpoint_truncate(ctx->st, err);
    }
    if (rows == 0)
        return hp_fail(err, HP_ERR_NOTFOUND, "customer '%s': nothing is held about this customer", customer_id);
    int64_t files = res->export_files_rewritten;
    rc = privacy_erase_one(ctx, customer_id, res, err);
    res->export_files_rewritten += files;
    return rc;
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

/* Carries out queued erasure requests (and finishes interrupted erasures). A request is
 * dropped instead when the customer allows some purpose again by now. */
static int purge_erasures(privacy_ctx *ctx, int dry_run, privacy_purge_result *res, hp_error *err)
{
    int64_t pend = 0;
    int rc = store_erasure_pending_count(ctx->st, &pend, err);
    if (rc) return rc;
    if (dry_run) {
        rc = store_erasure_count(ctx->st, &res->erasures, err);
        res->erasures += pend;
        return rc;
    }
    rc = finish_pending(ctx, 0, NULL, 0, NULL, NULL, &res->erasures, err);
    id_list l = { 0 };
    if (!rc) rc = store_erasure_each(ctx->st, collect_id, &l, err);
    if (rc > 0) rc = hp_fail(err, HP_ERR_NOMEM, "out of memory listing erasure requests");
    for (size_t i = 0; !rc && i < l.n; i++) {
        int any = 0;
        rc = privacy_any_allowed(ctx, l.ids[i], &any, err);
        if (!rc && any) {
            rc = store_erasure_cancel(ctx->st, l.ids[i], NULL, err);
            continue;
        }
        privacy_erase_result er;
        if (!rc) rc = privacy_erase_one(ctx, l.ids[i], &er, err);
        res->erasures += !rc;
    }
    id_list_free(&l);
    return rc;
}

/* Removes the log prefix past retention and, in the same transaction, appends the entry that
 * names the new anchor (verification trusts the anchor only when that entry confirms it). */
static int purge_logs(privacy_ctx *ctx, int64_t cutoff, int64_t *n, hp_error *err)
{
    int64_t aseq;
    char ahash[65], outcome[192];
    int rc = store_begin(ctx->st, err);
    if (rc) return rc;
    rc = store_delete_older(ctx->st, STORE_CAT_LOGS, cutoff, n, err);
    if (!rc && *n > 0) rc = store_audit_anchor(ctx->st, &aseq, ahash, err);
    if (!rc && *n > 0) {
        snprintf(outcome, sizeof outcome, "removed %lld entries past retention; anchor seq %lld hash %s",
                 (long long)*n, (long long)aseq, ahash);
        rc = privacy_audit(ctx, AUDIT_PURGE_ACTION, NULL, NULL, NULL, outcome, err);
    }
    if (rc) {
        store_rollback(ctx->st);
        return rc;
    }
    return store_commit(ctx->st, err);
}

/* Customers past retention go with their consent history; the opt-outs in force stay as
 * suppression records (as on erasure), in the same transaction as the delete. */
static int purge_customers(privacy_ctx *ctx, int64_t cutoff, int64_t *n, hp_error *err)
{
    id_list l = { 0 };
    int rc = store_begin(ctx->st, err);
    if (rc) return rc;
    rc = store_customer_each_older(ctx->st, cutoff, collect_id, &l, err);
    if (rc > 0) rc = hp_fail(err, HP_ERR_NOMEM, "out of memory listing customers past retention");
    for (size_t i = 0; !rc && i < l.n; i++) rc = privacy_suppress_opt_outs(ctx, l.ids[i], err);
    if (!rc) rc = store_delete_older(ctx->st, STORE_CAT_CUSTOMER, cutoff, n, err);
    id_list_free(&l);
    if (rc) {
        store_rollback(ctx->st);
        return rc;
    }
    return store_commit(ctx->st, err);
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
        if (dry_run) rc = store_count_older(ctx->st, (store_category)c, res->cutoff[c], &res->rows[c], err);
        else if (c == STORE_CAT_LOGS) rc = purge_logs(ctx, res->cutoff[c], &res->rows[c], err);
        else if (c == STORE_CAT_CUSTOMER) rc = purge_customers(ctx, res->cutoff[c], &res->rows[c], err);
        else rc = store_delete_older(ctx->st, (store_category)c, res->cutoff[c], &res->rows[c], err);
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
