/* report: the compliance report, built once as JSON and printed as JSON or text. */
#include "privacy/privacy_internal.h"
#include "text/pii.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    privacy_ctx *ctx;
    int64_t customers, allowed[PRIVACY_PURPOSE_COUNT];
    int64_t pii[PII_TYPE_COUNT];
    json_t *list;
    hp_error *err;
    int rc;
} rep_acc;

static int coverage_row(void *c, const char *id, const char *attrs)
{
    rep_acc *a = c;
    (void)attrs;
    a->customers++;
    for (int p = 0; p < PRIVACY_PURPOSE_COUNT; p++) {
        int ok = privacy_allowed(a->ctx, id, (privacy_purpose)p, PRIVACY_REQ_NO_AUDIT, NULL, a->err);
        if (ok < 0) return a->rc = ok, 1;
        a->allowed[p] += ok;
    }
    return 0;
}

static int pii_value(void *c, const char *table, const char *column, const char *value)
{
    rep_acc *a = c;
    pii_match m[16];
    if (!strcmp(column, "hash") || !strcmp(column, "prev") || !strcmp(column, "subject_commit"))
        return 0; /* hex digests look like numbers, never PII */
    size_t len = strlen(value), n = pii_scan(value, len, m, 16);
    pii_match *all = n > 16 && n != PII_SCAN_NOMEM ? hp_malloc(n * sizeof *all) : m;
    if (n == PII_SCAN_NOMEM || !all || (all != m && pii_scan(value, len, all, n) != n)) {
        if (all != m) hp_free(all);
        a->rc = hp_fail(a->err, HP_ERR_NOMEM, "out of memory scanning %s.%s for PII", table, column);
        return 1;
    }
    for (size_t i = 0; i < n; i++) a->pii[all[i].type]++;
    if (all != m) hp_free(all);
    return 0;
}

static int export_item(void *c, const char *path, const char *kind, int64_t k, int64_t at)
{
    rep_acc *a = c;
    json_array_append_new(a->list, json_pack("{s:s, s:s, s:I, s:I}", "path", path, "kind", kind,
                                             "k", (json_int_t)k, "at", (json_int_t)at));
    return 0;
}

static int scan_item(void *c, const char *path, const char *counts, int64_t findings, int64_t at)
{
    rep_acc *a = c;
    json_t *o = json_loads(counts, 0, NULL);
    json_array_append_new(a->list, json_pack("{s:s, s:I, s:o, s:I}", "path", path, "findings",
                                             (json_int_t)findings, "counts", o ? o : json_object(),
                                             "at", (json_int_t)at));
    return 0;
}

static json_t *consent_json(rep_acc *a)
{
    json_t *o = json_object();
    for (int p = 0; p < PRIVACY_PURPOSE_COUNT; p++)
        json_object_set_new(o, privacy_purpose_name((privacy_purpose)p),
            json_pack("{s:I, s:f}", "allowed", (json_int_t)a->allowed[p], "share",
                      a->customers ? (double)a->allowed[p] / (double)a->customers : 0.0));
    return o;
}

static int retention_json(privacy_ctx *ctx, json_t *doc, hp_error *err)
{
    privacy_purge_result pr;
    int rc = privacy_purge(ctx, 1, &pr, err);
    if (rc) return rc;
    json_t *o = json_object();
    for (int c = 0; c < STORE_CAT_COUNT; c++)
        json_object_set_new(o, store_category_name((store_category)c),
            json_pack("{s:I, s:I}", "days", (json_int_t)ctx->cfg.retention_days[c], "past_retention",
                      (json_int_t)pr.rows[c]));
    json_object_set_new(doc, "retention", o);
    json_object_set_new(doc, "pending_erasures", json_integer(pr.erasures));
    return HP_OK;
}

static json_t *pii_json(const rep_acc *a)
{
    json_t *o = json_object();
    for (int t = 0; t < PII_TYPE_COUNT; t++)
        json_object_set_new(o, pii_type_name((pii_type)t), json_integer(a->pii[t]));
    return o;
}

