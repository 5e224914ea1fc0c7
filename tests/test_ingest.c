/* Ingest end to end: configs, the hackathon format, faulty files, holdings, references. */
#define _GNU_SOURCE
#include "check.h"
#include "data/data.h"
#include "data/parse.h"
#include "io/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_dir[64];

static const char *path_in(const char *name)
{
    return check_path(g_dir, name);
}

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(path_in(name), "wb");
    fputs(text, f);
    fclose(f);
}

static char *read_all(const char *name)
{
    char *buf = NULL;
    size_t len;
    if (io_read_file(path_in(name), &buf, &len, NULL)) return NULL;
    return buf;
}

/* Loads config text (written into the temp dir) and ingests it. */
static int ingest_config(const char *config, data_dataset *ds, data_ingest_report *rep, hp_error *err)
{
    write_file("config.json", config);
    int rc = data_config_load(ds, path_in("config.json"), err);
    if (rc) return rc;
    data_ingest_opts o = { .rejects_path = path_in("rejects.csv") };
    return data_ingest(ds, &o, rep, err);
}

static const char *k_profiles =
    "customer_id,industry,employees,revenue,financial_needs,preferences\n"
    "ORG_1,IT Services,500-1000,50M-80M,\"Business Loans, Payment Processing\",\"Cloud Services, R&D\"\n"
    "ORG_2,Agriculture,200-500,20M-30M,\"Agriculture Loans, POS Banking\",\"Farm Equipment\"\n"
    "ORG_3,Fashion,1000-2500,1.5B+,\"Trade Finance\",\"Influencer Marketing, R&D\"\n";

TEST(hackathon_profiles_default_config)
{
    write_file("profiles.csv", k_profiles);
    data_dataset ds;
    hp_error err = { 0 };
    CHECK(data_config_default(&ds, g_dir, &err) == HP_OK);
    CHECK(data_config_set_file(&ds, DATA_T_CUSTOMERS, path_in("profiles.csv"), &err) == HP_OK);
    data_ingest_report rep;
    data_ingest_opts o = { 0 };
    int rc = data_ingest(&ds, &o, &rep, &err);
    CHECKF(rc == HP_OK, "%s", err.msg);
    data_table *cu = &ds.t[DATA_T_CUSTOMERS];
    CHECK_EQ_INT(cu->nrows, 3);
    CHECK_EQ_INT(rep.total_rejected, 0);
    data_column *rev = data_table_col_named(cu, "revenue");
    CHECK(rev && rev->lo[2] == 1.5e9f && isinf(rev->hi[2]));
    data_column *needs = data_table_col_named(cu, "financial_needs");
    CHECK(needs && needs->off[1] - needs->off[0] == 2);
    CHECK_STR(needs->dict.str[needs->items[1]], "Payment Processing");
    data_column *prefs = data_table_col_named(cu, "preferences");
    CHECK(prefs && prefs->dict.n == 4); /* Cloud Services, R&D, Farm Equipment, Influencer Marketing */
    data_column *notes = data_table_col_named(cu, "rm_note");
    CHECK(notes && !notes->present && data_col_text(notes, 0)[0] == 0);
    data_dataset_free(&ds);
}

TEST(hackathon_profile_jsonl)
{
    write_file("profile.jsonl",
               "{\"customer_id\":\"ORG_US_001\",\"industry\":\"IT Services\",\"employees\":\"500-1000\","
               "\"revenue\":\"50M-80M\",\"preferences\":\"Cloud Services, Employee Benefits\","
               "\"financial_needs\":\"Business Loans, Payment Processing\"}\n");
    data_dataset ds;
    hp_error err = { 0 };
    CHECK(data_config_default(&ds, g_dir, &err) == HP_OK);
    CHECK(data_config_set_file(&ds, DATA_T_CUSTOMERS, path_in("profile.jsonl"), &err) == HP_OK);
    data_ingest_report rep;
    int rc = data_ingest(&ds, NULL, &rep, &err);
    CHECKF(rc == HP_OK, "%s", err.msg);
    data_table *cu = &ds.t[DATA_T_CUSTOMERS];
    CHECK_EQ_INT(cu->nrows, 1);
    data_column *emp = data_table_col_named(cu, "employees");
    CHECK(emp && emp->lo[0] == 500 && emp->hi[0] == 1000);
    CHECK_STR(data_col_str(data_table_col_role(cu, DATA_ROLE_ID), 0), "ORG_US_001");
    data_dataset_free(&ds);
}

static const char *k_fault_config =
    "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"faulty.csv\",\"columns\":{"
    "\"customer_id\":\"id\",\"industry\":\"categorical\",\"employees\":\"band\",\"founded\":\"numeric\","
    "\"notes\":\"text\"}}}";

TEST(faulty_file_reports_each_line_and_keeps_good_rows)
{
    write_file("faulty.csv",
               "customer_id,industry,employees,founded,notes\n"      /* line 1 */
               "C1,Retail,10-50,1999,fine\n"                         /* 2 good */
               "C2,Retail,lots,2001,bad band\n"                      /* 3 bad band */
               "C3,\"Retail,10-50,2001,broken quote\n"               /* 4 broken quote */
               "C4,Construction,50-100,abc,wrong type\n"             /* 5 wrong type */
               "C5,Retail,10-50,2005,caf\xe9\n"                      /* 6 invalid UTF-8 */
               "C1,Retail,10-50,2005,duplicate id\n"                 /* 7 duplicate */
               "C6,Health,<10,2010,\"multi\nline ok\"\n"             /* 8-9 good */
               "C7,Retail,10-50\n");                                 /* 10 truncated */
    data_dataset ds;
    hp_error err = { 0 };
    data_ingest_report rep;
    int rc = ingest_config(k_fault_config, &ds, &rep, &err);
    CHECKF(rc == HP_OK, "%s", err.msg);
    data_table *cu = &ds.t[DATA_T_CUSTOMERS];
    CHECK_EQ_INT(cu->nrows, 2);
    CHECK_EQ_INT(rep.total_rejected, 6);
    CHECK_STR(data_col_str(data_table_col_role(cu, DATA_ROLE_ID), 1), "C6");
    CHECK_EQ_INT(cu->line[1], 8);
    CHECK_STR(data_col_text(data_table_col_named(cu, "notes"), 1), "multi\nline ok");
    char *rej = read_all("rejects.csv");
    CHECK(rej != NULL);
    if (rej) {
        CHECKF(strstr(rej, ",3,employees,") != NULL, "%s", rej);
        CHECKF(strstr(rej, ",4,") != NULL, "%s", rej);
        CHECKF(strstr(rej, ",5,founded,'abc' is not a number") != NULL, "%s", rej);
        CHECKF(strstr(rej, ",6,notes,") != NULL, "%s", rej);
        CHECKF(strstr(rej, ",7,customer_id,duplicate id 'C1' (first at line 2)") != NULL, "%s", rej);
        CHECKF(strstr(rej, ",10,") != NULL, "%s", rej);
    }
    free(rej);
    CHECK(rep.nsamples == DATA_REJECT_SAMPLES);
    CHECKF(strstr(rep.samples[0], "faulty.csv:3: column 'employees': 'lots' is not a band") != NULL, "%s",
           rep.samples[0]);
    data_dataset_free(&ds);
}

