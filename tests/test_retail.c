/* Event-line data sets (UCI Online Retail): a table's row filter ("where") and first-seen ids
 * ("duplicates": "first"), so customers, products and interactions all come from one file of
 * invoice lines; split.method "time" with a fixed cut, a validation window and "new_only"
 * (next-period cross-sell). Small cases worked out by hand, bad configs refused naming the JSON
 * path, and, when ../shared/data is present, examples/online_retail.json reproducing the
 * peers' split exactly (every test pair of online_retail_test_pairs.tsv, the train counts). */
#define _GNU_SOURCE
#include "check.h"
#include "data/data.h"
#include "rec/rec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[64];

static const char *path_in(const char *name) { return check_path(g_dir, name); }

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(path_in(name), "w");
    fputs(text, f);
    fclose(f);
}

static int load(data_dataset *ds, const char *json, data_ingest_report *rep, hp_error *err)
{
    int rc = data_config_parse(ds, json, strlen(json), "c.json", g_dir, err);
    if (rc) return rc; /* ds is left empty */
    if ((rc = data_ingest(ds, NULL, rep, err))) data_dataset_free(ds);
    return rc;
}

static int32_t id_of(const data_table *t, const char *id)
{
    return data_dict_find(&t->cols[t->id_col].dict, id, strlen(id));
}

/* ------------------------------------------------------------------ where, duplicates */

/* Lines of invoices: a cancellation, a zero price, a guest line, a postage code, a C2 line and
 * a non-number quantity; the good lines name customers and products more than once. */
static const char k_lines[] =
    "InvoiceNo,StockCode,Description,Quantity,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HEART,6,2.55,17850,United Kingdom\n"   /* line 2: kept */
    "536365,71053,LANTERN,6,3.39,17850,United Kingdom\n"        /* 3: kept */
    "C536379,85123A,WHITE HEART,-1,2.55,17850,United Kingdom\n" /* 4: cancellation */
    "536380,85123A,HEART (other text),2,2.55,13047,France\n"    /* 5: kept; products keep line 2 */
    "536381,22633,HAND WARMER,4,0,13047,France\n"               /* 6: price 0 */
    "536382,22633,HAND WARMER,4,1.85,,United Kingdom\n"         /* 7: no customer */
    "536383,POST,POSTAGE,1,18,13047,France\n"                   /* 8: no digit */
    "536384,C2,CARRIAGE,1,50,13047,France\n"                    /* 9: C2 */
    "536385,22633,HAND WARMER,x,1.85,13047,France\n";           /* 10: quantity not a number */

static const char k_where[] =
    "[{\"column\": \"InvoiceNo\", \"op\": \"not_prefix\", \"value\": \"C\"},"
    " {\"column\": \"quantity\", \"op\": \">\", \"value\": 0},"
    " {\"column\": \"UnitPrice\", \"op\": \">\", \"value\": 0},"
    " {\"column\": \"CustomerID\", \"op\": \"present\"},"
    " {\"column\": \"StockCode\", \"op\": \"has_digit\"},"
    " {\"column\": \"StockCode\", \"op\": \"!=\", \"value\": \"C2\"}]";

static char g_lines_config[4096];

static void make_lines_config(void)
{
    snprintf(g_lines_config, sizeof g_lines_config,
             "{\"hyperp_dataset\": 1,\n"
             " \"customers\": {\"file\": \"lines.csv\", \"where\": %s, \"duplicates\": \"first\",\n"
             "               \"columns\": {\"CustomerID\": \"id\", \"Country\": \"categorical\"}},\n"
             " \"products\": {\"file\": \"lines.csv\", \"where\": %s, \"duplicates\": \"first\",\n"
             "              \"columns\": {\"StockCode\": \"id\", \"Description\": \"text\"}},\n"
             " \"interactions\": {\"file\": \"lines.csv\", \"where\": %s, \"default_kind\": \"bought\",\n"
             "                  \"columns\": {\"CustomerID\": \"customer\", \"StockCode\": \"product\"}}}\n",
             k_where, k_where, k_where);
}

