/* privacy: the consent gate, objection and GPC, bad input, export, erasure without a trace
 * (every table and every file scanned for the raw id and the pseudonym), retention purge per
 * category, erasure on withdrawal, k-anonymity, and audit-chain tamper detection. */
#include "check.h"
#include "core/hp.h"
#include "data/data.h"
#include "data/synth.h"
#include "io/io.h"
#include "io/io_out.h"
#include "rec/rec.h"
#include "privacy/audit.h"
#include "privacy/privacy.h"

#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define DAY 86400
#define NOW 1750000000 /* 2025-06-15: tests pin the clock */

static char g_dir[64];
static int g_seq;

static const char *tmp_path(const char *name)
{
    return check_path(g_dir, name);
}

/* A store at path with a fixed key and the clock at NOW. */
static void open_ctx_at(privacy_ctx **out, const privacy_config *cfg, const char *path)
{
    hp_error err = { 0 };
    int rc = privacy_open(out, path, cfg, &err);
    CHECKF(rc == HP_OK, "%s", err.msg);
    if (rc) exit(1); /* every later check would dereference NULL */
    privacy_ctx *ctx = *out;
    unsigned char key[32];
    for (int i = 0; i < 32; i++) key[i] = (unsigned char)(i * 7 + 1);
    privacy_add_key(ctx, key, sizeof key, &err);
    privacy_set_now(ctx, NOW);
    privacy_set_actor(ctx, "test");
}

/* A fresh store with a fixed key and the clock at NOW. */
static void open_ctx(privacy_ctx **ctx, const privacy_config *cfg)
{
    char name[32];
    snprintf(name, sizeof name, "p%d.db", g_seq++);
    open_ctx_at(ctx, cfg, tmp_path(name));
}

static int record(privacy_ctx *ctx, const char *id, privacy_purpose p, privacy_event ev,
                  const char *basis)
{
    hp_error err = { 0 };
    privacy_consent_req r = { .customer_id = id, .purpose = p, .event = ev, .basis = basis,
                              .source = "web", .notice_version = "v3", .at = privacy_now(ctx) - 10,
                              .has_at = 1 };
    int rc = privacy_consent_record(ctx, &r, &err);
    if (rc) fprintf(stderr, "  record: %s\n", err.msg);
    return rc;
}

static int gate(privacy_ctx *ctx, const char *id, privacy_purpose p, unsigned flags)
{
    hp_error err = { 0 };
    return privacy_allowed(ctx, id, p, flags, NULL, &err);
}

TEST(withdrawal_stops_personalisation_and_training_at_once)
{
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx, NULL);
    hp_error err = { 0 };
    CHECK_EQ_INT(gate(ctx, "C1", PRIVACY_PERSONALISATION, 0), 0); /* opt-in: nothing yet */
    CHECK_EQ_INT(record(ctx, "C1", PRIVACY_PERSONALISATION, PRIVACY_GIVE, NULL), HP_OK);
    CHECK_EQ_INT(record(ctx, "C2", PRIVACY_PERSONALISATION, PRIVACY_GIVE, NULL), HP_OK);
    CHECK_EQ_INT(gate(ctx, "C1", PRIVACY_PERSONALISATION, 0), 1);
    const char *ids[] = { "C1", "C2", "C3" };
    uint8_t ok[3];
    size_t n;
    CHECK_EQ_INT(privacy_allowed_bulk(ctx, ids, 3, PRIVACY_PERSONALISATION, 0, ok, &n, &err), HP_OK);
    CHECK(ok[0] && ok[1] && !ok[2] && n == 2);
    CHECK_EQ_INT(record(ctx, "C1", PRIVACY_PERSONALISATION, PRIVACY_WITHDRAW, NULL), HP_OK);
    privacy_decision why;
    CHECK_EQ_INT(privacy_allowed(ctx, "C1", PRIVACY_PERSONALISATION, 0, &why, &err), 0);
    CHECK(strstr(why.reason, "withdrawn") != NULL);
    CHECK_EQ_INT(privacy_allowed_bulk(ctx, ids, 3, PRIVACY_PERSONALISATION, 0, ok, &n, &err), HP_OK);
    CHECK(!ok[0] && ok[1] && n == 1); /* training set loses C1 in the same instant */
    CHECK_EQ_INT(gate(ctx, "C1", PRIVACY_MARKETING, 0), 0); /* purposes are separate */
    privacy_close(ctx);
}

TEST(objection_to_marketing_is_absolute_and_gpc_is_honoured)
{
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx, NULL);
    CHECK_EQ_INT(record(ctx, "M1", PRIVACY_MARKETING, PRIVACY_GIVE, "legitimate_interest"), HP_OK);
    CHECK_EQ_INT(gate(ctx, "M1", PRIVACY_MARKETING, 0), 1);
    CHECK_EQ_INT(record(ctx, "M1", PRIVACY_MARKETING, PRIVACY_OBJECT, NULL), HP_OK);
    CHECK_EQ_INT(gate(ctx, "M1", PRIVACY_MARKETING, 0), 0);
    privacy_set_now(ctx, privacy_now(ctx) + 60);
    CHECK_EQ_INT(record(ctx, "M1", PRIVACY_MARKETING, PRIVACY_GIVE, "legitimate_interest"), HP_ERR_INVAL);
    CHECK_EQ_INT(gate(ctx, "M1", PRIVACY_MARKETING, 0), 0); /* legitimate interest cannot override */
    hp_error err = { 0 };
    privacy_consent_req r = { "M1", PRIVACY_MARKETING, PRIVACY_GIVE, "consent", "web", "v4", NOW + 60, 1 };
    CHECK_EQ_INT(privacy_consent_record(ctx, &r, &err), HP_OK);
    CHECK_EQ_INT(gate(ctx, "M1", PRIVACY_MARKETING, 0), 1); /* the subject's own fresh consent does */
    CHECK_EQ_INT(record(ctx, "G1", PRIVACY_SALE_SHARING, PRIVACY_GIVE, NULL), HP_OK);
    CHECK_EQ_INT(gate(ctx, "G1", PRIVACY_SALE_SHARING, 0), 1);
    CHECK_EQ_INT(gate(ctx, "G1", PRIVACY_SALE_SHARING, PRIVACY_REQ_GPC), 0);
    CHECK_EQ_INT(record(ctx, "G1", PRIVACY_SALE_SHARING, PRIVACY_GPC, NULL), HP_OK);
    CHECK_EQ_INT(gate(ctx, "G1", PRIVACY_SALE_SHARING, 0), 0);
    CHECK_EQ_INT(record(ctx, "G1", PRIVACY_MARKETING, PRIVACY_GPC, NULL), HP_ERR_INVAL);
    privacy_close(ctx);
}

TEST(bad_input_gets_clear_errors)
{
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx, NULL);
    hp_error err = { 0 };
    privacy_consent_req r = { "bad id!", PRIVACY_MARKETING, PRIVACY_GIVE, NULL, "web", "v1", 0, 0 };
    CHECK_EQ_INT(privacy_consent_record(ctx, &r, &err), HP_ERR_INVAL);
    CHECK(strstr(err.msg, "customer id 'bad id!'") != NULL);
    r.customer_id = "";
    CHECK_EQ_INT(privacy_consent_record(ctx, &r, &err), HP_ERR_INVAL);
    r.customer_id = "C1";
    r.at = NOW + 3 * DAY;
    r.has_at = 1;
    CHECK_EQ_INT(privacy_consent_record(ctx, &r, &err), HP_ERR_RANGE);
    CHECK(strstr(err.msg, "consent dated in the future") != NULL);
    /* 0 is a date like any other (1970-01-01), not "now" */
    r.at = 0;
    CHECK_EQ_INT(privacy_consent_record(ctx, &r, &err), HP_ERR_RANGE);
    CHECK(strstr(err.msg, "before 2000-01-01") != NULL);
    r.at = 946684799; /* 1999-12-31T23:59:59Z */
    CHECK_EQ_INT(privacy_consent_record(ctx, &r, &err), HP_ERR_RANGE);
    r.at = 946684800;
    CHECK_EQ_INT(privacy_consent_record(ctx, &r, &err), HP_OK);
    r.at = 0;
    r.has_at = 0;
    r.notice_version = NULL;
    CHECK_EQ_INT(privacy_consent_record(ctx, &r, &err), HP_ERR_INVAL);
    CHECK(strstr(err.msg, "notice") != NULL);
    r.notice_version = "v1";
    r.basis = "because";
    CHECK_EQ_INT(privacy_consent_record(ctx, &r, &err), HP_ERR_INVAL);
    CHECK(strstr(err.msg, "lawful basis 'because'") != NULL);
    privacy_purpose p;
    CHECK_EQ_INT(privacy_purpose_parse("spam", &p, &err), HP_ERR_INVAL);
    CHECK(strstr(err.msg, "unknown purpose 'spam'") != NULL);
    CHECK_EQ_INT(privacy_purpose_parse("personalization", &p, &err), HP_OK);
    CHECK_EQ_INT(gate(ctx, "a b", PRIVACY_MARKETING, 0), HP_ERR_INVAL);
    /* without a key nothing that writes a pseudonym works, and it says why */
    privacy_ctx *nokey = NULL;
    unsetenv("HYPERP_PSEUDONYM_KEY_FILE");
    unsetenv("HYPERP_PSEUDONYM_KEY");
    CHECK_EQ_INT(privacy_open(&nokey, tmp_path("nokey.db"), NULL, &err), HP_OK);
    CHECK_EQ_INT(privacy_load_key(nokey, &err), HP_ERR_NOTFOUND);
    CHECK(strstr(err.msg, "HYPERP_PSEUDONYM_KEY_FILE") != NULL);
    r.basis = NULL;
    CHECK_EQ_INT(privacy_consent_record(nokey, &r, &err), HP_ERR_NOTFOUND);
    unsigned char zero[32] = { 0 };
    CHECK_EQ_INT(privacy_add_key(nokey, zero, sizeof zero, &err), HP_ERR_FORMAT);
    CHECK(strstr(err.msg, "all zeros") != NULL);
    setenv("HYPERP_PSEUDONYM_KEY", "0000000000000000000000000000000000000000000000000000000000000000", 1);
    CHECK_EQ_INT(privacy_load_key(nokey, &err), HP_ERR_FORMAT);
    unsetenv("HYPERP_PSEUDONYM_KEY");
    setenv("HYPERP_PSEUDONYM_KEY", "abcd", 1);
    CHECK_EQ_INT(privacy_load_key(nokey, &err), HP_ERR_FORMAT);
    unsetenv("HYPERP_PSEUDONYM_KEY");
    privacy_close(nokey);
    /* source and notice are tokens: they stay in the chained audit outcome forever */
    const char *bad_tokens[] = { "rm John Smith", "web'; x", "-web", "a\tb", "j.smith@bank.com" };
    for (size_t i = 0; i < HP_ARRAY_LEN(bad_tokens); i++) {
        r.source = bad_tokens[i];
        CHECKF(privacy_consent_record(ctx, &r, &err) == HP_ERR_INVAL, "source '%s' accepted", bad_tokens[i]);
        r.source = "web";
        r.notice_version = bad_tokens[i];
        CHECKF(privacy_consent_record(ctx, &r, &err) == HP_ERR_INVAL, "notice '%s' accepted", bad_tokens[i]);
        r.notice_version = "v1";
    }
    r.source = "branch-customer-signed";
    r.notice_version = "2024.05/v3";
    CHECK_EQ_INT(privacy_consent_record(ctx, &r, &err), HP_OK);
    privacy_close(ctx);
}

