/* hyperp privacy: consent, data-subject rights, retention, PII scans, the compliance report.
 * Thin: parses flags and calls src/privacy and src/text. */
#include "cli/cli.h"
#include "data/parse.h"
#include "privacy/privacy.h"
#include "privacy/scan_text.h"
#include "text/pii.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void privacy_usage(FILE *f)
{
    fprintf(f,
        "usage: hyperp privacy <action> [options]\n"
        "  consent give|withdraw|object|gpc ID --purpose P [--basis B] [--source S] [--notice V] [--at TIME]\n"
        "  consent show ID        consent history and the current decision per purpose\n"
        "  export ID [--out FILE] everything held about a customer as JSON (Art. 15/20)\n"
        "  erase ID               erase a customer everywhere (Art. 17)\n"
        "  purge [--dry-run]      delete data past its retention period, run queued erasures\n"
        "  report [--json]        compliance report\n"
        "  scan FILE [--mask OUT] [--first6]  PII scan of a text/CSV file (counts, never values)\n"
        "  anonymise --out FILE [--level N]   k-anonymous pseudonymised dataset export\n\n"
        "options:\n"
        "  --db PATH          store (default: $HYPERP_DB or " STORE_DEFAULT_PATH ")\n"
        "  --config FILE      privacy config (default: $HYPERP_PRIVACY_CONFIG or built-in; docs/privacy.md)\n"
        "  --purpose P        personalisation, credit_profiling, marketing, analytics, sale_sharing\n"
        "  --basis B          lawful basis (default consent)\n"
        "  --source S         where the decision came from (default unspecified); after a withdrawal,\n"
        "                     objection or GPC only --basis consent from customer, web, app or\n"
        "                     branch-customer-signed lifts it\n"
        "  --notice V         version of the privacy notice shown (required for give)\n"
        "  --at TIME          when the customer acted, YYYY-MM-DD[THH:MM[:SS]Z] (default now)\n"
        "  --level N          generalisation level for anonymise: 0 exact, 1 ranges, 2 suppressed (default 1)\n\n"
        "The pseudonym key comes from HYPERP_PSEUDONYM_KEY_FILE or HYPERP_PSEUDONYM_KEY.\n"
        "Only consent give|withdraw|object|gpc and scan create the store; the other actions need it.\n"
        "Actions that write the audit log print its head on stderr: keep it, check with audit verify --expect-head.\n"
        "Exit status: 0 done, 2 bad input (malformed id, unknown purpose, future date), 1 other failure.\n");
}

typedef struct {
    const char *db, *config, *purpose, *basis, *source, *notice, *at, *out, *mask;
    int json, dry_run, first6, level;
    char **pos;   /* positional arguments after the action */
    int npos;
} privacy_args;