TEST(where_keeps_the_positive_lines_and_duplicates_first_keeps_the_first_row)
{
    data_dataset ds;
    data_ingest_report rep;
    hp_error err = { 0 };
    CHECKF(load(&ds, g_lines_config, &rep, &err) == HP_OK, "%s", err.msg);
    const data_table *cu = &ds.t[DATA_T_CUSTOMERS], *pr = &ds.t[DATA_T_PRODUCTS], *it = &ds.t[DATA_T_INTERACTIONS];
    CHECK_EQ_INT(it->nrows, 3);
    CHECK_EQ_INT(it->line[0], 2);
    CHECK_EQ_INT(it->line[2], 5);
    CHECK_EQ_INT(rep.filtered[DATA_T_INTERACTIONS], 6); /* lines 4 and 6-10 */
    CHECK_EQ_INT(rep.total_rejected, 0);               /* left out, not bad rows */
    CHECK_EQ_INT(cu->nrows, 2);
    CHECK_EQ_INT(rep.duplicates[DATA_T_CUSTOMERS], 1);
    CHECK_EQ_INT(pr->nrows, 2);
    CHECK_EQ_INT(rep.duplicates[DATA_T_PRODUCTS], 1);
    int32_t heart = id_of(pr, "85123A");
    CHECK(heart >= 0);
    CHECK_STR(data_col_text(data_table_col_named(pr, "Description"), (size_t)heart), "WHITE HEART");
    CHECK(id_of(pr, "22633") < 0 && id_of(pr, "POST") < 0 && id_of(pr, "C2") < 0);
    int32_t fr = id_of(cu, "13047");
    CHECK_STR(data_col_str(data_table_col_named(cu, "Country"), (size_t)fr), "France");
    CHECK_EQ_INT(cu->record[fr], 3); /* 0-based record of line 5: rejected and filtered ones count */
    data_dataset_free(&ds);
}

/* Without "duplicates": "first" a repeated id is still a rejected row, as before. */
TEST(without_duplicates_first_a_repeated_id_is_rejected)
{
    char cfg[4096];
    snprintf(cfg, sizeof cfg,
             "{\"hyperp_dataset\": 1, \"customers\": {\"file\": \"lines.csv\", \"where\": %s,"
             " \"columns\": {\"CustomerID\": \"id\"}}}", k_where);
    data_dataset ds;
    data_ingest_report rep;
    hp_error err = { 0 };
    CHECKF(load(&ds, cfg, &rep, &err) == HP_OK, "%s", err.msg);
    CHECK_EQ_INT(ds.t[DATA_T_CUSTOMERS].nrows, 2);
    CHECK_EQ_INT(rep.rejected[DATA_T_CUSTOMERS], 1);
    CHECK(strstr(rep.samples[0], "lines.csv:3: column 'CustomerID': duplicate id '17850' (first at line 2)") != NULL);
    data_dataset_free(&ds);
}

static void refused(const char *table_extra, const char *want)
{
    char cfg[2048];
    snprintf(cfg, sizeof cfg, "{\"hyperp_dataset\": 1, \"customers\": {\"file\": \"lines.csv\", %s"
                              " \"columns\": {\"CustomerID\": \"id\"}}}", table_extra);
    data_dataset ds;
    hp_error err = { 0 };
    int rc = load(&ds, cfg, NULL, &err);
    CHECKF(rc != HP_OK && strstr(err.msg, want), "got %d '%s', want '%s'", rc, err.msg, want);
    if (!rc) data_dataset_free(&ds);
}

TEST(bad_where_and_duplicates_name_the_json_path_or_the_file)
{
    refused("\"where\": {},", "c.json: customers.where: expected an array of conditions");
    refused("\"where\": [3],", "c.json: customers.where[0]: expected an object");
    refused("\"where\": [{\"column\": \"Quantity\", \"op\": \"~\", \"value\": 1}],",
            "c.json: customers.where[0].op: expected one of =, !=, <");
    refused("\"where\": [{\"column\": \"Quantity\", \"op\": \">\"}],",
            "c.json: customers.where[0]: missing key 'value' (a number)");
    refused("\"where\": [{\"column\": \"Quantity\", \"op\": \">\", \"value\": \"0\"}],",
            "c.json: customers.where[0].value: expected a number");
    refused("\"where\": [{\"column\": \"Quantity\", \"op\": \"present\"}, {\"column\": \"StockCode\", \"op\": \"has_digit\", "
            "\"value\": 1}],", "c.json: customers.where[1].value: op 'has_digit' takes no value");
    refused("\"where\": [{\"op\": \"present\"}],", "c.json: customers.where[0]: missing key 'column'");
    refused("\"where\": [{\"column\": \"Quantity\", \"op\": \"present\", \"vlaue\": 1}],",
            "c.json: customers.where[0].vlaue: unknown key 'vlaue'");
    refused("\"duplicates\": \"last\",", "c.json: customers.duplicates: expected \"reject\" or \"first\"");
    refused("\"where\": [{\"column\": \"Qty\", \"op\": \"present\"}],",
            "lines.csv: no column 'Qty' (named by the config's customers.where[0])");
    data_dataset ds;
    hp_error err = { 0 };
    const char *cfg = "{\"hyperp_dataset\": 1, \"customers\": {\"file\": \"lines.csv\", \"columns\": {\"CustomerID\": \"id\"}},"
                      " \"interactions\": {\"file\": \"lines.csv\", \"duplicates\": \"first\","
                      " \"columns\": {\"CustomerID\": \"customer\", \"StockCode\": \"product\"}}}";
    CHECK(data_config_parse(&ds, cfg, strlen(cfg), "c.json", g_dir, &err) == HP_ERR_INVAL);
    CHECK(strstr(err.msg, "c.json: interactions.duplicates: applies only to customers and products") != NULL);
}