/* ------------------------------------------------------------------ export and erasure */

#define VICTIM "CUST-ZQX-778812"

static void fill_customer(privacy_ctx *ctx, const char *id, const char *attrs)
{
    hp_error err = { 0 };
    CHECK_EQ_INT(store_customer_upsert(privacy_store(ctx), id, attrs, NOW, &err), HP_OK);
    CHECK_EQ_INT(record(ctx, id, PRIVACY_PERSONALISATION, PRIVACY_GIVE, NULL), HP_OK);
    CHECK_EQ_INT(record(ctx, id, PRIVACY_ANALYTICS, PRIVACY_GIVE, NULL), HP_OK);
    CHECK_EQ_INT(store_feedback_add(privacy_store(ctx), id, "P1", "clicked", 1, NOW, NULL, &err), HP_OK);
    CHECK_EQ_INT(store_transaction_add(privacy_store(ctx), id, -120.5, NOW, &err), HP_OK);
    CHECK_EQ_INT(store_feature_put(privacy_store(ctx), id, "embedding", id, strlen(id), NOW, &err), HP_OK);
    CHECK_EQ_INT(store_note_add(privacy_store(ctx), id, "rm_note", "asked about a loan, card **** 1111", NOW, &err), HP_OK);
    CHECK_EQ_INT(gate(ctx, id, PRIVACY_PERSONALISATION, 0), 1);
}

typedef struct { const char *needle[2]; int hits; } needle_scan;

static int scan_value(void *c, const char *table, const char *column, const char *value)
{
    needle_scan *s = c;
    for (int i = 0; i < 2; i++)
        if (strstr(value, s->needle[i])) {
            fprintf(stderr, "  found '%s' in %s.%s\n", s->needle[i], table, column);
            s->hits++;
        }
    return 0;
}

static int contains(const char *buf, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(buf + i, needle, m)) return 1;
    return 0;
}

/* Occurrences of needle in a file's bytes (0 when the file does not exist). */
static int file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? hp_malloc((size_t)n + 1) : NULL;
    CHECKF(buf != NULL, "%s: cannot read", path);
    if (!buf) {
        fclose(f);
        return 0;
    }
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    int hit = contains(buf, got, needle);
    hp_free(buf);
    return hit;
}

static int find_erase_outcome(void *c, const store_audit *a)
{
    if (!strcmp(a->action, "erase") && strstr(a->outcome, "output files rewritten 1, removed 0, unreachable 2") &&
        !strstr(a->outcome, ".jsonl"))
        *(int *)c = 1;
    return 0;
}

TEST(export_holds_everything_about_the_customer)
{
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx, NULL);
    fill_customer(ctx, VICTIM, "{\"industry\":\"Retail\"}");
    hp_error err = { 0 };
    unsigned char blob[200];
    for (int i = 0; i < 200; i++) blob[i] = (unsigned char)i;
    CHECK_EQ_INT(store_feature_put(privacy_store(ctx), VICTIM, "long", blob, sizeof blob, NOW, &err), HP_OK);
    const char *p = tmp_path("export.json");
    FILE *f = fopen(p, "w");
    CHECK_EQ_INT(privacy_export(ctx, VICTIM, f, &err), HP_OK);
    fclose(f);
    json_error_t je;
    json_t *doc = json_load_file(p, 0, &je);
    CHECK(doc != NULL);
    json_t *t = json_object_get(doc, "tables");
    const char *tables[] = { "customers", "consent", "feedback", "transactions", "features", "notes", "audit" };
    for (size_t i = 0; i < HP_ARRAY_LEN(tables); i++)
        CHECKF(json_array_size(json_object_get(t, tables[i])) > 0, "no %s rows", tables[i]);
    CHECK(json_is_true(json_object_get(json_object_get(json_object_get(doc, "consent_state"),
                                                       "personalisation"), "allowed")));
    /* blobs in full: the 200-byte feature is 400 hex digits, not a 64-byte cut */
    int seen = 0;
    json_t *feats = json_object_get(t, "features");
    for (size_t i = 0; i < json_array_size(feats); i++) {
        json_t *row = json_array_get(feats, i);
        if (strcmp(json_string_value(json_object_get(row, "name")), "long")) continue;
        const char *hex = json_string_value(json_object_get(row, "value"));
        seen = 1;
        CHECK(hex && strlen(hex) == 400);
        CHECK(hex && !strncmp(hex, "000102", 6) && !strcmp(hex + 394, "c5c6c7"));
    }
    CHECK(seen);
    json_decref(doc);
    remove(p);
    CHECK_EQ_INT(privacy_export(ctx, "NOBODY", stdout, &err), HP_ERR_NOTFOUND);
    privacy_close(ctx);
}

/* Replaces every occurrence of from by to in a file (gives a synthetic customer our id). */
static void replace_in_file(const char *path, const char *from, const char *to)
{
    char *buf = NULL;
    size_t len;
    CHECK_EQ_INT(io_read_file(path, &buf, &len, NULL), HP_OK);
    if (!buf) return;
    FILE *f = fopen(path, "wb");
    size_t m = strlen(from);
    for (size_t i = 0; i < len;) {
        if (i + m <= len && !memcmp(buf + i, from, m)) {
            fputs(to, f);
            i += m;
        } else fputc(buf[i++], f);
    }
    fclose(f);
    hp_free(buf);
}

static void append_to(const char *path, const char *text)
{
    FILE *f = fopen(path, "ab");
    fputs(text, f);
    fclose(f);
}

/* Every regular file below dir (recursively): its path, mode and whether it holds a needle. */
typedef struct {
    const char *needle[2];
    int files, leaks, wide;  /* files seen, files holding a needle, files not 0600 */
    int check_mode;
    char seen[32][512];
} tree_scan;

static void scan_tree(const char *dir, tree_scan *t)
{
    DIR *d = opendir(dir);
    CHECKF(d != NULL, "%s: cannot open", dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[512];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path || lstat(path, &st)) continue;
        if (S_ISDIR(st.st_mode)) {
            scan_tree(path, t);
            continue;
        }
        if (S_ISLNK(st.st_mode)) continue; /* a model dir's links name files this walk reads itself */
        if (t->files < 32 && strlen(path) < sizeof t->seen[0]) memcpy(t->seen[t->files], path, strlen(path) + 1);
        t->files++;
        for (int i = 0; i < 2; i++)
            if (file_has(path, t->needle[i])) {
                fprintf(stderr, "  '%s' found in %s\n", t->needle[i], path);
                t->leaks++;
            }
        if (t->check_mode && (st.st_mode & 07777) != 0600) {
            fprintf(stderr, "  %s: mode %o, not 600\n", path, (unsigned)(st.st_mode & 07777));
            t->wide++;
        }
    }
    closedir(d);
}

static int tree_has(const tree_scan *t, const char *path)
{
    for (int i = 0; i < t->files && i < 32; i++)
        if (!strcmp(t->seen[i], path)) return 1;
    return 0;
}

static int lines_with(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char line[8192];
    int n = 0;
    while (f && fgets(line, sizeof line, f)) n += strstr(line, needle) != NULL;
    if (f) fclose(f);
    return n;
}

/* The victim is a synthetic customer: ingested (a rejected row of theirs goes to the rejects
 * file), trained on (a real model, registered), recommended to (JSONL), exported (Art. 15),
 * named in masked notes, in the store's every table and in dataset and audit exports. After
 * the erasure no file the commands wrote (every file below the store, output and model
 * folders, each of which must exist) and no table holds the raw id or the pseudonym. */
