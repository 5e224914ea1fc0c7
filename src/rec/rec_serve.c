/* Serving requests: one customer (a table row or a JSON object) or a whole table through
 * the scorer and the ranking pipeline, into results that one function turns into JSON.
 * The CLI and the HTTP service both call these. */
#include "rec/rec.h"
#include "io/io.h"

#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct rec_service {
    rec_model *m;
    rec_scorer *sc;
    rank_pipeline *pl;
    float *pop;              /* (P) training popularity of each product (0 for new ones) */
    rank_entry *top;         /* (P) */
    rec_item *items;         /* (P) */
    int32_t *held;           /* (P) a request's held products in the catalogue */
    int32_t *hist;           /* (P_trained + 1) its history rows */
    data_dict cat;           /* catalogue id -> index, so a request's held ids are found in O(1) */
    uint8_t *held_seen;      /* (P) 1 while a request's held list has the product (each once) */
    uint8_t *hist_seen;      /* (P_trained) the same for its history rows */
};

static int catalogue_dict(const rec_model *m, data_dict *d);

int rec_service_new(rec_service **out, rec_model *m, hp_error *err)
{
    *out = NULL;
    rec_service *s = hp_calloc(1, sizeof *s);
    if (!s) return hp_fail(err, HP_ERR_NOMEM, "out of memory");
    s->m = m;
    size_t P = (size_t)m->nproducts, T = (size_t)m->trained.n;
    s->pop = hp_malloc((P + 1) * sizeof *s->pop);
    s->top = hp_malloc((P + 1) * sizeof *s->top);
    s->items = hp_malloc((P + 1) * sizeof *s->items);
    s->held = hp_malloc((P + 1) * sizeof *s->held);
    s->hist = hp_malloc((T + 1) * sizeof *s->hist);
    s->held_seen = hp_calloc(P + 1, 1);
    s->hist_seen = hp_calloc(T + 1, 1);
    int rc = s->pop && s->top && s->items && s->held && s->hist && s->held_seen && s->hist_seen && !catalogue_dict(m, &s->cat)
                 ? HP_OK
                 : hp_fail(err, HP_ERR_NOMEM, "out of memory");
    for (size_t p = 0; !rc && p < P; p++) {
        int32_t t = data_dict_find(&m->trained, m->product_ids[p], strlen(m->product_ids[p]));
        s->pop[p] = t >= 0 ? (float)m->popularity[t] : 0.0f;
    }
    if (!rc) rc = rec_scorer_new(&s->sc, &m->net, NULL, err);
    if (!rc) rc = rank_pipeline_new(&s->pl, m->nproducts, 0, err);
    if (rc) {
        rec_service_free(s);
        return rc;
    }
    *out = s;
    return HP_OK;
}

void rec_service_free(rec_service *s)
{
    if (!s) return;
    rec_scorer_free(s->sc);
    rank_pipeline_free(s->pl);
    data_dict_free(&s->cat);
    void *bufs[] = { s->pop, s->top, s->items, s->held, s->hist, s->held_seen, s->hist_seen };
    for (size_t i = 0; i < HP_ARRAY_LEN(bufs); i++) hp_free(bufs[i]);
    hp_free(s);
}

rank_pipeline *rec_service_pipeline(rec_service *s) { return s->pl; }

/* ------------------------------------------------------------------ one customer */

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

/* The products held (catalogue indices) and the history rows (trained codes) of ids, each
 * once and the history sorted, as held_lists gives a table's customer: a request naming a
 * product twice neither overruns the (P) buffers nor weighs it twice. Unknown ids are
 * dropped, as a table's interactions with products outside the catalogue are. */
static void held_and_history(rec_service *s, const char *const *ids, int n, int *nheld, int *nhist)
{
    const rec_model *m = s->m;
    *nheld = *nhist = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(ids[i]);
        int32_t p = data_dict_find(&s->cat, ids[i], len), t = data_dict_find(&m->trained, ids[i], len);
        if (p >= 0 && !s->held_seen[p]) s->held_seen[p] = 1, s->held[(*nheld)++] = p;
        if (t >= 0 && !s->hist_seen[t]) s->hist_seen[t] = 1, s->hist[(*nhist)++] = t;
    }
    for (int i = 0; i < *nheld; i++) s->held_seen[s->held[i]] = 0;
    for (int i = 0; i < *nhist; i++) s->hist_seen[s->hist[i]] = 0;
    qsort(s->hist, (size_t)*nhist, sizeof *s->hist, cmp_i32);
}

