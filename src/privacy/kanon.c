/* k-anonymity: generalised quasi-identifiers, equivalence classes, dataset export. */
#include "privacy/privacy_internal.h"
#include "data/parse.h"
#include "io/io_out.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void privacy_generalise(const char *value, int level, char *out, size_t size)
{
    const char *s = value ? value : "";
    size_t n = strlen(s);
    hp_trim(&s, &n);
    double lo, hi;
    if (level >= 2 || n == 0) {
        snprintf(out, size, "%s", n ? "*" : "?");
        return;
    }
    if (level == 1 && data_band_parse(s, n, &lo, &hi, NULL) == HP_OK) {
        double v = data_band_value(lo, hi);
        if (isfinite(v) && v >= 1) {
            double p = pow(10, floor(log10(v)));
            snprintf(out, size, "%.0f-%.0f", p, p * 10 - 1);
            return;
        }
    }
    size_t k = 0;
    for (; k < n && k + 1 < size; k++) out[k] = (char)tolower((unsigned char)s[k]);
    out[k] = 0;
}

typedef struct {
    privacy_ctx *ctx;
    int level, need_consent;
    char **keys, **ids;   /* generalised QI row (fields joined by ';') and customer id */
    size_t n, cap, ids_cap;
    int rc;
    hp_error *err;
} kan;

static void row_key(const privacy_config *cfg, const char *attrs, int level, char *out, size_t size)
{
    json_t *o = attrs ? json_loads(attrs, 0, NULL) : NULL;
    size_t used = 0;
    out[0] = 0;
    for (int q = 0; q < cfg->nqi && used + 1 < size; q++) {
        json_t *v = json_object_get(o, cfg->qi[q]);
        char raw[64] = "", g[64];
        if (json_is_string(v)) snprintf(raw, sizeof raw, "%s", json_string_value(v));
        else if (json_is_number(v)) snprintf(raw, sizeof raw, "%g", json_number_value(v));
        privacy_generalise(raw, level, g, sizeof g);
        used += (size_t)snprintf(out + used, size - used, "%s%s", q ? ";" : "", g);
    }
    json_decref(o);
}

static int kan_row(void *ctx, const char *id, const char *attrs)
{
    kan *k = ctx;
    char key[512];
    if (k->need_consent) {
        int ok = privacy_allowed(k->ctx, id, PRIVACY_ANALYTICS, PRIVACY_REQ_NO_AUDIT, NULL, k->err);
        if (ok < 0) return k->rc = ok, 1;
        if (!ok) return 0;
    }
    row_key(&k->ctx->cfg, attrs, k->level, key, sizeof key);
    if (hp_grow((void **)&k->keys, &k->cap, k->n + 1, sizeof *k->keys)) return k->rc = HP_ERR_NOMEM, 1;
    if (hp_grow((void **)&k->ids, &k->ids_cap, k->n + 1, sizeof *k->ids)) return k->rc = HP_ERR_NOMEM, 1;
    k->keys[k->n] = hp_strdup(key);
    k->ids[k->n] = hp_strdup(id);
    if (!k->keys[k->n] || !k->ids[k->n]) {
        hp_free(k->keys[k->n]);
        hp_free(k->ids[k->n]);
        return k->rc = HP_ERR_NOMEM, 1;
    }
    k->n++;
    return 0;
}

