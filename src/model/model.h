/* model: the multimodal recommender.
 *
 * Customer tower: one vector per modality, each from its own encoder
 *   numeric     standardised numeric/band/timestamp features -> Linear -> GELU -> Linear
 *   categorical embeddings of each categorical column, summed
 *   interests   embedding-bag (mean) over multi-valued lists (preferences, needs)
 *   text        hashed word and bigram embeddings, attention-pooled
 *   history     embedding-bag (mean) over the products the customer already holds
 * then LayerNorm + a learned modality-type vector, and attention fusion over the modalities
 * present (its weights say which data mattered), then Linear -> u.
 * Product tower: id embedding (dropped out in training, so a new product scores from its
 * features) + categorical embeddings + Linear over numeric features + text bag -> v.
 * score(c, p) = u_c . v_p + b_p.
 *
 * Data flow: feat_fit learns vocabularies and scaling from training customers;
 * feat_encode turns any customers table into compact arrays (feat_enc); the net
 * runs on batches of encoded rows. Parameters live in one nn_params block. */
#ifndef MODEL_H
#define MODEL_H

#include "core/hp.h"
#include "data/data.h"
#include "nn/nn.h"
#include "eval/eval.h"
#include "feat/feat.h"

#include <jansson.h>

typedef enum {
    MODEL_MOD_NUMERIC = 0,
    MODEL_MOD_CATEGORICAL,
    MODEL_MOD_INTERESTS,
    MODEL_MOD_TEXT,
    MODEL_MOD_HISTORY,
    MODEL_MOD_COUNT
} model_modality;

const char *model_modality_name(int m);

/* ------------------------------------------------------------------ configuration */

typedef enum { MODEL_LOSS_SOFTMAX = 0, MODEL_LOSS_BPR, MODEL_LOSS_BCE } model_loss;

typedef struct {
    int dim;                 /* d: width of every modality and of u, v (default 32) */
    int hidden;              /* numeric MLP hidden width (default 64) */
    int text_buckets;        /* hashed text vocabulary, power of two (default 32768) */
    int max_tokens;          /* tokens kept per customer text (default 64) */
    int enabled[MODEL_MOD_COUNT]; /* encoders on (default all) */
    int include_protected;   /* use protected attributes as features (default 0: never) */
} model_arch;

typedef struct {
    model_loss loss;         /* default softmax (sampled) */
    int negatives;           /* sampled negatives per positive (default 32; capped at P-1) */
    int epochs;              /* maximum epochs (default 30) */
    int batch;               /* default 256 */
    float lr, lr_min;        /* AdamW peak / floor (default 3e-3, 1e-4) */
    float weight_decay;      /* default 1e-4 */
    float clip;              /* global gradient-norm clip (default 5) */
    float id_dropout;        /* product id dropout (default 0.2) */
    float dropout;           /* on the fused customer vector (default 0.1) */
    int patience;            /* epochs without validation NDCG gain before stopping (default 4) */
    int warmup;              /* warmup steps (default 100) */
    uint64_t seed;           /* default 42 */
    int threads;             /* BLAS threads (default 1) */
    char **positive_kinds;   /* interaction kinds that are training positives (default: all but label) */
    int npositive_kinds;
} model_train_cfg;

typedef enum { MODEL_SPLIT_CUSTOMER = 0, MODEL_SPLIT_TIME, MODEL_SPLIT_FOLDS } model_split_method;

typedef struct {
    model_split_method method;
    float test_fraction;     /* customer/time (default 0.2) */
    float valid_fraction;    /* (default 0.1) */
    char **target_kinds;     /* kinds that are evaluation targets; none = leave one out */
    int ntarget_kinds;
    char *folds_file;        /* folds: one fold id per customers record */
    int test_fold;           /* folds: which fold is the test set (default 0) */
    char *hidden_file;       /* folds: "record<TAB>product index<TAB>product column" targets */
    uint64_t seed;           /* default 7 */
} model_split_cfg;