TEST(whole_file_problems)
{
    data_dataset ds;
    hp_error err = { 0 };
    data_ingest_report rep;
    write_file("faulty.csv", "customer_id,industry,founded,notes\nC1,Retail,1999,x\n");
    int rc = ingest_config(k_fault_config, &ds, &rep, &err);
    CHECK(rc == HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "missing required column 'employees'") != NULL, "%s", err.msg);
    data_dataset_free(&ds);
    write_file("faulty.csv", "");
    rc = ingest_config(k_fault_config, &ds, &rep, &err);
    CHECKF(rc == HP_ERR_EMPTY, "rc %d: %s", rc, err.msg);
    data_dataset_free(&ds);
    unlink(path_in("faulty.csv"));
    rc = ingest_config(k_fault_config, &ds, &rep, &err);
    CHECKF(rc == HP_ERR_IO && strstr(err.msg, "faulty.csv") != NULL, "rc %d: %s", rc, err.msg);
    data_dataset_free(&ds);
}

static void config_error(const char *config, int status, const char *want)
{
    data_dataset ds;
    hp_error err = { 0 };
    int rc = data_config_parse(&ds, config, strlen(config), "c.json", g_dir, &err);
    CHECKF(rc == status, "rc %d for %s", rc, config);
    CHECKF(strstr(err.msg, want) != NULL, "message '%s' lacks '%s'", err.msg, want);
    if (rc == HP_OK) data_dataset_free(&ds);
}

TEST(config_errors_name_the_field)
{
    config_error("{\"hyperp_dataset\":1,\"customers\":{\"file\":\"a.csv\",\"colums\":{}}}", HP_ERR_INVAL,
                 "c.json: customers.colums: unknown key 'colums'");
    config_error("{\"hyperp_dataset\":1,\"customers\":{\"file\":\"a.csv\",\"columns\":{\"id\":\"id\",\"x\":\"bnd\"}}}",
                 HP_ERR_INVAL, "customers.columns.x: unknown role 'bnd'");
    config_error("{\"hyperp_dataset\":1,\"customers\":{\"file\":\"a.csv\",\"columns\":{\"x\":\"band\"}}}",
                 HP_ERR_INVAL, "no column has the required role 'id'");
    config_error("{\"hyperp_dataset\":1,\"customers\":{\"file\":\"a.csv\",\"columns\":{\"id\":\"id\",\"p\":\"product\"}}}",
                 HP_ERR_INVAL, "role 'product' is not allowed in table customers");
    config_error("{\"hyperp_dataset\":2,\"customers\":{}}", HP_ERR_VERSION, "version 2");
    config_error("{\"hyperp_dataset\":1,\"customers\":{\"file\":\"a.csv\",\"columns\":{\"id\":\"id\"}},\"extra\":1}",
                 HP_ERR_INVAL, "unknown key 'extra'");
    config_error("{\"hyperp_dataset\":1,\n\"customers\":{,}}", HP_ERR_INVAL, "c.json:2:");
    config_error("{\"hyperp_dataset\":1,\"products\":{\"file\":\"p.csv\",\"columns\":{\"id\":\"id\"}}}",
                 HP_ERR_INVAL, "every dataset needs a customers table");
}

/* A file without a header line: "header": false with "names" maps columns by position; line 1
 * is data (and named as line 1 in rejects). CSV and TSV alike. */
TEST(csv_without_a_header_line)
{
    static const char *const files[] = { "nohdr.csv", "nohdr.tsv" };
    static const char *const bodies[] = { "C1,35,2024-01-05\nC2,xx,2024-01-06\nC3,41,2024-01-07\n",
                                          "C1\t35\t2024-01-05\nC2\txx\t2024-01-06\nC3\t41\t2024-01-07\n" };
    for (int k = 0; k < 2; k++) {
        write_file(files[k], bodies[k]);
        char config[512];
        snprintf(config, sizeof config,
                 "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"%s\",\"header\":false,"
                 "\"names\":[\"customer_id\",\"age\",\"since\"],"
                 "\"columns\":{\"customer_id\":\"id\",\"age\":\"numeric\",\"since\":\"timestamp\"}}}", files[k]);
        data_dataset ds;
        data_ingest_report rep;
        hp_error err = { 0 };
        int rc = ingest_config(config, &ds, &rep, &err);
        CHECKF(rc == HP_OK, "%s: %s", files[k], err.msg);
        if (rc) continue;
        const data_table *t = &ds.t[DATA_T_CUSTOMERS];
        CHECK_EQ_INT(t->nrows, 2);
        CHECK_STR(data_col_str(&t->cols[t->id_col], 0), "C1");
        CHECK_NEAR(data_table_col_named(t, "age")->num[1], 41, 0);
        CHECK_EQ_INT(data_table_col_named(t, "since")->ts[0], 1704412800);
        CHECK_EQ_INT(t->line[0], 1);
        CHECK_EQ_INT(rep.total_rejected, 1);
        char want[128];
        snprintf(want, sizeof want, "%s:2: column 'age': 'xx' is not a number", files[k]);
        CHECKF(strstr(rep.samples[0], want) != NULL, "%s", rep.samples[0]);
        data_dataset_free(&ds);
    }
}