TEST(erasure_leaves_no_trace_in_any_table_or_file)
{
    mode_t old_umask = umask(022); /* a usual umask: the files must be 0600 by themselves */
    const char *dirs[] = { "trace", "trace/store", "trace/out" };
    for (size_t i = 0; i < HP_ARRAY_LEN(dirs); i++) mkdir(tmp_path(dirs[i]), 0755);
    privacy_config cfg;
    privacy_config_default(&cfg);
    cfg.k_anonymity = 1;
    privacy_ctx *ctx = NULL;
    open_ctx_at(&ctx, &cfg, tmp_path("trace/store/hyperp.db"));
    hp_error err = { 0 };
    char ps[PRIVACY_PSEUDONYM_LEN];
    CHECK_EQ_INT(privacy_pseudonym(ctx, VICTIM, ps, &err), HP_OK);
    /* the data set: synthetic, with customer 7 renamed to the victim */
    data_synth_opts so;
    data_synth_opts_init(&so);
    so.customers = 100;
    CHECK_EQ_INT(data_synth_run(&so, tmp_path("trace/data"), &err), HP_OK);
    const char *files[] = { "customers.csv", "interactions.csv", "transactions.csv", "truth_customers.csv",
                            "truth_affinity.csv" };
    char path[256];
    for (size_t i = 0; i < HP_ARRAY_LEN(files); i++) {
        snprintf(path, sizeof path, "%s/trace/data/%s", g_dir, files[i]);
        replace_in_file(path, "ORG_US_000007", VICTIM);
    }
    snprintf(path, sizeof path, "%s/trace/data/transactions.csv", g_dir);
    append_to(path, VICTIM ",yesterday,10.5,fees,Bank,card 4111 1111 1111 1111\n"
              "ORG_US_000008,yesterday,10.5,fees,Bank,late\n");
    /* ingest, with the rejects registered */
    data_dataset ds;
    data_ingest_report irep;
    char rejects[200], recs[200], exp[200], notes[200]; /* tmp_path's buffers are reused */
    snprintf(rejects, sizeof rejects, "%s", tmp_path("trace/out/rejects.csv"));
    snprintf(recs, sizeof recs, "%s", tmp_path("trace/out/recs.jsonl"));
    snprintf(exp, sizeof exp, "%s", tmp_path("trace/out/export.json"));
    snprintf(notes, sizeof notes, "%s", tmp_path("trace/out/notes.masked"));
    data_ingest_opts io = { .rejects_path = rejects };
    CHECK_EQ_INT(data_config_default(&ds, tmp_path("trace/data"), &err), HP_OK);
    CHECKF(data_ingest(&ds, &io, &irep, &err) == HP_OK, "%s", err.msg);
    CHECK_EQ_INT(irep.total_rejected, 2);
    CHECK_EQ_INT(privacy_register_output(ctx, io.rejects_path, PRIVACY_OUT_REJECTS, &err), HP_OK);
    /* a real model, trained on the victim too, and registered */
    rec_config mc;
    rec_train_report tr;
    CHECK_EQ_INT(rec_config_from_dataset(&mc, &ds, &err), HP_OK);
    mc.arch.dim = 4, mc.arch.hidden = 4, mc.arch.text_buckets = 64, mc.train.epochs = 1;
    char model_dir[200];
    snprintf(model_dir, sizeof model_dir, "%s", tmp_path("trace/model"));
    rec_train_opts to = { .out_dir = model_dir };
    int64_t snapshot = 0;
    CHECK_EQ_INT(privacy_consent_snapshot(ctx, &snapshot, &err), HP_OK);
    CHECKF(rec_train(&ds, &mc, &to, &tr, &err) == HP_OK, "%s", err.msg);
    CHECK_EQ_INT(privacy_register_model(ctx, "recommender", "1", to.out_dir, "inputs", snapshot, NULL, &err), HP_OK);
    rec_config_free(&mc);
    /* recommendations as hyperp recommend --out writes them: one line per customer */
    const data_table *cu = &ds.t[DATA_T_CUSTOMERS];
    FILE *f = io_out_fopen(recs, store_path(privacy_store(ctx)), NULL, 0, &err);
    CHECK(f != NULL);
    for (size_t r = 0; f && r < cu->nrows; r++)
        fprintf(f, "{\"customer_id\":\"%s\",\"personalised\":true,\"recommendations\":[{\"product_id\":\"P01\","
                "\"score\":1.5}],\"modality_weights\":{\"numeric\":0.5}}\n", data_col_str(&cu->cols[cu->id_col], r));
    if (f) fclose(f);
    CHECK_EQ_INT(privacy_register_output(ctx, recs, PRIVACY_OUT_RECOMMENDATIONS, &err), HP_OK);
    data_dataset_free(&ds);
    /* the store: every table holds the victim */
    fill_customer(ctx, VICTIM, "{\"industry\":\"Retail\",\"region\":\"EU\"}");
    fill_customer(ctx, "OTHER-1", "{\"industry\":\"Retail\",\"region\":\"EU\"}");
    /* the Art. 15 export, masked notes, a dataset export and an audit export */
    CHECK((f = io_out_fopen(exp, store_path(privacy_store(ctx)), NULL, 0, &err)) != NULL);
    if (f) CHECK_EQ_INT(privacy_export(ctx, VICTIM, f, &err), HP_OK);
    if (f) fclose(f);
    CHECK_EQ_INT(privacy_register_output(ctx, exp, PRIVACY_OUT_SUBJECT_EXPORT, &err), HP_OK);
    CHECK((f = io_out_fopen(notes, NULL, NULL, 0, &err)) != NULL);
    if (f) fprintf(f, "called " VICTIM " about a loan\nOTHER-1 asked for a card\nsee " VICTIM ".\n"), fclose(f);
    CHECK_EQ_INT(privacy_register_output(ctx, notes, PRIVACY_OUT_MASKED_TEXT, &err), HP_OK);
    privacy_kanon k;
    CHECK_EQ_INT(privacy_export_dataset(ctx, tmp_path("trace/out/dataset.csv"), 1, &k, &err), HP_OK);
    CHECK_EQ_INT(audit_export_file(privacy_store(ctx), tmp_path("trace/out/audit.jsonl"), NOW, &err), HP_OK);
    CHECK(file_has(tmp_path("trace/out/dataset.csv"), ps));
    CHECK(file_has(tmp_path("trace/out/audit.jsonl"), ps));
    CHECK(file_has(io.rejects_path, VICTIM) && file_has(recs, VICTIM) && file_has(exp, VICTIM));
    privacy_erase_result res;
    CHECKF(privacy_erase(ctx, VICTIM, &res, &err) == HP_OK, "%s", err.msg);
    CHECK_EQ_INT(res.rows.customers, 1);
    CHECK(res.rows.consent == 2 && res.rows.feedback == 1 && res.rows.features == 1);
    CHECK(res.rows.audit_redacted >= 3);
    CHECK_EQ_INT(res.export_files_rewritten, 2);
    CHECK_EQ_INT(res.output_files_rewritten, 3); /* rejects, recommendations, notes */
    CHECK_EQ_INT(res.output_files_removed, 1);   /* the victim's own export */
    CHECKF(res.unreachable == 0, "%s", res.unreachable_list);
    int64_t due;
    CHECK_EQ_INT(store_model_retrain_due(privacy_store(ctx), &due, &err), HP_OK);
    CHECK_EQ_INT(due, 1);
    /* every table */
    needle_scan s = { { VICTIM, ps }, 0 };
    CHECK_EQ_INT(store_each_value(privacy_store(ctx), scan_value, &s, &err), HP_OK);
    CHECK_EQ_INT(s.hits, 0);
    /* every file written, the store's WAL and shared memory included (the store is open) */
    tree_scan t = { { VICTIM, ps }, 0, 0, 0, 1, { { 0 } } };
    scan_tree(tmp_path("trace/store"), &t);
    scan_tree(tmp_path("trace/out"), &t);
    t.check_mode = 0; /* model files hold no customer rows; the CLI makes them 0600 (umask) */
    int before_model = t.files;
    scan_tree(tmp_path("trace/model"), &t);
    CHECK_EQ_INT(t.leaks, 0);
    CHECK_EQ_INT(t.wide, 0);
    CHECK(t.files - before_model >= 2); /* weights and model.json */
    const char *expected[] = { "trace/store/hyperp.db", "trace/store/hyperp.db-wal", "trace/store/hyperp.db-shm",
                               "trace/out/rejects.csv", "trace/out/recs.jsonl", "trace/out/notes.masked",
                               "trace/out/dataset.csv", "trace/out/audit.jsonl" };
    for (size_t i = 0; i < HP_ARRAY_LEN(expected); i++)
        CHECKF(tree_has(&t, tmp_path(expected[i])), "%s was not written or not scanned", expected[i]);
    CHECK(!tree_has(&t, exp) && access(exp, F_OK) != 0);
    /* the others stay */
    CHECK_EQ_INT(lines_with(recs, "\"customer_id\""), 99);
    CHECK_EQ_INT(lines_with(io.rejects_path, "ORG_US_000008"), 1);
    CHECK_EQ_INT(lines_with(notes, "OTHER-1"), 1);
    CHECK(file_has(tmp_path("trace/out/dataset.csv"), "ps_"));
    /* the chain still verifies, in the store and in the redacted export */
    audit_report ar;
    CHECK_EQ_INT(audit_verify_store(privacy_store(ctx), &ar, &err), HP_OK);
    CHECK(ar.redacted >= 3);
    CHECKF(audit_verify_file(tmp_path("trace/out/audit.jsonl"), &ar, &err) == HP_OK, "%s %s", ar.problem, err.msg);
    CHECK_EQ_INT(gate(ctx, VICTIM, PRIVACY_PERSONALISATION, PRIVACY_REQ_NO_AUDIT), 0);
    CHECK_EQ_INT(privacy_erase(ctx, VICTIM, &res, &err), HP_ERR_NOTFOUND);
    privacy_close(ctx);
    umask(old_umask);
}

/* Registered files that are gone or not in their format are reported, left alone, and the
 * erasure goes on; a customer held only in a registered file is erased from it. */
