/* hyperp train: fit the recommender on a data set, with progress, early stopping and a
 * model saved even when interrupted (Ctrl-C). */
#include "cli/cli.h"
#include "rec/rec.h"
#include "privacy/privacy.h"

#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int g_stop;

static void on_sigint(int sig)
{
    (void)sig;
    g_stop = 1;
    signal(SIGINT, SIG_DFL); /* a second Ctrl-C ends at once */
}

static void train_usage(FILE *f)
{
    fprintf(f,
        "usage: hyperp train [options]\n"
        "Trains the multimodal recommender and saves it (model.safetensors + model.json).\n\n"
        "  --config FILE     dataset config with optional model/train/split/evaluate sections\n"
        "                    (default: the built-in config over --data)\n"
        "  --data DIR        folder of the built-in config's files (default: data/synth)\n"
        "  --out DIR         where the model goes (default: artifacts/model)\n"
        "  --epochs N        override train.epochs, 1..100000\n"
        "  --seed S          override train.seed, 0..2147483647\n"
        "  --threads N       BLAS threads, 1..256 (default: train.threads, 1)\n"
        "  --test-fold K     override split.test_fold, 0..1000 (cross-validation over fixed folds)\n"
        "  --consent-db DB   train only on customers whose personalisation consent the privacy\n"
        "                    store DB records (see hyperp privacy); default: $HYPERP_DB if set\n"
        "  --no-consent-check  do not ask a privacy store (data without consent records)\n"
        "  --quiet           no progress output\n"
        "  -h, --help        this help\n\n"
        "Ctrl-C stops after the current batch and saves the best model so far (exit 1).\n");
}

typedef struct {
    const char *config, *data_dir, *out, *consent_db;
    long epochs, seed, threads, test_fold;
    int quiet, no_consent;
} train_args;