TEST(names_that_do_not_fit_the_file)
{
    data_dataset ds;
    data_ingest_report rep;
    hp_error err = { 0 };
    write_file("nohdr3.csv", "C1,35,x\nC2,36,y\n");
    int rc = ingest_config("{\"hyperp_dataset\":1,\"customers\":{\"file\":\"nohdr3.csv\",\"header\":false,"
                           "\"names\":[\"customer_id\",\"age\"],\"columns\":{\"customer_id\":\"id\"}}}", &ds, &rep, &err);
    CHECK_EQ_INT(rc, HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "nohdr3.csv:1: the first line has 3 fields, but 2 column names were given") &&
           strstr(err.msg, "(config: customers.names)"), "%s", err.msg);
    data_dataset_free(&ds);
    /* the file has a header line after all: it would have been read as a customer */
    write_file("hdr.csv", "customer_id,Age\nC1,35\n");
    rc = ingest_config("{\"hyperp_dataset\":1,\"customers\":{\"file\":\"hdr.csv\",\"header\":false,"
                       "\"names\":[\"customer_id\",\"age\"],\"columns\":{\"customer_id\":\"id\"}}}", &ds, &rep, &err);
    CHECK_EQ_INT(rc, HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "hdr.csv:1: the first line is the given column names"), "%s", err.msg);
    data_dataset_free(&ds);
    /* a CLI override to a JSON file: header and names mean nothing there */
    write_file("nohdr.json", "[{\"customer_id\":\"C1\"}]");
    const char *cfg = "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"nohdr3.csv\",\"header\":false,"
                      "\"names\":[\"customer_id\",\"age\",\"x\"],\"columns\":{\"customer_id\":\"id\"}}}";
    rc = data_config_parse(&ds, cfg, strlen(cfg), "c.json", g_dir, &err);
    CHECKF(rc == HP_OK, "%s", err.msg);
    if (!rc) {
        CHECK_EQ_INT(data_config_set_file(&ds, DATA_T_CUSTOMERS, path_in("nohdr.json"), &err), HP_OK);
        rc = data_ingest(&ds, NULL, &rep, &err);
        CHECK_EQ_INT(rc, HP_ERR_FORMAT);
        CHECKF(strstr(err.msg, "customers.header is false, but this file is read as JSON"), "%s", err.msg);
        data_dataset_free(&ds);
    }
}

TEST(header_and_names_config_errors)
{
    const char *pre = "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"a.csv\",";
    const char *post = "\"columns\":{\"id\":\"id\"}}}";
    static const struct { const char *mid, *want; } cases[] = {
        { "\"header\":false,", "c.json: customers.header: false needs \"names\": the column names in file order" },
        { "\"names\":[\"id\"],", "c.json: customers.names: applies only with \"header\": false" },
        { "\"header\":true,\"names\":[\"id\"],", "c.json: customers.names: applies only with \"header\": false" },
        { "\"header\":\"no\",", "c.json: customers.header: expected true or false" },
        { "\"header\":false,\"names\":\"id\",", "c.json: customers.names: expected an array of strings" },
        { "\"header\":false,\"names\":[],", "c.json: customers.names: expected at least one column name" },
        { "\"header\":false,\"names\":[\"id\",3],", "c.json: customers.names[1]: expected a string" },
        { "\"header\":false,\"names\":[\"id\",\"  \"],", "c.json: customers.names[1]: expected a column name, not an empty string" },
        { "\"header\":false,\"names\":[\"id\",\"Age\",\"age\"],", "c.json: customers.names[2]: 'age' is named twice (also [1]" },
        { "\"format\":\"jsonl\",\"header\":false,\"names\":[\"id\"],", "c.json: customers.header: applies only to CSV files" },
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(cases); i++) {
        char config[512];
        snprintf(config, sizeof config, "%s%s%s", pre, cases[i].mid, post);
        config_error(config, HP_ERR_INVAL, cases[i].want);
    }
    config_error("{\"hyperp_dataset\":1,\"customers\":{\"file\":\"a.json\",\"names\":[\"id\"],\"columns\":{\"id\":\"id\"}}}",
                 HP_ERR_INVAL, "c.json: customers.names: applies only to CSV files");
}

/* Dates as they are written: ISO, 01-Jan-1995, epoch seconds without a format; slash dates only
 * with one (month/day or day/month cannot be told apart), each bad value a rejected row. */
