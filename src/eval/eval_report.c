/* eval_report: JSON, CSV and text-table writers, driven by one table of columns so the
 * three formats always agree on names and order. */
#include "eval/eval.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

typedef enum { PART_RANK, PART_BINARY, PART_REG, PART_COUNT } part_id;
typedef enum { COL_REAL, COL_INT, COL_LONG, COL_BOOL } col_type;

typedef struct {
    part_id part;
    const char *name;  /* JSON key; the CSV header is "<part prefix>_<name>" */
    const char *label; /* text-table label */
    col_type type;
    size_t off;        /* offset in eval_report */
} column;

#define RANK(n, l, t, f) {PART_RANK, n, l, t, offsetof(eval_report, rank.f)}
#define BIN(n, l, t, f) {PART_BINARY, n, l, t, offsetof(eval_report, binary.f)}
#define REG(n, l, t, f) {PART_REG, n, l, t, offsetof(eval_report, regression.f)}

static const column COLUMNS[] = {
    RANK("k", "cut-off k", COL_INT, k),
    RANK("n_items", "catalogue items", COL_INT, n_items),
    RANK("users", "users", COL_LONG, n_users),
    RANK("users_relevant", "users with relevant", COL_LONG, n_users_rel),
    RANK("users_auc", "users with AUC", COL_LONG, n_users_auc),
    RANK("users_list", "users with a list", COL_LONG, n_users_list),
    RANK("users_diversity", "users with >= 2 items", COL_LONG, n_users_div),
    RANK("items_covered", "items recommended", COL_LONG, n_covered),
    RANK("precision", "precision@k", COL_REAL, precision),
    RANK("recall", "recall@k", COL_REAL, recall),
    RANK("ndcg", "NDCG@k", COL_REAL, ndcg),
    RANK("ndcg_graded", "NDCG@k graded", COL_REAL, ndcg_graded),
    RANK("map", "MAP@k", COL_REAL, map),
    RANK("hit_rate", "hit rate@k", COL_REAL, hit_rate),
    RANK("mrr", "MRR", COL_REAL, mrr),
    RANK("auc", "per-user AUC", COL_REAL, auc),
    RANK("coverage", "coverage@k", COL_REAL, coverage),
    RANK("diversity", "diversity@k", COL_REAL, diversity),
    RANK("novelty", "novelty@k (bits)", COL_REAL, novelty),
    BIN("n", "examples", COL_LONG, n),
    BIN("n_positive", "positives", COL_LONG, n_pos),
    BIN("roc_auc", "ROC AUC", COL_REAL, roc_auc),
    BIN("pr_auc", "PR AUC (avg prec.)", COL_REAL, pr_auc),
    BIN("log_loss", "log loss", COL_REAL, log_loss),
    BIN("brier", "Brier score", COL_REAL, brier),
    REG("n", "values", COL_LONG, n),
    REG("mse", "MSE", COL_REAL, mse),
    REG("mae", "MAE", COL_REAL, mae),
    REG("rmse", "RMSE", COL_REAL, rmse),
    REG("r2", "R^2", COL_REAL, r2),
    REG("r2_defined", "R^2 defined", COL_BOOL, r2_defined),
};

static const char *const PART_KEY[PART_COUNT] = {"ranking", "binary", "regression"};
static const char *const PART_PREFIX[PART_COUNT] = {"rank", "binary", "reg"};
static const char *const PART_TITLE[PART_COUNT] = {"Ranking", "Binary (propensity)",
                                                   "Regression"};

static int part_present(const eval_report *r, part_id p)
{
    return p == PART_RANK ? r->has_rank : p == PART_BINARY ? r->has_binary : r->has_regression;
}

static const void *field(const eval_report *r, const column *c)
{
    return (const unsigned char *)r + c->off;
}

static double real_of(const eval_report *r, const column *c)
{
    return *(const double *)field(r, c);
}

/* Integer value of a non-real column. */
static long long int_of(const eval_report *r, const column *c)
{
    if (c->type == COL_LONG) return *(const long *)field(r, c);
    return *(const int *)field(r, c);
}

/* ================================================================== JSON */

