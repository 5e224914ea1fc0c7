/* hyperp audit: verify or export the hash-chained audit log. */
#include "cli/cli.h"
#include "privacy/audit.h"
#include "store/store.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void audit_usage(FILE *f)
{
    fprintf(f,
        "usage: hyperp audit verify [--db PATH | --file FILE] [--expect-head HASH]\n"
        "       hyperp audit export --out FILE [--db PATH]\n"
        "Checks that no audit entry was altered, removed or reordered (BLAKE2b hash chain),\n"
        "or writes the log as JSONL (a header line, then one entry per line).\n\n"
        "  --db PATH     store (default: $HYPERP_DB or " STORE_DEFAULT_PATH ")\n"
        "  --file FILE   verify an exported JSONL file instead of the store\n"
        "  --expect-head HASH  a head printed earlier (by verify or any command that writes the\n"
        "                log) and kept outside the store: the chain must still hold it, which is\n"
        "                what catches removed newest entries (truncation)\n"
        "  --out FILE    export destination\n\n"
        "Exit status: 0 intact, 1 broken chain or failure, 2 bad usage or unreadable input.\n");
}

int cli_audit(int argc, char **argv)
{
    static const struct option opts[] = {
        { "db", required_argument, 0, 'd' }, { "file", required_argument, 0, 'f' },
        { "out", required_argument, 0, 'o' }, { "expect-head", required_argument, 0, 'e' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    char expect[65] = "";
    const char *db = getenv("HYPERP_DB") && *getenv("HYPERP_DB") ? getenv("HYPERP_DB") : STORE_DEFAULT_PATH;
    const char *file = NULL, *out = NULL;
    optind = 1;
    int c;
    const char *head = NULL, **dst;
    cli_given given = { 0 }; /* a value flag given twice is refused */
    while ((c = cli_getopt(argc, argv, opts, &given)) != -1) {
        dst = NULL;
        switch (c) {
        case 'd': dst = &db; break;
        case 'f': dst = &file; break;
        case 'o': dst = &out; break;
        case 'e': dst = &head; break;
        case 'h': audit_usage(stdout); return CLI_EXIT_OK;
        default: audit_usage(stderr); return CLI_EXIT_USAGE;
        }
        if (dst) *dst = optarg;
    }
    if (head && cli_parse_head("--expect-head", head, expect)) return CLI_EXIT_USAGE;
    int verify = optind + 1 == argc && !strcmp(argv[optind], "verify");
    int export = optind + 1 == argc && !strcmp(argv[optind], "export");
    if (!verify && !export) {
        audit_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (export && !out) return cli_error(HP_ERR_INVAL, "audit export: --out FILE is required");
    if (export && expect[0]) return cli_error(HP_ERR_INVAL, "--expect-head: only for audit verify");
    hp_error err = { 0 };
    audit_report rep;
    memset(&rep, 0, sizeof rep);
    store *s = NULL;
    const char *want = expect[0] ? expect : NULL;
    /* the export is never written onto the store it reads (or its WAL): that would destroy it */
    int rc = export ? cli_refuse_output("--out", out, db, NULL, 0, &err) : HP_OK;
    /* both read the log: a store that does not exist is a mistyped path, not an empty log */
    if (!rc) rc = file && verify ? audit_verify_file_expect(file, want, &rep, &err)
                                 : store_open_existing(&s, db, &err);
    if (!rc && s) rc = verify ? audit_verify_store_expect(s, want, &rep, &err)
                              : audit_export_file(s, out, (int64_t)time(NULL), &err);
    if (!rc && s && export) cli_print_audit_head(s);
    store_close(s);
    if (rc == HP_ERR_FORMAT && rep.problem[0]) {
        /* the problem is a clause: "entry 3 (after 2): ..." or "the log ends at seq 5 but ..." */
        fprintf(stderr, "hyperp: audit chain BROKEN: %s\n", rep.problem);
        return CLI_EXIT_FAIL;
    }
    if (rc) return cli_error(rc, err.msg);
    if (verify && rep.anchor_seq)
        printf("audit chain intact: %lld entries (%lld with erased subjects) after the anchor at seq "
               "%lld (entries up to it were purged); head %s (seq %lld)\n", (long long)rep.entries,
               (long long)rep.redacted, (long long)rep.anchor_seq, rep.head, (long long)rep.head_seq);
    else if (verify)
        printf("audit chain intact: %lld entries (%lld with erased subjects); head %s (seq %lld)\n",
               (long long)rep.entries, (long long)rep.redacted, rep.head, (long long)rep.head_seq);
    if (verify && want) printf("the expected head %s is in the chain\n", want);
    if (verify) printf("keep the head outside this store; verify later with --expect-head %s\n", rep.head);
    else printf("wrote the audit log to %s\n", out);
    return CLI_EXIT_OK;
}

int cli_parse_head(const char *flag, const char *s, char out[65])
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n && n == 64; i++)
        if (!isxdigit((unsigned char)s[i])) n = 0;
    if (n != 64) {
        fprintf(stderr, "hyperp: %s: expected the 64 hex digits of an audit head hash\n", flag);
        return -1;
    }
    for (size_t i = 0; i <= n; i++) out[i] = (char)tolower((unsigned char)s[i]);
    return 0;
}

void cli_print_audit_head(store *s)
{
    int64_t seq = 0;
    char hash[65] = "";
    hp_error err = { 0 };
    if (store_audit_head(s, &seq, hash, &err) == HP_OK && hash[0])
        fprintf(stderr, "audit head: %s (seq %lld); keep it outside the store to check later with "
                "hyperp audit verify --expect-head\n", hash, (long long)seq);
}

void cli_print_audit_head_of(const char *db)
{
    store *s = NULL;
    hp_error err = { 0 };
    if (store_open_existing(&s, db, &err) == HP_OK) cli_print_audit_head(s);
    store_close(s);
}
