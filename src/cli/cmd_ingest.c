/* hyperp ingest: load a data set through its config, report rejects, print a summary. */
#include "cli/cli.h"
#include "data/data.h"
#include "rec/rec.h"
#include "privacy/privacy.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void ingest_usage(FILE *f)
{
    fprintf(f,
        "usage: hyperp ingest [options]\n"
        "Loads a data set as its config describes and prints what was loaded.\n\n"
        "  --config FILE        dataset config (docs/config.md); default: the built-in config\n"
        "                       (synthetic data and hackathon profiles) over --data\n"
        "  --data DIR           folder of the built-in config's files (default: .)\n"
        "  --customers FILE     read customers from FILE (CSV, JSON array or JSONL)\n"
        "  --products FILE      read the product catalogue from FILE\n"
        "  --interactions FILE  read interactions from FILE\n"
        "  --transactions FILE  read transactions from FILE\n"
        "  --rejects FILE       where rejected rows go (default: artifacts/rejects.csv); owner-only,\n"
        "                       PII masked; never one of the files read\n"
        "  --db PATH            privacy store to register the rejects file in, so that erasing a\n"
        "                       customer removes their rejected rows (default: $HYPERP_DB if set)\n"
        "  --json               print the summary as JSON\n"
        "  --quiet              print only rejects and errors\n"
        "  -h, --help           this help\n\n"
        "Exit status: 0 loaded (rejected rows are reported, not fatal), 2 a file or the config\n"
        "cannot be used, 1 any other failure.\n");
}

typedef struct {
    const char *config, *data_dir, *rejects, *db;
    const char *files[DATA_T_COUNT];
    int json, quiet;
} ingest_args;

static int parse_args(int argc, char **argv, ingest_args *a)
{
    static const struct option opts[] = {
        { "config", required_argument, 0, 'c' }, { "data", required_argument, 0, 'd' },
        { "customers", required_argument, 0, 'C' }, { "products", required_argument, 0, 'P' },
        { "interactions", required_argument, 0, 'I' }, { "transactions", required_argument, 0, 'T' },
        { "rejects", required_argument, 0, 'r' }, { "json", no_argument, 0, 'j' },
        { "db", required_argument, 0, 'D' },
        { "quiet", no_argument, 0, 'q' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    memset(a, 0, sizeof *a);
    a->data_dir = ".";
    a->rejects = "artifacts/rejects.csv";
    optind = 1;
    int c;
    cli_given given = { 0 }; /* a value flag given twice is refused */
    while ((c = cli_getopt(argc, argv, opts, &given)) != -1) {
        switch (c) {
        case 'c': a->config = optarg; break;
        case 'd': a->data_dir = optarg; break;
        case 'C': a->files[DATA_T_CUSTOMERS] = optarg; break;
        case 'P': a->files[DATA_T_PRODUCTS] = optarg; break;
        case 'I': a->files[DATA_T_INTERACTIONS] = optarg; break;
        case 'T': a->files[DATA_T_TRANSACTIONS] = optarg; break;
        case 'r': a->rejects = optarg; break;
        case 'D': a->db = optarg; break;
        case 'j': a->json = 1; break;
        case 'q': a->quiet = 1; break;
        case 'h': ingest_usage(stdout); return 1;
        default: ingest_usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hyperp ingest: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

static void print_note(void *ctx, const char *msg)
{
    (void)ctx;
    cli_progress_done();
    fprintf(stderr, "note: %s\n", msg);
}

static void ingest_progress(void *ctx, const char *table, size_t rows, double fraction)
{
    char stage[64];
    snprintf(stage, sizeof stage, "%s %zu rows", table, rows);
    cli_progress(ctx, stage, fraction);
}

static int mkdir_for(const char *path, hp_error *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return HP_OK;
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    return cli_mkdirs(dir, err);
}

static void report_rejects(const data_ingest_report *rep, const char *rejects)
{
    if (!rep->total_rejected) return;
    for (int i = 0; i < rep->nsamples; i++) fprintf(stderr, "rejected: %s\n", rep->samples[i]);
    if (rep->total_rejected > (size_t)rep->nsamples)
        fprintf(stderr, "... and %zu more\n", rep->total_rejected - (size_t)rep->nsamples);
    fprintf(stderr, "%zu row%s rejected in all; every one is in %s\n", rep->total_rejected,
            rep->total_rejected > 1 ? "s" : "", rejects);
}

/* Loads the config and applies the file overrides. */
int cli_load_dataset(data_dataset *ds, const char *config, const char *data_dir,
                     const char *const files[DATA_T_COUNT], hp_error *err)
{
    int rc = config ? data_config_load(ds, config, err) : data_config_default(ds, data_dir, err);
    for (int k = 0; !rc && k < DATA_T_COUNT; k++)
        if (files[k]) rc = data_config_set_file(ds, (data_table_kind)k, files[k], err);
    return rc;
}

int cli_ingest(int argc, char **argv)
{
    ingest_args a;
    int p = parse_args(argc, argv, &a);
    if (p) return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    data_dataset ds;
    hp_error err = { 0 };
    int rc = cli_load_dataset(&ds, a.config, a.data_dir, a.files, &err);
    /* the whole config is checked as train reads it (model/train/split/evaluate sections), so
     * a bad train section is found here and not only by the next command */
    rec_config mc;
    if (!rc && (rc = rec_config_from_dataset(&mc, &ds, &err))) data_dataset_free(&ds);
    if (rc) return cli_error(rc, err.msg);
    const char *db = cli_consent_db(a.db, 0), *inputs[DATA_T_COUNT + 1];
    size_t ninputs = cli_dataset_inputs(&ds, a.config, inputs, HP_ARRAY_LEN(inputs));
    if ((rc = cli_refuse_output("--rejects", a.rejects, db, inputs, ninputs, &err)) || (rc = mkdir_for(a.rejects, &err))) {
        rec_config_free(&mc);
        data_dataset_free(&ds);
        return cli_error(rc, err.msg);
    }
    data_ingest_opts o = { .rejects_path = a.rejects, .progress = ingest_progress, .note = print_note };
    data_ingest_report rep;
    rc = data_ingest(&ds, &o, &rep, &err);
    cli_progress_done();
    /* the rejects file holds customers' rows: registered, so that erasure removes them */
    if (!rc && db) rc = cli_register_output(db, a.rejects, PRIVACY_OUT_REJECTS, &err);
    /* the kinds the config names, against the interactions loaded (as train checks them) */
    if (!rc) rc = rec_config_check_kinds(&mc, &ds, &err);
    rec_config_free(&mc);
    if (!rc) {
        report_rejects(&rep, a.rejects);
        if (!a.quiet) {
            rc = data_summary_write(&ds, &rep, stdout, a.json);
            if (!a.json) {
                size_t rows = 0;
                for (int k = 0; k < DATA_T_COUNT; k++) rows += rep.rows[k];
                printf("loaded %zu rows, rejected %zu, in %.2f s\n", rows, rep.total_rejected, rep.seconds);
                if (rep.pii_masked) printf("masked %zu PII matches in text columns\n", rep.pii_masked);
            }
        }
    }
    data_dataset_free(&ds);
    return rc ? cli_error(rc, err.msg) : CLI_EXIT_OK;
}
