/* nn_fit: the shared training loop (spec in nn_fit.h). */
#include "nn/nn_fit.h"

#include <math.h>
#include <string.h>

typedef struct {
    nn_params *p;
    const nn_fit_cfg *cfg;
    const nn_fit_hooks *h;
    size_t n;
    size_t *order;
    float *best;             /* copy of the best weights */
    nn_lr_schedule sched;
    double t0;
    long total;              /* examples over all epochs */
} fitter;

static void shuffle(fitter *f)
{
    for (size_t i = f->n; i > 1; i--) {
        size_t j = (size_t)hp_rng_below(f->h->rng, i);
        size_t tmp = f->order[i - 1];
        f->order[i - 1] = f->order[j];
        f->order[j] = tmp;
    }
}

static void progress(fitter *f, nn_fit_progress *pr, long done)
{
    if (!f->h->progress) return;
    double el = hp_now() - f->t0;
    pr->examples_per_s = el > 0 ? (double)done / el : 0;
    pr->eta_s = pr->examples_per_s > 0 ? (double)(f->total - done) / pr->examples_per_s : 0;
    f->h->progress(f->h->ctx, pr);
}

/* Saves the best weights without copying the block twice: the block pointer is swapped. */
static int save_best(fitter *f, const nn_fit_report *rep, hp_error *err)
{
    float *cur = f->p->data;
    f->p->data = f->best;
    int rc = f->h->save(f->h->ctx, rep, err);
    f->p->data = cur;
    return rc;
}

static int step(fitter *f, const size_t *idx, int B, long global_step, double *loss, hp_error *err)
{
    int rc = f->h->grad(f->h->ctx, idx, B, loss, err);
    if (rc) {
        nn_params_zero_grad(f->p); /* partial gradients: the step is not taken */
        return rc;
    }
    nn_clip_grad_norm(f->p, f->cfg->clip);
    nn_adamw_config ac = nn_adamw_defaults();
    ac.weight_decay = f->cfg->weight_decay;
    ac.zero_grad = 1; /* the next step starts from zero gradients */
    nn_adamw_step(f->p, &ac, nn_lr_at(&f->sched, global_step), global_step + 1);
    return HP_OK;
}

/* One epoch of steps; HP_OK with rep->interrupted set when *stop was raised. */
static int epoch(fitter *f, nn_fit_progress *pr, nn_fit_report *rep, hp_error *err)
{
    const nn_fit_cfg *c = f->cfg;
    double sum = 0;
    for (long s = 0; s < pr->steps; s++) {
        if (f->h->stop && *f->h->stop) {
            rep->interrupted = 1;
            return HP_OK;
        }
        size_t start = (size_t)s * (size_t)c->batch;
        int B = (int)HP_MIN((size_t)c->batch, f->n - start);
        double ts = hp_now(), loss = 0;
        int rc = step(f, f->order + start, B, rep->steps, &loss, err);
        if (rc) return rc;
        sum += loss;
        rep->step_seconds += hp_now() - ts;
        rep->steps++;
        rep->examples += B;
        pr->step = s + 1;
        pr->loss = sum / (double)(s + 1);
        if (s % 20 == 0 || s + 1 == pr->steps) progress(f, pr, rep->examples);
    }
    return HP_OK;
}

static int run(fitter *f, nn_fit_report *rep, hp_error *err)
{
    const nn_fit_cfg *c = f->cfg;
    size_t bytes = f->p->total * sizeof(float);
    long steps = (long)((f->n + (size_t)c->batch - 1) / (size_t)c->batch);
    f->sched = (nn_lr_schedule){ c->lr, c->lr_min, HP_MIN(c->warmup, steps), steps * c->epochs };
    nn_fit_progress pr = { .epochs = c->epochs, .steps = steps, .valid = NAN, .best = NAN };
    long since_best = 0;
    memcpy(f->best, f->p->data, bytes);
    int rc = HP_OK;
    for (int ep = 1; ep <= c->epochs && !rc; ep++) {
        shuffle(f);
        pr.epoch = ep;
        pr.end_of_epoch = 0;
        if ((rc = epoch(f, &pr, rep, err)) || rep->interrupted) break;
        rep->epochs_run = ep;
        double metric;
        if ((rc = f->h->validate(f->h->ctx, &metric, err))) break;
        pr.valid = metric;
        if (isnan(metric) || metric > rep->best_valid) {
            rep->best_valid = isnan(metric) ? rep->best_valid : metric;
            rep->best_epoch = ep;
            since_best = 0;
            memcpy(f->best, f->p->data, bytes);
            rc = save_best(f, rep, err);
        } else {
            since_best++;
        }
        pr.best = rep->best_valid;
        pr.end_of_epoch = 1;
        progress(f, &pr, rep->examples);
        if (since_best >= c->patience) break;
    }
    if (!rc && rep->best_epoch == 0) memcpy(f->best, f->p->data, bytes); /* stopped before validating */
    if (!rc && (rep->interrupted || rep->best_epoch == 0)) rc = save_best(f, rep, err);
    memcpy(f->p->data, f->best, bytes);
    return rc;
}

int nn_fit(nn_params *p, size_t nexamples, const nn_fit_cfg *cfg, const nn_fit_hooks *h, nn_fit_report *rep,
           hp_error *err)
{
    memset(rep, 0, sizeof *rep);
    rep->best_valid = -INFINITY;
    if (cfg->batch < 1 || cfg->epochs < 1 || nexamples == 0 || !h->grad || !h->validate || !h->save || !h->rng)
        return hp_fail(err, HP_ERR_INVAL, "training: %s", nexamples == 0 ? "no examples" : "bad loop settings");
    fitter f = { .p = p, .cfg = cfg, .h = h, .n = nexamples, .t0 = hp_now(),
                 .total = (long)nexamples * cfg->epochs };
    f.order = hp_malloc(nexamples * sizeof *f.order);
    f.best = hp_malloc(p->total * sizeof *f.best + 1);
    int rc = f.order && f.best ? HP_OK : hp_fail(err, HP_ERR_NOMEM, "training: out of memory");
    for (size_t i = 0; !rc && i < nexamples; i++) f.order[i] = i;
    if (!rc) rc = run(&f, rep, err);
    rep->seconds = hp_now() - f.t0;
    rep->examples_per_s = rep->step_seconds > 0 ? (double)rep->examples / rep->step_seconds : 0;
    hp_free(f.order);
    hp_free(f.best);
    return rc;
}