TEST(timestamp_formats_per_column)
{
    write_file("dates.csv",
               "customer_id,iso,mon,us,eu,ep\n"
               "C1,1995-01-01,01-Jan-1995,01/31/1995,31/01/1995,788918400\n"
               "C2,1995-01-02,2-feb-1995,2/1/1995,1/2/1995,12\n"
               "C3,1995-01-03,03-Foo-1995,01/31/1995,31/01/1995,788918400\n"
               "C4,1995-01-04,04-Jan-1995,13/01/1995,31/01/1995,788918400\n"
               "C5,1995-01-05,05-Jan-1995,01/31/1995,01/31/1995,788918400\n");
    const char *config =
        "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"dates.csv\",\"columns\":{\"customer_id\":\"id\","
        "\"iso\":\"timestamp\",\"mon\":{\"role\":\"timestamp\"},\"us\":{\"role\":\"timestamp\",\"format\":\"%m/%d/%Y\"},"
        "\"eu\":{\"role\":\"timestamp\",\"format\":\"%d/%m/%Y\"},\"ep\":{\"role\":\"timestamp\",\"format\":\"epoch\"}}}}";
    data_dataset ds;
    data_ingest_report rep;
    hp_error err = { 0 };
    int rc = ingest_config(config, &ds, &rep, &err);
    CHECKF(rc == HP_OK, "%s", err.msg);
    if (rc) return;
    const data_table *t = &ds.t[DATA_T_CUSTOMERS];
    CHECK_EQ_INT(t->nrows, 2);
    const int64_t jan1 = 788918400, jan31 = jan1 + 30 * 86400, feb1 = jan31 + 86400, feb2 = feb1 + 86400;
    CHECK_EQ_INT(data_table_col_named(t, "iso")->ts[0], jan1);
    CHECK_EQ_INT(data_table_col_named(t, "mon")->ts[0], jan1);
    CHECK_EQ_INT(data_table_col_named(t, "mon")->ts[1], feb2);
    CHECK_EQ_INT(data_table_col_named(t, "us")->ts[0], jan31);
    CHECK_EQ_INT(data_table_col_named(t, "us")->ts[1], feb1);
    CHECK_EQ_INT(data_table_col_named(t, "eu")->ts[0], jan31);
    CHECK_EQ_INT(data_table_col_named(t, "eu")->ts[1], feb1);
    CHECK_EQ_INT(data_table_col_named(t, "ep")->ts[0], jan1);
    CHECK_EQ_INT(data_table_col_named(t, "ep")->ts[1], 12); /* declared epoch: any count */
    CHECK_EQ_INT(rep.total_rejected, 3);
    CHECKF(strstr(rep.samples[0], "dates.csv:4: column 'mon': '03-Foo-1995' is not a timestamp"), "%s", rep.samples[0]);
    CHECKF(strstr(rep.samples[1], "dates.csv:5: column 'us': '13/01/1995' is not a valid calendar date"), "%s", rep.samples[1]);
    CHECKF(strstr(rep.samples[2], "dates.csv:6: column 'eu': '01/31/1995' is not a valid calendar date"), "%s", rep.samples[2]);
    data_dataset_free(&ds);
    /* without a format, a slash date is refused, naming the place and what to set */
    write_file("slash.csv", "customer_id,d\nC1,01/31/1995\n");
    rc = ingest_config("{\"hyperp_dataset\":1,\"customers\":{\"file\":\"slash.csv\",\"columns\":{\"customer_id\":\"id\","
                       "\"d\":\"timestamp\"}}}", &ds, &rep, &err);
    CHECKF(rc == HP_OK, "%s", err.msg);
    if (rc) return;
    CHECK_EQ_INT(ds.t[DATA_T_CUSTOMERS].nrows, 0);
    CHECKF(strstr(rep.samples[0], "slash.csv:2: column 'd': '01/31/1995' is not a timestamp without a format") &&
           strstr(rep.samples[0], "set the column's \"format\" (\"%m/%d/%Y\" or \"%d/%m/%Y\")"), "%s", rep.samples[0]);
    data_dataset_free(&ds);
}

TEST(timestamp_format_config_errors)
{
    const char *pre = "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"a.csv\",\"columns\":{\"id\":\"id\",\"d\":";
    static const struct { const char *col, *want; } cases[] = {
        { "{\"role\":\"timestamp\",\"format\":\"%d/%q/%Y\"}", "c.json: customers.columns.d.format: unknown directive '%q'" },
        { "{\"role\":\"timestamp\",\"format\":\"%d/%m\"}", "c.json: customers.columns.d.format: needs a year (%Y)" },
        { "{\"role\":\"timestamp\",\"format\":\"%d/%m/%Y/%d\"}", "c.json: customers.columns.d.format: '%d' is given twice" },
        { "{\"role\":\"timestamp\",\"format\":\"\"}", "c.json: customers.columns.d.format: expected a non-empty string" },
        { "{\"role\":\"timestamp\",\"format\":7}", "c.json: customers.columns.d.format: expected a string" },
        { "{\"role\":\"numeric\",\"format\":\"epoch\"}", "c.json: customers.columns.d: 'format' applies only to role 'timestamp'" },
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(cases); i++) {
        char config[512];
        snprintf(config, sizeof config, "%s%s}}}", pre, cases[i].col);
        config_error(config, HP_ERR_INVAL, cases[i].want);
    }
}

TEST(holdings_labels_and_implicit_catalogue)
{
    /* Santander-like: padded numbers, NA, product flags picked by a glob, one excluded. */
    write_file("bank.csv",
               "\"id\",\"age\",\"sexo\",\"ind_a_ult1\",\"ind_b_ult1\",\"ind_c_ult1\",\"y\"\n"
               "1, 35,H,1,0,1,yes\n"
               "2, 23,V,0,NA,1,no\n"
               "3,NA,,0,0,0,no\n"
               "4, 40,H,2,0,0,yes\n");
    const char *config =
        "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"bank.csv\",\"columns\":{"
        "\"id\":\"id\",\"age\":\"numeric\",\"sexo\":\"protected\",\"ind_c_ult1\":\"ignore\","
        "\"ind_*_ult1\":\"held\",\"y\":{\"role\":\"label\",\"positive\":[\"yes\"]}}}}";
    data_dataset ds;
    hp_error err = { 0 };
    data_ingest_report rep;
    int rc = ingest_config(config, &ds, &rep, &err);
    CHECKF(rc == HP_OK, "%s", err.msg);
    data_table *cu = &ds.t[DATA_T_CUSTOMERS], *pr = &ds.t[DATA_T_PRODUCTS], *it = &ds.t[DATA_T_INTERACTIONS];
    CHECK_EQ_INT(cu->nrows, 3);         /* row 4 has a holding flag of 2 */
    CHECK_EQ_INT(rep.rejected[DATA_T_CUSTOMERS], 1);
    CHECK(isnan(data_table_col_named(cu, "age")->num[2]));
    CHECK(data_table_col_named(cu, "age")->num[0] == 35);
    CHECK(data_table_col_role(cu, DATA_ROLE_LABEL)->num[0] == 1);
    CHECK(data_table_col_role(cu, DATA_ROLE_LABEL)->num[1] == 0);
    CHECK_EQ_INT(pr->nrows, 3);         /* y (the label's product), ind_a_ult1, ind_b_ult1; not ind_c */
    CHECK_EQ_INT(it->nrows, 4);         /* 3 labels (0/1) + customer 1 holds a */
    data_column *prod = data_table_col_role(it, DATA_ROLE_PRODUCT);
    data_column *kind = data_table_col_role(it, DATA_ROLE_KIND);
    data_column *value = data_table_col_role(it, DATA_ROLE_VALUE);
    int held = 0, labels = 0, positives = 0;
    for (size_t r = 0; r < it->nrows; r++) {
        const char *k = data_col_str(kind, r);
        const char *pid = data_col_str(&pr->cols[pr->id_col], (size_t)prod->code[r]);
        if (strcmp(k, "held") == 0) {
            held++;
            CHECK_STR(pid, "ind_a_ult1");
        } else {
            labels++;
            CHECK_STR(k, "label");
            CHECK_STR(pid, "y");
            positives += value->num[r] == 1;
        }
    }
    CHECK(held == 1 && labels == 3 && positives == 1);
    data_dataset_free(&ds);
}

