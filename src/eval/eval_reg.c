/* eval_reg: regression metrics (MSE, MAE, RMSE, R^2). */
#include "eval/eval.h"

#include <math.h>

int eval_regression(const double *pred, const double *truth, size_t n,
                    eval_regression_result *out, hp_error *err)
{
    if (!pred || !truth || !out)
        return hp_fail(err, HP_ERR_INVAL, "eval: predictions, truths or result are NULL");
    if (n == 0) return hp_fail(err, HP_ERR_INVAL, "eval: no values to score (n = 0)");
    double sum_t = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(pred[i]))
            return hp_fail(err, HP_ERR_INVAL, "eval: prediction[%zu] = %g is not finite", i,
                           pred[i]);
        if (!isfinite(truth[i]))
            return hp_fail(err, HP_ERR_INVAL, "eval: truth[%zu] = %g is not finite", i,
                           truth[i]);
        sum_t += truth[i];
    }
    double mean_t = sum_t / (double)n, ss_res = 0.0, ss_tot = 0.0, abs_err = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = pred[i] - truth[i], d = truth[i] - mean_t;
        ss_res += e * e;
        abs_err += fabs(e);
        ss_tot += d * d;
    }
    eval_regression_result r = {.n = (long)n};
    r.mse = ss_res / (double)n;
    r.mae = abs_err / (double)n;
    r.rmse = sqrt(r.mse);
    r.r2_defined = n >= 2 && ss_tot > 0.0;
    if (r.r2_defined) r.r2 = 1.0 - ss_res / ss_tot;
    else r.r2 = ss_res == 0.0 ? 1.0 : 0.0; /* sklearn's force_finite convention */
    *out = r;
    return HP_OK;
}