static void kan_free(kan *k)
{
    for (size_t i = 0; i < k->n; i++) hp_free(k->keys[i]), hp_free(k->ids[i]);
    hp_free(k->keys);
    hp_free(k->ids);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void kan_measure(const kan *k, privacy_kanon *out)
{
    char **sorted = hp_malloc((k->n ? k->n : 1) * sizeof *sorted);
    memset(out, 0, sizeof *out);
    out->level = k->level;
    out->records = (int64_t)k->n;
    if (!sorted || !k->n) {
        hp_free(sorted);
        return;
    }
    memcpy(sorted, k->keys, k->n * sizeof *sorted);
    qsort(sorted, k->n, sizeof *sorted, cmp_str);
    out->smallest = INT64_MAX;
    for (size_t i = 0, j; i < k->n; i = j) {
        for (j = i + 1; j < k->n && !strcmp(sorted[i], sorted[j]); j++) {}
        out->classes++;
        out->smallest = HP_MIN(out->smallest, (int64_t)(j - i));
    }
    hp_free(sorted);
}

static int kan_collect(privacy_ctx *ctx, int level, int need_consent, kan *k, hp_error *err)
{
    memset(k, 0, sizeof *k);
    k->ctx = ctx;
    k->level = level;
    k->need_consent = need_consent;
    k->err = err;
    int rc = store_customer_each(ctx->st, kan_row, k, err);
    if (rc > 0) rc = k->rc == HP_ERR_NOMEM ? hp_fail(err, HP_ERR_NOMEM, "out of memory") : k->rc;
    return rc;
}

int privacy_kanon_store(privacy_ctx *ctx, int level, privacy_kanon *out, hp_error *err)
{
    kan k;
    int rc = kan_collect(ctx, level, 0, &k, err);
    if (!rc) kan_measure(&k, out);
    kan_free(&k);
    return rc;
}

static int write_dataset(privacy_ctx *ctx, const kan *k, const char *path, hp_error *err)
{
    hp_error oerr = { 0 };
    /* never onto the store itself (or its WAL): that would destroy it */
    FILE *f = io_out_fopen(path, store_path(ctx->st), NULL, 0, &oerr);
    if (!f) return hp_fail(err, oerr.status, "%s", oerr.msg);
    int rc = HP_OK;
    fprintf(f, "pseudonym");
    for (int q = 0; q < ctx->cfg.nqi; q++) fprintf(f, ",%s", ctx->cfg.qi[q]);
    fputc('\n', f);
    for (size_t i = 0; !rc && i < k->n; i++) {
        char ps[PRIVACY_PSEUDONYM_LEN];
        rc = privacy_pseudonym(ctx, k->ids[i], ps, err);
        if (rc) break;
        fprintf(f, "%s,", ps);
        for (const char *c = k->keys[i]; *c; c++) fputc(*c == ';' ? ',' : (*c == ',' ? ' ' : *c), f);
        fputc('\n', f);
    }
    int bad = ferror(f) | fflush(f) | fsync(fileno(f));
    if (fclose(f) || bad) rc = rc ? rc : hp_fail(err, HP_ERR_WRITE, "%s: write failed", path);
    return rc;
}

int privacy_export_dataset(privacy_ctx *ctx, const char *path, int level, privacy_kanon *out,
                           hp_error *err)
{
    kan k;
    int rc = privacy_load_key(ctx, err);
    if (!rc) rc = kan_collect(ctx, level, 1, &k, err);
    if (rc) return rc;
    kan_measure(&k, out);
    if (out->records == 0) rc = hp_fail(err, HP_ERR_EMPTY, "no customer has analytics consent: nothing to export");
    else if (out->smallest < ctx->cfg.k_anonymity)
        rc = hp_fail(err, HP_ERR_RANGE, "export refused: smallest equivalence class has %lld "
                     "record%s, below k = %d (try a higher generalisation level)",
                     (long long)out->smallest, out->smallest == 1 ? "" : "s", ctx->cfg.k_anonymity);
    if (!rc) rc = write_dataset(ctx, &k, path, err);
    char canon[4096]; /* absolute: an erasure run from another folder still finds it */
    if (!rc && io_out_canonical(path, canon, sizeof canon, NULL)) snprintf(canon, sizeof canon, "%s", path);
    if (!rc) rc = store_export_record(ctx->st, canon, "dataset", out->smallest, privacy_now(ctx), err);
    if (!rc) {
        char outcome[128];
        snprintf(outcome, sizeof outcome, "dataset export: %lld rows, k = %lld, level %d",
                 (long long)out->records, (long long)out->smallest, level);
        rc = privacy_audit(ctx, "export.dataset", "analytics", NULL, NULL, outcome, err);
    }
    kan_free(&k);
    return rc;
}
