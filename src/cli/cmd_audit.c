/* hyperp audit: verify or export the hash-chained audit log. */
#include "cli/cli.h"
#include "privacy/audit.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void audit_usage(FILE *f)
{
    fprintf(f,
        "usage: hyperp audit verify [--db PATH | --file FILE]\n"
        "       hyperp audit export --out FILE [--db PATH]\n"
        "Checks that no audit entry was altered, removed or reordered (BLAKE2b hash chain),\n"
        "or writes the log as JSONL (a header line, then one entry per line).\n\n"
        "  --db PATH     store (default: $HYPERP_DB or " STORE_DEFAULT_PATH ")\n"
        "  --file FILE   verify an exported JSONL file instead of the store\n"
        "  --out FILE    export destination\n\n"
        "Exit status: 0 intact, 1 broken chain or failure, 2 bad usage or unreadable input.\n");
}

int cli_audit(int argc, char **argv)
{
    static const struct option opts[] = {
        { "db", required_argument, 0, 'd' }, { "file", required_argument, 0, 'f' },
        { "out", required_argument, 0, 'o' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    const char *db = getenv("HYPERP_DB") && *getenv("HYPERP_DB") ? getenv("HYPERP_DB") : STORE_DEFAULT_PATH;
    const char *file = NULL, *out = NULL;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'f': file = optarg; break;
        case 'o': out = optarg; break;
        case 'h': audit_usage(stdout); return CLI_EXIT_OK;
        default: audit_usage(stderr); return CLI_EXIT_USAGE;
        }
    }
    int verify = optind + 1 == argc && !strcmp(argv[optind], "verify");
    int export = optind + 1 == argc && !strcmp(argv[optind], "export");
    if (!verify && !export) {
        audit_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (export && !out) return cli_error(HP_ERR_INVAL, "audit export: --out FILE is required");
    hp_error err = { 0 };
    audit_report rep;
    memset(&rep, 0, sizeof rep);
    store *s = NULL;
    /* the export is never written onto the store it reads (or its WAL): that would destroy it */
    int rc = export ? cli_refuse_output("--out", out, db, NULL, 0, &err) : HP_OK;
    if (!rc) rc = file && verify ? audit_verify_file(file, &rep, &err) : store_open(&s, db, &err);
    if (!rc && s) rc = verify ? audit_verify_store(s, &rep, &err)
                              : audit_export_file(s, out, (int64_t)time(NULL), &err);
    store_close(s);
    if (rc == HP_ERR_FORMAT && rep.problem[0]) {
        fprintf(stderr, "hyperp: audit chain BROKEN at %s\n", rep.problem);
        return CLI_EXIT_FAIL;
    }
    if (rc) return cli_error(rc, err.msg);
    if (verify && rep.anchor_seq)
        printf("audit chain intact: %lld entries (%lld with erased subjects) after the anchor at seq "
               "%lld (entries up to it were purged); head %s\n", (long long)rep.entries,
               (long long)rep.redacted, (long long)rep.anchor_seq, rep.head);
    else if (verify)
        printf("audit chain intact: %lld entries (%lld with erased subjects); head %s\n",
               (long long)rep.entries, (long long)rep.redacted, rep.head);
    else printf("wrote the audit log to %s\n", out);
    return CLI_EXIT_OK;
}