static int parse_args(int argc, char **argv, privacy_args *a)
{
    static const struct option opts[] = {
        { "db", required_argument, 0, 'd' }, { "config", required_argument, 0, 'c' },
        { "purpose", required_argument, 0, 'p' }, { "basis", required_argument, 0, 'b' },
        { "source", required_argument, 0, 's' }, { "notice", required_argument, 0, 'n' },
        { "at", required_argument, 0, 'a' }, { "out", required_argument, 0, 'o' },
        { "mask", required_argument, 0, 'm' }, { "level", required_argument, 0, 'l' },
        { "json", no_argument, 0, 'j' }, { "dry-run", no_argument, 0, 'r' },
        { "first6", no_argument, 0, 'f' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    memset(a, 0, sizeof *a);
    a->db = getenv("HYPERP_DB") && *getenv("HYPERP_DB") ? getenv("HYPERP_DB") : STORE_DEFAULT_PATH;
    a->config = getenv("HYPERP_PRIVACY_CONFIG");
    a->level = 1;
    optind = 1;
    int c;
    uint64_t v;
    const char **dst;
    cli_given given = { 0 }; /* a value flag given twice is refused */
    while ((c = cli_getopt(argc, argv, opts, &given)) != -1) {
        dst = NULL;
        switch (c) {
        case 'd': dst = &a->db; break;
        case 'c': dst = &a->config; break;
        case 'p': dst = &a->purpose; break;
        case 'b': dst = &a->basis; break;
        case 's': dst = &a->source; break;
        case 'n': dst = &a->notice; break;
        case 'a': dst = &a->at; break;
        case 'o': dst = &a->out; break;
        case 'm': dst = &a->mask; break;
        case 'l':
            if (cli_parse_u64("--level", optarg, &v)) return -1;
            if (v > 2) return fprintf(stderr, "hyperp: --level: %llu is outside 0..2\n", (unsigned long long)v), -1;
            a->level = (int)v;
            break;
        case 'j': a->json = 1; break;
        case 'r': a->dry_run = 1; break;
        case 'f': a->first6 = 1; break;
        case 'h': privacy_usage(stdout); return 1;
        default: privacy_usage(stderr); return -1;
        }
        if (dst) *dst = optarg;
    }
    a->pos = argv + optind;
    a->npos = argc - optind;
    return 0;
}

static int need_args(const privacy_args *a, int n, const char *what)
{
    if (a->npos == n) return 0;
    fprintf(stderr, "hyperp privacy: %s (see hyperp privacy --help)\n",
            a->npos < n ? what : "too many arguments");
    return -1;
}

/* Only what records something new creates the store: consent events and PII scans (their
 * results). Everything else reads or changes what is held, and a store that does not exist
 * there is a mistyped --db or HYPERP_DB, not an empty one (docs/privacy.md). */
static int creates_store(const privacy_args *a)
{
    if (!strcmp(a->pos[0], "scan")) return 1;
    return !strcmp(a->pos[0], "consent") && a->npos > 1 && strcmp(a->pos[1], "show");
}

/* Opens the store and config; loads the key when needed. */
static int open_ctx(privacy_ctx **out, const privacy_args *a, int need_key, hp_error *err)
{
    privacy_config cfg;
    privacy_config_default(&cfg);
    int rc = a->config ? privacy_config_load(&cfg, a->config, err) : HP_OK;
    if (rc) return rc;
    int create = creates_store(a);
    const char *slash = strrchr(a->db, '/');
    if (create && slash && slash != a->db) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - a->db), a->db);
        if ((rc = cli_mkdirs(dir, err))) return rc;
    }
    rc = create ? privacy_open(out, a->db, &cfg, err) : privacy_open_existing(out, a->db, &cfg, err);
    if (rc) return rc;
    privacy_set_actor(*out, "cli");
    if (need_key && (rc = cli_load_key(*out, err))) {
        privacy_close(*out);
        *out = NULL;
    }
    return rc;
}

/* ------------------------------------------------------------------ consent */

static int parse_event(const char *s, privacy_event *ev)
{
    const char *names[] = { "give", "withdraw", "object", "gpc" };
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) return *ev = (privacy_event)i, 0;
    return -1;
}

static int print_event(void *ctx, const store_consent *c)
{
    char when[32], recorded[48] = "";
    (void)ctx;
    data_format_timestamp(c->at, when, sizeof when);
    if (c->recorded_at != c->at) { /* the gate weighs both (docs/privacy.md) */
        memcpy(recorded, " recorded ", 10);
        data_format_timestamp(c->recorded_at, recorded + 10, sizeof recorded - 10);
    }
    printf("  %s  %-16s %-8s basis %-20s source %-12s notice %s%s\n", when, c->purpose, c->event,
           c->basis, c->source, c->notice_version, recorded);
    return 0;
}

static int consent_show(privacy_ctx *ctx, const char *id, hp_error *err)
{
    int rc = privacy_id_check(id, err);
    if (rc) return rc;
    printf("consent history of %s (in recording order):\n", id);
    if ((rc = store_consent_each(privacy_store(ctx), id, print_event, NULL, err))) return rc;
    printf("current decisions:\n");
    for (int p = 0; p < PRIVACY_PURPOSE_COUNT && !rc; p++) {
        privacy_decision why;
        int ok = privacy_allowed(ctx, id, (privacy_purpose)p, 0, &why, err);
        if (ok < 0) return ok;
        printf("  %-16s %-7s %s\n", privacy_purpose_name((privacy_purpose)p), ok ? "allowed" : "denied", why.reason);
    }
    return rc;
}