TEST(interactions_reference_known_rows)
{
    write_file("c.csv", "id,seg\nA,x\nB,y\n");
    write_file("p.csv", "pid,cat\nP1,loan\nP2,card\n");
    write_file("i.csv", "cust,prod,kind,value,ts\nA,P1,adopted,1,2024-01-01\nZ,P1,clicked,,\nB,P9,clicked,,\n"
                        "B,P2,,,\nA,P2,rated,x,\nB,P1,clicked,,2024-02-30\n");
    const char *config =
        "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"c.csv\",\"columns\":{\"id\":\"id\",\"seg\":\"categorical\"}},"
        "\"products\":{\"file\":\"p.csv\",\"columns\":{\"pid\":\"id\",\"cat\":\"categorical\"}},"
        "\"interactions\":{\"file\":\"i.csv\",\"default_kind\":\"clicked\",\"columns\":{\"cust\":\"customer\","
        "\"prod\":\"product\",\"kind\":\"kind\",\"value\":\"value\",\"ts\":\"timestamp\"}}}";
    data_dataset ds;
    hp_error err = { 0 };
    data_ingest_report rep;
    int rc = ingest_config(config, &ds, &rep, &err);
    CHECKF(rc == HP_OK, "%s", err.msg);
    data_table *it = &ds.t[DATA_T_INTERACTIONS];
    CHECK_EQ_INT(it->nrows, 2);
    CHECK_EQ_INT(rep.rejected[DATA_T_INTERACTIONS], 4);
    CHECK_STR(data_col_str(data_table_col_role(it, DATA_ROLE_KIND), 1), "clicked");
    CHECK(data_table_col_role(it, DATA_ROLE_CUSTOMER)->code[1] == 1);
    char *rej = read_all("rejects.csv");
    CHECK(rej && strstr(rej, ",3,cust,unknown customer 'Z'") != NULL);
    CHECK(rej && strstr(rej, ",4,prod,unknown product 'P9'") != NULL);
    CHECK(rej && strstr(rej, ",6,value,'x' is not a number") != NULL);
    CHECK(rej && strstr(rej, ",7,ts,'2024-02-30' is not a valid calendar date") != NULL);
    free(rej);
    data_dataset_free(&ds);
}

TEST(pii_in_text_is_masked_before_storage)
{
    write_file("notes.csv", "id,note\nA,\"card 4111 1111 1111 1111 and bob@example.com\"\nB,invoice 4111 1111 1111 1112\n");
    const char *masked = "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"notes.csv\",\"columns\":{\"id\":\"id\",\"note\":\"text\"}}}";
    const char *kept = "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"notes.csv\",\"mask_pii\":false,"
                       "\"columns\":{\"id\":\"id\",\"note\":\"text\"}}}";
    data_dataset ds;
    hp_error err = { 0 };
    data_ingest_report rep;
    CHECKF(ingest_config(masked, &ds, &rep, &err) == HP_OK, "%s", err.msg);
    const char *a = data_col_text(data_table_col_named(&ds.t[DATA_T_CUSTOMERS], "note"), 0);
    const char *b = data_col_text(data_table_col_named(&ds.t[DATA_T_CUSTOMERS], "note"), 1);
    CHECKF(strstr(a, "4111 1111") == NULL && strstr(a, "1111") != NULL && strstr(a, "[EMAIL]") != NULL, "%s", a);
    CHECKF(strcmp(b, "invoice 4111 1111 1111 1112") == 0, "%s", b); /* fails Luhn: not a card */
    CHECK_EQ_INT(rep.pii_masked, 2);
    data_dataset_free(&ds);
    CHECKF(ingest_config(kept, &ds, &rep, &err) == HP_OK, "%s", err.msg);
    a = data_col_text(data_table_col_named(&ds.t[DATA_T_CUSTOMERS], "note"), 0);
    CHECK(strstr(a, "4111 1111 1111 1111") != NULL && rep.pii_masked == 0);
    data_dataset_free(&ds);
}

TEST(row_numbers_as_ids)
{
    write_file("noid.csv", "age,y\n30,yes\nbad,no\n41,no\n");
    const char *config = "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"noid.csv\",\"columns\":{"
                         "\"@row\":\"id\",\"age\":\"numeric\",\"y\":{\"role\":\"label\",\"positive\":[\"yes\"]}}}}";
    data_dataset ds;
    hp_error err = { 0 };
    data_ingest_report rep;
    CHECKF(ingest_config(config, &ds, &rep, &err) == HP_OK, "%s", err.msg);
    data_table *cu = &ds.t[DATA_T_CUSTOMERS];
    CHECK_EQ_INT(cu->nrows, 2);
    CHECK_STR(data_col_str(data_table_col_role(cu, DATA_ROLE_ID), 1), "2"); /* record 1 was rejected */
    CHECK_EQ_INT(cu->record[1], 2);
    data_dataset_free(&ds);
}

TEST(holdings_and_an_interactions_file_together)
{
    write_file("hc.csv", "id,ind_a,ind_b,y\nA,1,0,yes\nB,0,1,no\n");
    write_file("hi.csv", "cust,prod,kind\nA,ind_b,clicked\nB,ind_a,clicked\n");
    const char *config =
        "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"hc.csv\",\"columns\":{\"id\":\"id\",\"ind_*\":\"held\","
        "\"y\":{\"role\":\"label\",\"positive\":[\"yes\"]}}},"
        "\"interactions\":{\"file\":\"hi.csv\",\"columns\":{\"cust\":\"customer\",\"prod\":\"product\",\"kind\":\"kind\"}}}";
    data_dataset ds;
    hp_error err = { 0 };
    data_ingest_report rep;
    CHECKF(ingest_config(config, &ds, &rep, &err) == HP_OK, "%s", err.msg);
    data_table *it = &ds.t[DATA_T_INTERACTIONS];
    CHECK_EQ_INT(rep.total_rejected, 0);
    CHECK_EQ_INT(it->nrows, 2 + 2 + 2); /* 2 from the file, 2 holdings, 2 labels */
    CHECK_EQ_INT(it->ncols, 5);
    data_column *kind = data_table_col_role(it, DATA_ROLE_KIND);
    CHECK_STR(data_col_str(kind, 0), "clicked");
    int held = 0, labels = 0;
    for (size_t r = 2; r < it->nrows; r++) {
        held += strcmp(data_col_str(kind, r), "held") == 0;
        labels += strcmp(data_col_str(kind, r), "label") == 0;
    }
    CHECK(held == 2 && labels == 2);
    data_dataset_free(&ds);
}

