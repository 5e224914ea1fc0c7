/* nn_fit: the shared training loop on a toy model (y = w.x + b by squared error), driven
 * the way every model drives it: convergence, early stopping with the best weights kept,
 * saving, Ctrl-C, a failing hook, bad settings. */
#include "check.h"
#include "nn/nn_fit.h"

#include <math.h>
#include <stdlib.h>

enum { N = 64, D = 3 };

typedef struct {
    nn_params p;
    float x[N][D], y[N];
    int grads, saves, fail_at;
    double valid_seq[16];    /* validation metrics to report, in order (or NAN: use the loss) */
    int nvalid;
    float saved_w0;          /* w[0] as the last save saw it */
    volatile int stop;
    int stop_at;             /* raise *stop before this gradient call */
} toy;

static double toy_loss(toy *t, const size_t *idx, int B, int backward)
{
    float *w = nn_params_get(&t->p, "w"), *b = nn_params_get(&t->p, "b");
    float *gw = nn_params_grad(&t->p, "w"), *gb = nn_params_grad(&t->p, "b");
    double loss = 0;
    for (int i = 0; i < B; i++) {
        size_t e = idx ? idx[i] : (size_t)i;
        double r = b[0] - t->y[e];
        for (int j = 0; j < D; j++) r += w[j] * t->x[e][j];
        loss += r * r / B;
        if (backward) {
            for (int j = 0; j < D; j++) gw[j] += (float)(2 * r * t->x[e][j] / B);
            gb[0] += (float)(2 * r / B);
        }
    }
    return loss;
}

static int toy_grad(void *ctx, const size_t *idx, int B, double *loss, hp_error *err)
{
    toy *t = ctx;
    if (++t->grads == t->stop_at) t->stop = 1;
    if (t->grads == t->fail_at) {
        nn_params_grad(&t->p, "w")[0] = 99; /* a partial gradient the loop must clear */
        return hp_fail(err, HP_ERR_NOMEM, "toy: no memory");
    }
    *loss = toy_loss(t, idx, B, 1);
    return HP_OK;
}

static int toy_validate(void *ctx, double *metric, hp_error *err)
{
    (void)err;
    toy *t = ctx;
    static int k;
    *metric = t->nvalid ? t->valid_seq[k++ % t->nvalid] : -toy_loss(t, NULL, N, 0);
    return HP_OK;
}

static int toy_save(void *ctx, const nn_fit_report *rep, hp_error *err)
{
    (void)rep;
    (void)err;
    toy *t = ctx;
    t->saves++;
    t->saved_w0 = nn_params_get(&t->p, "w")[0];
    return HP_OK;
}

static void toy_init(toy *t)
{
    memset(t, 0, sizeof *t);
    nn_tensor defs[2] = { { .name = "w", .ndim = 1, .shape = { D } }, { .name = "b", .ndim = 1, .shape = { 1 } } };
    hp_error err = { 0 };
    CHECK(nn_params_init(&t->p, defs, 2, &err) == HP_OK);
    hp_rng r;
    hp_rng_seed(&r, 1);
    for (int i = 0; i < N; i++) {
        t->y[i] = 0.5f;
        for (int j = 0; j < D; j++) t->x[i][j] = (float)hp_rng_normal(&r), t->y[i] += (float)(j + 1) * t->x[i][j];
    }
}

static nn_fit_cfg toy_cfg(void)
{
    return (nn_fit_cfg){ .epochs = 200, .batch = 16, .patience = 1000, .warmup = 5, .lr = 0.05f, .lr_min = 0.001f,
                         .weight_decay = 0, .clip = 100 };
}