typedef struct {
    int k;                   /* cut-off for @k metrics (default 10) */
    char *oracle_file;       /* truth_affinity.csv of synthetic data, or NULL */
    char *out_dir;           /* default artifacts/results */
} model_eval_cfg;

typedef struct {
    model_arch arch;
    model_train_cfg train;
    model_split_cfg split;
    model_eval_cfg eval;
} model_config;

/* Defaults, then the dataset's "model", "train", "split", "evaluate" sections (strict:
 * unknown keys are errors naming the JSON path). Relative paths resolve from base_dir. */
int model_config_from_dataset(model_config *c, const data_dataset *ds, hp_error *err);
void model_config_defaults(model_config *c);
void model_config_free(model_config *c);
json_t *model_config_to_json(const model_config *c);
int model_config_from_json(model_config *c, json_t *j, const char *where, const char *base_dir, hp_error *err);
/* Every kind train.positive_kinds and split.target_kinds name must occur in the loaded
 * interactions: a misspelt one ("purchse") matches nothing, and training went on with no
 * targets (NaN validation). HP_ERR_INVAL naming the config path ("c.json:
 * split.target_kinds[0]: 'purchse' is not a kind in the interactions (their kinds: ...)"). */
int model_config_check_kinds(const model_config *c, const data_dataset *ds, hp_error *err);

/* ------------------------------------------------------------------ features */

/* The feature options of an architecture (feat/feat.h): the enabled encoders' kinds. */
feat_opts model_feat_opts(const model_arch *arch);

/* ------------------------------------------------------------------ the network */

typedef struct {
    model_arch arch;
    int P;                   /* products */
    feat_spec cust_fs, prod_fs;
    nn_params params;
    /* catalogue, encoded once */
    feat_enc prod;
    int32_t *id_row;         /* (P) row of prod.id.emb/prod.bias for each product (0 = a product
                                unseen in training); NULL: product p is row p+1 */
    int P_trained;           /* rows of the id tables - 1 (the training catalogue) */
} model_net;

/* Per-batch inputs of the customer tower. */
typedef struct {
    int B;
    const float *num;        /* (B, F) */
    const int32_t *cat;      /* (B, C) */
    const int64_t *multi_off; const int32_t *multi_ids;
    const int64_t *text_off;  const int32_t *text_ids;
    const int64_t *hist_off;  const int32_t *hist_ids;  /* product rows held */
} model_batch;

/* Forward state: activations of one pass, carved from an arena. */
typedef struct model_fwd model_fwd;

int model_net_init(model_net *net, const model_arch *arch, int P, hp_error *err);
void model_net_init_weights(model_net *net, uint64_t seed);
void model_net_free(model_net *net);
/* Encodes a customers table (one with the training customers' feature columns) as net's
 * customer tower reads it. */
int model_encode_customers(const model_net *net, const data_table *t, feat_enc *out, hp_error *err);

/* Product tower for the whole catalogue: v (P, d), bias (P). id_keep (P) or NULL: 0 drops
 * a product's id embedding and bias (training's id dropout; cold start at inference).
 * The forward functions return NULL when the arena is out of memory (HP_ERR_NOMEM). */
model_fwd *model_forward(model_net *net, nn_arena *a, const model_batch *b, const uint8_t *id_keep,
                         int training, float dropout, hp_rng *rng);
/* Customer tower only (inference): v and bias of the result are NULL. */
model_fwd *model_forward_customers(model_net *net, nn_arena *a, const model_batch *b);
/* Product tower once, for serving: v (P, d), bias (P), copied out. */
int model_product_vectors(model_net *net, const uint8_t *id_keep, float *v, float *bias, hp_error *err);
const float *model_fwd_u(const model_fwd *f);        /* (B, d) */
const float *model_fwd_v(const model_fwd *f);        /* (P, d) */
const float *model_fwd_bias(const model_fwd *f);     /* (P) */
/* Modality weights of row b: w[m] for each modality (0 for absent ones). */
void model_fwd_weights(const model_fwd *f, int b, float w[MODEL_MOD_COUNT]);
/* Backward from du (B,d), dv (P,d), dbias (P) into net->params.grad. HP_ERR_NOMEM when
 * the arena cannot hold the gradients (then grad is partly updated: skip the step). */