/* Multi-valued fields keep their items in first-seen order, trimmed, with empty and repeated
 * items dropped; each row on its own (an item repeated in the next row is kept there). */
TEST(multi_items_deduplicated_in_first_seen_order)
{
    write_file("m.csv", "id,needs,prefs\n"
                        "A,\"b, a, b,, c , a,b\",x;y;x\n"
                        "B,\"a,a\",y\n"
                        "C,,\n"
                        "D,\" , ,\",x;;x;z\n");
    const char *config = "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"m.csv\",\"columns\":{\"id\":\"id\","
                         "\"needs\":\"multi\",\"prefs\":{\"role\":\"multi\",\"separator\":\";\"}}}}";
    data_dataset ds;
    hp_error err = { 0 };
    data_ingest_report rep;
    CHECKF(ingest_config(config, &ds, &rep, &err) == HP_OK, "%s", err.msg);
    data_table *cu = &ds.t[DATA_T_CUSTOMERS];
    CHECK_EQ_INT(cu->nrows, 4);
    const data_column *needs = data_table_col_named(cu, "needs"), *prefs = data_table_col_named(cu, "prefs");
    static const char *want_needs[4] = { "b|a|c", "a", "", "" }, *want_prefs[4] = { "x|y", "y", "", "x|z" };
    for (size_t r = 0; r < cu->nrows; r++) {
        char got[2][64] = { "", "" };
        const data_column *cols[2] = { needs, prefs };
        for (int k = 0; k < 2; k++)
            for (uint64_t i = cols[k]->off[r]; i < cols[k]->off[r + 1]; i++)
                snprintf(got[k] + strlen(got[k]), sizeof got[k] - strlen(got[k]), "%s%s",
                         i > cols[k]->off[r] ? "|" : "", cols[k]->dict.str[cols[k]->items[i]]);
        CHECKF(strcmp(got[0], want_needs[r]) == 0, "row %zu needs '%s', expected '%s'", r, got[0], want_needs[r]);
        CHECKF(strcmp(got[1], want_prefs[r]) == 0, "row %zu prefs '%s', expected '%s'", r, got[1], want_prefs[r]);
    }
    CHECK_EQ_INT(needs->dict.n, 3);
    data_dataset_free(&ds);
}

/* One field of 400k items (200k distinct, each twice) once took 16 s (over 60 s under ASan):
 * every item was compared with all the items before it in the list. */
TEST(multi_field_of_400k_items)
{
    enum { DISTINCT = 200000, COPIES = 2 };
    FILE *f = fopen(path_in("big.csv"), "wb");
    CHECK(f != NULL);
    if (!f) return;
    fputs("id,needs\nA,\"", f);
    for (int c = 0; c < COPIES; c++)
        for (int i = 0; i < DISTINCT; i++) fprintf(f, "%s%d", c || i ? "," : "", i);
    fputs("\"\nB,\"7,3,7\"\n", f);
    fclose(f);
    const char *config = "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"big.csv\",\"columns\":{\"id\":\"id\","
                         "\"needs\":\"multi\"}}}";
    data_dataset ds;
    hp_error err = { 0 };
    data_ingest_report rep;
    double t0 = hp_now();
    int rc = ingest_config(config, &ds, &rep, &err);
    double secs = hp_now() - t0;
    CHECKF(rc == HP_OK, "%s", err.msg);
    if (rc) return;
    const data_column *needs = data_table_col_named(&ds.t[DATA_T_CUSTOMERS], "needs");
    CHECK_EQ_INT(needs->off[1], DISTINCT);
    CHECK_EQ_INT(needs->off[2] - needs->off[1], 2);
    int in_order = 1;
    for (int i = 0; i < DISTINCT; i++) in_order &= atoi(needs->dict.str[needs->items[i]]) == i;
    CHECK(in_order);
    CHECK_STR(needs->dict.str[needs->items[DISTINCT]], "7");
    CHECK_STR(needs->dict.str[needs->items[DISTINCT + 1]], "3");
    printf("  %d items (%d distinct) in one field ingested in %.3f s\n", DISTINCT * COPIES, DISTINCT, secs);
    data_dataset_free(&ds);
}

static void header_error(const char *csv, const char *columns, const char *want)
{
    write_file("dup.csv", csv);
    char config[512];
    snprintf(config, sizeof config, "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"dup.csv\",\"columns\":{%s}}}",
             columns);
    data_dataset ds;
    hp_error err = { 0 };
    data_ingest_report rep;
    int rc = ingest_config(config, &ds, &rep, &err);
    CHECKF(rc == HP_ERR_FORMAT, "rc %d for %s / %s", rc, csv, columns);
    CHECKF(strstr(err.msg, want) != NULL, "message '%s' lacks '%s'", err.msg, want);
    data_dataset_free(&ds);
}

/* A header naming a column twice: the first was read silently and the second reported as
 * "not in the config". Which one the config means cannot be known: an error naming both. */