TEST(test_fit_converges)
{
    toy t;
    toy_init(&t);
    hp_rng rng;
    hp_rng_seed(&rng, 2);
    nn_fit_cfg c = toy_cfg();
    nn_fit_hooks h = { toy_grad, toy_validate, toy_save, NULL, &t, NULL, &rng };
    nn_fit_report rep;
    hp_error err = { 0 };
    CHECKF(nn_fit(&t.p, N, &c, &h, &rep, &err) == HP_OK, "%s", err.msg);
    float *w = nn_params_get(&t.p, "w");
    CHECKF(fabsf(w[0] - 1) < 0.02f && fabsf(w[1] - 2) < 0.02f && fabsf(w[2] - 3) < 0.02f, "w %g %g %g", w[0], w[1], w[2]);
    CHECK_EQ_INT(rep.steps, 200 * 4);
    CHECK_EQ_INT(rep.examples, 200 * N);
    CHECK(rep.epochs_run == 200 && rep.best_valid > -1e-3 && !rep.interrupted);
    CHECK(t.saves >= 1 && t.saved_w0 == w[0]); /* the last save had the final best weights */
    nn_params_free(&t.p);
}

TEST(test_fit_early_stopping_keeps_best)
{
    toy t;
    toy_init(&t);
    double seq[] = { 0.1, 0.5, 0.4, 0.3, 0.9 }; /* best at epoch 2; patience 2 stops after epoch 4 */
    memcpy(t.valid_seq, seq, sizeof seq);
    t.nvalid = 5;
    hp_rng rng;
    hp_rng_seed(&rng, 2);
    nn_fit_cfg c = toy_cfg();
    c.patience = 2;
    nn_fit_hooks h = { toy_grad, toy_validate, toy_save, NULL, &t, NULL, &rng };
    nn_fit_report rep;
    hp_error err = { 0 };
    CHECK(nn_fit(&t.p, N, &c, &h, &rep, &err) == HP_OK);
    CHECK_EQ_INT(rep.epochs_run, 4);
    CHECK_EQ_INT(rep.best_epoch, 2);
    CHECK_NEAR(rep.best_valid, 0.5, 1e-12);
    CHECK_EQ_INT(t.saves, 2); /* epochs 1 and 2 improved */
    CHECK(nn_params_get(&t.p, "w")[0] == t.saved_w0); /* the weights of epoch 2, not 4 */
    nn_params_free(&t.p);
}

TEST(test_fit_interrupt_and_failure)
{
    toy t;
    toy_init(&t);
    t.stop_at = 7; /* during epoch 2 */
    hp_rng rng;
    hp_rng_seed(&rng, 2);
    nn_fit_cfg c = toy_cfg();
    nn_fit_hooks h = { toy_grad, toy_validate, toy_save, NULL, &t, &t.stop, &rng };
    nn_fit_report rep;
    hp_error err = { 0 };
    CHECK(nn_fit(&t.p, N, &c, &h, &rep, &err) == HP_OK);
    CHECK(rep.interrupted && rep.epochs_run == 1 && rep.steps == 7);
    CHECK_EQ_INT(t.saves, 2); /* after epoch 1, and on the interruption */
    nn_params_free(&t.p);

    toy_init(&t);
    t.fail_at = 3;
    h.ctx = &t;
    h.stop = NULL;
    CHECK_EQ_INT(nn_fit(&t.p, N, &c, &h, &rep, &err), HP_ERR_NOMEM);
    CHECK(strstr(err.msg, "toy: no memory") != NULL);
    CHECK(rep.steps == 2 && nn_params_grad(&t.p, "w")[0] == 0); /* step 3 not taken, gradient cleared */
    c.batch = 0;
    CHECK_EQ_INT(nn_fit(&t.p, N, &c, &h, &rep, &err), HP_ERR_INVAL);
    c.batch = 16;
    CHECK_EQ_INT(nn_fit(&t.p, 0, &c, &h, &rep, &err), HP_ERR_INVAL);
    CHECK(strstr(err.msg, "no examples") != NULL);
    nn_params_free(&t.p);
}

int main(void)
{
    RUN(test_fit_converges);
    RUN(test_fit_early_stopping_keeps_best);
    RUN(test_fit_interrupt_and_failure);
    return check_summary("test_nn_fit");
}
