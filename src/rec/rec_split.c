/* Train / validation / test split: by customer, by time, by fixed folds (the shared
 * splits under ../shared/data/splits, so our figures and peers' come from the same rows), or
 * given (the test set is a file of its own, as public recommender benchmarks ship them). */
#include "rec/rec.h"
#include "io/io.h"
#include "data/parse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* Drops the targets of customers with allowed[c] == 0 from one phase's lists (compacted in
 * place); returns how many went. */
static long drop_targets(rec_split *s, int phase, const uint8_t *allowed)
{
    int64_t *off = s->tgt_off[phase], w = 0;
    int32_t *ids = s->tgt[phase];
    long dropped = 0;
    for (int c = 0; c < s->ncust; c++) {
        int64_t lo = off[c], hi = off[c + 1];
        off[c] = w;
        if (!allowed[c]) dropped += (long)(hi - lo);
        else
            for (int64_t i = lo; i < hi; i++) ids[w++] = ids[i];
    }
    off[s->ncust] = w;
    return dropped;
}

/* The targets go too: a split where everyone trains (time, given) evaluates whoever has one. */
void rec_split_exclude(rec_split *s, const uint8_t *allowed)
{
    if (!allowed) return;
    for (int c = 0; c < s->ncust; c++)
        if (!allowed[c]) s->role[c] = REC_ROLE_NONE;
    drop_targets(s, 0, allowed);
    long gone = drop_targets(s, 1, allowed);
    if (s->given.rows) {
        s->given.not_allowed += gone;
        s->given.targets -= gone;
    }
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

static uint64_t id_hash(const char *id, uint64_t seed)
{
    uint64_t h = hp_hash_bytes(id, strlen(id)) ^ (seed * 0x9e3779b97f4a7c15ULL);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static double unit_hash(const char *id, uint64_t seed)
{
    return (double)(id_hash(id, seed) >> 11) * 0x1.0p-53;
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

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* split.cut: test from the cut on, validation from valid_cut (when given) to the cut. */
static int tags_by_cut(uint8_t *tag, const ix_view *v, const rec_split_cfg *sc, hp_error *err)
{
    int64_t cut, valid_cut;
    if (data_parse_timestamp_as(sc->cut, strlen(sc->cut), NULL, &cut, err)) return HP_ERR_INVAL; /* checked when read */
    valid_cut = cut;
    if (sc->valid_cut && data_parse_timestamp_as(sc->valid_cut, strlen(sc->valid_cut), NULL, &valid_cut, err))
        return HP_ERR_INVAL;
    for (size_t r = 0; r < v->it->nrows; r++) {
        int64_t ts = v->ts->ts[r];
        tag[r] = ts == DATA_TS_MISSING || ts < valid_cut ? TAG_VISIBLE : ts < cut ? TAG_VALID : TAG_TEST;
    }
    return HP_OK;
}

/* Time split: interactions at or after the (1 - test) quantile of time are test targets,
 * those in the validation slice before it validation targets; everyone trains on the rest. */
static int tags_by_time(uint8_t *tag, const ix_view *v, const rec_split_cfg *sc, hp_error *err)
{
    size_t n = v->it->nrows, m = 0;
    if (!v->ts) return hp_fail(err, HP_ERR_INVAL, "split method \"time\" needs a timestamp column in interactions");
    if (sc->cut) return tags_by_cut(tag, v, sc, err);
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

/* Every interaction's (customer, product) key with its row, sorted: rows of one pair are
 * adjacent. NULL when out of memory; hp_free it. */
static ix_key *sorted_pairs(const ix_view *v)
{
    size_t n = v->it->nrows;
    ix_key *k = hp_malloc((n + 1) * sizeof *k);
    if (!k) return NULL;
    for (size_t r = 0; r < n; r++)
        k[r] = (ix_key){ (uint64_t)(uint32_t)v->cust->code[r] << 32 | (uint32_t)v->prod->code[r], (uint32_t)r };
    qsort(k, n, sizeof *k, cmp_key);
    return k;
}

static int promote_targets(uint8_t *tag, const ix_view *v)
{
    size_t n = v->it->nrows;
    ix_key *k = sorted_pairs(v);
    if (!k) return HP_ERR_NOMEM;
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

/* split.new_only: a target is a (customer, product) the customer never had before (no earlier
 * positive), of a product some customer had before and a customer with an earlier positive; the
 * other rows of the period are not targets. Validation rows that are not new stay training data
 * (they are before the test period); test rows that are not new are left out. Applied to the
 * validation window first (against what precedes it), then to the test period (against
 * everything before the cut). */
static int new_only_phase(uint8_t *tag, const ix_view *v, const ix_key *k, size_t n, int phase, int ncust, int P)
{
    uint8_t *known_c = hp_calloc((size_t)ncust + 1, 1), *known_p = hp_calloc((size_t)P + 1, 1);
    if (!known_c || !known_p) { hp_free(known_c); hp_free(known_p); return HP_ERR_NOMEM; }
    for (size_t r = 0; r < n; r++) {
        int before = tag[r] == TAG_VISIBLE || (phase == TAG_TEST && tag[r] == TAG_VALID);
        if (before && v->positive_kind[v->kind->code[r]]) known_c[v->cust->code[r]] = known_p[v->prod->code[r]] = 1;
    }
    uint8_t fallback = phase == TAG_VALID ? TAG_VISIBLE : TAG_IGNORE;
    for (size_t i = 0, j; i < n; i = j) {
        int had = 0;
        for (j = i; j < n && k[j].key == k[i].key; j++) {
            uint8_t t = tag[k[j].row];
            had |= (t == TAG_VISIBLE || (phase == TAG_TEST && t == TAG_VALID)) && v->positive_kind[v->kind->code[k[j].row]];
        }
        int c = (int)(k[i].key >> 32), p = (int)(k[i].key & 0xffffffffu);
        if (!had && known_c[c] && known_p[p]) continue;
        for (size_t q = i; q < j; q++)
            if (tag[k[q].row] == phase) tag[k[q].row] = fallback;
    }
    hp_free(known_c);
    hp_free(known_p);
    return HP_OK;
}

static int new_only_targets(uint8_t *tag, const ix_view *v, int ncust, int P)
{
    size_t n = v->it->nrows;
    ix_key *k = sorted_pairs(v);
    if (!k) return HP_ERR_NOMEM;
    int rc = new_only_phase(tag, v, k, n, TAG_VALID, ncust, P);
    if (!rc) rc = new_only_phase(tag, v, k, n, TAG_TEST, ncust, P);
    hp_free(k);
    return rc;
}

int rec_split_folds_for_eval(const rec_config *cfg)
{
    return cfg->split.method == REC_SPLIT_GIVEN || (cfg->split.method == REC_SPLIT_TIME && cfg->split.cut);
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

/* ------------------------------------------------------------------ method "given" */

/* 1 if sorted ids[lo..hi) holds p. */
static int sorted_has(const int32_t *ids, int64_t lo, int64_t hi, int32_t p)
{
    while (lo < hi) {
        int64_t mid = (lo + hi) / 2;
        if (ids[mid] == p) return 1;
        if (ids[mid] < p) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

/* Distinct products per customer of the interactions whose kind passes keep (a kind code
 * mask), as CSR. */
static int products_of_kinds(const rec_split *s, const ix_view *v, const uint8_t *keep, int64_t **off, int32_t **ids)
{
    size_t n = v->it->nrows;
    uint8_t *tmp = hp_malloc(n + 1);
    if (!tmp) return HP_ERR_NOMEM;
    for (size_t r = 0; r < n; r++) tmp[r] = keep[v->kind->code[r]] ? TAG_VISIBLE : TAG_IGNORE;
    int rc = build_csr(s, v, tmp, TAG_VISIBLE, off, ids);
    hp_free(tmp);
    return rc;
}

/* Kind codes that may be validation targets: the positive kinds, and of those only the
 * target kinds when split.target_kinds names some. */
static int eligible_kinds(const ix_view *v, const rec_config *cfg, uint8_t **out)
{
    uint32_t nk = v->kind->dict.n;
    uint8_t *k = hp_calloc(nk + 1, 1);
    if (!k) return HP_ERR_NOMEM;
    for (uint32_t i = 0; i < nk; i++)
        k[i] = v->positive_kind[i] && (!cfg->split.ntarget_kinds ||
                                       in_list(cfg->split.target_kinds, cfg->split.ntarget_kinds, v->kind->dict.str[i]));
    *out = k;
    return HP_OK;
}

/* How many of a customer's n eligible products validate: f * n rounded up or down at random
 * (so the expected share is f exactly, also for customers with few products), never the
 * last positive (npos - 1 at most: a customer with one positive keeps it for training). */
static int64_t slice_size(double f, int64_t n, int64_t npos, hp_rng *rng)
{
    int64_t k = (int64_t)floor(f * (double)n + hp_rng_uniform(rng));
    return HP_MAX((int64_t)0, HP_MIN(k, HP_MIN(n, npos - 1)));
}

/* The validation slice of method "given": per customer, a random valid_fraction of its
 * eligible positive products (drawn from a stream seeded by split.seed and the customer's id,
 * so one customer's draw does not depend on the others), every positive interaction with
 * them tagged TAG_VALID. Not the time tail: benchmark test files are not ordered in time. */
static int given_valid_slice(uint8_t *tag, const rec_split *s, const ix_view *v, const data_dataset *ds,
                             const rec_config *cfg)
{
    const data_column *id = &ds->t[DATA_T_CUSTOMERS].cols[ds->t[DATA_T_CUSTOMERS].id_col];
    int64_t *poff = NULL, *eoff = NULL, *choff = hp_calloc((size_t)s->ncust + 2, sizeof *choff);
    int32_t *pids = NULL, *eids = NULL, *chosen = NULL;
    uint8_t *elig = NULL;
    int rc = choff ? eligible_kinds(v, cfg, &elig) : HP_ERR_NOMEM;
    if (!rc) rc = products_of_kinds(s, v, v->positive_kind, &poff, &pids);
    if (!rc) rc = products_of_kinds(s, v, elig, &eoff, &eids);
    if (!rc && !(chosen = hp_malloc(((size_t)eoff[s->ncust] + 1) * sizeof *chosen))) rc = HP_ERR_NOMEM;
    for (int c = 0; !rc && c < s->ncust; c++) {
        int32_t *e = eids + eoff[c], *out = chosen + choff[c];
        int64_t n = eoff[c + 1] - eoff[c];
        hp_rng rng;
        hp_rng_seed(&rng, id_hash(data_col_str(id, (size_t)c), cfg->split.seed));
        int64_t k = slice_size(cfg->split.valid_fraction, n, poff[c + 1] - poff[c], &rng);
        for (int64_t i = 0; i < k; i++) { /* partial Fisher-Yates over e (the CSR is scratch) */
            int64_t j = i + (int64_t)hp_rng_below(&rng, (uint64_t)(n - i));
            int32_t t = e[i];
            e[i] = e[j], e[j] = t;
            out[i] = e[i];
        }
        qsort(out, (size_t)k, sizeof *out, cmp_i32);
        choff[c + 1] = choff[c] + k;
    }
    for (size_t r = 0; !rc && r < v->it->nrows; r++) {
        int c = v->cust->code[r];
        if (v->positive_kind[v->kind->code[r]] && sorted_has(chosen, choff[c], choff[c + 1], v->prod->code[r]))
            tag[r] = TAG_VALID;
    }
    void *bufs[] = { poff, eoff, choff, pids, eids, chosen, elig };
    for (size_t i = 0; i < HP_ARRAY_LEN(bufs); i++) hp_free(bufs[i]);
    return rc;
}

/* Reading split.test_file with the interactions table's format, missing tokens and column
 * names (a header name matches as ingest matches it: trimmed, without regard to case). */
typedef struct {
    const char *where;        /* "config.json: split.test_file" */
    const char *path;
    const data_table *it;
    const data_dict *customers, *products;
    int col[3];               /* source column of the customer, product, kind; -1 none */
    const char *name[3];
} test_reader;

static int tr_missing(const test_reader *t, const char *f, size_t len)
{
    if (!f || len == 0) return 1;
    for (int i = 0; i < t->it->nmissing; i++)
        if (strlen(t->it->missing[i]) == len && memcmp(t->it->missing[i], f, len) == 0) return 1;
    return 0;
}

static int tr_open(test_reader *t, io_source **src, hp_error *err)
{
    static const data_role roles[3] = { DATA_ROLE_CUSTOMER, DATA_ROLE_PRODUCT, DATA_ROLE_KIND };
    const char *keys[3];
    int nkeys = 0;
    for (int i = 0; i < 3; i++) {
        const data_column *c = data_table_col_role(t->it, roles[i]);
        t->name[i] = c ? c->name : NULL;
        if (t->name[i]) keys[nkeys++] = t->name[i];
    }
    io_source_opts o = { .format = (io_format)t->it->format, .encoding = (io_encoding)t->it->encoding,
                         .delimiter = t->it->delimiter, .keys = keys, .nkeys = nkeys };
    int rc = io_source_open(src, t->path, &o, err);
    if (rc) {
        hp_error_prefix(err, "%s", t->where);
        return rc;
    }
    for (int i = 0; i < 3; i++) {
        t->col[i] = -1;
        for (int j = 0; t->name[i] && j < io_source_ncolumns(*src); j++)
            if (strcasecmp(io_source_column(*src, j), t->name[i]) == 0 && t->col[i] < 0) t->col[i] = j;
        if (t->col[i] < 0 && i < 2)
            return hp_fail(err, HP_ERR_FORMAT, "%s: %s: no column '%s' (the interactions' %s column)", t->where, t->path,
                           t->name[i] ? t->name[i] : "?", i == 0 ? "customer" : "product");
    }
    return HP_OK;
}

/* A test interaction of a kind that counts: a target kind, else a training positive. */
static int test_kind_counts(const rec_config *cfg, const char *kind)
{
    if (cfg->split.ntarget_kinds) return in_list(cfg->split.target_kinds, cfg->split.ntarget_kinds, kind);
    if (cfg->train.npositive_kinds) return in_list(cfg->train.positive_kinds, cfg->train.npositive_kinds, kind);
    return strcmp(kind, "label") != 0;
}

/* Reads the file into keys (customer << 32 | product) of the rows that count, sorted. */
static int tr_read(test_reader *t, const rec_config *cfg, rec_given_counts *g, uint64_t **keys_out, size_t *nkeys,
                   hp_error *err)
{
    io_source *src = NULL;
    int rc = tr_open(t, &src, err);
    size_t n = 0, cap = 1024;
    uint64_t *keys = rc ? NULL : hp_malloc(cap * sizeof *keys);
    if (!rc && !keys) rc = HP_ERR_NOMEM;
    const char *dflt = t->it->default_kind ? t->it->default_kind : "held";
    io_record rec;
    hp_error rerr = { 0 };
    while (!rc && (rc = io_source_next(src, &rec, &rerr)) != 0) {
        if (rc < 0) { rc = hp_fail(err, rc, "%s: %s:%ld: %s", t->where, t->path, rec.line, rerr.msg); break; }
        rc = HP_OK;
        g->rows++;
        const char *f[3];
        size_t len[3];
        for (int i = 0; i < 3; i++) {
            f[i] = t->col[i] >= 0 && t->col[i] < rec.nfields ? rec.field[t->col[i]] : NULL;
            len[i] = f[i] ? rec.len[t->col[i]] : 0;
            if (f[i]) hp_trim(&f[i], &len[i]);
        }
        for (int i = 0; i < 2 && !rc; i++)
            if (tr_missing(t, f[i], len[i]))
                rc = hp_fail(err, HP_ERR_FORMAT, "%s: %s:%ld: column '%s': missing %s id", t->where, t->path, rec.line,
                             t->name[i], i == 0 ? "customer" : "product");
        if (rc) break;
        int32_t c = data_dict_find(t->customers, f[0], len[0]), p = data_dict_find(t->products, f[1], len[1]);
        char kind[256];
        int has_kind = !tr_missing(t, f[2], len[2]);
        snprintf(kind, sizeof kind, "%.*s", has_kind ? (int)HP_MIN(len[2], 255) : (int)strlen(dflt), has_kind ? f[2] : dflt);
        if (c < 0 || p < 0) {
            if (c < 0) g->unknown_customer++;
            else g->unknown_product++;
            if (!g->first_unknown_line) g->first_unknown_line = rec.line;
        } else if (!test_kind_counts(cfg, kind)) {
            g->other_kind++;
        } else {
            uint64_t *more = n < cap ? keys : hp_realloc(keys, (cap *= 2) * sizeof *keys);
            if (!more) rc = HP_ERR_NOMEM;
            else (keys = more)[n++] = (uint64_t)(uint32_t)c << 32 | (uint32_t)p;
        }
    }
    io_source_free(src);
    if (!rc) qsort(keys, n, sizeof *keys, cmp_u64);
    if (rc) hp_free(keys), keys = NULL;
    *keys_out = keys;
    *nkeys = n;
    return rc;
}

/* A test file that gives nothing to evaluate is an error that says why. */
static int check_test_rows(const test_reader *t, const rec_given_counts *g, size_t kept, hp_error *err)
{
    long unknown = g->unknown_customer + g->unknown_product;
    if (g->rows == 0) return hp_fail(err, HP_ERR_EMPTY, "%s: %s has no interactions", t->where, t->path);
    if (unknown == g->rows)
        return hp_fail(err, HP_ERR_INVAL, "%s: %s: none of its %ld interactions names a customer and a product of the "
                       "data (%ld unknown customers, %ld unknown products; first at line %ld)", t->where, t->path,
                       g->rows, g->unknown_customer, g->unknown_product, g->first_unknown_line);
    if (kept == 0)
        return hp_fail(err, HP_ERR_INVAL, "%s: %s: none of its %ld interactions is of a target kind (split.target_kinds, "
                       "else train.positive_kinds)", t->where, t->path, g->rows);
    return HP_OK;
}

/* The test targets of method "given": each distinct (customer, product) of the test file that
 * is not a training item of that customer (visible, or in the validation slice). */
static int given_test_targets(rec_split *s, const data_dataset *ds, const rec_config *cfg, hp_error *err)
{
    char where[HP_ERROR_MAX / 2];
    snprintf(where, sizeof where, "%s: split.test_file", ds->config_path ? ds->config_path : "built-in config");
    const data_table *cu = &ds->t[DATA_T_CUSTOMERS], *pr = &ds->t[DATA_T_PRODUCTS];
    test_reader t = { .where = where, .path = cfg->split.test_file, .it = &ds->t[DATA_T_INTERACTIONS],
                      .customers = &cu->cols[cu->id_col].dict, .products = &pr->cols[pr->id_col].dict };
    rec_given_counts *g = &s->given;
    memset(g, 0, sizeof *g);
    uint64_t *keys = NULL;
    size_t n = 0;
    int rc = pr->id_col < 0 ? hp_fail(err, HP_ERR_INVAL, "%s: the data has no catalogue", where)
                            : tr_read(&t, cfg, g, &keys, &n, err);
    if (!rc) rc = check_test_rows(&t, g, n, err);
    int64_t *off = rc ? NULL : hp_calloc((size_t)s->ncust + 2, sizeof *off);
    int32_t *ids = rc ? NULL : hp_malloc((n + 1) * sizeof *ids);
    if (!rc && (!off || !ids)) rc = HP_ERR_NOMEM;
    int64_t w = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        int c = (int)(keys[i] >> 32);
        int32_t p = (int32_t)(keys[i] & 0xffffffffu);
        if (i > 0 && keys[i] == keys[i - 1]) g->repeated++;
        else if (rec_split_visible(s, c, p) || sorted_has(s->tgt[0], s->tgt_off[0][c], s->tgt_off[0][c + 1], p)) g->in_train++;
        else ids[w++] = p, off[c + 1]++, g->targets++;
    }
    for (int c = 0; !rc && c < s->ncust; c++) off[c + 1] += off[c];
    hp_free(keys);
    if (rc) { hp_free(off); hp_free(ids); return rc; }
    s->tgt_off[1] = off;
    s->tgt[1] = ids;
    return HP_OK;
}

int rec_split_fold_valid(rec_split *s)
{
    int64_t *off = hp_calloc((size_t)s->ncust + 2, sizeof *off), *vo = s->vis_off, *to = s->tgt_off[0];
    int32_t *ids = hp_malloc(((size_t)(vo[s->ncust] + to[s->ncust]) + 1) * sizeof *ids);
    if (!off || !ids) { hp_free(off); hp_free(ids); return HP_ERR_NOMEM; }
    int64_t w = 0;
    for (int c = 0; c < s->ncust; c++) { /* merge two sorted, disjoint lists */
        int64_t a = vo[c], b = to[c];
        while (a < vo[c + 1] || b < to[c + 1])
            ids[w++] = b >= to[c + 1] || (a < vo[c + 1] && s->vis[a] < s->tgt[0][b]) ? s->vis[a++] : s->tgt[0][b++];
        off[c + 1] = w;
    }
    hp_free(s->vis_off);
    hp_free(s->vis);
    s->vis_off = off;
    s->vis = ids;
    memset(to, 0, ((size_t)s->ncust + 1) * sizeof *to);
    for (size_t r = 0; r < s->ntag; r++)
        if (s->tag[r] == TAG_VALID) s->tag[r] = TAG_VISIBLE;
    s->ntrain_pos = 0;
    for (int c = 0; c < s->ncust; c++)
        if (rec_split_trains(s, c)) s->ntrain_pos += (size_t)(off[c + 1] - off[c]);
    return HP_OK;
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
        if (!rc && sc->new_only) rc = new_only_targets(tag, &v, s->ncust, s->P);
    } else if (!rc && sc->method == REC_SPLIT_GIVEN) {
        s->all_train = 1;
        if (v.label_kind >= 0)
            rc = hp_fail(err, HP_ERR_INVAL, "split method \"given\" ranks the products of split.test_file and "
                         "cannot evaluate labels: use \"customer\" or \"folds\"");
        if (!rc && sc->test_fold != 0) /* --test-fold: a fold of a method this is not */
            rc = hp_fail(err, HP_ERR_INVAL, "split.test_fold: not used by method \"given\" (its test set is split.test_file)");
        if (!rc) rc = given_valid_slice(tag, s, &v, ds, cfg);
    } else if (!rc) {
        if (sc->method == REC_SPLIT_FOLDS) rc = roles_by_folds(s, cu, sc, err);
        else roles_by_customer(s, cu, sc);
        if (!rc) tags_by_role(tag, s, &v, cfg);
        if (!rc && sc->hidden_file) rc = tags_from_hidden(tag, s, &v, ds, sc->hidden_file, err);
        if (!rc && !sc->ntarget_kinds) rc = leave_one_out(tag, s, &v, sc->seed, sc->hidden_file ? REC_ROLE_VALID : -1);
    }
    /* given: the slice is whole; new_only: a target has no earlier interaction to promote */
    if (!rc && sc->method != REC_SPLIT_GIVEN && !sc->new_only) rc = promote_targets(tag, &v);
    if (!rc) {
        drop_nonpositive_visible(tag, &v);
        collect_labels(s, &v);
        rc = build_csr(s, &v, tag, TAG_VISIBLE, &s->vis_off, &s->vis);
    }
    if (!rc) rc = build_csr(s, &v, tag, TAG_VALID, &s->tgt_off[0], &s->tgt[0]);
    if (!rc) rc = sc->method == REC_SPLIT_GIVEN ? given_test_targets(s, ds, cfg, err)
                                                : build_csr(s, &v, tag, TAG_TEST, &s->tgt_off[1], &s->tgt[1]);
    for (int c = 0; !rc && c < s->ncust; c++)
        if (rec_split_trains(s, c)) s->ntrain_pos += (size_t)(s->vis_off[c + 1] - s->vis_off[c]);
    s->tag = tag; /* kept: evaluation counts popularity over what training could see */
    s->ntag = n;
    hp_free(v.positive_kind);
    if (rc) rec_split_free(s);
    return rc;
}