TEST(duplicate_header_names_are_an_error)
{
    header_error("id,age,seg,age\nA,1,x,2\n", "\"id\":\"id\",\"age\":\"numeric\"",
                 "dup.csv:1: columns 2 and 4 are both named 'age'");
    header_error("\n\nid, age ,age\nA,1,2\n", "\"id\":\"id\",\"age\":\"numeric\"",
                 "dup.csv:3: columns 2 and 3 are both named 'age'");
    header_error("id,Age,AGE\nA,1,2\n", "\"id\":\"id\",\"age\":\"numeric\"",
                 "dup.csv:1: columns 2 ('Age') and 3 ('AGE') both match 'age'");
    header_error("id,Age\nA,1\n", "\"id\":\"id\",\"age\":\"numeric\",\"AGE\":\"numeric\"",
                 "dup.csv:1: column 2 ('Age') is named by both 'age' and 'AGE' in the config");
    header_error("id,ind_a,ind_a\nA,1,0\n", "\"id\":\"id\",\"ind_*\":\"held\"",
                 "dup.csv:1: columns 2 and 3 are both named 'ind_a'");
    header_error("id,ind_a_ult1\nA,1\n", "\"id\":\"id\",\"ind_*\":\"held\",\"*_ult1\":\"held\"",
                 "dup.csv:1: column 2 ('ind_a_ult1') is named by both 'ind_*' and '*_ult1' in the config");
    /* not ambiguous: an exact name beside a case variant, and a literal name beside a pattern */
    write_file("ok.csv", "id,age,Age,ind_a,ind_b,x,x\nA,1,2,0,1,u,v\n");
    data_dataset ds;
    hp_error err = { 0 };
    data_ingest_report rep;
    const char *config = "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"ok.csv\",\"columns\":{\"id\":\"id\","
                         "\"age\":\"numeric\",\"ind_a\":\"ignore\",\"ind_*\":\"held\"}}}";
    CHECKF(ingest_config(config, &ds, &rep, &err) == HP_OK, "%s", err.msg);
    CHECK(data_table_col_named(&ds.t[DATA_T_CUSTOMERS], "age")->num[0] == 1);
    CHECK_EQ_INT(ds.t[DATA_T_PRODUCTS].nrows, 1); /* ind_b only */
    data_dataset_free(&ds);
}

/* Fails the n-th allocation for every n until ingest succeeds: each failure must come back
 * as an error, with nothing leaked (LeakSanitizer checks at exit) and nothing crashed. */
static long g_alloc_left;
static void *fail_malloc(size_t n) { return g_alloc_left-- > 0 ? malloc(n) : NULL; }
static void *fail_realloc(void *p, size_t n) { return g_alloc_left-- > 0 ? realloc(p, n) : NULL; }

TEST(allocation_failures_fail_cleanly)
{
    write_file("oc.csv", "id,seg,emp,needs,note,y\nA,x,10-50,\"Loans, Cards\",card 4111 1111 1111 1111,yes\n"
                         "B,y,<10,Cards,hello,no\nC,x,bad,Loans,,no\n");
    write_file("oi.csv", "cust,prod,kind\nA,P1,clicked\nB,P2,held\nZ,P1,held\n");
    const char *config =
        "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"oc.csv\",\"columns\":{\"id\":\"id\",\"seg\":\"categorical\","
        "\"emp\":\"band\",\"needs\":\"multi\",\"note\":\"text\",\"y\":{\"role\":\"label\",\"positive\":[\"yes\"]}}},"
        "\"interactions\":{\"file\":\"oi.csv\",\"columns\":{\"cust\":\"customer\",\"prod\":\"product\",\"kind\":\"kind\"}}}";
    write_file("oconfig.json", config);
    hp_allocator fa = { fail_malloc, fail_realloc, free };
    int rc = HP_ERR_NOMEM, others = 0;
    long n;
    for (n = 0; n < 2000 && rc != HP_OK; n++) {
        data_dataset ds;
        hp_error err = { 0 };
        data_ingest_report rep;
        data_ingest_opts o = { .rejects_path = path_in("orej.csv") };
        g_alloc_left = n;
        hp_set_allocator(&fa);
        rc = data_config_load(&ds, path_in("oconfig.json"), &err);
        if (rc == HP_OK) {
            rc = data_ingest(&ds, &o, &rep, &err);
            data_dataset_free(&ds);
        }
        hp_set_allocator(NULL);
        others += rc != HP_OK && rc != HP_ERR_NOMEM;
    }
    CHECKF(rc == HP_OK, "still failing after %ld allocations", n);
    CHECKF(others == 0, "%d failures were not reported as out of memory", others);
    printf("  ingest succeeded once %ld allocations were allowed; every earlier failure was clean\n", n - 1);
}

static int file_mode(const char *name)
{
    struct stat st;
    return stat(path_in(name), &st) ? -1 : (int)(st.st_mode & 07777);
}

/* The rejects file and the samples keep no raw PII (a card in a numeric column, an SSN in a
 * band, an e-mail in a category), the file is owner-only even over an existing 0644 file and
 * with umask 022, and each row names the customer it is about (erasure drops exactly those). */
TEST(rejects_mask_pii_and_are_private)
{
    write_file("pc.csv", "id,industry,employees,founded\nV1,Retail,10-50,4111 1111 1111 1111\n"
                         "V2,bob@example.com,123-45-6789,1999\nV3,Retail,10-50,2001\n");
    write_file("pi.csv", "cust,prod,value\nV3,P1,5500 0000 0000 0004\nZ9,P1,1\n");
    write_file("prej.csv", "old\n");
    chmod(path_in("prej.csv"), 0644);
    const char *config =
        "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"pc.csv\",\"columns\":{\"id\":\"id\",\"industry\":"
        "\"categorical\",\"employees\":\"band\",\"founded\":\"numeric\"}},\"interactions\":{\"file\":\"pi.csv\","
        "\"columns\":{\"cust\":\"customer\",\"prod\":\"product\",\"value\":\"value\"}}}";
    mode_t old = umask(022);
    write_file("pconfig.json", config);
    data_dataset ds;
    hp_error err = { 0 };
    data_ingest_report rep;
    int rc = data_config_load(&ds, path_in("pconfig.json"), &err);
    data_ingest_opts o = { .rejects_path = path_in("prej.csv") };
    if (!rc) rc = data_ingest(&ds, &o, &rep, &err);
    umask(old);
    CHECKF(rc == HP_OK, "%s", err.msg);
    CHECK_EQ_INT(rep.total_rejected, 4);
    CHECK_EQ_INT(file_mode("prej.csv"), 0600);
    char *rej = read_all("prej.csv");
    CHECK(rej != NULL);
    if (rej) {
        CHECKF(!strstr(rej, "4111 1111 1111 1111") && !strstr(rej, "5500 0000 0000 0004") &&
               !strstr(rej, "123-45-6789") && !strstr(rej, "bob@example.com"), "%s", rej);
        CHECKF(strstr(rej, ",2,founded,'[CARD]' is not a number,\"V1,Retail,10-50,**** **** **** 1111\",V1\n"), "%s", rej);
        CHECKF(strstr(rej, ",3,employees,'[SSN]' is not a band"), "%s", rej);
        CHECKF(strstr(rej, "\"V2,[EMAIL],[SSN],1999\",V2\n"), "%s", rej);
        CHECKF(strstr(rej, ",2,value,'[CARD]' is not a number,\"V3,P1,**** **** **** 0004\",V3\n"), "%s", rej);
        CHECKF(strstr(rej, ",3,cust,unknown customer 'Z9',\"Z9,P1,1\",Z9\n"), "%s", rej);
        CHECKF(!strncmp(rej, "file,line,column,reason,record,customer_id\n", 43), "%s", rej);
    }
    free(rej);
    for (int i = 0; i < rep.nsamples; i++)
        CHECKF(!strstr(rep.samples[i], "4111") && !strstr(rep.samples[i], "123-45"), "%s", rep.samples[i]);
    CHECKF(strstr(rep.samples[0], "pc.csv:2: column 'founded': '[CARD]' is not a number"), "%s", rep.samples[0]);
    data_dataset_free(&ds);
}

