/* Recommender benchmarks, in process, through the public model.h API.
 *   bench_model train DATA_DIR THREADS EPOCHS OUT_DIR
 *       rec_train on the built-in config over DATA_DIR (EPOCHS 0: the config's, with its
 *       early stopping); prints rep.fit.examples_per_s (time inside training steps only) and,
 *       when EPOCHS is 0, the test NDCG@10 / HR@10 of the saved best model (rec_evaluate).
 *   bench_model serve DATA_DIR THREADS CALLS
 *       rec_scorer_scores + rank_run (k=10) latency for one customer per call on a 1000-product
 *       catalogue (random product features and weights; customers and their held products
 *       from DATA_DIR); p50/p99 over CALLS calls after CALLS/10 warm-up calls.
 *   bench_model flops DATA_DIR      analytic FLOPs per training example
 *   bench_model peak                best cblas_sgemm 512^3 GFLOP/s at 1 and 2 threads
 * Output: "key value" lines. */
#include "bench_common.h"

#include <cblas.h>
#include <stdlib.h>
#include <time.h>

void openblas_set_num_threads(int num_threads);

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ------------------------------------------------------------------ training */

static int cmd_train(const char *dir, int threads, int epochs, const char *out)
{
    data_dataset ds;
    rec_config cfg;
    hp_error err = { 0 };
    if (data_config_default(&ds, dir, &err) || data_ingest(&ds, NULL, NULL, &err) ||
        rec_config_from_dataset(&cfg, &ds, &err))
        return bm_fail("load", &err);
    cfg.train.threads = threads;
    if (epochs > 0) cfg.train.epochs = epochs, cfg.train.patience = epochs; /* throughput only */
    rec_train_opts o = { .out_dir = out };
    rec_train_report rep;
    if (rec_train(&ds, &cfg, &o, &rep, &err)) return bm_fail("train", &err);
    printf("threads %d\nepochs_run %d\nbest_epoch %d\nexamples %ld\nstep_seconds %.3f\nexamples_per_s %.0f\n", threads,
           rep.fit.epochs_run, rep.fit.best_epoch, rep.fit.examples, rep.fit.step_seconds, rep.fit.examples_per_s);
    if (epochs == 0) {
        rec_model m;
        rec_eval_result r;
        if (rec_load(out, &m, &err) || rec_evaluate(&m, &ds, NULL, NULL, &r, &err)) return bm_fail("evaluate", &err);
        printf("test_customers %ld\nndcg10 %.4f\nhr10 %.4f\n", r.n_customers, r.rank[REC_SYS_MODEL].ndcg,
               r.rank[REC_SYS_MODEL].hit_rate);
        rec_model_free(&m);
    }
    rec_config_free(&cfg);
    data_dataset_free(&ds);
    return 0;
}

/* ------------------------------------------------------------------ serving */