/* ------------------------------------------------------------------ time split with a cut */

/* Customers A, B, E, C, D; products P1..P5. Before 2011-08-01: A P1, A P2, B P1, E P3. August (the
 * validation window): A P3 (new), A P1 (repeat: stays training), C P1 (C had nothing before:
 * training), B P4 (P4 new to everyone: training). From 2011-09-01: A P2 (repeat), A P4 (new,
 * a training item), B P3 (new), B P1 (repeat), D P1 (D has no training positive), A P5 (no
 * training item). */
static const char k_events[] =
    "customer,product,time\n"
    "A,P1,2011-01-05T10:00\nA,P2,2011-02-05T10:00\nB,P1,2011-03-05T10:00\nE,P3,2011-04-01T10:00\n"
    "A,P3,2011-08-03T10:00\nA,P1,2011-08-04T10:00\nC,P1,2011-08-05T10:00\nB,P4,2011-08-06T10:00\n"
    "A,P2,2011-09-01T00:00\nA,P4,2011-09-02T10:00\nB,P3,2011-10-01T10:00\nB,P1,2011-10-02T10:00\n"
    "D,P1,2011-10-03T10:00\nA,P5,2011-11-03T10:00\nA,P4,2011-11-04T10:00\n";

static char g_events_config[2048];

static void make_events_config(const char *split)
{
    snprintf(g_events_config, sizeof g_events_config,
             "{\"hyperp_dataset\": 1,\n"
             " \"customers\": {\"file\": \"events.csv\", \"duplicates\": \"first\", \"columns\": {\"customer\": \"id\"}},\n"
             " \"products\": {\"file\": \"events.csv\", \"duplicates\": \"first\", \"columns\": {\"product\": \"id\"}},\n"
             " \"interactions\": {\"file\": \"events.csv\", \"columns\": {\"customer\": \"customer\", \"product\": \"product\",\n"
             "                  \"time\": \"timestamp\"}},\n"
             " \"split\": %s}\n", split);
}

/* "A:P1 P2|B:..." of a CSR, customers in table order, products by id. */
static void csr_text(const data_dataset *ds, const int64_t *off, const int32_t *ids, char *out, size_t n)
{
    const data_table *cu = &ds->t[DATA_T_CUSTOMERS], *pr = &ds->t[DATA_T_PRODUCTS];
    out[0] = 0;
    for (size_t c = 0; c < cu->nrows; c++) {
        snprintf(out + strlen(out), n - strlen(out), "%s%s:", c ? "|" : "", data_col_str(&cu->cols[cu->id_col], c));
        for (int64_t i = off[c]; i < off[c + 1]; i++)
            snprintf(out + strlen(out), n - strlen(out), "%s%s", i > off[c] ? " " : "",
                     data_col_str(&pr->cols[pr->id_col], (size_t)ids[i]));
    }
}