/* The core both paths share: row `row` of enc, held[0..nheld) catalogue indices,
 * hist[0..nh) history rows, personalised or the popularity fallback. */
static int rank_one(rec_service *s, const feat_enc *enc, int32_t row, const int32_t *held, int nheld,
                    const int32_t *hist, int nh, int personalised, const rec_opts *o, rec_result *r, hp_error *err)
{
    const rec_model *m = s->m;
    r->personalised = personalised;
    r->n = 0;
    r->items = s->items;
    for (int i = 0; i < REC_MOD_COUNT; i++) r->weights[i] = 0;
    const float *scores = s->pop;
    if (personalised) { /* without consent nothing of the customer's data is used but what it holds */
        scores = rec_scorer_scores(s->sc, enc, row, hist, nh, r->weights);
        if (!scores) return hp_fail(err, HP_ERR_NOMEM, "scoring: out of memory");
    }
    rank_request rq = { .held = held, .nheld = nheld, .include_held = o->include_held };
    int n = rank_run(s->pl, scores, &rq, o->k, s->top, err);
    if (n < 0) return n;
    int bce = m->cfg.train.loss == REC_LOSS_BCE;
    for (int i = 0; i < n; i++) {
        int32_t p = s->top[i].item;
        s->items[i] = (rec_item){ .item = p, .product_id = m->product_ids[p], .name = m->product_name[p],
                                  .category = m->product_category[p], .score = s->top[i].score,
                                  .probability = bce && personalised ? sigmoid(s->top[i].score) : NAN,
                                  .shown_prob = s->top[i].prob };
    }
    r->n = n;
    return HP_OK;
}

/* ------------------------------------------------------------------ tables */

/* Whether an interaction kind is one the model learnt from (and so counts as held): the
 * model's training positive kinds, or every kind but "label" when it named none. */
static int kind_held(const rec_model *m, const char *kind)
{
    if (!m->cfg.train.npositive_kinds) return strcmp(kind, "label") != 0;
    for (int i = 0; i < m->cfg.train.npositive_kinds; i++)
        if (strcmp(m->cfg.train.positive_kinds[i], kind) == 0) return 1;
    return 0;
}

/* Held products per customer, exactly as training saw history (interactions of the
 * positive kinds, each product once), as codes of `known` (the training catalogue for the
 * history encoder, the catalogue being scored for the products to leave out). Products not
 * in `known` are dropped. CSR: (n+1) offsets, ids. */
static int held_lists(const data_dataset *ds, const rec_model *m, const data_dict *known, int64_t **off_out,
                      int32_t **ids_out)
{
    const data_table *cu = &ds->t[DATA_T_CUSTOMERS], *it = &ds->t[DATA_T_INTERACTIONS], *pr = &ds->t[DATA_T_PRODUCTS];
    size_t n = cu->nrows, ni = it->loaded ? it->nrows : 0;
    int64_t *off = hp_calloc(n + 2, sizeof *off), *fill = hp_malloc((n + 1) * sizeof *fill);
    int32_t *ids = hp_malloc((ni + 1) * sizeof *ids), *map = hp_malloc((pr->nrows + 1) * sizeof *map);
    uint8_t *keep = hp_calloc(ni + 1, 1);
    int rc = off && fill && ids && map && keep ? HP_OK : HP_ERR_NOMEM;
    for (size_t p = 0; !rc && p < pr->nrows; p++) {
        const data_column *id = &pr->cols[pr->id_col];
        map[p] = data_dict_find(known, id->dict.str[id->code[p]], id->dict.len[id->code[p]]);
    }
    const data_column *c = ni ? data_table_col_role(it, DATA_ROLE_CUSTOMER) : NULL;
    const data_column *p = ni ? data_table_col_role(it, DATA_ROLE_PRODUCT) : NULL;
    const data_column *k = ni ? data_table_col_role(it, DATA_ROLE_KIND) : NULL;
    for (size_t r = 0; !rc && r < ni; r++) {
        keep[r] = map[p->code[r]] >= 0 && kind_held(m, data_col_str(k, r));
        if (keep[r]) off[c->code[r] + 1]++;
    }
    for (size_t i = 0; !rc && i < n; i++) off[i + 1] += off[i];
    if (!rc) memcpy(fill, off, n * sizeof *fill);
    for (size_t r = 0; !rc && r < ni; r++)
        if (keep[r]) ids[fill[c->code[r]]++] = map[p->code[r]];
    int64_t w = 0; /* each product once, as training's history lists have it */
    for (size_t i = 0; !rc && i < n; i++) {
        int64_t lo = off[i], hi = off[i + 1];
        qsort(ids + lo, (size_t)(hi - lo), sizeof *ids, cmp_i32);
        off[i] = w;
        for (int64_t q = lo; q < hi; q++)
            if (q == lo || ids[q] != ids[q - 1]) ids[w++] = ids[q];
    }
    if (!rc) off[n] = w;
    hp_free(fill);
    hp_free(map);
    hp_free(keep);
    if (rc) {
        hp_free(off);
        hp_free(ids);
        return rc;
    }
    *off_out = off;
    *ids_out = ids;
    return HP_OK;
}

