/* Train / validation / test split: by customer, by time, or by fixed folds (the shared
 * splits under ../shared/data/splits, so our figures and peers' come from the same rows). */
#include "rec/rec.h"
#include "io/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rec_split_free(rec_split *s)
{
    hp_free(s->role);
    hp_free(s->vis_off);
    hp_free(s->vis);
    for (int i = 0; i < 2; i++) { hp_free(s->tgt_off[i]); hp_free(s->tgt[i]); }
    hp_free(s->label);
    hp_free(s->tag);
    memset(s, 0, sizeof *s);
}

int rec_split_trains(const rec_split *s, int c)
{
    return s->role[c] != REC_ROLE_NONE && (s->all_train || s->role[c] == REC_ROLE_TRAIN);
}

void rec_split_exclude(rec_split *s, const uint8_t *allowed)
{
    for (int c = 0; allowed && c < s->ncust; c++)
        if (!allowed[c]) s->role[c] = REC_ROLE_NONE;
}

int rec_split_visible(const rec_split *s, int c, int32_t p)
{
    int64_t lo = s->vis_off[c], hi = s->vis_off[c + 1];
    while (lo < hi) {
        int64_t mid = (lo + hi) / 2;
        if (s->vis[mid] == p) return 1;
        if (s->vis[mid] < p) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

/* ------------------------------------------------------------------ per-interaction tags */

enum { TAG_VISIBLE = REC_TAG_VISIBLE, TAG_VALID = REC_TAG_VALID, TAG_TEST = REC_TAG_TEST, TAG_IGNORE = REC_TAG_IGNORE };

typedef struct {
    const data_table *it;
    const data_column *cust, *prod, *kind, *value, *ts;
    uint8_t *positive_kind;        /* per kind code */
    int32_t label_kind;            /* kind code of "label" or -1 */
} ix_view;

static int in_list(char **l, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(l[i], s) == 0) return 1;
    return 0;
}

static int make_view(ix_view *v, const data_dataset *ds, const rec_config *cfg)
{
    v->it = &ds->t[DATA_T_INTERACTIONS];
    v->cust = data_table_col_role(v->it, DATA_ROLE_CUSTOMER);
    v->prod = data_table_col_role(v->it, DATA_ROLE_PRODUCT);
    v->kind = data_table_col_role(v->it, DATA_ROLE_KIND);
    v->value = data_table_col_role(v->it, DATA_ROLE_VALUE);
    v->ts = data_table_col_role(v->it, DATA_ROLE_TIMESTAMP);
    v->label_kind = -1;
    uint32_t nk = v->kind ? v->kind->dict.n : 0;
    v->positive_kind = hp_calloc(nk + 1, 1);
    if (!v->positive_kind) return HP_ERR_NOMEM;
    for (uint32_t k = 0; k < nk; k++) {
        const char *name = v->kind->dict.str[k];
        if (strcmp(name, "label") == 0) v->label_kind = (int32_t)k;
        else v->positive_kind[k] = cfg->train.npositive_kinds ? in_list(cfg->train.positive_kinds, cfg->train.npositive_kinds, name) : 1;
    }
    return HP_OK;
}

static int is_target_kind(const ix_view *v, const rec_config *cfg, size_t r)
{
    return cfg->split.ntarget_kinds && in_list(cfg->split.target_kinds, cfg->split.ntarget_kinds, data_col_str(v->kind, r));
}

/* ------------------------------------------------------------------ customer roles */

static double unit_hash(const char *id, uint64_t seed)
{
    uint64_t h = hp_hash_bytes(id, strlen(id)) ^ (seed * 0x9e3779b97f4a7c15ULL);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (double)(h >> 11) * 0x1.0p-53;
}

static void roles_by_customer(rec_split *s, const data_table *cu, const rec_split_cfg *sc)
{
    const data_column *id = &cu->cols[cu->id_col];
    for (int c = 0; c < s->ncust; c++) {
        double u = unit_hash(data_col_str(id, (size_t)c), sc->seed);
        s->role[c] = u < sc->test_fraction ? REC_ROLE_TEST
                     : u < sc->test_fraction + sc->valid_fraction ? REC_ROLE_VALID : REC_ROLE_TRAIN;
    }
}

/* Calls fn for every line of a small text file (without its line end), with its number.
 * A file's last line may lack its newline. */
typedef int (*line_fn)(void *ctx, char *line, long lineno, hp_error *err);

static int each_line(const char *path, line_fn fn, void *ctx, long *nlines, hp_error *err)
{
    char *buf;
    size_t len;
    int rc = io_read_file(path, &buf, &len, err);
    if (rc) return rc;
    long n = 0;
    for (char *p = buf, *nl; !rc && p < buf + len; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(buf + len - p));
        if (!nl) nl = buf + len;
        *nl = 0;
        if (nl > p && nl[-1] == '\r') nl[-1] = 0;
        rc = fn(ctx, p, ++n, err);
    }
    hp_free(buf);
    if (nlines) *nlines = n;
    return rc;
}

