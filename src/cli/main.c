/* hyperp: one CLI, many subcommands. */
#include "cli/cli.h"
#include "mfile/mfile.h"
#include "data/parse.h"

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HYPERP_VERSION "0.1.0"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *help;
} k_commands[] = {
    { "synth", cli_synth, "generate a synthetic B2B financial-services data set" },
    { "ingest", cli_ingest, "load a data set through its config, report rejects, summarise" },
    { "train", cli_train, "train the multimodal recommender" },
    { "recommend", cli_recommend, "top-k products per customer, with scores and modality weights" },
    { "evaluate", cli_evaluate, "evaluate a model beside popularity and the oracle" },
    { "privacy", cli_privacy, "consent, export/erase a customer, retention purge, PII scan, report" },
    { "audit", cli_audit, "verify or export the hash-chained audit log" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: hyperp <command> [options]   (hyperp <command> --help for its options)\n\n"
               "commands:\n");
    for (size_t i = 0; i < HP_ARRAY_LEN(k_commands); i++)
        fprintf(f, "  %-10s %s\n", k_commands[i].name, k_commands[i].help);
    fprintf(f, "  %-10s %s\n", "version", "print the version");
}

int cli_exit_code(int status)
{
    switch (status) {
    case HP_OK: return CLI_EXIT_OK;
    case HP_ERR_INVAL: case HP_ERR_FORMAT: case HP_ERR_ENCODING: case HP_ERR_EMPTY:
    case HP_ERR_VERSION: case HP_ERR_RANGE: case HP_ERR_NOTFOUND: case HP_ERR_IO:
        return CLI_EXIT_USAGE;
    default: return CLI_EXIT_FAIL;
    }
}

/* The user's own arguments (argv strings, so they live as long as the run). */
static const char *g_user_args[64];
static size_t g_nuser_args;

void cli_user_arg(const char *arg)
{
    if (arg && *arg && g_nuser_args < HP_ARRAY_LEN(g_user_args)) g_user_args[g_nuser_args++] = arg;
}

int cli_error(int status, const char *msg)
{
    cli_progress_done();
    /* a message may quote a value from the data: PII never reaches the terminal or a log; the
     * user's own arguments (the file that failed, the flag value refused) are shown as given */
    char safe[HP_ERROR_MAX + 64];
    if (msg && *msg)
        data_quote_message(msg, strlen(msg), g_user_args, g_nuser_args, sizeof safe - 1, safe, sizeof safe);
    fprintf(stderr, "hyperp: %s\n", msg && *msg ? safe : hp_strerror(status));
    return cli_exit_code(status);
}

int cli_mkdirs(const char *path, hp_error *err) { return hp_mkdirs(path, err); }

static int g_progress_shown;

void cli_progress(void *ctx, const char *stage, double fraction)
{
    (void)ctx;
    if (!isatty(STDERR_FILENO)) return;
    if (fraction >= 0) fprintf(stderr, "\r  %-24s %5.1f%%", stage, 100.0 * fraction);
    else fprintf(stderr, "\r  %-24s ...", stage);
    fflush(stderr);
    g_progress_shown = 1;
}

void cli_progress_done(void)
{
    if (g_progress_shown) fprintf(stderr, "\r%60s\r", "");
    g_progress_shown = 0;
}

/* Digits only (no sign, no space, no "0x"): strtoull alone would take " -1" as 2^64-1. */
static int all_digits(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

int cli_parse_u64(const char *flag, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = all_digits(s) ? strtoull(s, &end, 10) : 0;
    if (!all_digits(s)) {
        fprintf(stderr, "hyperp: %s: '%s' is not a non-negative integer\n", flag, s);
        return -1;
    }
    if (errno == ERANGE) {
        fprintf(stderr, "hyperp: %s: %s is too large (at most %llu)\n", flag, s, (unsigned long long)UINT64_MAX);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_range(const char *flag, const char *s, long long lo, long long hi, long long *out)
{
    const char *digits = s[0] == '-' ? s + 1 : s;
    if (!all_digits(digits)) {
        fprintf(stderr, "hyperp: %s: '%s' is not a%s integer (allowed: %lld..%lld)\n", flag, s,
                lo >= 0 ? " non-negative" : "n", lo, hi);
        return -1;
    }
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE || v < lo || v > hi) {
        fprintf(stderr, "hyperp: %s: %s is outside %lld..%lld\n", flag, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_getopt(int argc, char **argv, const struct option *opts, cli_given *given)
{
    int idx = -1;
    int c = getopt_long(argc, argv, "h", opts, &idx);
    cli_user_arg(optarg); /* a flag value is the user's own: messages echo it in clear (cli.h) */
    if (c == -1 || idx < 0 || idx >= CLI_MAX_FLAGS || opts[idx].has_arg != required_argument) return c;
    const char *name = opts[idx].name, *first = given->value[idx];
    if (first) {
        /* a consent event is for one purpose, however the two were meant */
        int purpose = strcmp(name, "purpose") == 0;
        fprintf(stderr, "hyperp: flag --%s given twice ('%s', then '%s'): it takes one value%s\n", name,
                first, optarg, purpose ? " (a consent event is for one purpose: record each purpose with its own "
                "command)" : "");
        return '?';
    }
    given->value[idx] = optarg;
    return c;
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "C"); /* numbers in files and output always use '.' */
    /* everything hyperp writes may hold customer data (models, data sets, results, the store):
     * owner-only unless a file's own code says otherwise */
    umask(077);
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("hyperp %s\n", HYPERP_VERSION);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < HP_ARRAY_LEN(k_commands); i++)
        if (!strcmp(cmd, k_commands[i].name)) return k_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "hyperp: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return CLI_EXIT_USAGE;
}

static const char *const k_model_dirs[] = { "artifacts/model", "artifacts/demo/model" };

/* artifacts/model as soon as anything of a model is there (model.json even as a dangling
 * link, or a current version link): a broken model there is reported, never passed over
 * in silence for the demo's. */
const char *const cli_model_files[CLI_MODEL_FILES] = { MFILE_META, MFILE_WEIGHTS };

const char *cli_default_model(void)
{
    static const char *const marks[] = { "model.json", "current" };
    for (size_t i = 0; i < HP_ARRAY_LEN(marks); i++) {
        char path[256];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", k_model_dirs[0], marks[i]);
        if (lstat(path, &st) == 0) return k_model_dirs[0];
    }
    char demo[256];
    struct stat st;
    snprintf(demo, sizeof demo, "%s/model.json", k_model_dirs[1]);
    return stat(demo, &st) == 0 ? k_model_dirs[1] : k_model_dirs[0];
}

void cli_note_default_model(const char *model)
{
    if (model == k_model_dirs[1]) /* the pointer: a --model naming the same folder says nothing */
        fprintf(stderr, "model: %s (the demo's: there is no %s; --model DIR to choose)\n", k_model_dirs[1],
                k_model_dirs[0]);
}