static int catalogue_dict(const rec_model *m, data_dict *d)
{
    data_dict_init(d);
    for (int p = 0; p < m->nproducts; p++)
        if (data_dict_intern(d, m->product_ids[p], strlen(m->product_ids[p])) < 0) return HP_ERR_NOMEM;
    return HP_OK;
}

/* The row's error names the customer: never a silently empty or short list. */
static int row_error(const rec_service *s, const data_table *cu, int row, int rc, hp_error *err)
{
    if (rc != HP_ERR_RANGE) return rc;
    return hp_fail(err, rc, "model %s: the scores of customer '%s' are NaN or infinite: the model's weights or "
                   "fitted features (or this customer's numbers) are out of the range it can compute with",
                   s->m->dir ? s->m->dir : "", data_col_str(&cu->cols[cu->id_col], (size_t)row));
}

int rec_recommend_table(rec_service *s, const data_dataset *ds, const uint8_t *allowed, const rec_opts *o,
                        rec_emit_fn emit, void *ctx, rec_table_stats *st, hp_error *err)
{
    const rec_model *m = s->m;
    const data_table *cu = &ds->t[DATA_T_CUSTOMERS];
    feat_enc enc = { 0 };
    int64_t *off = NULL, *hoff = NULL;
    int32_t *ids = NULL, *hids = NULL;
    memset(st, 0, sizeof *st);
    int rc = rec_encode_customers(&m->net, cu, &enc, err);
    if (!rc && (rc = held_lists(ds, m, &s->cat, &off, &ids))) hp_fail(err, rc, "out of memory");
    if (!rc && (rc = held_lists(ds, m, &m->trained, &hoff, &hids))) hp_fail(err, rc, "out of memory");
    st->unseen = enc.unseen;
    for (int row = 0; !rc && row < enc.n; row++) {
        rec_result r = { .customer_id = data_col_str(&cu->cols[cu->id_col], (size_t)row) };
        int personalised = !allowed || allowed[row];
        rc = rank_one(s, &enc, row, ids + off[row], (int)(off[row + 1] - off[row]), hids + hoff[row],
                      (int)(hoff[row + 1] - hoff[row]), personalised, o, &r, err);
        if (rc) rc = row_error(s, cu, row, rc, err);
        if (!rc) rc = emit(ctx, &r, err);
        st->customers++;
        st->personalised += personalised;
    }
    feat_enc_free(&enc);
    hp_free(off);
    hp_free(ids);
    hp_free(hoff);
    hp_free(hids);
    return rc;
}

/* ------------------------------------------------------------------ one JSON record */

/* "held" of a request: the product ids the customer holds (optional array of strings). */
static int request_held(json_t *record, const char ***ids, int *n, hp_error *err)
{
    json_t *h = json_object_get(record, "held");
    *ids = NULL;
    *n = 0;
    if (!h) return HP_OK;
    if (!json_is_array(h)) return hp_fail(err, HP_ERR_FORMAT, "held: expected an array of product ids");
    if (json_array_size(h) > 100000) return hp_fail(err, HP_ERR_FORMAT, "held: more than 100000 product ids");
    *ids = hp_malloc((json_array_size(h) + 1) * sizeof **ids);
    if (!*ids) return hp_fail(err, HP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < json_array_size(h); i++) {
        const char *v = json_string_value(json_array_get(h, i));
        if (!v || !*v) {
            hp_free(*ids);
            *ids = NULL;
            return hp_fail(err, HP_ERR_FORMAT, "held[%zu]: expected a product id (a non-empty string)", i);
        }
        (*ids)[(*n)++] = v;
    }
    return HP_OK;
}

/* record, less "held", as the customers table's one-record JSON text. */
static char *customer_text(json_t *record)
{
    json_t *copy = json_copy(record);
    if (!copy) return NULL;
    json_object_del(copy, "held");
    char *text = json_dumps(copy, JSON_COMPACT);
    json_decref(copy);
    return text;
}

