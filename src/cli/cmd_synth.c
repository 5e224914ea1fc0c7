/* hyperp synth: write a synthetic B2B financial-services data set and its hidden truth. */
#include "cli/cli.h"
#include "data/synth.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void synth_usage(FILE *f)
{
    data_synth_opts d;
    data_synth_opts_init(&d);
    fprintf(f,
        "usage: hyperp synth [options]\n"
        "Writes customers, products, interactions and transactions (CSV, hackathon format)\n"
        "and the ground truth they were drawn from (truth_*.csv, truth.json).\n\n"
        "  --customers N      number of customers, %ld..%ld (default %ld)\n"
        "  --seed S           random seed; the same seed gives the same bytes (default %llu)\n"
        "  --bias B           injected bias against the protected group, >= 0 (default %g)\n"
        "  --tx-per-year T    mean transactions per customer per year (default %d)\n"
        "  --products P       catalogue size, %d..%d (default %d)\n"
        "  --out DIR          output folder, created if missing (default data/synth)\n"
        "  -h, --help         this help\n",
        DATA_SYNTH_MIN_CUSTOMERS, DATA_SYNTH_MAX_CUSTOMERS, d.customers, (unsigned long long)d.seed,
        d.bias, d.tx_per_year, DATA_SYNTH_MIN_PRODUCTS, data_synth_max_products(), d.products);
}

/* A finite number in lo..hi ("nan", "inf" and overflowing values like 1e999 are refused). */
static int parse_double(const char *flag, const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "hyperp: %s: '%s' is not a number in %g..%g\n", flag, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_synth_args(int argc, char **argv, data_synth_opts *o, const char **out)
{
    static const struct option opts[] = {
        { "customers", required_argument, 0, 'n' }, { "seed", required_argument, 0, 's' },
        { "bias", required_argument, 0, 'b' }, { "tx-per-year", required_argument, 0, 't' },
        { "products", required_argument, 0, 'p' }, { "out", required_argument, 0, 'o' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    long long v;
    int c;
    optind = 1;
    cli_given given = { 0 }; /* a value flag given twice is refused */
    while ((c = cli_getopt(argc, argv, opts, &given)) != -1) {
        switch (c) {
        case 'n': if (cli_parse_range("--customers", optarg, DATA_SYNTH_MIN_CUSTOMERS, DATA_SYNTH_MAX_CUSTOMERS, &v))
                      return -1;
                  o->customers = (long)v; break;
        case 's': if (cli_parse_u64("--seed", optarg, &o->seed)) return -1; break;
        case 'b': if (parse_double("--bias", optarg, 0, DATA_SYNTH_MAX_BIAS, &o->bias)) return -1; break;
        case 't': if (cli_parse_range("--tx-per-year", optarg, 0, DATA_SYNTH_MAX_TX_PER_YEAR, &v)) return -1;
                  o->tx_per_year = (int)v; break;
        case 'p': if (cli_parse_range("--products", optarg, DATA_SYNTH_MIN_PRODUCTS, data_synth_max_products(), &v))
                      return -1;
                  o->products = (int)v; break;
        case 'o': *out = optarg; break;
        case 'h': synth_usage(stdout); return 1;
        default: synth_usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hyperp synth: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

int cli_synth(int argc, char **argv)
{
    data_synth_opts o;
    data_synth_opts_init(&o);
    const char *out = "data/synth";
    int p = parse_synth_args(argc, argv, &o, &out);
    if (p) return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    hp_error err = { 0 };
    int rc = data_synth_check(&o, &err);
    /* the files data/synth.h names: never written over a privacy store */
    static const char *const names[] = { "customers.csv", "products.csv", "interactions.csv", "transactions.csv",
                                         "truth_customers.csv", "truth_affinity.csv", "truth.json" };
    if (!rc) rc = cli_refuse_outputs_in("--out", out, names, HP_ARRAY_LEN(names), NULL, NULL, 0, &err);
    if (rc) return cli_error(rc, err.msg);
    o.progress = cli_progress;
    double t0 = hp_now();
    rc = data_synth_run(&o, out, &err);
    cli_progress_done();
    if (rc) return cli_error(rc, err.msg);
    printf("wrote %ld customers, %d products (seed %llu, bias %g) to %s/ in %.1f s\n", o.customers,
           o.products, (unsigned long long)o.seed, o.bias, out, hp_now() - t0);
    return CLI_EXIT_OK;
}
