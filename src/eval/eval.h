/* eval: evaluation metrics for hyperp (ranking, propensity, regression) and their reports.
 *
 * Three parts:
 *  1. eval_rank: an accumulator for top-k recommendation metrics over many users. Create it
 *     once per evaluation (k, catalogue size, optional item vectors and popularity), add one
 *     user at a time (either the model's ranked list or its scores over the whole catalogue),
 *     then read the averages. Per-user metrics are also returned, so a caller can aggregate
 *     them by segment (fairness) itself.
 *  2. Global binary metrics for propensity models (ROC AUC, PR AUC, log loss, Brier) and
 *     regression metrics (MSE, MAE, RMSE, R^2) over whole arrays.
 *  3. eval_report: a struct gathering the three result kinds, written as JSON, a CSV row or
 *     a one-screen text table.
 *
 * Conventions
 *  - Functions that can fail return HP_OK or a negative hp_status and write one sentence to
 *    err (may be NULL). On failure no accumulator changes and no output is written.
 *  - Item indices are 0-based ints in [0, n_items). Relevant/excluded/list arrays are
 *    borrowed for the duration of the call only.
 *  - A metric that is undefined (no user qualified, too few items) is NAN in the result
 *    structs (test with isnan), null in JSON, an empty CSV field and "-" in the table.
 *  - Everything is deterministic: the same calls in the same order give bit-identical
 *    results (sums are in double, in call order; every sort has a total order).
 *  - Numbers are printed with printf, so the caller keeps LC_NUMERIC at "C" (the CLI does).
 *
 * Ranking definitions (k is the cut-off; "candidates" are the catalogue minus the user's
 * excluded items; R is the number of relevant items that are not excluded; the top-k list
 * L has m = min(k, length) items, position i = 1..m):
 *  - Tie-break when ranking from scores: higher score first, then lower item index.
 *  - precision@k = hits / k (k, not m: a short list is not rewarded).
 *  - recall@k    = hits / R.
 *  - NDCG@k      = DCG / IDCG, DCG = sum over relevant L[i] of 1/log2(i+1),
 *                  IDCG = sum_{i=1..min(k,R)} 1/log2(i+1) (binary relevance).
 *  - graded NDCG = same with gain g(item) (linear gains, as sklearn's ndcg_score), IDCG from
 *                  the min(k,R) largest gains; 0 when all those gains are 0. Equals binary
 *                  NDCG when the caller gives no gains.
 *  - AP@k        = (sum over relevant L[i] of precision@i) / min(k, R); MAP@k is its mean.
 *  - hit rate@k  = 1 if hits > 0 else 0.
 *  - MRR         = 1 / rank of the first relevant item in the whole ranking (all candidates
 *                  in score order for eval_rank_add_scores; the whole given list, not only
 *                  its first k, for eval_rank_add_list), 0 if none is ranked.
 *  - AUC (per user, scores only) = P(score of a relevant candidate > score of a
 *                  non-relevant candidate), ties count 1/2; needs R >= 1 and >= 1
 *                  non-relevant candidate.
 *  The accuracy metrics above are averaged over users with R >= 1 (n_users_rel); AUC over
 *  the users where it is defined (n_users_auc). A user with R = 0 (no held-out item, or all
 *  of them excluded) is counted in n_users but not in those means.
 *  Beyond-accuracy metrics look only at the recommendations, so every user counts:
 *  - coverage@k  = |union of all users' top-k lists| / n_items.
 *  - diversity@k = per user, mean over unordered pairs of the top-k list of
 *                  (1 - cosine similarity of the item vectors); a zero vector has cosine 0
 *                  with everything. Averaged over users with m >= 2 (n_users_div).
 *  - novelty@k   = per user, mean over the top-k list of -log2(p_item), with popularity
 *                  share p_item = (c_item + alpha) / (sum_j c_j + alpha * n_items);
 *                  averaged over users with m >= 1 (n_users_list).
 *
 * Differences from scikit-learn worth knowing: sklearn's ndcg_score averages over all
 * samples, giving 0 to a sample with no relevant item; eval_rank leaves such users out. */
#ifndef EVAL_H
#define EVAL_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "core/hp.h"

/* ================================================================== ranking accumulator */

/* Options for eval_rank_new. Zero-initialise, then set k and n_items at least.
 * The arrays are copied by eval_rank_new; the caller keeps ownership. */