int model_backward(model_net *net, model_fwd *f, const float *du, const float *dv, const float *dbias);
/* A first guess at the arena bytes a forward and backward pass of B rows with T text tokens,
 * H history ids, M multi ids takes; the arena grows to what the first pass measured
 * (nn_arena), so the guess only decides whether that first pass allocates. */
size_t model_arena_bytes(const model_net *net, int B, long T, long H, long M);


/* ------------------------------------------------------------------ split */

typedef enum { MODEL_ROLE_TRAIN = 0, MODEL_ROLE_VALID, MODEL_ROLE_TEST, MODEL_ROLE_NONE } model_role;

/* Who trains, who is evaluated on what. Positives are interactions of the training kinds;
 * "label" interactions (from a label column) are kept apart as 0/1 labels. */
typedef struct {
    int ncust, P;
    uint8_t *role;                 /* (ncust) model_role */
    int all_train;                 /* time split: every customer trains on what it shows */
    int64_t *vis_off;              /* (ncust+1) CSR: visible positive products, sorted, unique */
    int32_t *vis;
    int64_t *tgt_off[2];           /* [0] validation, [1] test: (ncust+1) CSR of target products */
    int32_t *tgt[2];
    float *label;                  /* (ncust) label value, NaN when none */
    int label_product;             /* product the labels are about, or -1 */
    size_t ntrain_pos;             /* visible positives of training customers */
    uint8_t *tag;                  /* (ntag = interactions) MODEL_TAG_* of each interaction */
    size_t ntag;
} model_split;

enum { MODEL_TAG_VISIBLE = 0, MODEL_TAG_VALID, MODEL_TAG_TEST, MODEL_TAG_IGNORE };

int model_split_make(model_split *s, const data_dataset *ds, const model_config *cfg, hp_error *err);
void model_split_free(model_split *s);
/* Takes customers with allowed[c] == 0 out of everything: no training, no evaluation (the
 * consent gate's answer for processing their data). */
void model_split_exclude(model_split *s, const uint8_t *allowed);
/* Whether customer c trains (its visible positives and label are training examples). */
int model_split_trains(const model_split *s, int c);
/* 1 if product p is among customer c's visible positives. */
int model_split_visible(const model_split *s, int c, int32_t p);

/* ------------------------------------------------------------------ batches and scoring */

/* Per-customer lists (CSR): history products, or targets. */
typedef struct {
    const int64_t *off;      /* (n+1) */
    const int32_t *ids;
} model_lists;

/* Buffers for batches of up to cap rows. */
typedef struct {
    int cap;
    model_batch b;
    float *num;
    int32_t *cat, *multi, *text, *hist;
    int64_t *multi_off, *text_off, *hist_off;
    size_t multi_cap, text_cap, hist_cap;
} model_batchbuf;

int model_batchbuf_init(model_batchbuf *bb, const feat_enc *e, const model_lists *hist, int cap);
void model_batchbuf_free(model_batchbuf *bb);
/* Gathers rows[0..n) of e into bb->b. hist (may have NULL off: no history) gives each row's
 * held products; skip[i] >= 0 leaves that product out of row i's history (the training
 * target must not be among its own inputs). */
void model_gather(model_batchbuf *bb, const feat_enc *e, const model_lists *hist, const int32_t *rows,
                  const int32_t *skip, int n);

/* Scores rows[0..n) against the whole catalogue: scores (n, P); weights (n, MODEL_MOD_COUNT)
 * or NULL. id_keep (P) or NULL as in model_forward (0 = score a product from its features
 * only, as a product unseen in training is). */
int model_score(model_net *net, const feat_enc *e, const model_lists *hist, const int32_t *rows, int n,
                const uint8_t *id_keep, float *scores, float *weights, hp_error *err);
/* HP_ERR_RANGE naming the first customer row (rows[i], or i when rows is NULL) and product
 * whose score in scores (n, P) is NaN or infinite: every scorer refuses those rather than
 * ranking around them. model_score applies it. */
