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
        "  --model DIR          trained model (default: artifacts/model, else artifacts/demo/model\n"
        "                       when only `make demo` has trained one)\n"
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
    *a = (rec_args){ .model = cli_default_model(), .k = 10 };
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

/* Each result as one JSON line. */
static int emit_line(void *ctx, const rec_result *r, hp_error *err)
{
    (void)err;
    json_t *o = rec_result_json(r);
    if (!o) return hp_fail(err, HP_ERR_NOMEM, "out of memory");
    json_dumpf(o, ctx, JSON_COMPACT | JSON_REAL_PRECISION(9)); /* float scores read back exactly: no false ties */
    fputc('\n', ctx);
    json_decref(o);
    return HP_OK;
}

static int recommend_all(const rec_args *a, data_dataset *ds, rec_model *m, const uint8_t *allowed, FILE *f,
                         hp_error *err)
{
    rec_service *s = NULL;
    rec_opts o = { .k = a->k, .include_held = a->include_held };
    rec_table_stats st;
    int rc = rec_service_new(&s, m, err);
    if (!rc) rc = rec_recommend_table(s, ds, allowed, &o, emit_line, f, &st, err);
    if (!rc && st.unseen)
        fprintf(stderr, "note: %ld value%s of these customers the model never saw in training (unknown categories or "
                "list items): scored as unknown\n", st.unseen, st.unseen > 1 ? "s" : "");
    rec_service_free(s);
    return rc;
}

/* --out is never the model's files, an input or a store; checked before any work. */
static int refuse_out(const rec_args *a, hp_error *err)
{
    if (!a->out) return HP_OK;
    int rc = cli_refuse_output("--out", a->out, a->consent_db, a->files, DATA_T_COUNT, err);
    const char *config[] = { a->config };
    if (!rc) rc = cli_refuse_output("--out", a->out, NULL, config, 1, err);
    if (!rc && (rc = io_out_refuse_in_dir(a->out, a->model, cli_model_files, CLI_MODEL_FILES, err))) hp_error_prefix(err, "--out");
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
    cli_note_default_model(a.model);
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
