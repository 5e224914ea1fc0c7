/* hyperp recommend: top-k products per customer as JSONL, with scores and the attention
 * weight of each data modality (which data mattered). */
#include "cli/cli.h"
#include "rec/rec.h"
#include "io/io_out.h"
#include "privacy/privacy.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void recommend_usage(FILE *f)
{
    fprintf(f,
        "usage: hyperp recommend --customers FILE [options]\n"
        "Ranks the model's catalogue for every customer in FILE (CSV, JSON or JSONL) and\n"
        "writes one JSON line per customer. Unknown categories and empty fields are fine.\n\n"
        "  --model DIR          trained model (default: artifacts/model)\n"
        "  --customers FILE     customers to score (required)\n"
        "  --interactions FILE  their interactions: held products are left out and feed the\n"
        "                       history encoder (default: none)\n"
        "  --products FILE      score this catalogue instead of the model's: products the model\n"
        "                       has not seen score from their features, without retraining\n"
        "  --config FILE        dataset config describing the files (default: built-in)\n"
        "  --top-k K            products per customer, 1..100000 (default 10)\n"
        "  --include-held       also rank products the customer already holds\n"
        "  --out FILE           write here instead of standard output\n"
        "  --consent-db DB      personalise only for customers whose personalisation consent the\n"
        "                       privacy store DB records; the others get the most popular\n"
        "                       products (\"personalised\": false); default: $HYPERP_DB if set\n"
        "  --no-consent-check   do not ask a privacy store\n"
        "  -h, --help           this help\n");
}

typedef struct {
    const char *model, *config, *out, *consent_db;
    const char *files[DATA_T_COUNT];
    int k, include_held, no_consent;
} rec_args;