TEST(erasure_reports_the_files_it_cannot_reach)
{
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx, NULL);
    hp_error err = { 0 };
    const char *gone = tmp_path("gone.jsonl"), *odd = tmp_path("odd.jsonl"), *recs = tmp_path("only.jsonl");
    FILE *f = fopen(gone, "w");
    fputs("{\"customer_id\":\"R1\"}\n", f);
    fclose(f);
    f = fopen(odd, "w");
    fputs("{\"customer_id\":\"R2\"}\nR1 was here, not as JSON\n", f);
    fclose(f);
    f = fopen(recs, "w");
    fputs("{\"customer_id\":\"R1\"}\n{\"customer_id\":\"R10\"}\n{\"customer_id\":\"R2\",\"x\":\"R1\"}\n", f);
    fclose(f);
    CHECK_EQ_INT(privacy_register_output(ctx, gone, PRIVACY_OUT_RECOMMENDATIONS, &err), HP_OK);
    CHECK_EQ_INT(privacy_register_output(ctx, odd, PRIVACY_OUT_RECOMMENDATIONS, &err), HP_OK);
    CHECK_EQ_INT(privacy_register_output(ctx, recs, PRIVACY_OUT_RECOMMENDATIONS, &err), HP_OK);
    remove(gone);
    privacy_erase_result res;
    CHECKF(privacy_erase(ctx, "R1", &res, &err) == HP_OK, "%s", err.msg); /* R1 is in no table */
    CHECK_EQ_INT(res.rows.customers, 0);
    CHECK_EQ_INT(res.output_files_rewritten, 1);
    CHECK_EQ_INT(res.unreachable, 2);
    CHECKF(strstr(res.unreachable_list, "gone.jsonl (missing: moved or deleted)") &&
           strstr(res.unreachable_list, "odd.jsonl (a record is not in the registered format)"), "%s",
           res.unreachable_list);
    CHECK_EQ_INT(lines_with(recs, "{\"customer_id\":\"R1\"}"), 0);
    CHECK_EQ_INT(lines_with(recs, "R10"), 1);
    CHECK_EQ_INT(lines_with(recs, "\"x\":\"R1\""), 1); /* R2's line that merely mentions R1 */
    CHECK_EQ_INT(lines_with(odd, "R1 was here"), 1); /* left as it was */
    /* the erasure is audited with the counts, never a path */
    int64_t seq;
    char head[65];
    CHECK_EQ_INT(store_audit_head(privacy_store(ctx), &seq, head, &err), HP_OK);
    int found = 0;
    CHECK_EQ_INT(store_audit_each(privacy_store(ctx), find_erase_outcome, &found, &err), HP_OK);
    CHECK(found);
    CHECK_EQ_INT(privacy_erase(ctx, "R1", &res, &err), HP_ERR_NOTFOUND);
    CHECKF(strstr(err.msg, "could not be checked") != NULL, "%s", err.msg);
    privacy_close(ctx);
}


static ino_t inode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* The dataset and audit exports lose the customer under every name: one with a second hard
 * link elsewhere is rewritten in place (same inode, both names clean, the other rows kept);
 * one whose path became a symbolic link (no identity is recorded for an export) is reported
 * and left alone, the link a link and its target as it was. */
TEST(erasure_rewrites_exports_under_every_name)
{
    privacy_config cfg;
    privacy_config_default(&cfg);
    cfg.k_anonymity = 1;
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx, &cfg);
    hp_error err = { 0 };
    char ps[PRIVACY_PSEUDONYM_LEN], other_ps[PRIVACY_PSEUDONYM_LEN];
    CHECK_EQ_INT(privacy_pseudonym(ctx, VICTIM, ps, &err), HP_OK);
    CHECK_EQ_INT(privacy_pseudonym(ctx, "OTHER-1", other_ps, &err), HP_OK);
    fill_customer(ctx, VICTIM, "{\"industry\":\"Retail\",\"region\":\"EU\"}");
    fill_customer(ctx, "OTHER-1", "{\"industry\":\"Retail\",\"region\":\"EU\"}");
    mkdir(tmp_path("names"), 0700);
    mkdir(tmp_path("names/elsewhere"), 0700);
    char data[200], data2[200], audit[200], audit2[200], data_copy[200], audit_copy[200], moved[200];
    snprintf(data, sizeof data, "%s", tmp_path("names/dataset.csv"));
    snprintf(data2, sizeof data2, "%s", tmp_path("names/swapped.csv"));
    snprintf(audit, sizeof audit, "%s", tmp_path("names/audit.jsonl"));
    snprintf(audit2, sizeof audit2, "%s", tmp_path("names/swapped.jsonl"));
    snprintf(data_copy, sizeof data_copy, "%s", tmp_path("names/elsewhere/dataset.copy"));
    snprintf(audit_copy, sizeof audit_copy, "%s", tmp_path("names/elsewhere/audit.copy"));
    snprintf(moved, sizeof moved, "%s", tmp_path("names/elsewhere/swapped.moved"));
    privacy_kanon k;
    CHECK_EQ_INT(privacy_export_dataset(ctx, data, 1, &k, &err), HP_OK);
    CHECK_EQ_INT(privacy_export_dataset(ctx, data2, 1, &k, &err), HP_OK);
    CHECK_EQ_INT(audit_export_file(privacy_store(ctx), audit, NOW, &err), HP_OK);
    CHECK_EQ_INT(link(data, data_copy), 0);
    CHECK_EQ_INT(link(audit, audit_copy), 0);
    ino_t data_ino = inode_of(data), audit_ino = inode_of(audit);
    /* a recorded export moved away and a link to it put at its path */
    CHECK_EQ_INT(rename(data2, moved), 0);
    CHECK_EQ_INT(symlink(moved, data2), 0);
    struct stat before;
    CHECK_EQ_INT(stat(moved, &before), 0);
    CHECK(file_has(data, ps) && file_has(data, other_ps) && file_has(audit, ps) && file_has(moved, ps));
    privacy_erase_result res;
    CHECKF(privacy_erase(ctx, VICTIM, &res, &err) == HP_OK, "%s", err.msg);
    CHECK_EQ_INT(res.export_files_rewritten, 2);
    CHECK_EQ_INT(res.unreachable, 1);
    char want[400];
    snprintf(want, sizeof want, "%s (a symbolic link on its path since it was recorded, and which file was recorded "
             "is not known: not followed, the link's target not checked)", data2);
    CHECKF(strstr(res.unreachable_list, want) != NULL, "%s", res.unreachable_list);
    /* both names of each export: clean, one file still, the other customer's rows kept */
    CHECK(!file_has(data, ps));
    CHECK(!file_has(data_copy, ps));
    CHECK(!file_has(audit, ps));
    CHECK(!file_has(audit_copy, ps));
    CHECK(inode_of(data) == data_ino && inode_of(data_copy) == data_ino);
    CHECK(inode_of(audit) == audit_ino && inode_of(audit_copy) == audit_ino);
    CHECK_EQ_INT(lines_with(data_copy, other_ps), 1);
    CHECK_EQ_INT(lines_with(data_copy, "pseudonym"), 1); /* the header */
    audit_report ar;
    CHECKF(audit_verify_file(audit_copy, &ar, &err) == HP_OK, "%s %s", ar.problem, err.msg);
    CHECK(ar.redacted >= 2 && ar.entries >= 4);
    struct stat st;
    CHECK(stat(data_copy, &st) == 0 && (st.st_mode & 0777) == 0600);
    /* the link stays a link, the file it leads to as it was */
    CHECK(lstat(data2, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(stat(moved, &st) == 0 && st.st_ino == before.st_ino && st.st_mtime == before.st_mtime && file_has(moved, ps));
    /* nothing left beside them */
    CHECK(access(tmp_path("names/dataset.csv.tmp"), F_OK) != 0 && access(tmp_path("names/audit.jsonl.tmp"), F_OK) != 0);
    privacy_close(ctx);
}
/* The store is owner-only whatever the umask: the file, and the WAL and shared memory SQLite
 * creates beside it; an existing store readable by others is narrowed when opened. */
TEST(store_files_are_owner_only)
{
    mode_t old_umask = umask(022);
    privacy_ctx *ctx = NULL;
    hp_error err = { 0 };
    const char *db = tmp_path("modes.db");
    char side[200];
    struct stat st;
    CHECK_EQ_INT(privacy_open(&ctx, db, NULL, &err), HP_OK);
    CHECK_EQ_INT(store_customer_upsert(privacy_store(ctx), "M1", NULL, NOW, &err), HP_OK);
    CHECK(stat(db, &st) == 0 && (st.st_mode & 07777) == 0600);
    snprintf(side, sizeof side, "%s-wal", db);
    CHECKF(stat(side, &st) == 0 && (st.st_mode & 07777) == 0600, "wal mode %o", (unsigned)(st.st_mode & 07777));
    snprintf(side, sizeof side, "%s-shm", db);
    CHECKF(stat(side, &st) == 0 && (st.st_mode & 07777) == 0600, "shm mode %o", (unsigned)(st.st_mode & 07777));
    privacy_close(ctx);
    chmod(db, 0644);
    CHECK_EQ_INT(privacy_open(&ctx, db, NULL, &err), HP_OK);
    CHECK(stat(db, &st) == 0 && (st.st_mode & 07777) == 0600);
    privacy_close(ctx);
    umask(old_umask);
}

/* No output of the library lands on the store: a dataset export onto the store's path (or a
 * link to it, or its WAL) is refused, and the store is whole afterwards. Private files are
 * 0600 even when they existed, but a device is written as it is, never chmod-ed. */
TEST(outputs_never_overwrite_the_store)
{
    privacy_config cfg;
    privacy_config_default(&cfg);
    cfg.k_anonymity = 1;
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx, &cfg);
    hp_error err = { 0 };
    fill_customer(ctx, "S1", "{\"industry\":\"Retail\"}");
    char wal[200], link[200];
    snprintf(wal, sizeof wal, "%s-wal", store_path(privacy_store(ctx)));
    snprintf(link, sizeof link, "%s.link", store_path(privacy_store(ctx)));
    CHECK_EQ_INT(symlink(store_path(privacy_store(ctx)), link), 0);
    const char *targets[] = { store_path(privacy_store(ctx)), wal, link };
    privacy_kanon k;
    for (size_t i = 0; i < HP_ARRAY_LEN(targets); i++) {
        CHECK_EQ_INT(privacy_export_dataset(ctx, targets[i], 1, &k, &err), HP_ERR_INVAL);
        CHECKF(strstr(err.msg, "privacy store") && strstr(err.msg, store_path(privacy_store(ctx))), "%s", err.msg);
    }
    int64_t n = 0;
    CHECK_EQ_INT(store_integrity_check(privacy_store(ctx), &err), HP_OK);
    CHECK_EQ_INT(store_customer_count(privacy_store(ctx), &n, &err), HP_OK);
    CHECK_EQ_INT(n, 1);
    /* an input is refused the same way, by inode */
    const char *in = tmp_path("input.txt");
    FILE *f = fopen(in, "w");
    fputs("keep me\n", f);
    fclose(f);
    const char *inputs[] = { NULL, in };
    CHECK(io_out_fopen(in, NULL, inputs, 2, &err) == NULL && err.status == HP_ERR_INVAL);
    CHECK(file_has(in, "keep me"));
    chmod(in, 0644);
    f = privacy_fopen_private(in);
    CHECK(f != NULL);
    if (f) fclose(f);
    struct stat st;
    CHECK(stat(in, &st) == 0 && (st.st_mode & 07777) == 0600 && st.st_size == 0);
    if (geteuid() == 0) { /* a device node of our own (a copy of /dev/null): its mode stays */
        const char *dev = tmp_path("null");
        CHECK_EQ_INT(mknod(dev, S_IFCHR | 0666, makedev(1, 3)), 0);
        chmod(dev, 0666);
        f = privacy_fopen_private(dev);
        CHECK(f != NULL);
        if (f) fclose(f);
        CHECK(stat(dev, &st) == 0 && (st.st_mode & 07777) == 0666);
    }
    privacy_close(ctx);
}