static int consent_record(privacy_ctx *ctx, const privacy_args *a, privacy_event ev, hp_error *err)
{
    privacy_consent_req r = { .customer_id = a->pos[2], .event = ev, .basis = a->basis,
                              .source = a->source, .notice_version = a->notice };
    int rc = privacy_id_check(r.customer_id, err);
    if (!rc && !a->purpose) rc = hp_fail(err, HP_ERR_INVAL, "--purpose is required");
    if (!rc) rc = privacy_purpose_parse(a->purpose, &r.purpose, err);
    if (!rc && a->at) rc = data_parse_timestamp(a->at, strlen(a->at), &r.at, err);
    r.has_at = a->at != NULL;
    if (rc == HP_ERR_FORMAT) hp_error_prefix(err, "--at '%s'", a->at);
    if (!rc) rc = privacy_consent_record(ctx, &r, err);
    if (!rc) printf("recorded: %s %s for %s\n", a->pos[1], privacy_purpose_name(r.purpose), r.customer_id);
    privacy_decision why;
    /* a give dated before an opt-out in force is history, not a lift: say so */
    if (!rc && ev == PRIVACY_GIVE &&
        privacy_allowed(ctx, r.customer_id, r.purpose, PRIVACY_REQ_NO_AUDIT, &why, err) == 0)
        printf("note: %s stays denied: %s\n", privacy_purpose_name(r.purpose), why.reason);
    return rc;
}

