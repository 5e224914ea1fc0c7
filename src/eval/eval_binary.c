/* eval_binary: global metrics of a binary (propensity) model over whole arrays. */
#include "eval/eval.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

typedef struct {
    double s;
    size_t i;
    int y;
} labelled;

/* ================================================================== validation */

static int check_inputs(const double *score, const int *label, size_t n, int need_prob,
                        const void *out, long *n_pos, hp_error *err)
{
    if (!score || !label || !out)
        return hp_fail(err, HP_ERR_INVAL, "eval: scores, labels or the result are NULL");
    if (n == 0) return hp_fail(err, HP_ERR_INVAL, "eval: no examples to score (n = 0)");
    long pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (label[i] != 0 && label[i] != 1)
            return hp_fail(err, HP_ERR_INVAL, "eval: label[%zu] = %d; labels must be 0 or 1", i,
                           label[i]);
        if (isnan(score[i]))
            return hp_fail(err, HP_ERR_INVAL, "eval: score[%zu] is NaN", i);
        if (need_prob && !(score[i] >= 0.0 && score[i] <= 1.0))
            return hp_fail(err, HP_ERR_INVAL,
                           "eval: probability[%zu] = %g is outside [0, 1]", i, score[i]);
        pos += label[i];
    }
    *n_pos = pos;
    return HP_OK;
}

static int need_both_classes(long n_pos, size_t n, const char *metric, hp_error *err)
{
    if (n_pos == 0 || (size_t)n_pos == n)
        return hp_fail(err, HP_ERR_INVAL, "eval: %s needs both classes, but all %zu labels are %d",
                       metric, n, n_pos ? 1 : 0);
    return HP_OK;
}

/* ================================================================== sorting */

/* Ascending score, then index: a total order. */
static int cmp_labelled(const void *x, const void *y)
{
    const labelled *a = x, *b = y;
    if (a->s != b->s) return a->s < b->s ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

static labelled *sorted_copy(const double *score, const int *label, size_t n, hp_error *err)
{
    labelled *v = hp_malloc(n * sizeof *v);
    if (!v) {
        hp_fail(err, HP_ERR_NOMEM, "eval: out of memory sorting %zu scores", n);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) v[i] = (labelled){score[i], i, label[i]};
    qsort(v, n, sizeof *v, cmp_labelled);
    return v;
}

/* End of the tie group that starts at i in v[0..n). */
static size_t group_end(const labelled *v, size_t n, size_t i)
{
    size_t j = i;
    while (j < n && v[j].s == v[i].s) j++;
    return j;
}

/* ================================================================== metrics */

int eval_roc_auc(const double *score, const int *label, size_t n, double *out, hp_error *err)
{
    long n_pos = 0;
    int rc = check_inputs(score, label, n, 0, out, &n_pos, err);
    if (!rc) rc = need_both_classes(n_pos, n, "ROC AUC", err);
    if (rc) return rc;
    labelled *v = sorted_copy(score, label, n, err);
    if (!v) return HP_ERR_NOMEM;
    /* From the lowest score up: each positive beats the negatives below its tie group and
     * half of those inside it (the Mann-Whitney U statistic with mid-ranks). */
    double correct = 0.0, neg_below = 0.0;
    for (size_t i = 0; i < n;) {
        size_t j = group_end(v, n, i);
        double pos_g = 0.0, neg_g = 0.0;
        for (size_t t = i; t < j; t++) {
            if (v[t].y) pos_g += 1.0;
            else neg_g += 1.0;
        }
        correct += pos_g * (neg_below + 0.5 * neg_g);
        neg_below += neg_g;
        i = j;
    }
    hp_free(v);
    *out = correct / ((double)n_pos * (double)(n - (size_t)n_pos));
    return HP_OK;
}

int eval_pr_auc(const double *score, const int *label, size_t n, double *out, hp_error *err)
{
    long n_pos = 0;
    int rc = check_inputs(score, label, n, 0, out, &n_pos, err);
    if (rc) return rc;
    if (n_pos == 0)
        return hp_fail(err, HP_ERR_INVAL, "eval: PR AUC needs a positive label; all %zu are 0", n);
    labelled *v = sorted_copy(score, label, n, err);
    if (!v) return HP_ERR_NOMEM;
    /* Thresholds from the highest score down; a tie group enters at once. */
    double tp = 0.0, fp = 0.0, prev_recall = 0.0, ap = 0.0;
    for (size_t e = n; e > 0;) {
        size_t b = e - 1;
        while (b > 0 && v[b - 1].s == v[e - 1].s) b--;
        for (size_t t = b; t < e; t++) {
            if (v[t].y) tp += 1.0;
            else fp += 1.0;
        }
        double recall = tp / (double)n_pos;
        ap += (recall - prev_recall) * (tp / (tp + fp));
        prev_recall = recall;
        e = b;
    }
    hp_free(v);
    *out = ap;
    return HP_OK;
}

int eval_log_loss(const double *prob, const int *label, size_t n, double *out, hp_error *err)
{
    long n_pos = 0;
    int rc = check_inputs(prob, label, n, 1, out, &n_pos, err);
    if (rc) return rc;
    const double eps = DBL_EPSILON; /* sklearn's eps="auto" for float64 */
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double p = HP_MIN(HP_MAX(prob[i], eps), 1.0 - eps);
        sum -= label[i] ? log(p) : log1p(-p);
    }
    *out = sum / (double)n;
    return HP_OK;
}

int eval_brier(const double *prob, const int *label, size_t n, double *out, hp_error *err)
{
    long n_pos = 0;
    int rc = check_inputs(prob, label, n, 1, out, &n_pos, err);
    if (rc) return rc;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = prob[i] - label[i];
        sum += d * d;
    }
    *out = sum / (double)n;
    return HP_OK;
}

int eval_binary(const double *prob, const int *label, size_t n, eval_binary_result *out,
                hp_error *err)
{
    long n_pos = 0;
    int rc = check_inputs(prob, label, n, 1, out, &n_pos, err);
    if (!rc) rc = need_both_classes(n_pos, n, "ROC AUC", err);
    if (rc) return rc;
    eval_binary_result r = {.n = (long)n, .n_pos = n_pos};
    rc = eval_roc_auc(prob, label, n, &r.roc_auc, err);
    if (!rc) rc = eval_pr_auc(prob, label, n, &r.pr_auc, err);
    if (!rc) rc = eval_log_loss(prob, label, n, &r.log_loss, err);
    if (!rc) rc = eval_brier(prob, label, n, &r.brier, err);
    if (!rc) *out = r;
    return rc;
}