TEST(erasure_on_withdrawal_when_configured)
{
    privacy_config cfg;
    privacy_config_default(&cfg);
    cfg.erase_on_withdrawal = PRIVACY_ERASE_QUEUE;
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx, &cfg);
    hp_error err = { 0 };
    CHECK_EQ_INT(record(ctx, "Q1", PRIVACY_PERSONALISATION, PRIVACY_GIVE, NULL), HP_OK);
    CHECK_EQ_INT(record(ctx, "Q1", PRIVACY_MARKETING, PRIVACY_GIVE, NULL), HP_OK);
    CHECK_EQ_INT(record(ctx, "Q1", PRIVACY_PERSONALISATION, PRIVACY_WITHDRAW, NULL), HP_OK);
    int64_t n;
    CHECK_EQ_INT(store_erasure_count(privacy_store(ctx), &n, &err), HP_OK);
    CHECK_EQ_INT(n, 0); /* marketing is still allowed */
    CHECK_EQ_INT(record(ctx, "Q1", PRIVACY_MARKETING, PRIVACY_WITHDRAW, NULL), HP_OK);
    CHECK_EQ_INT(store_erasure_count(privacy_store(ctx), &n, &err), HP_OK);
    CHECK_EQ_INT(n, 1);
    privacy_purge_result pr;
    CHECK_EQ_INT(privacy_purge(ctx, 0, &pr, &err), HP_OK);
    CHECK_EQ_INT(pr.erasures, 1);
    int found;
    CHECK_EQ_INT(store_customer_exists(privacy_store(ctx), "Q1", &found, &err), HP_OK);
    CHECK(!found);
    privacy_cfg(ctx)->erase_on_withdrawal = PRIVACY_ERASE_IMMEDIATE;
    CHECK_EQ_INT(record(ctx, "Q2", PRIVACY_ANALYTICS, PRIVACY_GIVE, NULL), HP_OK);
    CHECK_EQ_INT(record(ctx, "Q2", PRIVACY_ANALYTICS, PRIVACY_WITHDRAW, NULL), HP_OK);
    CHECK_EQ_INT(store_customer_exists(privacy_store(ctx), "Q2", &found, &err), HP_OK);
    CHECK(!found);
    privacy_close(ctx);
}

static int record_from(privacy_ctx *ctx, const char *id, privacy_purpose p, privacy_event ev,
                       const char *basis, const char *source)
{
    hp_error err = { 0 };
    privacy_consent_req r = { .customer_id = id, .purpose = p, .event = ev, .basis = basis,
                              .source = source, .notice_version = "v3", .at = privacy_now(ctx) - 10,
                              .has_at = 1 };
    privacy_set_now(ctx, privacy_now(ctx) + 60); /* each event a minute after the one before */
    return privacy_consent_record(ctx, &r, &err);
}

static int customer_held(privacy_ctx *ctx, const char *id)
{
    hp_error err = { 0 };
    int found = 0;
    CHECK_EQ_INT(store_customer_exists(privacy_store(ctx), id, &found, &err), HP_OK);
    return found;
}

/* An objection, a GPC opt-out or a withdrawal stays in force until the customer's own consent
 * (basis consent, customer channel) lifts it: no import, RM entry or other basis does, and an
 * objection never triggers the erasure that would forget it. */
TEST(opt_outs_are_lifted_only_by_the_customers_own_consent)
{
    privacy_config cfg;
    privacy_config_default(&cfg);
    cfg.erase_on_withdrawal = PRIVACY_ERASE_IMMEDIATE;
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx, &cfg);
    hp_error err = { 0 };
    /* (a) an objection or GPC opt-out does not erase (and so forget) itself */
    CHECK_EQ_INT(record_from(ctx, "O1", PRIVACY_MARKETING, PRIVACY_GIVE, "legitimate_interest", "import"), HP_OK);
    CHECK_EQ_INT(record_from(ctx, "O1", PRIVACY_MARKETING, PRIVACY_OBJECT, NULL, "call_centre"), HP_OK);
    CHECK(customer_held(ctx, "O1"));
    CHECK_EQ_INT(record_from(ctx, "O1", PRIVACY_MARKETING, PRIVACY_GIVE, "legitimate_interest", "import"), HP_ERR_INVAL);
    CHECK_EQ_INT(gate(ctx, "O1", PRIVACY_MARKETING, 0), 0);
    CHECK_EQ_INT(record_from(ctx, "G1", PRIVACY_SALE_SHARING, PRIVACY_GIVE, NULL, "web"), HP_OK);
    CHECK_EQ_INT(record_from(ctx, "G1", PRIVACY_SALE_SHARING, PRIVACY_GPC, NULL, NULL), HP_OK);
    CHECK(customer_held(ctx, "G1"));
    privacy_cfg(ctx)->erase_on_withdrawal = PRIVACY_ERASE_QUEUE;
    CHECK_EQ_INT(record_from(ctx, "O2", PRIVACY_MARKETING, PRIVACY_GIVE, NULL, "web"), HP_OK);
    CHECK_EQ_INT(record_from(ctx, "O2", PRIVACY_MARKETING, PRIVACY_OBJECT, NULL, "web"), HP_OK);
    int64_t queued;
    CHECK_EQ_INT(store_erasure_count(privacy_store(ctx), &queued, &err), HP_OK);
    CHECK_EQ_INT(queued, 0);
    /* (b) consent (the default basis) from an import or an RM does not lift an objection */
    CHECK_EQ_INT(record_from(ctx, "O1", PRIVACY_MARKETING, PRIVACY_GIVE, NULL, "import"), HP_ERR_INVAL);
    CHECK_EQ_INT(record_from(ctx, "O1", PRIVACY_MARKETING, PRIVACY_GIVE, "consent", "rm"), HP_ERR_INVAL);
    CHECK_EQ_INT(record_from(ctx, "O1", PRIVACY_MARKETING, PRIVACY_GIVE, "consent", NULL), HP_ERR_INVAL);
    CHECK_EQ_INT(gate(ctx, "O1", PRIVACY_MARKETING, 0), 0);
    CHECK_EQ_INT(record_from(ctx, "O1", PRIVACY_MARKETING, PRIVACY_GIVE, "consent", "app"), HP_OK);
    CHECK_EQ_INT(gate(ctx, "O1", PRIVACY_MARKETING, 0), 1);
    /* after it, no basis but consent for marketing */
    CHECK_EQ_INT(record_from(ctx, "O1", PRIVACY_MARKETING, PRIVACY_GIVE, "legitimate_interest", "web"), HP_ERR_INVAL);
    /* a withdrawal too */
    CHECK_EQ_INT(record_from(ctx, "W1", PRIVACY_PERSONALISATION, PRIVACY_GIVE, NULL, "web"), HP_OK);
    CHECK_EQ_INT(record_from(ctx, "W1", PRIVACY_ANALYTICS, PRIVACY_GIVE, NULL, "web"), HP_OK);
    CHECK_EQ_INT(record_from(ctx, "W1", PRIVACY_PERSONALISATION, PRIVACY_WITHDRAW, NULL, "web"), HP_OK);
    CHECK_EQ_INT(record_from(ctx, "W1", PRIVACY_PERSONALISATION, PRIVACY_GIVE, NULL, "import"), HP_ERR_INVAL);
    CHECK_EQ_INT(record_from(ctx, "W1", PRIVACY_PERSONALISATION, PRIVACY_GIVE, "contract", "branch"), HP_ERR_INVAL);
    CHECK_EQ_INT(gate(ctx, "W1", PRIVACY_PERSONALISATION, 0), 0);
    CHECK_EQ_INT(record_from(ctx, "W1", PRIVACY_PERSONALISATION, PRIVACY_GIVE, NULL, "branch-customer-signed"), HP_OK);
    CHECK_EQ_INT(gate(ctx, "W1", PRIVACY_PERSONALISATION, 0), 1);
    /* (c) a GPC opt-out is not lifted by legitimate interest, only by the customer's consent */
    CHECK_EQ_INT(record_from(ctx, "G1", PRIVACY_SALE_SHARING, PRIVACY_GIVE, "legitimate_interest", "web"), HP_ERR_INVAL);
    CHECK_EQ_INT(gate(ctx, "G1", PRIVACY_SALE_SHARING, 0), 0);
    CHECK_EQ_INT(record_from(ctx, "G1", PRIVACY_SALE_SHARING, PRIVACY_GIVE, "consent", "web"), HP_OK);
    CHECK_EQ_INT(gate(ctx, "G1", PRIVACY_SALE_SHARING, 0), 1);
    /* the gate holds even for events written around the check (older builds, raw imports) */
    store_consent c = { .customer_id = "O2", .purpose = "marketing", .event = "give",
                        .basis = "legitimate_interest", .source = "import", .notice_version = "v1",
                        .at = privacy_now(ctx), .recorded_at = privacy_now(ctx) };
    CHECK_EQ_INT(store_consent_add(privacy_store(ctx), &c, NULL, &err), HP_OK);
    privacy_decision why;
    CHECK_EQ_INT(privacy_allowed(ctx, "O2", PRIVACY_MARKETING, 0, &why, &err), 0);
    CHECKF(strstr(why.reason, "objection") != NULL, "%s", why.reason);
    snprintf(c.basis, sizeof c.basis, "consent");
    privacy_set_now(ctx, privacy_now(ctx) + 60);
    c.at = privacy_now(ctx);
    CHECK_EQ_INT(store_consent_add(privacy_store(ctx), &c, NULL, &err), HP_OK);
    CHECK_EQ_INT(gate(ctx, "O2", PRIVACY_MARKETING, 0), 0);
    /* an erasure keeps the opt-outs in force as suppression records (no id, no pseudonym) */
    privacy_cfg(ctx)->erase_on_withdrawal = PRIVACY_ERASE_IMMEDIATE;
    CHECK_EQ_INT(record_from(ctx, "E1", PRIVACY_MARKETING, PRIVACY_GIVE, NULL, "web"), HP_OK);
    CHECK_EQ_INT(record_from(ctx, "E1", PRIVACY_MARKETING, PRIVACY_WITHDRAW, NULL, "web"), HP_OK);
    CHECK(!customer_held(ctx, "E1")); /* erased on withdrawal */
    CHECK_EQ_INT(record_from(ctx, "E1", PRIVACY_MARKETING, PRIVACY_GIVE, NULL, "import"), HP_ERR_INVAL);
    char ps[PRIVACY_PSEUDONYM_LEN];
    CHECK_EQ_INT(privacy_pseudonym(ctx, "E1", ps, &err), HP_OK);
    needle_scan ns = { { "E1", ps }, 0 };
    CHECK_EQ_INT(store_each_value(privacy_store(ctx), scan_value, &ns, &err), HP_OK);
    CHECK_EQ_INT(ns.hits, 0);
    CHECK_EQ_INT(gate(ctx, "E1", PRIVACY_MARKETING, 0), 0);
    CHECK_EQ_INT(record_from(ctx, "O2", PRIVACY_PERSONALISATION, PRIVACY_GIVE, NULL, "web"), HP_OK);
    privacy_erase_result er;
    CHECK_EQ_INT(privacy_erase(ctx, "O2", &er, &err), HP_OK);
    CHECK_EQ_INT(record_from(ctx, "O2", PRIVACY_MARKETING, PRIVACY_GIVE, "legitimate_interest", "import"), HP_ERR_INVAL);
    CHECK_EQ_INT(gate(ctx, "O2", PRIVACY_MARKETING, 0), 0);
    CHECK_EQ_INT(gate(ctx, "O2", PRIVACY_PERSONALISATION, 0), 0); /* nothing else survives */
    CHECK_EQ_INT(record_from(ctx, "E1", PRIVACY_MARKETING, PRIVACY_GIVE, NULL, "web"), HP_OK);
    CHECK_EQ_INT(gate(ctx, "E1", PRIVACY_MARKETING, 0), 1);
    privacy_close(ctx);
}