/* A random encoded catalogue of P products with the real product featspec's widths. */
static void random_catalogue(feat_enc *e, const feat_spec *fs, const feat_enc *real, int P, int buckets, hp_rng *r)
{
    e->n = P, e->F = real->F, e->C = real->C;
    e->num = hp_malloc(((size_t)P * (size_t)e->F + 1) * sizeof *e->num);
    e->cat = hp_malloc(((size_t)P * (size_t)e->C + 1) * sizeof *e->cat);
    e->multi_off = hp_calloc((size_t)P + 1, sizeof *e->multi_off);
    e->multi_ids = hp_malloc(sizeof *e->multi_ids);
    e->text_off = hp_malloc(((size_t)P + 1) * sizeof *e->text_off);
    e->text_ids = hp_malloc((size_t)P * 16 * sizeof *e->text_ids);
    for (size_t i = 0; i < (size_t)P * (size_t)e->F; i++) e->num[i] = (float)hp_rng_normal(r);
    for (int p = 0; p < P; p++)
        for (int j = 0; j < e->C; j++)
            e->cat[p * e->C + j] = fs->cat[j].offset + (int32_t)hp_rng_below(r, (uint64_t)fs->cat[j].size);
    e->text_off[0] = 0;
    for (int p = 0; p < P; p++) {
        int n = real->text_off[real->n] ? 4 + (int)hp_rng_below(r, 13) : 0; /* 4..16 tokens */
        for (int i = 0; i < n; i++) e->text_ids[e->text_off[p] + i] = (int32_t)hp_rng_below(r, (uint64_t)buckets);
        e->text_off[p + 1] = e->text_off[p] + n;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmd_serve(const char *dir, int threads, int calls)
{
    enum { P = 1000, K = 10 };
    bm_data b;
    if (bm_load(&b, dir)) return 1;
    nn_set_threads(threads);
    hp_error err = { 0 };
    hp_rng r;
    hp_rng_seed(&r, 1234);
    rec_net net;
    memset(&net, 0, sizeof net);
    net.cust_fs = b.su.net.cust_fs; /* moved: b.su.net must not free them */
    net.prod_fs = b.su.net.prod_fs;
    memset(&b.su.net.cust_fs, 0, sizeof b.su.net.cust_fs);
    memset(&b.su.net.prod_fs, 0, sizeof b.su.net.prod_fs);
    random_catalogue(&net.prod, &net.prod_fs, &b.su.net.prod, P, b.cfg.arch.text_buckets, &r);
    if (rec_net_init(&net, &b.cfg.arch, P, &err)) return bm_fail("net", &err);
    rec_net_init_weights(&net, 99);
    rec_scorer *s;
    rank_pipeline *pl;
    if (rec_scorer_new(&s, &net, NULL, &err) || rank_pipeline_new(&pl, P, 0, &err)) return bm_fail("scorer", &err);
    int warm = calls / 10, n = b.su.cust.n;
    double *lat = hp_malloc((size_t)calls * sizeof *lat), sink = 0;
    rank_entry top[K];
    for (int i = 0; i < warm + calls; i++) {
        int32_t row = i % n;
        const int32_t *ex = b.su.split.vis + b.su.split.vis_off[row];
        int nex = (int)(b.su.split.vis_off[row + 1] - b.su.split.vis_off[row]);
        double t0 = now_ns();
        const float *all = rec_scorer_scores(s, &b.su.cust, row, ex, nex, NULL); /* held: history and left out */
        rank_request rq = { .held = ex, .nheld = nex };
        int got = all ? rank_run(pl, all, &rq, K, top, &err) : -1;
        double t1 = now_ns();
        sink += got > 0 ? top[0].score : 0;
        if (i >= warm) lat[i - warm] = (t1 - t0) / 1e3;
    }
    qsort(lat, (size_t)calls, sizeof *lat, cmp_double);
    printf("threads %d\nproducts %d\ncalls %d\np50_us %.2f\np99_us %.2f\nsink %g\n", threads, P, calls,
           lat[calls / 2], lat[(size_t)(0.99 * calls)], sink);
    hp_free(lat);
    rec_scorer_free(s);
    rank_pipeline_free(pl);
    rec_net_free(&net);
    bm_free(&b);
    return 0;
}

/* ------------------------------------------------------------------ FLOPs and peak */

/* Forward FLOPs of one training example (a multiply-add is 2; gathers/adds of embedding
 * rows 1 per element), training = 3 x forward (backward ~ 2 x forward). The product tower
 * runs once per step over the whole catalogue: its cost is divided by the batch. AdamW +
 * clipping (~14 FLOPs per parameter per step, also divided by the batch) is reported apart. */
static int cmd_flops(const char *dir)
{
    bm_data b;
    if (bm_load(&b, dir)) return 1;
    bm_means m = bm_example_means(&b);
    const rec_net *net = &b.su.net;
    double d = b.cfg.arch.dim, H = b.cfg.arch.hidden, F = net->cust_fs.nnum, C = net->cust_fs.ncat;
    double K1 = 1 + HP_MIN(b.cfg.train.negatives, b.su.split.P - 1), Bt = b.cfg.train.batch, P = b.su.split.P;
    double Fp = net->prod_fs.nnum, Cp = net->prod_fs.ncat;
    double Tp = (double)net->prod.text_off[net->prod.n] / P;
    double cust = 2 * (F * H + H * d)            /* numeric MLP */
                  + C * d + m.multi * d + m.hist * d /* bags */
                  + 4 * m.text * d                /* text attention: scores + weighted sum */
                  + m.rows * 12 * d               /* layernorm (~7d), type add, fusion attention (4d) */
                  + 2 * d * d;                    /* output linear */
    double score = K1 * 2 * d;
    double prod = P * (2 * Fp * d + Cp * d + Tp * d + 3 * d) / Bt;
    double fwd = cust + score + prod, opt = 14.0 * (double)net->params.total / Bt;
    printf("flops_fwd %.0f\nflops_train %.0f\nflops_opt %.0f\nparams %zu\nmean_text %.1f\nmean_multi %.1f\n"
           "mean_hist %.2f\nmean_rows %.2f\n",
           fwd, 3 * fwd, opt, net->params.total, m.text, m.multi, m.hist, m.rows);
    bm_free(&b);
    return 0;
}

static int cmd_peak(void)
{
    enum { N = 512 };
    float *a = malloc(sizeof(float) * N * N), *bb = malloc(sizeof(float) * N * N), *c = malloc(sizeof(float) * N * N);
    for (int i = 0; i < N * N; i++) a[i] = (float)(i % 7) * 0.1f, bb[i] = (float)(i % 5) * 0.1f;
    for (int th = 1; th <= 2; th++) {
        openblas_set_num_threads(th);
        double best = 1e30;
        for (int rep = 0; rep < 20; rep++) {
            double t0 = now_ns();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0f, a, N, bb, N, 0.0f, c, N);
            double t = now_ns() - t0;
            if (t < best) best = t;
        }
        printf("sgemm_gflops_%dt %.1f\n", th, 2.0 * N * N * N / best);
    }
    free(a), free(bb), free(c);
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    if (!strcmp(cmd, "train") && argc == 6) return cmd_train(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5]);
    if (!strcmp(cmd, "serve") && argc == 5) return cmd_serve(argv[2], atoi(argv[3]), atoi(argv[4]));
    if (!strcmp(cmd, "flops") && argc == 3) return cmd_flops(argv[2]);
    if (!strcmp(cmd, "peak")) return cmd_peak();
    fprintf(stderr, "usage: bench_model train DIR THREADS EPOCHS OUT | serve DIR THREADS CALLS | flops DIR | peak\n");
    return 2;
}
