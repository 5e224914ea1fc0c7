/* hyperp evaluate: a trained model on the test split, beside popularity and the oracle. */
#include "cli/cli.h"
#include "io/io_out.h"
#include "rec/rec.h"
#include "privacy/privacy.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>


static void evaluate_usage(FILE *f)
{
    fprintf(f,
        "usage: hyperp evaluate [options]\n"
        "Evaluates a trained model on the test customers of its split: ranking metrics (or AUC\n"
        "for a propensity model) beside popularity and, on synthetic data, the oracle.\n\n"
        "  --model DIR       trained model (default: artifacts/model, else artifacts/demo/model)\n"
        "  --config FILE     the dataset config the model was trained with (default: the one\n"
        "                    training recorded in the model, else built-in)\n"
        "  --data DIR        folder of the built-in config's files (default: the folder training\n"
        "                    recorded in the model, else data/synth)\n"
        "  --oracle FILE     truth file (default: evaluate.oracle_file of the config, if any)\n"
        "  --out DIR         results folder (default: evaluate.out_dir, artifacts/results)\n"
        "  --k K             cut-off of the @k metrics, 1..1000 (default: evaluate.k, 10)\n"
        "  --consent-db DB   evaluate only customers whose analytics consent the privacy store\n"
        "                    DB records (default: $HYPERP_DB if set)\n"
        "  --no-consent-check  do not ask a privacy store\n"
        "  -h, --help        this help\n");
}

/* The results files are never an input (model, data, oracle, config) or a store. */
static int refuse_results(const char *out, const char *model, const char *config, const char *oracle,
                          const char *db, const data_dataset *ds, hp_error *err)
{
    static const char *const names[] = { "metrics.json", "metrics.csv", "summary.txt" };
    const char *inputs[DATA_T_COUNT + 2];
    size_t n = cli_dataset_inputs(ds, config, inputs, DATA_T_COUNT + 1);
    if (oracle) inputs[n++] = oracle;
    int rc = cli_refuse_outputs_in("--out", out, names, HP_ARRAY_LEN(names), db, inputs, n, err);
    for (size_t i = 0; !rc && i < HP_ARRAY_LEN(names); i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", out, names[i]);
        if ((rc = io_out_refuse_in_dir(path, model, cli_model_files, CLI_MODEL_FILES, err))) hp_error_prefix(err, "--out");
    }
    return rc;
}

int cli_evaluate(int argc, char **argv)
{
    static const struct option opts[] = {
        { "model", required_argument, 0, 'm' }, { "config", required_argument, 0, 'c' },
        { "data", required_argument, 0, 'd' }, { "oracle", required_argument, 0, 'O' },
        { "out", required_argument, 0, 'o' }, { "k", required_argument, 0, 'k' },
        { "consent-db", required_argument, 0, 'D' }, { "no-consent-check", no_argument, 0, 'N' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    long long kval = 0;
    const char *model = cli_default_model(), *config = NULL, *data = NULL, *oracle = NULL, *out = NULL;
    const char *consent_db = NULL;
    int no_consent = 0;
    int c;
    optind = 1;
    cli_given given = { 0 }; /* a value flag given twice is refused */
    while ((c = cli_getopt(argc, argv, opts, &given)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'c': config = optarg; break;
        case 'd': data = optarg; break;
        case 'O': oracle = optarg; break;
        case 'o': out = optarg; break;
        case 'D': consent_db = optarg; break;
        case 'N': no_consent = 1; break;
        case 'k': if (cli_parse_range("--k", optarg, 1, 1000, &kval)) return CLI_EXIT_USAGE; break; /* as evaluate.k */
        case 'h': evaluate_usage(stdout); return CLI_EXIT_OK;
        default: evaluate_usage(stderr); return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hyperp evaluate: unexpected argument '%s'\n", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    hp_error err = { 0 };
    data_dataset ds;
    rec_config dcfg;
    rec_model m;
    const char *none[DATA_T_COUNT] = { 0 };
    cli_note_default_model(model);
    int rc = rec_load(model, &m, &err);
    if (rc) return cli_error(rc, err.msg);
    if (!config && !data) { /* the data the model was trained on, as training recorded it */
        const char *rc_config, *rc_dir;
        if ((rc = rec_model_data_source(&m, &rc_config, &rc_dir, &err))) {
            rec_model_free(&m);
            return cli_error(rc, err.msg);
        }
        config = rc_config;
        data = rc_dir;
        if (config || data) fprintf(stderr, "data: %s (recorded by training in %s)\n", config ? config : data, model);
    }
    if (!data) data = "data/synth";
    if (!(rc = cli_load_dataset(&ds, config, data, none, &err))) {
        rc = data_ingest(&ds, NULL, NULL, &err);
        char why[600];
        json_t *recorded = rec_model_data_files(&m);
        int changed = !rc && recorded ? data_files_changed(&ds, recorded, why, sizeof why) : 0;
        if (changed) /* said, not silently evaluated: the test set may hold what training saw */
            fprintf(stderr, "warning: %d data file%s changed since the model was trained, e.g. %s\n", changed,
                    changed > 1 ? "s" : "", why);
        if (!rc && !(rc = rec_config_from_dataset(&dcfg, &ds, &err))) {
            m.cfg.eval.k = kval ? (int)kval : dcfg.eval.k;
            m.cfg.eval.ease_max_items = dcfg.eval.ease_max_items;
            if (!oracle) oracle = dcfg.eval.oracle_file;
            if (!out) out = dcfg.eval.out_dir;
            rec_eval_result r;
            uint8_t *allowed = NULL;
            size_t nallowed = 0;
            rc = refuse_results(out, model, config, oracle, consent_db, &ds, &err);
            consent_db = cli_consent_db(consent_db, no_consent);
            if (!rc && consent_db)
                rc = cli_consent_gate(consent_db, &ds.t[DATA_T_CUSTOMERS], PRIVACY_ANALYTICS, &allowed, &nallowed, &err);
            if (!rc) rc = rec_evaluate(&m, &ds, oracle, allowed, &r, &err);
            hp_free(allowed);
            if (!rc) rc = cli_mkdirs(out, &err);
            if (!rc) rc = rec_eval_write(&r, out, &err);
            if (!rc) {
                rec_eval_print(&r, stdout);
                printf("results: %s/metrics.json, %s/metrics.csv, %s/summary.txt\n", out, out, out);
            }
            rec_config_free(&dcfg);
        }
        data_dataset_free(&ds);
    }
    rec_model_free(&m);
    return rc ? cli_error(rc, err.msg) : CLI_EXIT_OK;
}