static int parse_train_args(int argc, char **argv, train_args *a)
{
    static const struct option opts[] = {
        { "config", required_argument, 0, 'c' }, { "data", required_argument, 0, 'd' },
        { "out", required_argument, 0, 'o' }, { "epochs", required_argument, 0, 'e' },
        { "seed", required_argument, 0, 's' }, { "threads", required_argument, 0, 't' },
        { "quiet", no_argument, 0, 'q' }, { "test-fold", required_argument, 0, 'f' },
        { "consent-db", required_argument, 0, 'D' }, { "no-consent-check", no_argument, 0, 'N' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    *a = (train_args){ .data_dir = "data/synth", .out = "artifacts/model", .epochs = -1, .seed = -1, .threads = -1,
                       .test_fold = -1 };
    long long v; /* ranges as in the config's train and split sections (docs/config.md) */
    int c;
    optind = 1;
    cli_given given = { 0 }; /* a value flag given twice is refused */
    while ((c = cli_getopt(argc, argv, opts, &given)) != -1) {
        switch (c) {
        case 'c': a->config = optarg; break;
        case 'd': a->data_dir = optarg; break;
        case 'o': a->out = optarg; break;
        case 'e': if (cli_parse_range("--epochs", optarg, 1, 100000, &v)) return -1; a->epochs = (long)v; break;
        case 's': if (cli_parse_range("--seed", optarg, 0, 2147483647, &v)) return -1; a->seed = (long)v; break;
        case 't': if (cli_parse_range("--threads", optarg, 1, 256, &v)) return -1; a->threads = (long)v; break;
        case 'q': a->quiet = 1; break;
        case 'D': a->consent_db = optarg; break;
        case 'N': a->no_consent = 1; break;
        case 'f': if (cli_parse_range("--test-fold", optarg, 0, 1000, &v)) return -1; a->test_fold = (long)v; break;
        case 'h': train_usage(stdout); return 1;
        default: train_usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hyperp train: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

static void fmt_eta(double s, char *buf, size_t n)
{
    long t = (long)(s + 0.5);
    snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void train_progress(void *ctx, const nn_fit_progress *p, const char *metric)
{
    const train_args *a = ctx;
    if (a->quiet) return;
    char eta[32], valid[64] = "";
    fmt_eta(p->eta_s, eta, sizeof eta);
    if (!isnan(p->valid)) snprintf(valid, sizeof valid, "  valid %s %.4f (best %.4f)", metric, p->valid, p->best);
    if (isatty(STDERR_FILENO)) {
        int width = 24, done = p->steps ? (int)(width * p->step / p->steps) : width;
        fprintf(stderr, "\r\033[Kepoch %d/%d [%.*s%*s] loss %.4f%s  %.0f ex/s  ETA %s", p->epoch, p->epochs, done,
                "========================", width - done, "", p->loss, valid, p->examples_per_s, eta);
        if (p->end_of_epoch) fputc('\n', stderr);
        fflush(stderr);
    } else if (p->end_of_epoch) {
        fprintf(stderr, "epoch %d/%d  loss %.4f%s  %.0f ex/s  ETA %s\n", p->epoch, p->epochs, p->loss, valid,
                p->examples_per_s, eta);
    }
}

static void apply_overrides(rec_config *cfg, const train_args *a)
{
    if (a->epochs > 0) cfg->train.epochs = (int)a->epochs;
    if (a->seed >= 0) cfg->train.seed = (uint64_t)a->seed;
    if (a->threads > 0) cfg->train.threads = (int)a->threads;
    if (a->test_fold >= 0) cfg->split.test_fold = (int)a->test_fold;
}

static void print_report(const rec_train_report *r, const char *out)
{
    if (!isfinite(r->fit.best_valid))
        printf("note: no validation customers (split.valid_fraction), so no early stopping: the last epoch is kept\n");
    printf("trained %d epoch%s (%ld steps, %.0f examples/s, %.1f s); best validation %s %.4f at epoch %d\n",
           r->fit.epochs_run, r->fit.epochs_run == 1 ? "" : "s", r->fit.steps, r->fit.examples_per_s, r->fit.seconds, r->metric,
           isfinite(r->fit.best_valid) ? r->fit.best_valid : NAN, r->fit.best_epoch);
    printf("customers: %ld train, %ld validation, %ld test, %ld left out (no consent)\n", r->n_train_customers,
           r->n_valid_customers, r->n_test_customers, r->n_excluded_customers);
    if (r->n_test_evaluated != r->n_test_customers) /* say it here, or evaluate's count looks wrong */
        printf("test: %ld of the %ld test customers have a held-out target to rank (evaluate scores those; the "
               "others have none in the target kinds)\n", r->n_test_evaluated, r->n_test_customers);
    printf("model: %s/model.safetensors, %s/model.json\n", out, out);
}

int cli_train(int argc, char **argv)
{
    train_args a;
    int p = parse_train_args(argc, argv, &a);
    if (p) return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    data_dataset ds;
    rec_config cfg;
    hp_error err = { 0 };
    const char *none[DATA_T_COUNT] = { 0 };
    int rc = cli_load_dataset(&ds, a.config, a.data_dir, none, &err);
    if (rc) return cli_error(rc, err.msg);
    /* the model files are never one of the inputs or a store: saving would destroy them */
    const char *inputs[DATA_T_COUNT + 1];
    size_t ninputs = cli_dataset_inputs(&ds, a.config, inputs, HP_ARRAY_LEN(inputs));
    if ((rc = cli_refuse_outputs_in("--out", a.out, cli_model_files, CLI_MODEL_FILES, a.consent_db, inputs, ninputs, &err))) {
        data_dataset_free(&ds);
        return cli_error(rc, err.msg);
    }
    data_ingest_report irep;
    if (!(rc = data_ingest(&ds, NULL, &irep, &err)) && irep.total_rejected)
        fprintf(stderr, "note: %zu rows rejected while loading (run hyperp ingest to see them)\n", irep.total_rejected);
    if (!rc) rc = rec_config_from_dataset(&cfg, &ds, &err);
    /* before --out is created: a misspelt kind is the config's fault (ingest checks the same) */
    if (!rc && (rc = rec_config_check_kinds(&cfg, &ds, &err))) rec_config_free(&cfg);
    if (rc) {
        data_dataset_free(&ds);
        return cli_error(rc, err.msg);
    }
    apply_overrides(&cfg, &a);
    int nothing_to_learn = 0;
    if ((rc = cli_mkdirs(a.out, &err))) goto done;
    uint8_t *allowed = NULL;
    int64_t snapshot = 0;
    a.consent_db = cli_consent_db(a.consent_db, a.no_consent);
    if (a.consent_db) {
        size_t nallowed;
        rc = cli_consent_gate_snapshot(a.consent_db, &ds.t[DATA_T_CUSTOMERS], PRIVACY_PERSONALISATION, &allowed, &nallowed, &snapshot, &err);
        if (rc) goto done;
        fprintf(stderr, "consent: %zu of %zu customers may be used for personalisation; the others are left out\n",
                nallowed, ds.t[DATA_T_CUSTOMERS].nrows);
    }
    signal(SIGINT, on_sigint);
    /* where the data is, absolute, so that evaluate finds it from anywhere */
    char *abs_config = a.config ? realpath(a.config, NULL) : NULL;
    char *abs_data = a.config ? NULL : realpath(a.data_dir, NULL);
    json_t *files = data_files_fingerprint(&ds);
    rec_train_opts o = { .out_dir = a.out, .stop = &g_stop, .progress = train_progress, .ctx = &a, .allowed = allowed,
                         .data_config = abs_config, .data_dir = abs_data, .data_files = files };
    rec_train_report rep;
    rc = rec_train(&ds, &cfg, &o, &rep, &err);
    signal(SIGINT, SIG_DFL);
    json_decref(files);
    free(abs_config); /* realpath allocates with malloc */
    free(abs_data);
    /* the data loaded but leaves nothing to train or validate on: this run failed (exit 1);
     * exit 2 is for inputs that cannot be read or used at all */
    nothing_to_learn = rc == HP_ERR_EMPTY;
    if (rc && !a.quiet && isatty(STDERR_FILENO)) fputc('\n', stderr); /* end the progress line */
    if (!rc || rc == HP_ERR_INTERRUPTED) print_report(&rep, a.out);
    if ((!rc || rc == HP_ERR_INTERRUPTED) && allowed) { /* an interrupted run saved a usable model too */
        hp_error rerr = { 0 };
        int reg = cli_register_model(a.consent_db, a.out, allowed, ds.t[DATA_T_CUSTOMERS].nrows, snapshot, &rerr);
        if (reg) {
            rc = reg;
            err = rerr;
        } else {
            printf("registered in %s: erasing a customer marks this model as due for retraining\n", a.consent_db);
        }
    }
    hp_free(allowed);
done:
    rec_config_free(&cfg);
    data_dataset_free(&ds);
    if (!rc) return CLI_EXIT_OK;
    int code = cli_error(rc, err.msg);
    return nothing_to_learn ? CLI_EXIT_FAIL : code;
}