int model_check_scores(const float *scores, size_t n, int P, const int32_t *rows, hp_error *err);

/* ------------------------------------------------------------------ training */

/* What training (and a peer implementation fed the same tensors) starts from: the split,
 * features fitted on training customers, every customer and the catalogue encoded, and a
 * net with its initial weights (train.seed). allowed as in model_split_exclude. */
typedef struct {
    model_split split;
    model_net net;
    feat_enc cust;
} model_setup;

/* Training examples of a split: one per visible positive of each training customer (target
 * 1), or for label data with BCE one per labelled training customer (the 0/1 label of the
 * label product). The one definition training and every peer implementation use. */
typedef struct {
    int32_t *c, *p;          /* (n) customer row, product */
    float *y;                /* (n) target */
    size_t n;
    int explicit_labels;     /* 1: BCE over label examples (known negatives) */
} model_examples;

int model_examples_make(model_examples *ex, const model_split *s, const model_config *cfg); /* HP_ERR_NOMEM */
void model_examples_free(model_examples *ex);

int model_setup_make(model_setup *su, const data_dataset *ds, const model_config *cfg, const uint8_t *allowed,
                     hp_error *err);
void model_setup_free(model_setup *su);

typedef struct {
    int epoch, epochs;       /* 1-based current epoch, maximum */
    long step, steps;        /* step within the epoch, steps per epoch */
    double loss;             /* running mean training loss of the epoch */
    double valid;            /* validation metric after the epoch (NAN before) */
    double best;
    const char *metric;      /* "ndcg@10" or "auc" */
    double examples_per_s;
    double eta_s;            /* seconds left in the whole run at this pace (max epochs) */
    int end_of_epoch;
} model_progress;

typedef struct {
    const char *out_dir;                     /* model files go here (created) */
    volatile int *stop;                      /* set asynchronously (SIGINT): stop, save, return */
    const uint8_t *allowed;                  /* (customers) 0: no consent to use this customer's
                                                data; NULL: everyone may be used */
    void (*progress)(void *ctx, const model_progress *p);
    void *ctx;
} model_train_opts;

typedef struct {
    int epochs_run, best_epoch;
    double best_valid;
    const char *metric;
    long steps, examples;
    double seconds;          /* wall time of the whole run (with validation and saving) */
    double step_seconds;     /* time inside training steps only */
    double examples_per_s;   /* examples / step_seconds: training throughput */
    int interrupted;
    long n_train_customers, n_valid_customers, n_test_customers, n_excluded_customers;
} model_train_report;

/* Trains on ds as cfg says, with early stopping on the validation metric, and saves the best
 * model to opts->out_dir (model.safetensors + model.json) after every improvement, and on
 * interruption (returns HP_ERR_INTERRUPTED after saving). */
int model_train(const data_dataset *ds, const model_config *cfg, const model_train_opts *opts,
                model_train_report *rep, hp_error *err);

/* ------------------------------------------------------------------ model files */

/* In the model-file envelope (mfile/mfile.h): kind "recommender", this layout version. */
#define MODEL_KIND "recommender"
#define MODEL_KIND_VERSION 1

/* A trained model as loaded for scoring: the net plus the catalogue's product ids. */
typedef struct {
    model_net net;
    model_config cfg;
    char **product_ids;      /* (nproducts) the catalogue scored now (the training one unless
                                model_set_catalogue replaced it) */
    int nproducts;
    data_dict trained;       /* ids of the training catalogue: code = row of history/id tables */
    long *popularity;        /* (trained.n) training positives per product (0s when unknown) */
    json_t *meta;            /* the whole model.json, owned */
    char *dir;               /* the directory it was loaded from, as given (for messages) */
} model_file;

/* Writes model.safetensors and model.json as a new version of the model directory dir and
 * switches dir to it in one atomic step (mfile.h): a crash at any instant leaves the old
 * model or the new one, whole. extra (may be NULL) is merged into model.json under
 * "training". */
