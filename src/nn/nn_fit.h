/* nn_fit: the training loop every model of hyperp drives (recommender today; risk, reward
 * and policy models next).
 *
 * The model supplies what only it knows: the gradient of a batch of examples, a validation
 * metric, how to save. nn_fit owns the rest, the same for every model:
 *   - epochs over the examples in a fresh random order each (the caller's rng), batches of
 *     cfg->batch (the last one shorter);
 *   - per step: the model's gradient into p->grad, global-norm clipping, AdamW with the
 *     warmup + cosine schedule, gradients cleared;
 *   - after each epoch: validation; an improvement (or a NaN metric: no validation data)
 *     keeps a copy of the weights and saves them; patience epochs without one stop early;
 *   - *stop set asynchronously (SIGINT) ends the run after the current step: the best
 *     weights so far are saved and the report says interrupted;
 *   - progress every 20 steps and at each epoch's end, with throughput and time left.
 * On return p->data holds the best weights.
 *
 * Failure: the first error of a hook (or HP_ERR_NOMEM) ends the run with its status; an
 * error of the gradient hook leaves the step untaken (gradients cleared). Threading: one
 * run per nn_params; the hooks run on the caller's thread. */
#ifndef NN_FIT_H
#define NN_FIT_H

#include "core/hp.h"
#include "nn/nn.h"

typedef struct {
    int epochs;              /* maximum epochs */
    int batch;               /* examples per step */
    int patience;            /* epochs without a validation gain before stopping */
    int warmup;              /* warmup steps (capped at one epoch) */
    float lr, lr_min;        /* AdamW peak and floor */
    float weight_decay;
    float clip;              /* global gradient-norm clip */
} nn_fit_cfg;

typedef struct {
    int epoch, epochs;       /* 1-based current epoch, maximum */
    long step, steps;        /* step within the epoch, steps per epoch */
    double loss;             /* running mean training loss of the epoch */
    double valid;            /* validation metric after the epoch (NAN before) */
    double best;
    double examples_per_s;
    double eta_s;            /* seconds left in the whole run at this pace (max epochs) */
    int end_of_epoch;
} nn_fit_progress;

typedef struct {
    int epochs_run, best_epoch;
    double best_valid;       /* -INFINITY when no epoch validated */
    long steps, examples;
    double seconds;          /* wall time of the whole run (with validation and saving) */
    double step_seconds;     /* time inside steps only */
    double examples_per_s;   /* examples / step_seconds: training throughput */
    int interrupted;
} nn_fit_report;

typedef struct {
    /* Forward and backward of examples idx[0..B) (indices into the caller's examples) into
     * p->grad (zero on entry); the batch's mean loss into *loss. */
    int (*grad)(void *ctx, const size_t *idx, int B, double *loss, hp_error *err);
    /* The validation metric (higher is better; NaN when there is no validation data). */
    int (*validate)(void *ctx, double *metric, hp_error *err);
    /* Saves the model: p->data holds the best weights while it runs. */
    int (*save)(void *ctx, const nn_fit_report *rep, hp_error *err);
    void (*progress)(void *ctx, const nn_fit_progress *p); /* may be NULL */
    void *ctx;
    volatile int *stop;      /* may be NULL */
    hp_rng *rng;             /* the shuffling stream */
} nn_fit_hooks;

/* Trains p on nexamples examples as above. rep is filled whatever the result. */
int nn_fit(nn_params *p, size_t nexamples, const nn_fit_cfg *cfg, const nn_fit_hooks *h, nn_fit_report *rep,
           hp_error *err);

#endif