/* Writing the rejects over one of the files read would truncate it before it is read. */
TEST(rejects_never_overwrite_an_input)
{
    write_file("same.csv", "id,seg\nA,x\nB,y\n");
    write_file("same.json", "{\"hyperp_dataset\":1,\"customers\":{\"file\":\"same.csv\",\"columns\":{\"id\":\"id\","
                            "\"seg\":\"categorical\"}}}");
    data_dataset ds;
    hp_error err = { 0 };
    CHECK_EQ_INT(data_config_load(&ds, path_in("same.json"), &err), HP_OK);
    data_ingest_opts o = { .rejects_path = path_in("same.csv") };
    CHECK_EQ_INT(data_ingest(&ds, &o, NULL, &err), HP_ERR_INVAL);
    CHECKF(strstr(err.msg, "is the same file as") != NULL, "%s", err.msg);
    char *again = read_all("same.csv");
    CHECK(again && !strcmp(again, "id,seg\nA,x\nB,y\n"));
    free(again);
    data_dataset_free(&ds);
}

/* A quoted value is masked before it is cut, so a cut never leaves part of a card. */
TEST(quoted_values_are_masked_then_cut)
{
    char q[128];
    data_quote_value("4111 1111 1111 1111", 19, 40, q, sizeof q);
    CHECK_STR(q, "[CARD]");
    const char *v = "note xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx 4111 1111 1111 1111 and bob@example.com";
    data_quote_value(v, strlen(v), 40, q, sizeof q);
    CHECKF(strlen(q) <= 40 && !strpbrk(q, "1") && !strncmp(q, "note x", 6) && strstr(q, "...") != NULL, "%s", q);
    data_quote_value(v, strlen(v), 200, q, sizeof q);
    CHECK_STR(q, "note xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx [CARD] and [EMAIL]");
    data_quote_value("caf\xc3\xa9 caf\xc3\xa9", 12, 7, q, sizeof q); /* not inside a character */
    CHECK_STR(q, "caf...");
    /* a card glued to letters is no card, until the cut takes the letters away */
    data_quote_value("x 4111 1111 1111 1111uvwxyz", 27, 24, q, sizeof q);
    CHECKF(!strstr(q, "4111") && strlen(q) <= 24, "%s", q);
    data_quote_value("4111 1111 1111 1111", 19, 2, q, sizeof q); /* the bound holds below "..." */
    CHECKF(strlen(q) <= 2 && !strpbrk(q, "0123456789"), "%s", q);
    data_quote_value("plain", 5, 40, q, sizeof q);
    CHECK_STR(q, "plain");
    hp_error err = { 0 };
    double d;
    CHECK_EQ_INT(data_parse_number("378282246310005", 15, &d, &err), HP_OK); /* digits alone are a number */
    CHECK_EQ_INT(data_parse_number("3782 822463 10005", 17, &d, &err), HP_ERR_FORMAT);
    CHECK_STR(err.msg, "'[CARD]' is not a number");
}

TEST(real_hackathon_rows_if_present)
{
    const char *real = "../shared/data/ewfx_aidhp_hackathon/org_profiles_recovered_from_team_pioneers_results.csv";
    if (access(real, R_OK) != 0) {
        printf("skip: %s not found (outside the shared workspace)\n", real);
        return;
    }
    data_dataset ds;
    hp_error err = { 0 };
    CHECK(data_config_default(&ds, g_dir, &err) == HP_OK);
    CHECK(data_config_set_file(&ds, DATA_T_CUSTOMERS, real, &err) == HP_OK);
    data_ingest_report rep;
    CHECKF(data_ingest(&ds, NULL, &rep, &err) == HP_OK, "%s", err.msg);
    CHECK_EQ_INT(ds.t[DATA_T_CUSTOMERS].nrows, 7);
    CHECK_EQ_INT(rep.total_rejected, 0);
    data_dataset_free(&ds);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/hyperp_test_ingest_XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    RUN(hackathon_profiles_default_config);
    RUN(hackathon_profile_jsonl);
    RUN(faulty_file_reports_each_line_and_keeps_good_rows);
    RUN(whole_file_problems);
    RUN(config_errors_name_the_field);
    RUN(csv_without_a_header_line);
    RUN(names_that_do_not_fit_the_file);
    RUN(header_and_names_config_errors);
    RUN(timestamp_formats_per_column);
    RUN(timestamp_format_config_errors);
    RUN(holdings_labels_and_implicit_catalogue);
    RUN(interactions_reference_known_rows);
    RUN(pii_in_text_is_masked_before_storage);
    RUN(row_numbers_as_ids);
    RUN(holdings_and_an_interactions_file_together);
    RUN(multi_items_deduplicated_in_first_seen_order);
    RUN(multi_field_of_400k_items);
    RUN(duplicate_header_names_are_an_error);
    RUN(allocation_failures_fail_cleanly);
    RUN(rejects_mask_pii_and_are_private);
    RUN(rejects_never_overwrite_an_input);
    RUN(quoted_values_are_masked_then_cut);
    RUN(real_hackathon_rows_if_present);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return check_summary("test_ingest");
}