TEST(new_only_targets_are_new_pairs_of_known_customers_and_training_items)
{
    write_file("events.csv", k_events);
    make_events_config("{\"method\": \"time\", \"cut\": \"2011-09-01T00:00\", \"valid_cut\": \"2011-08-01\", "
                       "\"new_only\": true}");
    data_dataset ds;
    rec_config cfg;
    rec_split s;
    hp_error err = { 0 };
    CHECKF(load(&ds, g_events_config, NULL, &err) == HP_OK, "%s", err.msg);
    CHECKF(rec_config_from_dataset(&cfg, &ds, &err) == HP_OK, "%s", err.msg);
    CHECKF(rec_split_make(&s, &ds, &cfg, &err) == HP_OK, "%s", err.msg);
    char text[512];
    csr_text(&ds, s.vis_off, s.vis, text, sizeof text);
    CHECK_STR(text, "A:P1 P2|B:P1 P4|E:P3|C:P1|D:");
    csr_text(&ds, s.tgt_off[0], s.tgt[0], text, sizeof text);
    CHECK_STR(text, "A:P3|B:|E:|C:|D:");
    csr_text(&ds, s.tgt_off[1], s.tgt[1], text, sizeof text);
    CHECK_STR(text, "A:P4|B:P3|E:|C:|D:");
    CHECK(rec_split_folds_for_eval(&cfg));
    CHECK(rec_split_fold_valid(&s) == HP_OK);
    csr_text(&ds, s.vis_off, s.vis, text, sizeof text);
    CHECK_STR(text, "A:P1 P2 P3|B:P1 P4|E:P3|C:P1|D:");
    rec_split_free(&s);
    /* without new_only, the cut alone: every later interaction is a target (repeats promoted) */
    rec_config_free(&cfg);
    data_dataset_free(&ds);
    make_events_config("{\"method\": \"time\", \"cut\": \"2011-09-01T00:00\"}");
    CHECKF(load(&ds, g_events_config, NULL, &err) == HP_OK, "%s", err.msg);
    CHECKF(rec_config_from_dataset(&cfg, &ds, &err) == HP_OK, "%s", err.msg);
    CHECKF(rec_split_make(&s, &ds, &cfg, &err) == HP_OK, "%s", err.msg);
    csr_text(&ds, s.tgt_off[1], s.tgt[1], text, sizeof text);
    CHECK_STR(text, "A:P2 P4 P5|B:P1 P3|E:|C:|D:P1");
    CHECK_EQ_INT(s.tgt_off[0][s.ncust], 0); /* no valid_cut: no validation window */
    rec_split_free(&s);
    rec_config_free(&cfg);
    data_dataset_free(&ds);
}

/* The cut survives the model file's round trip (model.json keeps the config). */
TEST(cut_valid_cut_and_new_only_round_trip_through_json)
{
    make_events_config("{\"method\": \"time\", \"cut\": \"2011-09-01T00:00\", \"valid_cut\": \"2011-08-01\", "
                       "\"new_only\": true}");
    data_dataset ds;
    rec_config cfg, back;
    hp_error err = { 0 };
    CHECKF(load(&ds, g_events_config, NULL, &err) == HP_OK, "%s", err.msg);
    CHECKF(rec_config_from_dataset(&cfg, &ds, &err) == HP_OK, "%s", err.msg);
    json_t *j = rec_config_to_json(&cfg);
    rec_config_defaults(&back);
    CHECKF(rec_config_from_json(&back, j, "model.json", g_dir, &err) == HP_OK, "%s", err.msg);
    CHECK_STR(back.split.cut, "2011-09-01T00:00");
    CHECK_STR(back.split.valid_cut, "2011-08-01");
    CHECK_EQ_INT(back.split.new_only, 1);
    json_decref(j);
    rec_config_free(&back);
    rec_config_free(&cfg);
    data_dataset_free(&ds);
}

static void split_refused(const char *split, const char *want)
{
    make_events_config(split);
    data_dataset ds;
    hp_error err = { 0 };
    int rc = data_config_parse(&ds, g_events_config, strlen(g_events_config), "c.json", g_dir, &err);
    CHECKF(rc == HP_ERR_INVAL && strstr(err.msg, want), "got %d '%s', want '%s'", rc, err.msg, want);
    if (!rc) data_dataset_free(&ds);
}

TEST(bad_cut_settings_name_the_json_path)
{
    split_refused("{\"method\": \"customer\", \"cut\": \"2011-09-01\"}", "c.json: split.cut: applies only to method \"time\"");
    split_refused("{\"method\": \"time\", \"new_only\": true}", "c.json: split.new_only: needs split.cut");
    split_refused("{\"method\": \"time\", \"cut\": \"2011-09-01\", \"new_only\": 1}",
                  "c.json: split.new_only: expected true or false");
    split_refused("{\"method\": \"time\", \"cut\": \"09/01/2011\"}", "c.json: split.cut: expected a date or date-time string");
    split_refused("{\"method\": \"time\", \"cut\": \"2011-09-01\", \"valid_cut\": \"2011-09-01\"}",
                  "c.json: split.valid_cut: must be before split.cut");
    split_refused("{\"method\": \"time\", \"cut\": \"2011-09-01\", \"test_fraction\": 0.2}",
                  "c.json: split.test_fraction: not used with split.cut");
}

/* ------------------------------------------------------------------ the shared data */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