typedef struct {
    int k;                   /* cut-off, > 0 */
    int n_items;             /* catalogue size, > 0 */
    const float *item_vecs;  /* (n_items, dim) row-major, finite; NULL: no diversity */
    int dim;                 /* > 0 when item_vecs is given */
    const double *item_pop;  /* (n_items) popularity counts, finite and >= 0; NULL: no novelty */
    double pop_alpha;        /* pseudo-count added to every count (>= 0); must be > 0 when
                                some count is 0, so every item has a finite self-information */
} eval_rank_opts;

/* One user's ground truth. */
typedef struct {
    const int *relevant;     /* (n_relevant) held-out items, no duplicates */
    int n_relevant;          /* >= 0 */
    const double *gain;      /* (n_relevant) graded relevance of relevant[i], finite, >= 0;
                                NULL: binary (every gain 1) */
    const int *excluded;     /* (n_excluded) items already held: never ranked and never
                                counted as relevant; duplicates are harmless */
    int n_excluded;          /* >= 0 */
} eval_user;

/* Metrics of one user (NAN where undefined, see the definitions above). */
typedef struct {
    int n_relevant;     /* R: relevant items that are not excluded */
    int n_candidates;   /* n_items - |excluded| */
    int n_list;         /* m: items in the top-k list */
    int hits;           /* relevant items in the top-k list */
    double precision, recall, ndcg, ndcg_graded, ap, hit, rr; /* NAN when R = 0 */
    double auc;         /* NAN unless scores were given and both classes exist */
    double diversity;   /* NAN without item vectors or when m < 2 */
    double novelty;     /* NAN without popularity or when m = 0 */
} eval_user_result;

/* Averages over users (NAN when the denominator is 0 or the input was not configured). */
typedef struct {
    int k;
    int n_items;
    long n_users;       /* users added */
    long n_users_rel;   /* users with R >= 1: denominator of precision .. mrr */
    long n_users_auc;   /* users with a defined AUC */
    long n_users_list;  /* users with a non-empty top-k list: denominator of novelty */
    long n_users_div;   /* users with >= 2 items in the list: denominator of diversity */
    long n_covered;     /* distinct items in any top-k list */
    double precision, recall, ndcg, ndcg_graded, map, hit_rate, mrr, auc;
    double coverage, diversity, novelty;
} eval_rank_result;

typedef struct eval_rank eval_rank; /* opaque */

/* Creates an accumulator in *out (set to NULL on failure). Copies item_vecs (normalised to
 * unit length) and the self-information of every item. Returns HP_OK, HP_ERR_INVAL (k <= 0,
 * n_items <= 0, dim <= 0 with vectors, a non-finite vector component, a negative or
 * non-finite count, pop_alpha < 0, a zero count with pop_alpha = 0; err names the item) or
 * HP_ERR_NOMEM. Memory: O(n_items * (dim + 1)). Free with eval_rank_free. */
int eval_rank_new(eval_rank **out, const eval_rank_opts *opts, hp_error *err);

/* Frees the accumulator; NULL is a no-op. */
void eval_rank_free(eval_rank *acc);

/* Adds one user from the model's ranked list list[0..n_list), best first. Excluded items in
 * the list are skipped (so a caller may pass the model's top k + |excluded| and still get k
 * items); the first k remaining items are the top-k list. n_list may be smaller than k.
 * res (may be NULL) receives the user's metrics; AUC is NAN here (no scores).
 * Returns HP_OK or HP_ERR_INVAL (negative count, NULL array with a positive count, an index
 * out of range, a duplicate in list or relevant, a negative or non-finite gain); on failure
 * acc is unchanged. O(n_list + n_relevant + n_excluded + k^2 dim). */
int eval_rank_add_list(eval_rank *acc, const eval_user *u, const int *list, int n_list,
                       eval_user_result *res, hp_error *err);

/* Adds one user from scores[0..n_items) over the whole catalogue: candidates are ranked by
 * score (higher first, ties by lower index), the top-k list is the first k and MRR and AUC
 * use the full ranking. Scores may be +-inf but not NaN. res as for eval_rank_add_list.
 * Returns HP_OK or HP_ERR_INVAL (as eval_rank_add_list, or a NaN score: err names the
 * item); on failure acc is unchanged. O(n_items log n_items) per user. */
int eval_rank_add_scores(eval_rank *acc, const eval_user *u, const float *scores,
                         eval_user_result *res, hp_error *err);

/* Writes the averages so far to *out (never fails; before any add, counts are 0 and the
 * averages NAN). */