static int parse_rec_args(int argc, char **argv, rec_args *a)
{
    static const struct option opts[] = {
        { "model", required_argument, 0, 'm' }, { "customers", required_argument, 0, 'C' },
        { "interactions", required_argument, 0, 'I' }, { "config", required_argument, 0, 'c' },
        { "products", required_argument, 0, 'P' },
        { "top-k", required_argument, 0, 'k' }, { "include-held", no_argument, 0, 'H' },
        { "out", required_argument, 0, 'o' }, { "consent-db", required_argument, 0, 'D' },
        { "no-consent-check", no_argument, 0, 'N' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    *a = (rec_args){ .model = "artifacts/model", .k = 10 };
    long long v;
    int c;
    optind = 1;
    cli_given given = { 0 }; /* a value flag given twice is refused */
    while ((c = cli_getopt(argc, argv, opts, &given)) != -1) {
        switch (c) {
        case 'm': a->model = optarg; break;
        case 'C': a->files[DATA_T_CUSTOMERS] = optarg; break;
        case 'I': a->files[DATA_T_INTERACTIONS] = optarg; break;
        case 'P': a->files[DATA_T_PRODUCTS] = optarg; break;
        case 'c': a->config = optarg; break;
        case 'k': if (cli_parse_range("--top-k", optarg, 1, 100000, &v)) return -1; a->k = (int)v; break;
        case 'H': a->include_held = 1; break;
        case 'o': a->out = optarg; break;
        case 'D': a->consent_db = optarg; break;
        case 'N': a->no_consent = 1; break;
        case 'h': recommend_usage(stdout); return 1;
        default: recommend_usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hyperp recommend: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!a->files[DATA_T_CUSTOMERS]) {
        fprintf(stderr, "hyperp recommend: --customers FILE is required\n");
        return -1;
    }
    return 0;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Whether an interaction kind is one the model learnt from (and so counts as held): the
 * model's training positive kinds, or every kind but "label" when it named none. */
static int kind_held(const rec_model *m, const char *kind)
{
    if (!m->cfg.train.npositive_kinds) return strcmp(kind, "label") != 0;
    for (int i = 0; i < m->cfg.train.npositive_kinds; i++)
        if (strcmp(m->cfg.train.positive_kinds[i], kind) == 0) return 1;
    return 0;
}

/* Held products per customer, exactly as training saw history (interactions of the positive
 * kinds, each product once), as codes of `known`: the training catalogue for the history
 * encoder, the catalogue being scored for the products to leave out. Products not in
 * `known` are dropped. */
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

static void write_line(FILE *f, const data_dataset *ds, const rec_model *m, size_t row, const int32_t *items,
                       const float *scores, int n, const float *w, int personalised)
{
    const data_table *cu = &ds->t[DATA_T_CUSTOMERS];
    json_t *recs = json_array(), *mods = json_object();
    for (int i = 0; i < n; i++)
        json_array_append_new(recs, json_pack("{s:s, s:f}", "product_id", m->product_ids[items[i]], "score", (double)scores[i]));
    for (int k = 0; k < REC_MOD_COUNT; k++) json_object_set_new(mods, rec_modality_name(k), json_real(w[k]));
    json_t *o = json_pack("{s:s, s:b, s:o, s:o}", "customer_id", data_col_str(&cu->cols[cu->id_col], row),
                          "personalised", personalised, "recommendations", recs, "modality_weights", mods);
    json_dumpf(o, f, JSON_COMPACT | JSON_REAL_PRECISION(6));
    fputc('\n', f);
    json_decref(o);
}

/* Non-personalised ranking: training popularity (0 for products new since), held products
 * left out. */
static int popular_topk(const rec_model *m, const int32_t *held, int nheld, int k, int32_t *items, float *scores)
{
    int n = 0;
    for (int p = 0; p < m->nproducts; p++) {
        int skip = 0;
        for (int i = 0; i < nheld && !skip; i++) skip = held[i] == p;
        if (skip) continue;
        int32_t t = data_dict_find(&m->trained, m->product_ids[p], strlen(m->product_ids[p]));
        float s = t >= 0 ? (float)m->popularity[t] : 0.0f;
        if (n == k && s <= scores[k - 1]) continue;
        int pos = n < k ? n++ : k - 1;
        while (pos > 0 && s > scores[pos - 1]) { scores[pos] = scores[pos - 1]; items[pos] = items[pos - 1]; pos--; }
        scores[pos] = s;
        items[pos] = p;
    }
    return n;
}

static int catalogue_dict(const rec_model *m, data_dict *d)
{
    data_dict_init(d);
    for (int p = 0; p < m->nproducts; p++)
        if (data_dict_intern(d, m->product_ids[p], strlen(m->product_ids[p])) < 0) return HP_ERR_NOMEM;
    return HP_OK;
}

static int recommend_all(const rec_args *a, data_dataset *ds, rec_model *m, const uint8_t *allowed, FILE *f,
                         hp_error *err)
{
    feat_enc enc = { 0 };
    int64_t *off = NULL, *hoff = NULL;
    int32_t *ids = NULL, *hids = NULL;
    rec_scorer *sc = NULL;
    data_dict cat;
    int rc = catalogue_dict(m, &cat);
    if (!rc) rc = rec_encode_customers(&m->net, &ds->t[DATA_T_CUSTOMERS], &enc, err);
    if (!rc && (rc = held_lists(ds, m, &cat, &off, &ids))) hp_fail(err, rc, "out of memory");
    if (!rc && (rc = held_lists(ds, m, &m->trained, &hoff, &hids))) hp_fail(err, rc, "out of memory");
    data_dict_free(&cat);
    rec_lists hist = { hoff, hids };
    if (!rc) rc = rec_scorer_new(&sc, &m->net, &enc, &hist, NULL, err);
    int k = HP_MIN(a->k, m->nproducts);
    int32_t *items = hp_malloc((size_t)k * sizeof *items);
    float *scores = hp_malloc((size_t)k * sizeof *scores), w[REC_MOD_COUNT];
    if (!rc && (!items || !scores)) rc = hp_fail(err, HP_ERR_NOMEM, "out of memory");
    for (int row = 0; !rc && row < enc.n; row++) {
        int nex = a->include_held ? 0 : (int)(off[row + 1] - off[row]);
        int personalised = !allowed || allowed[row];
        int n;
        if (personalised) {
            n = rec_scorer_topk(sc, row, ids + off[row], nex, k, items, scores, w);
            if (n < 0) { /* never a silently empty or short list */
                rc = hp_fail(err, n, "model %s: the scores of customer '%s' are NaN or infinite: the model's weights "
                             "or fitted features (or this customer's numbers) are out of the range it can compute "
                             "with", a->model, data_col_str(&ds->t[DATA_T_CUSTOMERS].cols[ds->t[DATA_T_CUSTOMERS].id_col], (size_t)row));
                break;
            }
        } else { /* no consent: nothing of this customer's data is used but what it already holds */
            n = popular_topk(m, ids + off[row], nex, k, items, scores);
            for (int i = 0; i < REC_MOD_COUNT; i++) w[i] = 0;
        }
        write_line(f, ds, m, (size_t)row, items, scores, n, w, personalised);
    }
    rec_scorer_free(sc);
    feat_enc_free(&enc);
    hp_free(off);
    hp_free(ids);
    hp_free(hoff);
    hp_free(hids);
    hp_free(items);
    hp_free(scores);
    return rc;
}

/* --out is never the model's files, an input or a store; checked before any work. */
static int refuse_out(const rec_args *a, hp_error *err)
{
    if (!a->out) return HP_OK;
    int rc = cli_refuse_output("--out", a->out, a->consent_db, a->files, DATA_T_COUNT, err);
    const char *config[] = { a->config };
    if (!rc) rc = cli_refuse_output("--out", a->out, NULL, config, 1, err);
    if (!rc && (rc = io_out_refuse_in_dir(a->out, a->model, err))) hp_error_prefix(err, "--out");
    return rc;
}

int cli_recommend(int argc, char **argv)
{
    rec_args a;
    int p = parse_rec_args(argc, argv, &a);
    if (p) return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    hp_error err = { 0 };
    rec_model m;
    data_dataset ds;
    int rc = refuse_out(&a, &err);
    if (rc) return cli_error(rc, err.msg);
    if ((rc = rec_load(a.model, &m, &err))) return cli_error(rc, err.msg);
    if (!(rc = cli_load_dataset(&ds, a.config, ".", a.files, &err))) {
        /* only the files asked for: the built-in config's other tables are not wanted here */
        for (int k = 0; k < DATA_T_COUNT; k++)
            if (!a.files[k]) ds.t[k].configured = k == DATA_T_CUSTOMERS;
        data_ingest_report rep;
        data_ingest_opts o = { .rejects_path = NULL };
        rc = data_ingest(&ds, &o, &rep, &err);
        if (!rc && a.files[DATA_T_PRODUCTS]) {
            int fresh = rec_set_catalogue(&m, &ds.t[DATA_T_PRODUCTS], &err);
            rc = fresh < 0 ? fresh : HP_OK;
            if (fresh > 0)
                fprintf(stderr, "note: %d product%s new to the model, scored from %s features%s\n", fresh,
                        fresh > 1 ? "s" : "", fresh > 1 ? "their" : "its",
                        m.cfg.train.id_dropout > 0 ? "" : " (the model was trained without id dropout: less reliable)");
        }
        if (!rc && rep.total_rejected) {
            for (int i = 0; i < rep.nsamples; i++) fprintf(stderr, "rejected: %s\n", rep.samples[i]);
            fprintf(stderr, "%zu input rows rejected (not scored)\n", rep.total_rejected);
        }
        uint8_t *allowed = NULL;
        size_t nallowed = 0;
        a.consent_db = cli_consent_db(a.consent_db, a.no_consent);
        if (!rc && a.consent_db)
            rc = cli_consent_gate(a.consent_db, &ds.t[DATA_T_CUSTOMERS], PRIVACY_PERSONALISATION, &allowed, &nallowed, &err);
        if (!rc && allowed)
            fprintf(stderr, "consent: %zu of %zu customers personalised; the others get popular products\n", nallowed,
                    ds.t[DATA_T_CUSTOMERS].nrows);
        io_out_file out = { 0 };
        const char *inputs[DATA_T_COUNT + 1];
        size_t ninputs = cli_dataset_inputs(&ds, a.config, inputs, HP_ARRAY_LEN(inputs));
        /* a file is written whole or not at all: a failure midway leaves no partial file of
         * customer ids that the store does not know about */
        if (!rc && a.out) rc = cli_start_output(&out, "--out", a.out, a.consent_db, inputs, ninputs, &err);
        FILE *f = a.out ? out.f : stdout;
        if (!rc) rc = recommend_all(&a, &ds, &m, allowed, f, &err);
        if (!rc && !a.out && (fflush(f) != 0 || ferror(f)))
            rc = hp_fail(&err, HP_ERR_WRITE, "standard output: write failed");
        hp_free(allowed);
        /* every line names a customer: registered, so that erasure drops the customer's line */
        if (a.out) rc = cli_finish_output(&out, rc, a.consent_db, PRIVACY_OUT_RECOMMENDATIONS, &err);
        data_dataset_free(&ds);
    }
    rec_model_free(&m);
    return rc ? cli_error(rc, err.msg) : CLI_EXIT_OK;
}