/* Queue mode: a customer who consents again before purge runs is not erased. */
TEST(queued_erasure_is_dropped_when_the_customer_consents_again)
{
    privacy_config cfg;
    privacy_config_default(&cfg);
    cfg.erase_on_withdrawal = PRIVACY_ERASE_QUEUE;
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx, &cfg);
    hp_error err = { 0 };
    int64_t n;
    CHECK_EQ_INT(record_from(ctx, "R1", PRIVACY_PERSONALISATION, PRIVACY_GIVE, NULL, "web"), HP_OK);
    CHECK_EQ_INT(record_from(ctx, "R1", PRIVACY_PERSONALISATION, PRIVACY_WITHDRAW, NULL, "web"), HP_OK);
    CHECK_EQ_INT(store_erasure_count(privacy_store(ctx), &n, &err), HP_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(record_from(ctx, "R1", PRIVACY_PERSONALISATION, PRIVACY_GIVE, NULL, "web"), HP_OK);
    CHECK_EQ_INT(store_erasure_count(privacy_store(ctx), &n, &err), HP_OK);
    CHECK_EQ_INT(n, 0); /* cancelled by the new consent */
    /* a consent that reached the store some other way: purge checks again before erasing */
    CHECK_EQ_INT(record_from(ctx, "R2", PRIVACY_ANALYTICS, PRIVACY_GIVE, NULL, "web"), HP_OK);
    CHECK_EQ_INT(record_from(ctx, "R2", PRIVACY_ANALYTICS, PRIVACY_WITHDRAW, NULL, "web"), HP_OK);
    store_consent c = { .customer_id = "R2", .purpose = "analytics", .event = "give",
                        .basis = "consent", .source = "web", .notice_version = "v4",
                        .at = privacy_now(ctx), .recorded_at = privacy_now(ctx) };
    CHECK_EQ_INT(store_consent_add(privacy_store(ctx), &c, NULL, &err), HP_OK);
    CHECK_EQ_INT(record_from(ctx, "R3", PRIVACY_ANALYTICS, PRIVACY_GIVE, NULL, "web"), HP_OK);
    CHECK_EQ_INT(record_from(ctx, "R3", PRIVACY_ANALYTICS, PRIVACY_WITHDRAW, NULL, "web"), HP_OK);
    privacy_purge_result pr;
    CHECK_EQ_INT(privacy_purge(ctx, 0, &pr, &err), HP_OK);
    CHECK_EQ_INT(pr.erasures, 1); /* R3 only */
    CHECK(customer_held(ctx, "R1"));
    CHECK(customer_held(ctx, "R2"));
    CHECK(!customer_held(ctx, "R3"));
    CHECK_EQ_INT(gate(ctx, "R1", PRIVACY_PERSONALISATION, 0), 1);
    CHECK_EQ_INT(store_erasure_count(privacy_store(ctx), &n, &err), HP_OK);
    CHECK_EQ_INT(n, 0);
    privacy_close(ctx);
}

static int64_t count_action(privacy_ctx *ctx, const char *action);

/* The rows and a pending record go in one transaction; when an export file cannot be rewritten
 * the erasure is not lost: erase (or purge) again finishes the files, the registry and the
 * audit entry. */