static json_t *column_json(const eval_report *r, const column *c)
{
    if (c->type == COL_BOOL) return json_boolean(int_of(r, c));
    if (c->type != COL_REAL) return json_integer((json_int_t)int_of(r, c));
    double v = real_of(r, c);
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *eval_report_json(const eval_report *r)
{
    json_t *root = json_object();
    json_t *parts[PART_COUNT] = {NULL, NULL, NULL};
    int ok = root != NULL;
    for (int p = 0; p < PART_COUNT && ok; p++) {
        if (!part_present(r, (part_id)p)) continue;
        parts[p] = json_object();
        ok = parts[p] && json_object_set_new(root, PART_KEY[p], parts[p]) == 0;
    }
    for (size_t i = 0; i < HP_ARRAY_LEN(COLUMNS) && ok; i++) {
        const column *c = &COLUMNS[i];
        if (!parts[c->part]) continue;
        json_t *v = column_json(r, c);
        ok = v && json_object_set_new(parts[c->part], c->name, v) == 0;
    }
    if (!ok) {
        json_decref(root);
        return NULL;
    }
    return root;
}

static int io_status(FILE *f, const char *what, hp_error *err)
{
    if (ferror(f)) return hp_fail(err, HP_ERR_IO, "eval: cannot write the %s", what);
    return HP_OK;
}

int eval_report_write_json(const eval_report *r, FILE *f, hp_error *err)
{
    json_t *root = eval_report_json(r);
    if (!root) return hp_fail(err, HP_ERR_NOMEM, "eval: out of memory building the JSON report");
    int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (rc != 0 || fputc('\n', f) == EOF)
        return hp_fail(err, HP_ERR_IO, "eval: cannot write the JSON report");
    return io_status(f, "JSON report", err);
}

/* ================================================================== CSV */

int eval_report_write_csv_header(FILE *f, hp_error *err)
{
    fputs("label", f);
    for (size_t i = 0; i < HP_ARRAY_LEN(COLUMNS); i++)
        fprintf(f, ",%s_%s", PART_PREFIX[COLUMNS[i].part], COLUMNS[i].name);
    fputc('\n', f);
    return io_status(f, "CSV header", err);
}

static void write_csv_label(const char *label, FILE *f)
{
    if (!label) return;
    if (!strpbrk(label, ",\"\r\n")) {
        fputs(label, f);
        return;
    }
    fputc('"', f);
    for (const char *s = label; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void write_csv_value(const eval_report *r, const column *c, FILE *f)
{
    if (!part_present(r, c->part)) return;
    if (c->type != COL_REAL) {
        fprintf(f, "%lld", int_of(r, c));
        return;
    }
    double v = real_of(r, c);
    if (isfinite(v)) fprintf(f, "%.10g", v);
}

int eval_report_write_csv_row(const eval_report *r, const char *label, FILE *f, hp_error *err)
{
    write_csv_label(label, f);
    for (size_t i = 0; i < HP_ARRAY_LEN(COLUMNS); i++) {
        fputc(',', f);
        write_csv_value(r, &COLUMNS[i], f);
    }
    fputc('\n', f);
    return io_status(f, "CSV row", err);
}

/* ================================================================== text table */

static void write_table_value(const eval_report *r, const column *c, FILE *f)
{
    fprintf(f, "  %-22s ", c->label);
    if (c->type == COL_BOOL) fprintf(f, "%12s", int_of(r, c) ? "yes" : "no");
    else if (c->type != COL_REAL) fprintf(f, "%12lld", int_of(r, c));
    else if (isfinite(real_of(r, c))) fprintf(f, "%12.6f", real_of(r, c));
    else fprintf(f, "%12s", "-");
    fputc('\n', f);
}

int eval_report_write_table(const eval_report *r, FILE *f, hp_error *err)
{
    int first = 1;
    for (int p = 0; p < PART_COUNT; p++) {
        if (!part_present(r, (part_id)p)) continue;
        if (!first) fputc('\n', f);
        first = 0;
        fprintf(f, "%s\n", PART_TITLE[p]);
        for (size_t i = 0; i < HP_ARRAY_LEN(COLUMNS); i++)
            if (COLUMNS[i].part == (part_id)p) write_table_value(r, &COLUMNS[i], f);
    }
    if (first) fputs("(no metrics)\n", f);
    return io_status(f, "table", err);
}