void eval_rank_get(const eval_rank *acc, eval_rank_result *out);

/* ================================================================== global binary metrics */

/* Scores score[0..n) against labels label[0..n) (each 0 or 1); the result goes to *out,
 * written only on success. Shared failures: n = 0, a NULL array or out, a label other than
 * 0/1, a NaN score -> HP_ERR_INVAL naming the index. */

/* Exact ROC AUC (Mann-Whitney with mid-ranks, so tied scores count 1/2), O(n log n), equal
 * to sklearn.metrics.roc_auc_score. Scores are any non-NaN reals. Also HP_ERR_INVAL when
 * only one class is present. HP_ERR_NOMEM when the sort buffer cannot be allocated. */
int eval_roc_auc(const double *score, const int *label, size_t n, double *out, hp_error *err);

/* Average precision, sklearn.metrics.average_precision_score:
 * AP = sum_t (recall_t - recall_{t-1}) * precision_t over the distinct score thresholds t in
 * decreasing order (tied scores enter together). Also HP_ERR_INVAL with no positive label.
 * HP_ERR_NOMEM as above. */
int eval_pr_auc(const double *score, const int *label, size_t n, double *out, hp_error *err);

/* Mean negative log-likelihood of probabilities prob[i] in [0, 1], clipped to
 * [eps, 1 - eps] with eps = DBL_EPSILON as sklearn.metrics.log_loss does for float64.
 * Also HP_ERR_INVAL when a probability is outside [0, 1]. */
int eval_log_loss(const double *prob, const int *label, size_t n, double *out, hp_error *err);

/* Brier score, mean (prob[i] - label[i])^2; prob in [0, 1] (else HP_ERR_INVAL). */
int eval_brier(const double *prob, const int *label, size_t n, double *out, hp_error *err);

typedef struct {
    long n, n_pos;
    double roc_auc, pr_auc, log_loss, brier;
} eval_binary_result;

/* All four metrics of probabilities prob[0..n) in [0, 1]. Fails like the functions above
 * (both classes are required); *out is written only on success. */
int eval_binary(const double *prob, const int *label, size_t n, eval_binary_result *out,
                hp_error *err);

/* ================================================================== regression metrics */

typedef struct {
    long n;
    double mse, mae, rmse;
    double r2;       /* 1 - SS_res / SS_tot, SS_tot around the mean of truth */
    int r2_defined;  /* 0 when n < 2 or all truths are equal (SS_tot = 0): then r2 is 1 if
                        the predictions are exact and 0 otherwise (sklearn's force_finite) */
} eval_regression_result;

/* MSE, MAE, RMSE and R^2 of pred[0..n) against truth[0..n) (two passes, in double) into
 * *out, written only on success. HP_ERR_INVAL when n = 0, an array or out is NULL, or a
 * value is not finite (err names it). */
int eval_regression(const double *pred, const double *truth, size_t n,
                    eval_regression_result *out, hp_error *err);

/* ================================================================== reports */

/* What one evaluation produced; each part is present when its has_ flag is set.
 * The caller fills it (e.g. report.rank from eval_rank_get). */
typedef struct {
    int has_rank, has_binary, has_regression;
    eval_rank_result rank;
    eval_binary_result binary;
    eval_regression_result regression;
} eval_report;

/* Builds {"ranking": {...}, "binary": {...}, "regression": {...}} with only the present
 * parts, keys in a fixed order, undefined metrics as null. Returns a new reference the
 * caller json_decref()s, or NULL when out of memory. */
json_t *eval_report_json(const eval_report *r);

/* Writes eval_report_json(r) to f, indented, with a final newline. HP_ERR_NOMEM or
 * HP_ERR_IO (err says which). */
int eval_report_write_json(const eval_report *r, FILE *f, hp_error *err);

/* CSV: the header names every metric of every part in a fixed order, beginning with
 * "label", so rows of different runs line up; a part that is absent gives empty fields.
 * Numbers use %.10g. label (may be NULL = empty) is quoted when it contains a comma,
 * quote or newline. Both return HP_OK or HP_ERR_IO. */
int eval_report_write_csv_header(FILE *f, hp_error *err);
int eval_report_write_csv_row(const eval_report *r, const char *label, FILE *f, hp_error *err);

/* A text table of the present parts (at most 36 lines, under 40 columns; "(no metrics)"
 * when none is present). HP_OK or HP_ERR_IO. */
int eval_report_write_table(const eval_report *r, FILE *f, hp_error *err);

#endif