static int cmd_consent(const privacy_args *a)
{
    privacy_event ev = PRIVACY_GIVE;
    if (need_args(a, 3, "consent needs an action and a customer id")) return CLI_EXIT_USAGE;
    int show = !strcmp(a->pos[1], "show");
    if (!show && parse_event(a->pos[1], &ev)) {
        fprintf(stderr, "hyperp: consent: unknown action '%s' (give, withdraw, object, gpc, show)\n", a->pos[1]);
        return CLI_EXIT_USAGE;
    }
    privacy_ctx *ctx = NULL;
    hp_error err = { 0 };
    /* before the store is opened (a give creates it): an id that may not be stored leaves no trace */
    int rc = show ? privacy_id_check(a->pos[2], &err) : privacy_id_check_storable(a->pos[2], &err);
    if (!rc) rc = open_ctx(&ctx, a, 1, &err);
    if (rc) return cli_error(rc, err.msg);
    rc = show ? consent_show(ctx, a->pos[2], &err) : consent_record(ctx, a, ev, &err);
    privacy_close(ctx);
    return rc ? cli_error(rc, err.msg) : CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ rights, purge, report */

static int cmd_export(const privacy_args *a)
{
    if (need_args(a, 2, "export needs a customer id")) return CLI_EXIT_USAGE;
    privacy_ctx *ctx = NULL;
    hp_error err = { 0 };
    const char *inputs[] = { a->config };
    int rc = privacy_id_check(a->pos[1], &err);
    if (!rc && a->out) rc = cli_refuse_output("--out", a->out, a->db, inputs, 1, &err);
    if (!rc) rc = open_ctx(&ctx, a, 1, &err);
    if (rc) return cli_error(rc, err.msg);
    /* whole or not at all (a failed export leaves no partial file; a device is never removed) */
    io_out_file out = { 0 };
    if (a->out) rc = cli_start_output(&out, "--out", a->out, a->db, inputs, 1, &err);
    if (!rc) rc = privacy_export(ctx, a->pos[1], a->out ? out.f : stdout, &err);
    if (rc == HP_ERR_WRITE) hp_error_prefix(&err, "%s", a->out ? a->out : "standard output");
    if (a->out) rc = io_out_finish(&out, rc, &err);
    /* the file holds the raw id: registered, so that erasing the customer deletes it */
    if (!rc && a->out) rc = privacy_register_output(ctx, a->out, PRIVACY_OUT_SUBJECT_EXPORT, &err);
    if (rc && io_out_is_file(&out)) unlink(out.target);
    privacy_close(ctx);
    return rc ? cli_error(rc, err.msg) : CLI_EXIT_OK;
}

/* Registered files erasure could not check may still hold the customer: said on stdout (the
 * result) and stderr (so that it is seen), with what to do. */
static void report_unreachable(const privacy_erase_result *res)
{
    if (!res->unreachable) return;
    printf("not reached: %lld registered file%s: %s\n", (long long)res->unreachable,
           res->unreachable > 1 ? "s" : "", res->unreachable_list);
    fprintf(stderr, "hyperp: warning: %lld registered file%s could not be checked and may still hold "
            "the customer; remove them or the customer's lines by hand: %s\n", (long long)res->unreachable,
            res->unreachable > 1 ? "s" : "", res->unreachable_list);
}

static int cmd_erase(const privacy_args *a)
{
    if (need_args(a, 2, "erase needs a customer id")) return CLI_EXIT_USAGE;
    privacy_ctx *ctx = NULL;
    hp_error err = { 0 };
    privacy_erase_result res;
    int rc = privacy_id_check(a->pos[1], &err);
    if (!rc) rc = open_ctx(&ctx, a, 1, &err);
    if (rc) return cli_error(rc, err.msg);
    rc = privacy_erase(ctx, a->pos[1], &res, &err);
    privacy_close(ctx);
    if (rc) return cli_error(rc, err.msg);
    if (res.resumed) {
        report_unreachable(&res);
        printf("finished the interrupted erasure of %s: export files rewritten %lld; models marked "
               "for retraining\n", a->pos[1], (long long)res.export_files_rewritten);
        return CLI_EXIT_OK;
    }
    const store_erase_counts *c = &res.rows;
    printf("erased %s: customers %lld, consent %lld, feedback %lld, transactions %lld, features %lld, "
           "notes %lld; audit subjects redacted %lld; export files rewritten %lld; output files "
           "rewritten %lld, removed %lld; models marked for retraining\n", a->pos[1],
           (long long)c->customers, (long long)c->consent, (long long)c->feedback,
           (long long)c->transactions, (long long)c->features, (long long)c->notes,
           (long long)c->audit_redacted, (long long)res.export_files_rewritten,
           (long long)res.output_files_rewritten, (long long)res.output_files_removed);
    report_unreachable(&res);
    return CLI_EXIT_OK;
}

static int cmd_purge(const privacy_args *a)
{
    if (need_args(a, 1, "")) return CLI_EXIT_USAGE;
    privacy_ctx *ctx = NULL;
    hp_error err = { 0 };
    privacy_purge_result res;
    int rc = open_ctx(&ctx, a, !a->dry_run, &err);
    if (rc) return cli_error(rc, err.msg);
    rc = privacy_purge(ctx, a->dry_run, &res, &err);
    if (!rc) {
        printf("%s\n", a->dry_run ? "dry run: would delete" : "deleted");
        for (int c = 0; c < STORE_CAT_COUNT; c++) {
            char when[32] = "kept forever";
            if (res.cutoff[c]) data_format_timestamp(res.cutoff[c], when, sizeof when);
            printf("  %-13s %6lld rows older than %s (%lld days)\n", store_category_name((store_category)c),
                   (long long)res.rows[c], when, (long long)privacy_cfg(ctx)->retention_days[c]);
        }
        printf("  erasure requests %lld\n", (long long)res.erasures);
    }
    privacy_close(ctx);
    return rc ? cli_error(rc, err.msg) : CLI_EXIT_OK;
}

static int cmd_report(const privacy_args *a)
{
    if (need_args(a, 1, "")) return CLI_EXIT_USAGE;
    privacy_ctx *ctx = NULL;
    hp_error err = { 0 };
    int rc = open_ctx(&ctx, a, 0, &err);
    if (rc) return cli_error(rc, err.msg);
    /* with the key (when set) the consent coverage also honours suppression records */
    const char *kf = getenv("HYPERP_PSEUDONYM_KEY_FILE"), *k = getenv("HYPERP_PSEUDONYM_KEY");
    if ((kf && *kf) || (k && *k)) rc = cli_load_key(ctx, &err);
    if (!rc) rc = privacy_report(ctx, a->json, stdout, &err);
    privacy_close(ctx);
    return rc ? cli_error(rc, err.msg) : CLI_EXIT_OK;
}

static int cmd_anonymise(const privacy_args *a)
{
    if (need_args(a, 1, "")) return CLI_EXIT_USAGE;
    if (!a->out) return cli_error(HP_ERR_INVAL, "anonymise: --out FILE is required");
    privacy_ctx *ctx = NULL;
    hp_error err = { 0 };
    privacy_kanon k;
    const char *inputs[] = { a->config };
    int rc = cli_refuse_output("--out", a->out, a->db, inputs, 1, &err);
    if (!rc) rc = open_ctx(&ctx, a, 1, &err);
    if (rc) return cli_error(rc, err.msg);
    rc = privacy_export_dataset(ctx, a->out, a->level, &k, &err);
    privacy_close(ctx);
    if (rc) return cli_error(rc, err.msg);
    printf("wrote %lld rows to %s: %lld equivalence classes, smallest %lld (level %d)\n",
           (long long)k.records, a->out, (long long)k.classes, (long long)k.smallest, a->level);
    return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ PII scan */

/* The first 20 findings, by line (counts and types, never values). */
static void print_finding(void *ctx, long line, size_t n, pii_type t)
{
    size_t *shown = ctx;
    if ((*shown)++ < 20) printf("  line %ld: %zu %s\n", line, n, pii_type_name(t));
}

static int cmd_scan(const privacy_args *a)
{
    if (need_args(a, 2, "scan needs a file")) return CLI_EXIT_USAGE;
    hp_error err = { 0 };
    char *text;
    size_t len;
    scan_text_encoding enc;
    cli_user_arg(a->pos[1]); /* the file operand is a path, not a customer id */
    /* a directory, a binary file or undecodable text is refused, never "0 PII findings" */
    int rc = scan_text_read(a->pos[1], &text, &len, &enc, &err);
    if (rc) return cli_error(rc, err.msg);
    const char *inputs[] = { a->pos[1], a->config }; /* scan F --mask F would empty F */
    io_out_file mask = { 0 }; /* whole or not at all: no partial masked text is left */
    size_t counts[PII_TYPE_COUNT];
    rc = a->mask ? cli_start_output(&mask, "--mask", a->mask, a->db, inputs, 2, &err) : HP_OK;
    size_t shown = 0;
    if (!rc) rc = scan_text_mask_lines(text, len, enc, mask.f, a->first6, counts, print_finding, &shown, &err);
    hp_free(text);
    if (a->mask) rc = io_out_finish(&mask, rc, &err);
    if (rc) return cli_error(rc, err.msg);
    char json[256];
    size_t total = scan_text_counts_json(counts, json, sizeof json);
    printf("%s: %zu PII findings %s%s%s%s\n", a->pos[1], total, json, enc ? " (read as " : "",
           enc ? scan_text_encoding_name(enc) : "", enc ? ")" : "");
    privacy_ctx *ctx = NULL;
    if (!(rc = open_ctx(&ctx, a, 0, &err))) { /* the report lists recorded scans */
        rc = store_scan_record(privacy_store(ctx), a->pos[1], json, (int64_t)total, privacy_now(ctx), &err);
        /* masked text still names customers: registered, so that erasure drops their lines */
        if (!rc && a->mask) rc = privacy_register_output(ctx, a->mask, PRIVACY_OUT_MASKED_TEXT, &err);
        privacy_close(ctx);
    }
    /* a masked file the store does not list would escape erasure: it goes again */
    if (rc && io_out_is_file(&mask) && unlink(mask.target) == 0) hp_error_prefix(&err, "removed %s again", a->mask);
    return rc ? cli_error(rc, err.msg) : CLI_EXIT_OK;
}

static int run_action(const privacy_args *a, const char *act)
{
    if (!strcmp(act, "consent")) return cmd_consent(a);
    if (!strcmp(act, "export")) return cmd_export(a);
    if (!strcmp(act, "erase")) return cmd_erase(a);
    if (!strcmp(act, "purge")) return cmd_purge(a);
    if (!strcmp(act, "report")) return cmd_report(a);
    if (!strcmp(act, "scan")) return cmd_scan(a);
    if (!strcmp(act, "anonymise") || !strcmp(act, "anonymize")) return cmd_anonymise(a);
    fprintf(stderr, "hyperp privacy: unknown action '%s'\n\n", act);
    privacy_usage(stderr);
    return CLI_EXIT_USAGE;
}

int cli_privacy(int argc, char **argv)
{
    privacy_args a;
    int p = parse_args(argc, argv, &a);
    if (p) return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    if (a.npos < 1) {
        privacy_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *act = a.pos[0];
    int rc = run_action(&a, act);
    /* every action but a dry run or a scan appended to the audit log: say its head */
    if (rc == CLI_EXIT_OK && strcmp(act, "scan") && !(a.dry_run && !strcmp(act, "purge")))
        cli_print_audit_head_of(a.db);
    return rc;
}