TEST(interrupted_erasure_is_finished_by_a_rerun)
{
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx, NULL);
    hp_error err = { 0 };
    char ps[PRIVACY_PSEUDONYM_LEN];
    CHECK_EQ_INT(privacy_pseudonym(ctx, VICTIM, ps, &err), HP_OK);
    fill_customer(ctx, VICTIM, "{\"industry\":\"Retail\"}");
    CHECK_EQ_INT(store_model_register(privacy_store(ctx), "recommender", "1", "m", NOW, &err), HP_OK);
    const char *p = tmp_path("blocked.csv");
    CHECK_EQ_INT(mkdir(p, 0700), 0); /* a directory where the export should be: rewrite fails */
    CHECK_EQ_INT(store_export_record(privacy_store(ctx), p, "dataset", 5, NOW, &err), HP_OK);
    privacy_erase_result res;
    CHECK(privacy_erase(ctx, VICTIM, &res, &err) != HP_OK);
    CHECKF(strstr(err.msg, "run erase or purge again") != NULL, "%s", err.msg);
    CHECK(!customer_held(ctx, VICTIM));
    int64_t n;
    CHECK_EQ_INT(store_erasure_pending_count(privacy_store(ctx), &n, &err), HP_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(store_model_retrain_due(privacy_store(ctx), &n, &err), HP_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(count_action(ctx, "erase"), 0);
    privacy_purge_result pr;
    CHECK_EQ_INT(privacy_purge(ctx, 1, &pr, &err), HP_OK);
    CHECK_EQ_INT(pr.erasures, 1); /* the report shows it as pending */
    /* the file is fixed; the rerun finds nothing in the tables but finishes the erasure */
    CHECK_EQ_INT(rmdir(p), 0);
    FILE *f = fopen(p, "w");
    fprintf(f, "pseudonym,industry\n%s,retail\nps_other,retail\n", ps);
    fclose(f);
    CHECK_EQ_INT(privacy_erase(ctx, VICTIM, &res, &err), HP_OK);
    CHECK(res.resumed);
    CHECK_EQ_INT(res.export_files_rewritten, 1);
    CHECK(!file_has(p, ps) && file_has(p, "ps_other"));
    CHECK_EQ_INT(store_erasure_pending_count(privacy_store(ctx), &n, &err), HP_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(store_model_retrain_due(privacy_store(ctx), &n, &err), HP_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(count_action(ctx, "erase"), 1);
    CHECK_EQ_INT(privacy_erase(ctx, VICTIM, &res, &err), HP_ERR_NOTFOUND);
    privacy_close(ctx);
}

/* ------------------------------------------------------------------ retention */

TEST(purge_respects_each_period)
{
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx, NULL); /* customer 365, transactions 730, feedback 730, features 30, logs 90 */
    hp_error err = { 0 };
    store *s = privacy_store(ctx);
    privacy_set_now(ctx, NOW - 200 * DAY); /* old audit entries */
    CHECK_EQ_INT(record(ctx, "OLD", PRIVACY_ANALYTICS, PRIVACY_GIVE, NULL), HP_OK);
    privacy_set_now(ctx, NOW);
    CHECK_EQ_INT(record(ctx, "OLD", PRIVACY_MARKETING, PRIVACY_OBJECT, NULL), HP_OK);
    CHECK_EQ_INT(store_customer_upsert(s, "OLD", NULL, NOW - 366 * DAY, &err), HP_OK);
    CHECK_EQ_INT(record(ctx, "NEW", PRIVACY_ANALYTICS, PRIVACY_GIVE, NULL), HP_OK);
    CHECK_EQ_INT(store_customer_upsert(s, "NEW", NULL, NOW - 364 * DAY, &err), HP_OK);
    CHECK_EQ_INT(store_transaction_add(s, "NEW", 1, NOW - 731 * DAY, &err), HP_OK);
    CHECK_EQ_INT(store_transaction_add(s, "NEW", 1, NOW - 729 * DAY, &err), HP_OK);
    CHECK_EQ_INT(store_feedback_add(s, "NEW", "P", "clicked", 1, NOW - 731 * DAY, NULL, &err), HP_OK);
    CHECK_EQ_INT(store_feedback_add(s, "NEW", "P", "clicked", 1, NOW - 10 * DAY, NULL, &err), HP_OK);
    CHECK_EQ_INT(store_feature_put(s, "NEW", "f_old", "x", 1, NOW - 31 * DAY, &err), HP_OK);
    CHECK_EQ_INT(store_feature_put(s, "NEW", "f_new", "x", 1, NOW - 29 * DAY, &err), HP_OK);
    privacy_purge_result dry, real;
    CHECK_EQ_INT(privacy_purge(ctx, 1, &dry, &err), HP_OK);
    CHECK_EQ_INT(dry.rows[STORE_CAT_CUSTOMER], 1);
    CHECK_EQ_INT(dry.rows[STORE_CAT_TRANSACTIONS], 1);
    CHECK_EQ_INT(dry.rows[STORE_CAT_FEEDBACK], 1);
    CHECK_EQ_INT(dry.rows[STORE_CAT_FEATURES], 1);
    CHECK_EQ_INT(dry.rows[STORE_CAT_LOGS], 1);
    privacy_purge_result again;
    CHECK_EQ_INT(privacy_purge(ctx, 1, &again, &err), HP_OK); /* a dry run changes nothing */
    CHECK(!memcmp(again.rows, dry.rows, sizeof dry.rows));
    CHECK_EQ_INT(privacy_purge(ctx, 0, &real, &err), HP_OK);
    CHECK(!memcmp(real.rows, dry.rows, sizeof dry.rows));
    CHECK_EQ_INT(privacy_purge(ctx, 1, &again, &err), HP_OK);
    for (int c = 0; c < STORE_CAT_COUNT; c++) CHECK_EQ_INT(again.rows[c], 0);
    int found;
    store_customer_exists(s, "OLD", &found, &err);
    CHECK(!found);
    /* the objection outlives the customer's rows: an import cannot re-enable marketing */
    CHECK_EQ_INT(record_from(ctx, "OLD", PRIVACY_MARKETING, PRIVACY_GIVE, "legitimate_interest", "import"), HP_ERR_INVAL);
    CHECK_EQ_INT(gate(ctx, "OLD", PRIVACY_MARKETING, PRIVACY_REQ_NO_AUDIT), 0);
    store_customer_exists(s, "NEW", &found, &err);
    CHECK(found);
    audit_report ar;
    CHECKF(audit_verify_store(s, &ar, &err) == HP_OK, "%s", ar.problem); /* anchored after the cut */
    privacy_close(ctx);
}

/* ------------------------------------------------------------------ k-anonymity */

TEST(k_anonymity_refuses_small_classes)
{
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx, NULL); /* k = 5 */
    hp_error err = { 0 };
    char id[16];
    for (int i = 0; i < 12; i++) {
        snprintf(id, sizeof id, "K%d", i);
        char attrs[128];
        snprintf(attrs, sizeof attrs, "{\"industry\":\"%s\",\"region\":\"EU\",\"employees\":\"%d-%d\"}",
                 i < 6 ? "Retail" : "Energy", 10 + i, 20 + i);
        CHECK_EQ_INT(store_customer_upsert(privacy_store(ctx), id, attrs, NOW, &err), HP_OK);
        CHECK_EQ_INT(record(ctx, id, PRIVACY_ANALYTICS, PRIVACY_GIVE, NULL), HP_OK);
    }
    privacy_kanon k;
    CHECK_EQ_INT(privacy_kanon_store(ctx, 0, &k, &err), HP_OK);
    CHECK_EQ_INT(k.smallest, 1); /* exact bands single everyone out */
    CHECK_EQ_INT(privacy_export_dataset(ctx, tmp_path("d0.csv"), 0, &k, &err), HP_ERR_RANGE);
    CHECK(strstr(err.msg, "smallest equivalence class has 1 record") != NULL);
    CHECK(access(tmp_path("d0.csv"), F_OK) != 0);
    CHECK_EQ_INT(privacy_export_dataset(ctx, tmp_path("d1.csv"), 1, &k, &err), HP_OK);
    struct stat sb;
    CHECK(stat(tmp_path("d1.csv"), &sb) == 0 && (sb.st_mode & 0777) == 0600); /* personal data: owner only */
    CHECK_EQ_INT(k.smallest, 6);
    CHECK_EQ_INT(k.classes, 2);
    char g[32];
    privacy_generalise("1M-5M", 1, g, sizeof g);
    CHECK_STR(g, "1000000-9999999");
    privacy_generalise(" Retail ", 0, g, sizeof g);
    CHECK_STR(g, "retail");
    privacy_close(ctx);
}

/* ------------------------------------------------------------------ audit tampering */

typedef struct { const char *action; int64_t n; } action_count;

static int count_action_row(void *c, const store_audit *a)
{
    action_count *ac = c;
    ac->n += !strcmp(a->action, ac->action);
    return 0;
}

static int64_t count_action(privacy_ctx *ctx, const char *action)
{
    hp_error err = { 0 };
    action_count ac = { action, 0 };
    CHECK_EQ_INT(store_audit_each(privacy_store(ctx), count_action_row, &ac, &err), HP_OK);
    return ac.n;
}

static void build_chain(privacy_ctx *ctx, int n)
{
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "A%d", i);
        CHECK_EQ_INT(record(ctx, id, PRIVACY_ANALYTICS, PRIVACY_GIVE, NULL), HP_OK);
    }
}

static int verify_db(privacy_ctx *ctx, const char *tamper_sql, int64_t *bad)
{
    hp_error err = { 0 };
    audit_report ar;
    if (tamper_sql) CHECK_EQ_INT(store_exec_unsafe(privacy_store(ctx), tamper_sql, &err), HP_OK);
    int rc = audit_verify_store(privacy_store(ctx), &ar, &err);
    *bad = ar.bad_seq;
    return rc;
}

TEST(audit_verify_catches_changes_in_the_store)
{
    int64_t bad;
    const char *tamper[] = {
        "UPDATE audit SET outcome = 'recorded (basis consent, source web, notice ''v4'')' WHERE seq = 4",
        "DELETE FROM audit WHERE seq = 4",
        ("UPDATE audit SET seq = -4 WHERE seq = 4; UPDATE audit SET seq = 4 WHERE seq = 5;"
         " UPDATE audit SET seq = 5 WHERE seq = -4"),
        "UPDATE audit SET subject = 'ps_00000000000000000000000000000000' WHERE seq = 4",
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(tamper); i++) {
        privacy_ctx *ctx = NULL;
        open_ctx(&ctx, NULL);
        build_chain(ctx, 8);
        CHECK_EQ_INT(verify_db(ctx, NULL, &bad), HP_OK);
        CHECKF(verify_db(ctx, tamper[i], &bad) == HP_ERR_FORMAT, "tamper %zu not caught", i);
        CHECKF(bad == 4 || bad == 5, "tamper %zu reported at %lld", i, (long long)bad);
        privacy_close(ctx);
    }
}

static size_t read_all(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap, f) : 0;
    if (f) fclose(f);
    return n;
}

static void write_all(const char *path, const char *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
}

static int verify_bytes(const char *buf, size_t n)
{
    hp_error err = { 0 };
    audit_report ar;
    write_all(tmp_path("t.jsonl"), buf, n);
    return audit_verify_file(tmp_path("t.jsonl"), &ar, &err);
}

/* Offsets of the starts of lines; returns the number of lines. */
static int line_starts(const char *buf, size_t n, size_t *at, int max)
{
    int k = 0;
    for (size_t i = 0; i < n && k < max; i++)
        if (i == 0 || buf[i - 1] == '\n') at[k++] = i;
    return k;
}

TEST(audit_verify_catches_flipped_byte_deleted_line_swapped_pair)
{
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx, NULL);
    build_chain(ctx, 5);
    hp_error err = { 0 };
    const char *p = tmp_path("audit5.jsonl");
    CHECK_EQ_INT(audit_export_file(privacy_store(ctx), p, NOW, &err), HP_OK);
    static char orig[65536], buf[65536];
    size_t n = read_all(p, orig, sizeof orig);
    CHECK(n > 0 && n < sizeof orig);
    CHECK_EQ_INT(verify_bytes(orig, n), HP_OK);
    /* every single flipped byte, anywhere in the file, is caught */
    size_t missed = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(buf, orig, n);
        buf[i] ^= 0x01;
        if (verify_bytes(buf, n) == HP_OK && missed++ < 5)
            fprintf(stderr, "  flip at %zu not caught: ...%.30s...\n", i, orig + (i > 15 ? i - 15 : 0));
    }
    CHECKF(missed == 0, "%zu of %zu flipped bytes not caught", missed, n);
    size_t at[16];
    int lines = line_starts(orig, n, at, 16);
    CHECK_EQ_INT(lines, 6); /* header + 5 entries */
    at[lines] = n;
    for (int l = 1; l < lines; l++) { /* delete each entry line */
        size_t len = at[l + 1] - at[l];
        memcpy(buf, orig, at[l]);
        memcpy(buf + at[l], orig + at[l + 1], n - at[l + 1]);
        int rc = verify_bytes(buf, n - len);
        CHECKF(rc != HP_OK || l == lines - 1, "deleting line %d not caught", l + 1);
    }
    for (int l = 1; l + 1 < lines; l++) { /* swap each adjacent pair */
        size_t a = at[l + 1] - at[l], b = at[l + 2] - at[l + 1];
        memcpy(buf, orig, n);
        memcpy(buf + at[l], orig + at[l + 1], b);
        memcpy(buf + at[l] + b, orig + at[l], a);
        CHECKF(verify_bytes(buf, n) != HP_OK, "swapping lines %d and %d not caught", l + 1, l + 2);
    }
    privacy_close(ctx);
}