/* Every key of record but "held" must name a column of the customers table (a literal name or
 * a pattern of the config): a misspelt field would otherwise be scored as missing. */
static int check_fields(const data_table *cu, json_t *record, hp_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(record, key, v) {
        int known = strcmp(key, "held") == 0;
        for (int i = 0; i < cu->nspecs && !known; i++)
            known = strcmp(cu->specs[i].name, key) == 0 || fnmatch(cu->specs[i].name, key, 0) == 0;
        if (known) continue;
        char cols[300];
        size_t w = 0;
        for (int i = 0; i < cu->nspecs && w < sizeof cols; i++)
            w += (size_t)snprintf(cols + w, sizeof cols - w, "%s%s", i ? ", " : "", cu->specs[i].name);
        return hp_fail(err, HP_ERR_FORMAT, "%.64s: not a column of the customers table (its columns: %s)", key, cols);
    }
    return HP_OK;
}

int rec_recommend_json(rec_service *s, const char *config_text, size_t config_len, const char *config_name,
                       json_t *record, int personalised, const rec_opts *o, rec_result *r, rec_request_buf *buf,
                       hp_error *err)
{
    memset(r, 0, sizeof *r);
    if (!json_is_object(record)) return hp_fail(err, HP_ERR_FORMAT, "the customer must be a JSON object");
    const char **held_ids;
    int nids, nheld, nhist;
    int rc = request_held(record, &held_ids, &nids, err);
    if (rc) return rc;
    char *text = customer_text(record);
    data_dataset_free(&buf->ds);
    feat_enc_free(&buf->enc);
    rc = text ? data_config_parse(&buf->ds, config_text, config_len, config_name, ".", err)
              : hp_fail(err, HP_ERR_NOMEM, "out of memory");
    if (!rc) rc = check_fields(&buf->ds.t[DATA_T_CUSTOMERS], record, err);
    for (int k = 0; !rc && k < DATA_T_COUNT; k++) buf->ds.t[k].configured = k == DATA_T_CUSTOMERS;
    if (!rc) rc = data_config_set_buffer(&buf->ds, DATA_T_CUSTOMERS, "customer", text, strlen(text), IO_FMT_JSONL, err);
    data_ingest_report rep;
    if (!rc) rc = data_ingest(&buf->ds, NULL, &rep, err);
    const data_table *cu = &buf->ds.t[DATA_T_CUSTOMERS];
    if (!rc && rep.total_rejected) /* the same checks as a file: the reason names the field */
        rc = hp_fail(err, HP_ERR_FORMAT, "%s", rep.nsamples ? rep.samples[0] : "the customer was rejected");
    if (!rc && cu->nrows != 1) rc = hp_fail(err, HP_ERR_FORMAT, "expected one customer");
    if (!rc) rc = rec_encode_customers(&s->m->net, cu, &buf->enc, err);
    if (!rc) {
        held_and_history(s, held_ids, nids, &nheld, &nhist);
        r->customer_id = data_col_str(&cu->cols[cu->id_col], 0);
        r->unseen = buf->enc.unseen;
        rc = rank_one(s, &buf->enc, 0, s->held, nheld, s->hist, nhist, personalised, o, r, err);
        if (rc) rc = row_error(s, cu, 0, rc, err);
    }
    hp_free(held_ids);
    free(text); /* json_dumps allocates with jansson's allocator (malloc) */
    return rc;
}

void rec_request_buf_free(rec_request_buf *b)
{
    data_dataset_free(&b->ds);
    feat_enc_free(&b->enc);
}

/* ------------------------------------------------------------------ JSON */

json_t *rec_result_json(const rec_result *r)
{
    json_t *recs = json_array(), *mods = json_object();
    for (int i = 0; i < r->n; i++) {
        const rec_item *it = &r->items[i];
        json_t *o = json_pack("{s:s, s:f}", "product_id", it->product_id, "score", (double)it->score);
        if (it->name) json_object_set_new(o, "name", json_string(it->name));
        if (it->category) json_object_set_new(o, "category", json_string(it->category));
        if (!isnan(it->probability)) json_object_set_new(o, "probability", json_real(it->probability));
        json_array_append_new(recs, o);
    }
    for (int k = 0; k < REC_MOD_COUNT; k++) json_object_set_new(mods, rec_modality_name(k), json_real(r->weights[k]));
    return json_pack("{s:s, s:b, s:o, s:o}", "customer_id", r->customer_id ? r->customer_id : "", "personalised",
                     r->personalised, "recommendations", recs, "modality_weights", mods);
}