/* A whole line as a non-negative integer. */
static int line_int(const char *s, long *out)
{
    char *end;
    if (!*s || *s == ' ' || *s == '-') return 0;
    *out = strtol(s, &end, 10);
    return *end == 0;
}

typedef struct {
    const char *path;
    int *fold;
    long nrec;
} folds_ctx;

static int fold_line(void *ctx, char *line, long lineno, hp_error *err)
{
    folds_ctx *f = ctx;
    long v;
    if (lineno > f->nrec)
        return hp_fail(err, HP_ERR_FORMAT, "%s:%ld: more lines than the customers file has records (%ld)", f->path,
                       lineno, f->nrec);
    if (!line_int(line, &v) || v > 1000000)
        return hp_fail(err, HP_ERR_FORMAT, "%s:%ld: '%.20s' is not a fold number", f->path, lineno, line);
    f->fold[lineno - 1] = (int)v;
    return HP_OK;
}

/* Reads a folds file: line i holds the fold of customers record i (rejected records too). */
static int roles_by_folds(rec_split *s, const data_table *cu, const rec_split_cfg *sc, hp_error *err)
{
    folds_ctx f = { sc->folds_file, hp_malloc((size_t)(cu->nrecords + 1) * sizeof(int)), cu->nrecords };
    if (!f.fold) return HP_ERR_NOMEM;
    long lines = 0;
    int rc = each_line(sc->folds_file, fold_line, &f, &lines, err);
    if (!rc && lines != cu->nrecords)
        rc = hp_fail(err, HP_ERR_FORMAT, "%s: %ld lines, but %s has %ld records", sc->folds_file, lines, cu->file,
                     cu->nrecords);
    for (int c = 0; !rc && c < s->ncust; c++) {
        if (f.fold[cu->record[c]] == sc->test_fold) s->role[c] = REC_ROLE_TEST;
        else {
            double u = unit_hash(data_col_str(&cu->cols[cu->id_col], (size_t)c), sc->seed);
            s->role[c] = u < sc->valid_fraction ? REC_ROLE_VALID : REC_ROLE_TRAIN;
        }
    }
    hp_free(f.fold);
    return rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Time split: interactions at or after the (1 - test) quantile of time are test targets,
 * those in the validation slice before it validation targets; everyone trains on the rest. */
static int tags_by_time(uint8_t *tag, const ix_view *v, const rec_split_cfg *sc, hp_error *err)
{
    size_t n = v->it->nrows, m = 0;
    if (!v->ts) return hp_fail(err, HP_ERR_INVAL, "split method \"time\" needs a timestamp column in interactions");
    int64_t *t = hp_malloc((n + 1) * sizeof *t);
    if (!t) return HP_ERR_NOMEM;
    for (size_t r = 0; r < n; r++)
        if (v->ts->ts[r] != DATA_TS_MISSING) t[m++] = v->ts->ts[r];
    if (m < 10) { hp_free(t); return hp_fail(err, HP_ERR_INVAL, "split \"time\": only %zu interactions have a timestamp", m); }
    qsort(t, m, sizeof *t, cmp_i64);
    int64_t test_cut = t[(size_t)((double)m * (1 - sc->test_fraction))];
    int64_t valid_cut = t[(size_t)((double)m * (1 - sc->test_fraction - sc->valid_fraction))];
    hp_free(t);
    for (size_t r = 0; r < n; r++) {
        int64_t ts = v->ts->ts[r];
        tag[r] = ts == DATA_TS_MISSING || ts < valid_cut ? TAG_VISIBLE : ts < test_cut ? TAG_VALID : TAG_TEST;
    }
    return HP_OK;
}


/* Customer and fold splits: a validation or test customer's interactions of the target
 * kinds are its targets; the rest of what it shows is its history. */
static void tags_by_role(uint8_t *tag, const rec_split *s, const ix_view *v, const rec_config *cfg)
{
    for (size_t r = 0; r < v->it->nrows; r++) {
        int c = v->cust->code[r], role = s->role[c];
        tag[r] = TAG_VISIBLE;
        if ((role == REC_ROLE_VALID || role == REC_ROLE_TEST) && is_target_kind(v, cfg, r))
            tag[r] = role == REC_ROLE_VALID ? TAG_VALID : TAG_TEST;
    }
}

static int build_csr(const rec_split *s, const ix_view *v, const uint8_t *tag, int which,
                     int64_t **off_out, int32_t **ids_out);

/* Leave one out: an evaluated customer (of only_role, or both roles when it is -1) with two
 * or more distinct visible products and no target yet gets one of them, chosen by the seed,
 * as its target (every interaction with it: see promote_targets). */
static int leave_one_out(uint8_t *tag, const rec_split *s, const ix_view *v, uint64_t seed, int only_role)
{
    size_t n = v->it->nrows;
    uint8_t *tmp = hp_malloc(n + 1);
    uint8_t *has_target = hp_calloc((size_t)s->ncust + 1, 1);
    int32_t *pick = hp_malloc(((size_t)s->ncust + 1) * sizeof *pick), *ids = NULL;
    int64_t *off = NULL;
    int rc = tmp && has_target && pick ? HP_OK : HP_ERR_NOMEM;
    for (size_t r = 0; !rc && r < n; r++) {
        int visible_pos = tag[r] == TAG_VISIBLE && v->positive_kind[v->kind->code[r]];
        tmp[r] = visible_pos ? TAG_VISIBLE : TAG_IGNORE;
        if (tag[r] == TAG_VALID || tag[r] == TAG_TEST) has_target[v->cust->code[r]] = 1;
    }
    if (!rc) rc = build_csr(s, v, tmp, TAG_VISIBLE, &off, &ids); /* distinct visible products */
    hp_rng rng;
    nn_rng_stream(&rng, seed, "leave-one-out");
    for (int c = 0; !rc && c < s->ncust; c++) {
        int64_t count = off[c + 1] - off[c];
        int eligible = (s->role[c] == REC_ROLE_VALID || s->role[c] == REC_ROLE_TEST) &&
                       (only_role < 0 || s->role[c] == only_role) && !has_target[c] && count >= 2;
        uint64_t k = hp_rng_below(&rng, 1000003); /* drawn for every customer: stable streams */
        pick[c] = eligible ? ids[off[c] + (int64_t)(k % (uint64_t)count)] : -1;
    }
    for (size_t r = 0; !rc && r < n; r++) {
        int c = v->cust->code[r];
        if (pick[c] >= 0 && v->prod->code[r] == pick[c] && tmp[r] == TAG_VISIBLE)
            tag[r] = s->role[c] == REC_ROLE_VALID ? TAG_VALID : TAG_TEST;
    }
    hp_free(tmp);
    hp_free(has_target);
    hp_free(pick);
    hp_free(off);
    hp_free(ids);
    return rc;
}

/* A product that is a customer's target must not also be among its visible products (its
 * history input and its exclusions): every interaction of that customer with it becomes a
 * target of the same phase. */
typedef struct {
    uint64_t key;            /* customer << 32 | product */
    uint32_t row;
} ix_key;

static int cmp_key(const void *a, const void *b)
{
    const ix_key *x = a, *y = b;
    return x->key != y->key ? (x->key > y->key) - (x->key < y->key) : (x->row > y->row) - (x->row < y->row);
}

static int promote_targets(uint8_t *tag, const ix_view *v)
{
    size_t n = v->it->nrows;
    ix_key *k = hp_malloc((n + 1) * sizeof *k);
    if (!k) return HP_ERR_NOMEM;
    for (size_t r = 0; r < n; r++)
        k[r] = (ix_key){ (uint64_t)(uint32_t)v->cust->code[r] << 32 | (uint32_t)v->prod->code[r], (uint32_t)r };
    qsort(k, n, sizeof *k, cmp_key);
    for (size_t i = 0, j; i < n; i = j) {
        uint8_t target = TAG_VISIBLE;
        for (j = i; j < n && k[j].key == k[i].key; j++)
            if (tag[k[j].row] == TAG_VALID || tag[k[j].row] == TAG_TEST) target = tag[k[j].row];
        for (size_t q = i; q < j && target != TAG_VISIBLE; q++)
            if (tag[k[q].row] == TAG_VISIBLE) tag[k[q].row] = target;
    }
    hp_free(k);
    return HP_OK;
}

/* Hidden-product file of the shared splits: "record<TAB>product index<TAB>product column". */
typedef struct {
    const char *path;
    const data_table *cu, *pr;
    const rec_split *s;
    const int32_t *cust_of;   /* record -> customer row or -1 (rejected record) */
    int32_t *hidden;          /* customer row -> hidden product or -1 */
} hidden_ctx;

static int hidden_line(void *ctx, char *line, long lineno, hp_error *err)
{
    hidden_ctx *h = ctx;
    char *f[3] = { 0 }, *save = NULL;
    int n = 0;
    for (char *tok = strtok_r(line, "\t", &save); tok; tok = strtok_r(NULL, "\t", &save), n++)
        if (n < 3) f[n] = tok;
    long rec, idx;
    if (n != 3 || !line_int(f[0], &rec) || !line_int(f[1], &idx))
        return hp_fail(err, HP_ERR_FORMAT, "%s:%ld: expected record<TAB>product index<TAB>product column", h->path, lineno);
    if (rec >= h->cu->nrecords)
        return hp_fail(err, HP_ERR_FORMAT, "%s:%ld: record %ld is beyond %s (%ld records)", h->path, lineno, rec,
                       h->cu->file, h->cu->nrecords);
    int32_t prod = data_dict_find(&h->pr->cols[h->pr->id_col].dict, f[2], strlen(f[2]));
    if (prod < 0) return hp_fail(err, HP_ERR_FORMAT, "%s:%ld: product '%.60s' is not in the catalogue", h->path, lineno, f[2]);
    int32_t c = h->cust_of[rec];
    if (c >= 0 && h->s->role[c] == REC_ROLE_TEST) h->hidden[c] = prod;
    return HP_OK;
}

static int tags_from_hidden(uint8_t *tag, const rec_split *s, const ix_view *v, const data_dataset *ds,
                            const char *path, hp_error *err)
{
    const data_table *cu = &ds->t[DATA_T_CUSTOMERS];
    int32_t *cust_of = hp_malloc((size_t)(cu->nrecords + 1) * sizeof *cust_of);
    int32_t *hidden = hp_malloc(((size_t)s->ncust + 1) * sizeof *hidden);
    int rc = cust_of && hidden ? HP_OK : HP_ERR_NOMEM;
    for (long i = 0; !rc && i < cu->nrecords; i++) cust_of[i] = -1;
    for (int c = 0; !rc && c < s->ncust; c++) cust_of[cu->record[c]] = c, hidden[c] = -1;
    hidden_ctx h = { path, cu, &ds->t[DATA_T_PRODUCTS], s, cust_of, hidden };
    if (!rc) rc = each_line(path, hidden_line, &h, NULL, err);
    for (size_t r = 0; !rc && r < v->it->nrows; r++) {
        int c = v->cust->code[r];
        if (hidden[c] >= 0 && v->prod->code[r] == hidden[c] && tag[r] == TAG_VISIBLE) tag[r] = TAG_TEST;
    }
    hp_free(cust_of);
    hp_free(hidden);
    return rc;
}

/* ------------------------------------------------------------------ CSR lists */

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Builds per-customer sorted unique product lists from the interactions with want(tag). */
static int build_csr(const rec_split *s, const ix_view *v, const uint8_t *tag, int which,
                     int64_t **off_out, int32_t **ids_out)
{
    size_t n = v->it->nrows;
    int64_t *off = hp_calloc((size_t)s->ncust + 2, sizeof *off);
    int32_t *ids = hp_malloc((n + 1) * sizeof *ids);
    if (!off || !ids) { hp_free(off); hp_free(ids); return HP_ERR_NOMEM; }
    int label = v->label_kind;
    for (size_t r = 0; r < n; r++)
        if (tag[r] == which && v->kind->code[r] != label) off[v->cust->code[r] + 1]++;
    for (int c = 0; c < s->ncust; c++) off[c + 1] += off[c];
    int64_t *fill = hp_malloc(((size_t)s->ncust + 1) * sizeof *fill);
    if (!fill) { hp_free(off); hp_free(ids); return HP_ERR_NOMEM; }
    memcpy(fill, off, (size_t)s->ncust * sizeof *fill);
    for (size_t r = 0; r < n; r++)
        if (tag[r] == which && v->kind->code[r] != label) ids[fill[v->cust->code[r]]++] = v->prod->code[r];
    /* sort and drop repeats in place, compacting */
    int64_t w = 0;
    for (int c = 0; c < s->ncust; c++) {
        int64_t lo = off[c], hi = off[c + 1];
        qsort(ids + lo, (size_t)(hi - lo), sizeof *ids, cmp_i32);
        off[c] = w;
        for (int64_t i = lo; i < hi; i++)
            if (i == lo || ids[i] != ids[i - 1]) ids[w++] = ids[i];
    }
    off[s->ncust] = w;
    hp_free(fill);
    *off_out = off;
    *ids_out = ids;
    return HP_OK;
}

/* Time split: what happens after the cut-off is a target only when it is of a target kind
 * (or, with none named, a positive kind); the rest is left out. */
static void keep_target_kinds(uint8_t *tag, const ix_view *v, const rec_config *cfg)
{
    for (size_t r = 0; r < v->it->nrows; r++) {
        if (tag[r] != TAG_VALID && tag[r] != TAG_TEST) continue;
        int keep = cfg->split.ntarget_kinds ? is_target_kind(v, cfg, r) : v->positive_kind[v->kind->code[r]];
        if (!keep) tag[r] = TAG_IGNORE;
    }
}

/* Only positive kinds count as history; targets of target kinds are kept even when the
 * kind is not a training positive. */
static void drop_nonpositive_visible(uint8_t *tag, const ix_view *v)
{
    for (size_t r = 0; r < v->it->nrows; r++)
        if (tag[r] == TAG_VISIBLE && !v->positive_kind[v->kind->code[r]]) tag[r] = TAG_IGNORE;
}

static void collect_labels(rec_split *s, const ix_view *v)
{
    s->label_product = -1;
    for (int c = 0; c < s->ncust; c++) s->label[c] = NAN;
    if (v->label_kind < 0) return;
    for (size_t r = 0; r < v->it->nrows; r++) {
        if (v->kind->code[r] != v->label_kind) continue;
        s->label[v->cust->code[r]] = v->value ? v->value->num[r] : 1.0f;
        if (s->label_product < 0) s->label_product = v->prod->code[r];
    }
}

int rec_split_make(rec_split *s, const data_dataset *ds, const rec_config *cfg, hp_error *err)
{
    memset(s, 0, sizeof *s);
    const data_table *cu = &ds->t[DATA_T_CUSTOMERS];
    s->ncust = (int)cu->nrows;
    s->P = (int)ds->t[DATA_T_PRODUCTS].nrows;
    ix_view v = { 0 };
    int rc = make_view(&v, ds, cfg);
    if (!rc) rc = rec_config_check_kinds(cfg, ds, err); /* a misspelt kind would match nothing */
    size_t n = v.it->nrows;
    uint8_t *tag = hp_calloc(n + 1, 1);
    s->role = hp_calloc((size_t)s->ncust + 1, 1);
    s->label = hp_calloc((size_t)s->ncust + 1, sizeof *s->label);
    if (!rc && (!tag || !s->role || !s->label)) rc = HP_ERR_NOMEM;
    if (!rc && (!v.cust || !v.prod || !v.kind)) rc = hp_fail(err, HP_ERR_INVAL, "no interactions to learn from");
    const rec_split_cfg *sc = &cfg->split;
    if (!rc && sc->method == REC_SPLIT_TIME) {
        s->all_train = 1;
        if (v.label_kind >= 0)
            rc = hp_fail(err, HP_ERR_INVAL, "split method \"time\" cannot split labels (they carry no time): "
                         "use \"customer\" or \"folds\"");
        if (!rc) rc = tags_by_time(tag, &v, sc, err);
        if (!rc) keep_target_kinds(tag, &v, cfg);
    } else if (!rc) {
        if (sc->method == REC_SPLIT_FOLDS) rc = roles_by_folds(s, cu, sc, err);
        else roles_by_customer(s, cu, sc);
        if (!rc) tags_by_role(tag, s, &v, cfg);
        if (!rc && sc->hidden_file) rc = tags_from_hidden(tag, s, &v, ds, sc->hidden_file, err);
        if (!rc && !sc->ntarget_kinds) rc = leave_one_out(tag, s, &v, sc->seed, sc->hidden_file ? REC_ROLE_VALID : -1);
    }
    if (!rc) rc = promote_targets(tag, &v);
    if (!rc) {
        drop_nonpositive_visible(tag, &v);
        collect_labels(s, &v);
        rc = build_csr(s, &v, tag, TAG_VISIBLE, &s->vis_off, &s->vis);
    }
    for (int i = 0; !rc && i < 2; i++) rc = build_csr(s, &v, tag, i == 0 ? TAG_VALID : TAG_TEST, &s->tgt_off[i], &s->tgt[i]);
    for (int c = 0; !rc && c < s->ncust; c++)
        if (rec_split_trains(s, c)) s->ntrain_pos += (size_t)(s->vis_off[c + 1] - s->vis_off[c]);
    s->tag = tag; /* kept: evaluation counts popularity over what training could see */
    s->ntag = n;
    hp_free(v.positive_kind);
    if (rc) rec_split_free(s);
    return rc;
}