/* An entry written without a subject cannot be given one; a purged prefix's anchor is only
 * trusted when the chained audit.purge entry names it; a JSONL field of another type (null,
 * 0 for "") is an alteration. */
TEST(audit_verify_catches_added_subjects_moved_anchors_and_retyped_fields)
{
    hp_error err = { 0 };
    int64_t bad;
    const char *tamper[] = {
        "UPDATE audit SET subject = 'ps_00000000000000000000000000000000' WHERE seq = 4",
        "UPDATE audit SET subject = 'ps_00000000000000000000000000000000', subject_nonce = 'zz' WHERE seq = 4",
        "UPDATE audit SET subject_nonce = '00000000000000000000000000000000' WHERE seq = 4",
        /* a prefix removed and the anchor moved to where it now starts */
        ("DELETE FROM audit WHERE seq <= 3; INSERT OR REPLACE INTO meta(key, value) VALUES('audit_anchor_seq', '3');"
         " INSERT OR REPLACE INTO meta(key, value) SELECT 'audit_anchor_hash', prev FROM audit WHERE seq = 4"),
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(tamper); i++) {
        privacy_ctx *ctx = NULL;
        open_ctx(&ctx, NULL);
        build_chain(ctx, 3);
        const char *ids[] = { "A0", "A1" };
        uint8_t ok[2];
        size_t n;
        CHECK_EQ_INT(privacy_allowed_bulk(ctx, ids, 2, PRIVACY_ANALYTICS, 0, ok, &n, &err), HP_OK); /* seq 4: no subject */
        build_chain(ctx, 4);
        CHECK_EQ_INT(verify_db(ctx, NULL, &bad), HP_OK);
        CHECKF(verify_db(ctx, tamper[i], &bad) == HP_ERR_FORMAT, "tamper %zu not caught", i);
        privacy_close(ctx);
    }
    /* a real purge: the anchor verifies and is reported; moving it further does not */
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx, NULL);
    privacy_set_now(ctx, NOW - 200 * DAY);
    build_chain(ctx, 5);
    privacy_set_now(ctx, NOW);
    build_chain(ctx, 5);
    privacy_purge_result pr;
    CHECK_EQ_INT(privacy_purge(ctx, 0, &pr, &err), HP_OK);
    CHECK_EQ_INT(pr.rows[STORE_CAT_LOGS], 5);
    audit_report ar;
    CHECKF(audit_verify_store(privacy_store(ctx), &ar, &err) == HP_OK, "%s", ar.problem);
    CHECK_EQ_INT(ar.anchor_seq, 5);
    const char *p = tmp_path("anchored.jsonl");
    CHECK_EQ_INT(audit_export_file(privacy_store(ctx), p, NOW, &err), HP_OK);
    CHECKF(audit_verify_file(p, &ar, &err) == HP_OK, "%s", ar.problem);
    CHECK_EQ_INT(ar.anchor_seq, 5);
    CHECK_EQ_INT(verify_db(ctx, "DELETE FROM audit WHERE seq <= 7; UPDATE meta SET value = '7' WHERE"
                         " key = 'audit_anchor_seq'; UPDATE meta SET value = (SELECT prev FROM audit"
                         " WHERE seq = 8) WHERE key = 'audit_anchor_hash'", &bad), HP_ERR_FORMAT);
    privacy_close(ctx);
    /* JSONL: the same entry with a field of another type */
    open_ctx(&ctx, NULL);
    build_chain(ctx, 3);
    p = tmp_path("typed.jsonl");
    CHECK_EQ_INT(audit_export_file(privacy_store(ctx), p, NOW, &err), HP_OK);
    static char orig[65536], buf[65536];
    size_t len = read_all(p, orig, sizeof orig);
    CHECK_EQ_INT(verify_bytes(orig, len), HP_OK);
    const char *from[] = { "\"model_version\":\"\"", "\"model_version\":\"\"", "\"inputs_hash\":\"\"" };
    const char *to[] = { "\"model_version\":null", "\"model_version\":0", "\"inputs_hash\":false" };
    for (size_t i = 0; i < HP_ARRAY_LEN(from); i++) {
        char *at = strstr(orig, from[i]);
        CHECK(at != NULL);
        if (!at) continue;
        size_t pre = (size_t)(at - orig), fl = strlen(from[i]), tl = strlen(to[i]);
        memcpy(buf, orig, pre);
        memcpy(buf + pre, to[i], tl);
        memcpy(buf + pre + tl, at + fl, len - pre - fl);
        CHECKF(verify_bytes(buf, len - fl + tl) != HP_OK, "'%s' for '%s' not caught", to[i], from[i]);
    }
    privacy_close(ctx);
}

/* Customer ids are stored in clear: one that is a card number (PCI-DSS), an e-mail address or
 * an IBAN is refused wherever it would enter the store (a consent event, the erasure request a
 * withdrawal queues, the store's own upsert), and nothing of it is stored or quoted. */
TEST(ids_that_are_card_numbers_or_emails_are_never_stored)
{
    privacy_config cfg;
    privacy_config_default(&cfg);
    cfg.erase_on_withdrawal = PRIVACY_ERASE_QUEUE;
    privacy_ctx *ctx = NULL;
    open_ctx(&ctx, &cfg);
    hp_error err = { 0 };
    struct { const char *id, *why; } bad[] = {
        { "4111111111111111", "customer id looks like a card number (PCI-DSS" },
        { "cust-5555555555554444", "customer id looks like a card number (PCI-DSS" },
        { "alice@example.com", "customer id looks like an e-mail address" },
        { "DE89370400440532013000", "customer id looks like an IBAN" },
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(bad); i++) {
        for (int ev = PRIVACY_GIVE; ev <= PRIVACY_WITHDRAW; ev++) {
            privacy_consent_req r = { bad[i].id, PRIVACY_PERSONALISATION, (privacy_event)ev, NULL, "web", "v1", 0, 0 };
            CHECK_EQ_INT(privacy_consent_record(ctx, &r, &err), HP_ERR_INVAL);
            CHECKF(strstr(err.msg, bad[i].why) && strstr(err.msg, "use a pseudonymous id"), "%s", err.msg);
            CHECKF(!strstr(err.msg, bad[i].id), "the message quotes the id: %s", err.msg);
        }
        CHECK_EQ_INT(privacy_id_check_storable(bad[i].id, &err), HP_ERR_INVAL);
        CHECK_EQ_INT(privacy_id_check(bad[i].id, &err), HP_OK); /* erase and export still take it */
        CHECK_EQ_INT(store_customer_upsert(privacy_store(ctx), bad[i].id, NULL, NOW, &err), HP_ERR_INVAL);
    }
    /* pseudonymous ids and near misses (a failed Luhn check, no domain) are stored */
    CHECK_EQ_INT(record(ctx, "C-100", PRIVACY_PERSONALISATION, PRIVACY_GIVE, NULL), HP_OK);
    CHECK_EQ_INT(record(ctx, "4111111111111112", PRIVACY_PERSONALISATION, PRIVACY_GIVE, NULL), HP_OK);
    CHECK_EQ_INT(record(ctx, "C1@crm", PRIVACY_PERSONALISATION, PRIVACY_GIVE, NULL), HP_OK);
    CHECK_EQ_INT(record(ctx, "C-100", PRIVACY_PERSONALISATION, PRIVACY_WITHDRAW, NULL), HP_OK);
    int64_t n = -1;
    CHECK_EQ_INT(store_customer_count(privacy_store(ctx), &n, &err), HP_OK);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(store_erasure_count(privacy_store(ctx), &n, &err), HP_OK);
    CHECK_EQ_INT(n, 1); /* C-100's: the refused withdrawals queued none */
    needle_scan s = { { "4111111111111111", "example.com" }, 0 };
    CHECK_EQ_INT(store_each_value(privacy_store(ctx), scan_value, &s, &err), HP_OK);
    CHECK_EQ_INT(s.hits, 0);
    needle_scan s2 = { { "5555555555554444", "DE89370400440532013000" }, 0 };
    CHECK_EQ_INT(store_each_value(privacy_store(ctx), scan_value, &s2, &err), HP_OK);
    CHECK_EQ_INT(s2.hits, 0);
    privacy_close(ctx);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/hyperp_privacy_XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    RUN(withdrawal_stops_personalisation_and_training_at_once);
    RUN(objection_to_marketing_is_absolute_and_gpc_is_honoured);
    RUN(bad_input_gets_clear_errors);
    RUN(export_holds_everything_about_the_customer);
    RUN(erasure_leaves_no_trace_in_any_table_or_file);
    RUN(erasure_reports_the_files_it_cannot_reach);
    RUN(erasure_rewrites_exports_under_every_name);
    RUN(store_files_are_owner_only);
    RUN(outputs_never_overwrite_the_store);
    RUN(erasure_on_withdrawal_when_configured);
    RUN(opt_outs_are_lifted_only_by_the_customers_own_consent);
    RUN(queued_erasure_is_dropped_when_the_customer_consents_again);
    RUN(interrupted_erasure_is_finished_by_a_rerun);
    RUN(purge_respects_each_period);
    RUN(k_anonymity_refuses_small_classes);
    RUN(audit_verify_catches_changes_in_the_store);
    RUN(audit_verify_catches_flipped_byte_deleted_line_swapped_pair);
    RUN(audit_verify_catches_added_subjects_moved_anchors_and_retyped_fields);
    RUN(ids_that_are_card_numbers_or_emails_are_never_stored);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", g_dir);
    return check_summary("test_privacy");
}