int model_save(const char *dir, const model_net *net, const model_config *cfg, const data_table *products,
               json_t *extra, hp_error *err);
/* Loads a model directory (versioned, or the two files side by side as earlier builds wrote
 * them). Truncated, corrupt or mismatched files are clear errors, and so is every value of
 * model.json out of its range (a hand edit): the message names the file and the JSON path. */
int model_load(const char *dir, model_file *m, hp_error *err);
void model_file_free(model_file *m);
/* Validates and loads doc, a parsed model.json (name stands for its path in messages), into
 * m as model_load does, short of the weights: m has the configuration, the catalogue, the
 * fitted features and the encoded catalogue, but no net parameters. m is initialised here;
 * free it with model_file_free whatever the result. For tools and fuzzing. */
int model_meta_load(model_file *m, json_t *doc, const char *name, hp_error *err);
/* Replaces the catalogue with products (a products table with the training catalogue's
 * feature columns): known products keep their id embedding and bias, new ones (and ones
 * that had no training positive) score from their features alone. Returns the number of
 * products new to the model, or a negative status. */
int model_set_catalogue(model_file *m, const data_table *products, hp_error *err);

/* ------------------------------------------------------------------ serving */

/* A scorer for one customer at a time: the product tower computed once, buffers allocated
 * once, so a request allocates nothing. Not thread-safe: one per thread. */
typedef struct model_scorer model_scorer;

/* e: the encoded customers to serve; hist: their held products (off may be NULL). */
int model_scorer_new(model_scorer **out, model_net *net, const feat_enc *e, const model_lists *hist,
                     const uint8_t *id_keep, hp_error *err);
void model_scorer_free(model_scorer *s);
/* Top k products for customer row `row` of e, best first, leaving out exclude[0..nex) (its
 * held products) unless they are wanted. Writes up to k items/scores and the modality
 * weights (MODEL_MOD_COUNT, may be NULL). Returns the number written, or HP_ERR_RANGE when
 * a score of the row is NaN or infinite (model_check_scores: the caller names the model),
 * or HP_ERR_NOMEM. */
int model_scorer_topk(model_scorer *s, int32_t row, const int32_t *exclude, int nex, int k,
                      int32_t *items, float *scores, float *weights);
/* All P scores of `row` (valid until the next call), or NULL when out of memory. */
const float *model_scorer_scores(model_scorer *s, int32_t row, float *weights);

/* ------------------------------------------------------------------ evaluation */

enum { MODEL_SYS_MODEL = 0, MODEL_SYS_POPULARITY, MODEL_SYS_ORACLE, MODEL_SYS_COUNT };
const char *model_system_name(int sys);

typedef struct {
    int label_mode;                          /* 1: one product with 0/1 labels (propensity) */
    int k;
    int has[MODEL_SYS_COUNT];
    eval_rank_result rank[MODEL_SYS_COUNT];  /* ranking metrics of each system */
    eval_binary_result binary;               /* label mode: the model's AUC, log loss, ... */
    int has_values;                          /* test interactions carried values (ratings) */
    eval_regression_result values[2];        /* [0] the model's score mapped to the value scale
                                                by least squares on training customers; [1] each
                                                product's mean training value */
    double value_a, value_b;                 /* value ~ a * score + b */
    long n_customers;                        /* evaluated */
    double modality_weight[MODEL_MOD_COUNT]; /* mean attention weight per modality */
} model_eval_result;

/* Evaluates a loaded model on ds's test customers (the split in the model's config):
 * the model, popularity among training customers and, when evaluate.oracle_file (or
 * oracle) names a truth file, the oracle. allowed (customers, or NULL) leaves out the
 * customers whose data may not be used (the consent gate's answer). */
int model_evaluate(model_file *m, const data_dataset *ds, const char *oracle, const uint8_t *allowed,
                   model_eval_result *r, hp_error *err);
/* Writes metrics.json, metrics.csv and summary.txt into dir. */
int model_eval_write(const model_eval_result *r, const char *dir, hp_error *err);
void model_eval_print(const model_eval_result *r, void *file);

#endif