TEST(online_retail_split_equals_the_peers_if_present)
{
    const char *pairs_path = "../shared/data/splits/online_retail_test_pairs.tsv";
    if (access("../shared/data/online_retail/online_retail.csv", R_OK) != 0 || access(pairs_path, R_OK) != 0) {
        printf("skip: ../shared/data/online_retail not found (outside the shared workspace)\n");
        return;
    }
    data_dataset ds;
    rec_config cfg;
    rec_split s;
    hp_error err = { 0 };
    CHECKF(data_config_load(&ds, "examples/online_retail.json", &err) == HP_OK, "%s", err.msg);
    CHECKF(data_ingest(&ds, NULL, NULL, &err) == HP_OK, "%s", err.msg);
    CHECK_EQ_INT(ds.t[DATA_T_INTERACTIONS].nrows, 396337); /* the positive lines */
    CHECKF(rec_config_from_dataset(&cfg, &ds, &err) == HP_OK, "%s", err.msg);
    CHECKF(rec_split_make(&s, &ds, &cfg, &err) == HP_OK, "%s", err.msg);
    /* the validation window is the peers' own (lines before August against August's new pairs) */
    long vcust = 0;
    for (int c = 0; c < s.ncust; c++) vcust += s.tgt_off[0][c + 1] > s.tgt_off[0][c];
    CHECK_EQ_INT(s.tgt_off[0][s.ncust], 10535);
    CHECK_EQ_INT(vcust, 689);
    CHECK(rec_split_fold_valid(&s) == HP_OK); /* as evaluation does: all before the cut is training */
    const data_table *cu = &ds.t[DATA_T_CUSTOMERS], *pr = &ds.t[DATA_T_PRODUCTS];
    uint8_t *item = calloc((size_t)s.P, 1);
    long train_cust = 0, items = 0, test_cust = 0, ntest = (long)s.tgt_off[1][s.ncust];
    for (int c = 0; c < s.ncust; c++) {
        train_cust += s.vis_off[c + 1] > s.vis_off[c];
        test_cust += s.tgt_off[1][c + 1] > s.tgt_off[1][c];
        for (int64_t i = s.vis_off[c]; i < s.vis_off[c + 1]; i++) item[s.vis[i]] = 1;
        CHECK(s.tgt_off[1][c + 1] == s.tgt_off[1][c] || s.vis_off[c + 1] > s.vis_off[c]);
    }
    for (int p = 0; p < s.P; p++) items += item[p];
    CHECK_EQ_INT(s.vis_off[s.ncust], 162426);
    CHECK_EQ_INT(train_cust, 3314);
    CHECK_EQ_INT(items, 3388);
    CHECK_EQ_INT(ntest, 56803);
    CHECK_EQ_INT(test_cust, 1875);
    /* the pairs themselves, as the peers' file writes them, sorted */
    char **mine = calloc((size_t)ntest + 1, sizeof *mine);
    long n = 0;
    for (int c = 0; c < s.ncust; c++)
        for (int64_t i = s.tgt_off[1][c]; i < s.tgt_off[1][c + 1]; i++) {
            CHECK(item[s.tgt[1][i]]); /* a training item */
            CHECK(!rec_split_visible(&s, c, s.tgt[1][i])); /* new to the customer */
            if (asprintf(&mine[n++], "%s\t%s", data_col_str(&cu->cols[cu->id_col], (size_t)c),
                         data_col_str(&pr->cols[pr->id_col], (size_t)s.tgt[1][i])) < 0) mine[n - 1] = NULL;
        }
    qsort(mine, (size_t)n, sizeof *mine, cmp_str);
    FILE *f = fopen(pairs_path, "r");
    char line[256];
    long lines = 0, differ = 0;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (lines < n && strcmp(mine[lines], line) != 0 && differ++ < 3)
            fprintf(stderr, "  pair %ld: hyperp '%s', peers '%s'\n", lines + 1, mine[lines], line);
        lines++;
    }
    if (f) fclose(f);
    CHECK_EQ_INT(lines, 56803);
    CHECK_EQ_INT(differ, 0);
    for (long i = 0; i < n; i++) free(mine[i]);
    free(mine);
    free(item);
    rec_split_free(&s);
    rec_config_free(&cfg);
    data_dataset_free(&ds);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/hyperp_retail_XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    write_file("lines.csv", k_lines);
    make_lines_config();
    RUN(where_keeps_the_positive_lines_and_duplicates_first_keeps_the_first_row);
    RUN(without_duplicates_first_a_repeated_id_is_rejected);
    RUN(bad_where_and_duplicates_name_the_json_path_or_the_file);
    RUN(new_only_targets_are_new_pairs_of_known_customers_and_training_items);
    RUN(cut_valid_cut_and_new_only_round_trip_through_json);
    RUN(bad_cut_settings_name_the_json_path);
    RUN(online_retail_split_equals_the_peers_if_present);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd)) { /* best effort */ }
    return check_summary("test_retail");
}