static int build(privacy_ctx *ctx, json_t *doc, hp_error *err)
{
    rep_acc a = { .ctx = ctx, .err = err };
    int rc = store_customer_each(ctx->st, coverage_row, &a, err);
    if (rc > 0) rc = a.rc;
    if (rc) return rc;
    json_object_set_new(doc, "customers", json_integer(a.customers));
    json_object_set_new(doc, "consent", consent_json(&a));
    if ((rc = retention_json(ctx, doc, err))) return rc;
    privacy_kanon k;
    if ((rc = privacy_kanon_store(ctx, 1, &k, err))) return rc;
    json_object_set_new(doc, "k_anonymity", json_pack("{s:I, s:I, s:I, s:i, s:b}", "smallest_class",
        (json_int_t)k.smallest, "classes", (json_int_t)k.classes, "records", (json_int_t)k.records,
        "required_k", ctx->cfg.k_anonymity, "ok", k.records == 0 || k.smallest >= ctx->cfg.k_anonymity));
    a.list = json_array();
    json_object_set_new(doc, "exports", a.list);
    if ((rc = store_export_each(ctx->st, export_item, &a, err))) return rc;
    if ((rc = store_each_value(ctx->st, pii_value, &a, err)) > 0) rc = a.rc;
    if (rc) return rc;
    json_object_set_new(doc, "pii_in_store", pii_json(&a));
    a.list = json_array();
    json_object_set_new(doc, "pii_file_scans", a.list);
    if ((rc = store_scan_each(ctx->st, scan_item, &a, err))) return rc;
    audit_report ar;
    rc = audit_verify_store(ctx->st, &ar, err);
    if (rc && rc != HP_ERR_FORMAT) return rc;
    json_object_set_new(doc, "audit", json_pack("{s:b, s:I, s:I, s:s, s:s}", "intact", rc == HP_OK,
        "entries", (json_int_t)ar.entries, "redacted", (json_int_t)ar.redacted, "head", ar.head,
        "problem", ar.problem));
    int64_t due;
    if ((rc = store_model_retrain_due(ctx->st, &due, err))) return rc;
    json_object_set_new(doc, "models_retrain_due", json_integer(due));
    return HP_OK;
}

static void print_text(json_t *d, FILE *f)
{
    fprintf(f, "hyperp compliance report\n\ncustomers: %lld\nconsent coverage:\n",
            (long long)json_integer_value(json_object_get(d, "customers")));
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(d, "consent"), key, v)
        fprintf(f, "  %-18s %6lld  %5.1f%%\n", key, (long long)json_integer_value(json_object_get(v, "allowed")),
                100 * json_real_value(json_object_get(v, "share")));
    fprintf(f, "pending erasures: %lld\ndata past retention:\n",
            (long long)json_integer_value(json_object_get(d, "pending_erasures")));
    json_object_foreach(json_object_get(d, "retention"), key, v)
        fprintf(f, "  %-18s %6lld rows (period %lld days)\n", key,
                (long long)json_integer_value(json_object_get(v, "past_retention")),
                (long long)json_integer_value(json_object_get(v, "days")));
    json_t *k = json_object_get(d, "k_anonymity");
    fprintf(f, "k-anonymity (level 1): smallest class %lld over %lld classes, required k %lld: %s\n",
            (long long)json_integer_value(json_object_get(k, "smallest_class")),
            (long long)json_integer_value(json_object_get(k, "classes")),
            (long long)json_integer_value(json_object_get(k, "required_k")),
            json_is_true(json_object_get(k, "ok")) ? "ok" : "BELOW k");
    size_t i;
    fprintf(f, "exports: %zu\n", json_array_size(json_object_get(d, "exports")));
    json_array_foreach(json_object_get(d, "exports"), i, v)
        fprintf(f, "  %s (%s, k %lld)\n", json_string_value(json_object_get(v, "path")),
                json_string_value(json_object_get(v, "kind")), (long long)json_integer_value(json_object_get(v, "k")));
    fprintf(f, "PII found in stored text:");
    json_object_foreach(json_object_get(d, "pii_in_store"), key, v)
        fprintf(f, " %s %lld", key, (long long)json_integer_value(v));
    fprintf(f, "\nPII file scans: %zu\n", json_array_size(json_object_get(d, "pii_file_scans")));
    json_array_foreach(json_object_get(d, "pii_file_scans"), i, v)
        fprintf(f, "  %s: %lld findings\n", json_string_value(json_object_get(v, "path")),
                (long long)json_integer_value(json_object_get(v, "findings")));
    json_t *a = json_object_get(d, "audit");
    fprintf(f, "audit chain: %s, %lld entries (%lld redacted)%s%s\n",
            json_is_true(json_object_get(a, "intact")) ? "intact" : "BROKEN",
            (long long)json_integer_value(json_object_get(a, "entries")),
            (long long)json_integer_value(json_object_get(a, "redacted")),
            json_is_true(json_object_get(a, "intact")) ? "" : ": ",
            json_string_value(json_object_get(a, "problem")));
    fprintf(f, "models due for retraining: %lld\n",
            (long long)json_integer_value(json_object_get(d, "models_retrain_due")));
}

int privacy_report(privacy_ctx *ctx, int json, void *f, hp_error *err)
{
    json_t *doc = json_object();
    int rc = build(ctx, doc, err);
    if (!rc) {
        if (json) {
            rc = json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ? HP_ERR_WRITE : HP_OK;
            fputc('\n', f);
        } else print_text(doc, f);
    }
    json_decref(doc);
    if (!rc) rc = privacy_audit(ctx, "report", NULL, NULL, NULL, "compliance report", err);
    return rc;
}
