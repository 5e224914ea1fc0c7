/* rec: the multimodal recommender (towers, training, scorer, evaluation, its model files).
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
#ifndef REC_H
#define REC_H

#include "core/hp.h"
#include "data/data.h"
#include "nn/nn.h"
#include "nn/nn_fit.h"
#include "eval/eval.h"
#include "feat/feat.h"
#include "rank/rank.h"

#include <jansson.h>

typedef enum {
    REC_MOD_NUMERIC = 0,
    REC_MOD_CATEGORICAL,
    REC_MOD_INTERESTS,
    REC_MOD_TEXT,
    REC_MOD_HISTORY,
    REC_MOD_COUNT
} rec_modality;

const char *rec_modality_name(int m);

/* ------------------------------------------------------------------ configuration */

typedef enum { REC_LOSS_SOFTMAX = 0, REC_LOSS_BPR, REC_LOSS_BCE } rec_loss;

typedef struct {
    int dim;                 /* d: width of every modality and of u, v (default 32) */
    int hidden;              /* numeric MLP hidden width (default 64) */
    int text_buckets;        /* hashed text vocabulary, power of two (default 32768) */
    int max_tokens;          /* tokens kept per customer text (default 64) */
    int enabled[REC_MOD_COUNT]; /* encoders on (default all) */
    int include_protected;   /* use protected attributes as features (default 0: never) */
} rec_arch;

typedef struct {
    rec_loss loss;         /* default softmax (sampled) */
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
} rec_train_cfg;

/* given: the dataset's interactions are all training data, split.test_file is the test set
 * (the protocol of public recommender benchmarks). */
typedef enum { REC_SPLIT_CUSTOMER = 0, REC_SPLIT_TIME, REC_SPLIT_FOLDS, REC_SPLIT_GIVEN } rec_split_method;

typedef struct {
    rec_split_method method;
    float test_fraction;     /* customer/time (default 0.2) */
    float valid_fraction;    /* (default 0.1); given: the share of each customer's positive
                                products sampled (split.seed) to validate on */
    char **target_kinds;     /* kinds that are evaluation targets; none = leave one out */
    int ntarget_kinds;
    char *folds_file;        /* folds: one fold id per customers record */
    int test_fold;           /* folds: which fold is the test set (default 0) */
    char *hidden_file;       /* folds: "record<TAB>product index<TAB>product column" targets */
    char *test_file;         /* given: interactions (the interactions table's format and
                                columns) that are the test set */
    char *cut;               /* time: test = interactions at or after this time (a timestamp as
                                ingest reads one), instead of the test_fraction quantile */
    char *valid_cut;         /* time, with cut: validation = [valid_cut, cut) (none when absent) */
    int new_only;            /* time, with cut: targets are only products new to the customer
                                (no earlier positive) and seen before in training, of customers
                                with training positives: next-period cross-sell */
    uint64_t seed;           /* default 7 */
} rec_split_cfg;

typedef struct {
    int k;                   /* cut-off for @k metrics (default 10) */
    char *oracle_file;       /* truth_affinity.csv of synthetic data, or NULL */
    char *out_dir;           /* default artifacts/results */
    int ease_max_items;      /* EASE baseline only up to this many products (it holds P^2
                                floats; 0..100000, default 10000): above, skipped and said so */
} rec_eval_cfg;

typedef struct {
    rec_arch arch;
    rec_train_cfg train;
    rec_split_cfg split;
    rec_eval_cfg eval;
} rec_config;

/* Defaults, then the dataset's "model", "train", "split", "evaluate" sections (strict:
 * unknown keys are errors naming the JSON path). Relative paths resolve from base_dir.
 * Without train.loss, a data set whose only target is a label column (customers has a label
 * column and no holding flag, and no interactions are read) trains with "bce"; a loss given
 * stays as given. */
int rec_config_from_dataset(rec_config *c, const data_dataset *ds, hp_error *err);
void rec_config_defaults(rec_config *c);
/* Registers the recommender's config sections (model, train, split, evaluate) with the dataset
 * config parser, which then checks each as rec_config_from_json does (src/lib calls this). */
int rec_config_register_sections(hp_error *err);
void rec_config_free(rec_config *c);
json_t *rec_config_to_json(const rec_config *c);
int rec_config_from_json(rec_config *c, json_t *j, const char *where, const char *base_dir, hp_error *err);
/* Every kind train.positive_kinds and split.target_kinds name must occur in the loaded
 * interactions: a misspelt one ("purchse") matches nothing, and training went on with no
 * targets (NaN validation). HP_ERR_INVAL naming the config path ("c.json:
 * split.target_kinds[0]: 'purchse' is not a kind in the interactions (their kinds: ...)"). */
int rec_config_check_kinds(const rec_config *c, const data_dataset *ds, hp_error *err);

/* ------------------------------------------------------------------ features */

/* The feature options of an architecture (feat/feat.h): the enabled encoders' kinds. */
feat_opts rec_feat_opts(const rec_arch *arch);

/* ------------------------------------------------------------------ the network */

typedef struct {
    rec_arch arch;
    int P;                   /* products */
    feat_spec cust_fs, prod_fs;
    nn_params params;
    /* catalogue, encoded once */
    feat_enc prod;
    int32_t *id_row;         /* (P) row of prod.id.emb/prod.bias for each product (0 = a product
                                unseen in training); NULL: product p is row p+1 */
    int P_trained;           /* rows of the id tables - 1 (the training catalogue) */
} rec_net;

/* Per-batch inputs of the customer tower. */
typedef struct {
    int B;
    const float *num;        /* (B, F) */
    const int32_t *cat;      /* (B, C) */
    const int64_t *multi_off; const int32_t *multi_ids;
    const int64_t *text_off;  const int32_t *text_ids;
    const int64_t *hist_off;  const int32_t *hist_ids;  /* product rows held */
} rec_batch;

/* Forward state: activations of one pass, carved from an arena. */
typedef struct rec_fwd rec_fwd;

int rec_net_init(rec_net *net, const rec_arch *arch, int P, hp_error *err);
void rec_net_init_weights(rec_net *net, uint64_t seed);
void rec_net_free(rec_net *net);
/* Encodes a customers table (one with the training customers' feature columns) as net's
 * customer tower reads it. */
int rec_encode_customers(const rec_net *net, const data_table *t, feat_enc *out, hp_error *err);

/* Product tower for the whole catalogue: v (P, d), bias (P). id_keep (P) or NULL: 0 drops
 * a product's id embedding and bias (training's id dropout; cold start at inference).
 * The forward functions return NULL when the arena is out of memory (HP_ERR_NOMEM). */
rec_fwd *rec_forward(rec_net *net, nn_arena *a, const rec_batch *b, const uint8_t *id_keep,
                         int training, float dropout, hp_rng *rng);
/* Customer tower only (inference): v and bias of the result are NULL. */
rec_fwd *rec_forward_customers(rec_net *net, nn_arena *a, const rec_batch *b);
/* Product tower once, for serving: v (P, d), bias (P), copied out. */
int rec_product_vectors(rec_net *net, const uint8_t *id_keep, float *v, float *bias, hp_error *err);
const float *rec_fwd_u(const rec_fwd *f);        /* (B, d) */
const float *rec_fwd_v(const rec_fwd *f);        /* (P, d) */
const float *rec_fwd_bias(const rec_fwd *f);     /* (P) */
/* Modality weights of row b: w[m] for each modality (0 for absent ones). */
void rec_fwd_weights(const rec_fwd *f, int b, float w[REC_MOD_COUNT]);
/* Backward from du (B,d), dv (P,d), dbias (P) into net->params.grad. HP_ERR_NOMEM when
 * the arena cannot hold the gradients (then grad is partly updated: skip the step). */
int rec_backward(rec_net *net, rec_fwd *f, const float *du, const float *dv, const float *dbias);
/* A first guess at the arena bytes a forward and backward pass of B rows with T text tokens,
 * H history ids, M multi ids takes; the arena grows to what the first pass measured
 * (nn_arena), so the guess only decides whether that first pass allocates. */
size_t rec_arena_bytes(const rec_net *net, int B, long T, long H, long M);


/* ------------------------------------------------------------------ split */

typedef enum { REC_ROLE_TRAIN = 0, REC_ROLE_VALID, REC_ROLE_TEST, REC_ROLE_NONE } rec_role;

/* What split.test_file (method "given") held: every row is in exactly one of unknown_customer,
 * unknown_product, other_kind, in_train, repeated, not_allowed or targets. */
typedef struct {
    long rows;               /* interactions read */
    long unknown_customer;   /* naming a customer the customers table does not have */
    long unknown_product;    /* a known customer, a product not in the catalogue */
    long first_unknown_line; /* line of the first of those two (0: none) */
    long other_kind;         /* of a kind that is not a target (split.target_kinds, else the
                                training positives) */
    long in_train;           /* a product the customer's training interactions hold already:
                                training items are never candidates, so never targets */
    long repeated;           /* the same customer and product again */
    long not_allowed;        /* targets of customers left out (no consent) */
    long targets;            /* distinct (customer, product) targets */
} rec_given_counts;
/* Why a test file left nobody to evaluate: its rows, by what became of them, one clause. */
void rec_given_counts_text(const rec_given_counts *g, char *out, size_t n);

/* Who trains, who is evaluated on what. Positives are interactions of the training kinds;
 * "label" interactions (from a label column) are kept apart as 0/1 labels. */
typedef struct {
    int ncust, P;
    uint8_t *role;                 /* (ncust) rec_role */
    int all_train;                 /* time split: every customer trains on what it shows */
    int64_t *vis_off;              /* (ncust+1) CSR: visible positive products, sorted, unique */
    int32_t *vis;
    int64_t *tgt_off[2];           /* [0] validation, [1] test: (ncust+1) CSR of target products */
    int32_t *tgt[2];
    float *label;                  /* (ncust) label value, NaN when none */
    int label_product;             /* product the labels are about, or -1 */
    size_t ntrain_pos;             /* visible positives of training customers */
    uint8_t *tag;                  /* (ntag = interactions) REC_TAG_* of each interaction */
    size_t ntag;
    rec_given_counts given;        /* method "given": the test file's rows */
} rec_split;

enum { REC_TAG_VISIBLE = 0, REC_TAG_VALID, REC_TAG_TEST, REC_TAG_IGNORE };

int rec_split_make(rec_split *s, const data_dataset *ds, const rec_config *cfg, hp_error *err);
void rec_split_free(rec_split *s);
/* Takes customers with allowed[c] == 0 out of everything: no training, no evaluation (the
 * consent gate's answer for processing their data). */
void rec_split_exclude(rec_split *s, const uint8_t *allowed);
/* Method "given", for evaluation: the validation slice goes back into each customer's visible
 * products (training data: history input and exclusions, so never a candidate), tags included;
 * the validation lists become empty. HP_ERR_NOMEM. */
int rec_split_fold_valid(rec_split *s);
/* Whether evaluation folds the validation targets back into training (rec_split_fold_valid):
 * methods "given" and "time" with split.cut, whose validation data lies before the test. */
int rec_split_folds_for_eval(const rec_config *cfg);
/* Whether customer c trains (its visible positives and label are training examples). */
int rec_split_trains(const rec_split *s, int c);
/* 1 if product p is among customer c's visible positives. */
int rec_split_visible(const rec_split *s, int c, int32_t p);

/* ------------------------------------------------------------------ batches and scoring */

/* Per-customer lists (CSR): history products, or targets. */
typedef struct {
    const int64_t *off;      /* (n+1) */
    const int32_t *ids;
} rec_lists;

/* Buffers for batches of up to cap rows. */
typedef struct {
    int cap;
    rec_batch b;
    float *num;
    int32_t *cat, *multi, *text, *hist;
    int64_t *multi_off, *text_off, *hist_off;
    size_t multi_cap, text_cap, hist_cap;
} rec_batchbuf;

int rec_batchbuf_init(rec_batchbuf *bb, const feat_enc *e, const rec_lists *hist, int cap);
void rec_batchbuf_free(rec_batchbuf *bb);
/* Gathers rows[0..n) of e into bb->b. hist (may have NULL off: no history) gives each row's
 * held products; skip[i] >= 0 leaves that product out of row i's history (the training
 * target must not be among its own inputs). */
void rec_gather(rec_batchbuf *bb, const feat_enc *e, const rec_lists *hist, const int32_t *rows,
                const int32_t *skip, int n);

/* Scores rows[0..n) against the whole catalogue: scores (n, P); weights (n, REC_MOD_COUNT)
 * or NULL. id_keep (P) or NULL as in rec_forward (0 = score a product from its features
 * only, as a product unseen in training is). */
int rec_score(rec_net *net, const feat_enc *e, const rec_lists *hist, const int32_t *rows, int n,
              const uint8_t *id_keep, float *scores, float *weights, hp_error *err);
/* HP_ERR_RANGE naming the first customer row (rows[i], or i when rows is NULL) and product
 * whose score in scores (n, P) is NaN or infinite: every scorer refuses those rather than
 * ranking around them. rec_score applies it. */
int rec_check_scores(const float *scores, size_t n, int P, const int32_t *rows, hp_error *err);

/* ------------------------------------------------------------------ training */

/* What training (and a peer implementation fed the same tensors) starts from: the split,
 * features fitted on training customers, every customer and the catalogue encoded, and a
 * net with its initial weights (train.seed). allowed as in rec_split_exclude. */
typedef struct {
    rec_split split;
    rec_net net;
    feat_enc cust;
} rec_setup;

/* Training examples of a split: one per visible positive of each training customer (target
 * 1), or for label data with BCE one per labelled training customer (the 0/1 label of the
 * label product). The one definition training and every peer implementation use. */
typedef struct {
    int32_t *c, *p;          /* (n) customer row, product */
    float *y;                /* (n) target */
    size_t n;
    int explicit_labels;     /* 1: BCE over label examples (known negatives) */
} rec_examples;

int rec_examples_make(rec_examples *ex, const rec_split *s, const rec_config *cfg); /* HP_ERR_NOMEM */
void rec_examples_free(rec_examples *ex);

int rec_setup_make(rec_setup *su, const data_dataset *ds, const rec_config *cfg, const uint8_t *allowed,
                   hp_error *err);
void rec_setup_free(rec_setup *su);


typedef struct {
    const char *out_dir;                     /* model files go here (created) */
    struct json_t *data_files;               /* data_files_fingerprint of ds (borrowed; may be NULL) */
    const char *data_config, *data_dir;      /* where the data came from (either may be NULL):
                                                recorded in model.json training.data, so that
                                                evaluate finds the data again */
    volatile int *stop;                      /* set asynchronously (SIGINT): stop, save, return */
    const uint8_t *allowed;                  /* (customers) 0: no consent to use this customer's
                                                data; NULL: everyone may be used */
    void (*progress)(void *ctx, const nn_fit_progress *p, const char *metric); /* metric: "ndcg", "auc" */
    void *ctx;
} rec_train_opts;

typedef struct {
    nn_fit_report fit;       /* epochs, best epoch and validation, steps, throughput, interrupted */
    const char *metric;      /* "ndcg" or "auc" */
    long n_train_customers, n_valid_customers, n_test_customers, n_excluded_customers;
    long n_test_evaluated;   /* test customers with a target (or label) to rank: what evaluate
                                scores; the others have nothing held out */
} rec_train_report;

/* Trains on ds as cfg says, with early stopping on the validation metric, and saves the best
 * model to opts->out_dir (model.safetensors + model.json) after every improvement, and on
 * interruption (returns HP_ERR_INTERRUPTED after saving). */
int rec_train(const data_dataset *ds, const rec_config *cfg, const rec_train_opts *opts,
              rec_train_report *rep, hp_error *err);

/* ------------------------------------------------------------------ model files */

/* In the model-file envelope (mfile/mfile.h): kind "recommender", this layout version. */
#define REC_KIND "recommender"
#define REC_KIND_VERSION 1

/* A trained model as loaded for scoring: the net plus the catalogue's product ids. */
typedef struct {
    rec_net net;
    rec_config cfg;
    char **product_ids;      /* (nproducts) the catalogue scored now (the training one unless
                                rec_set_catalogue replaced it) */
    int nproducts;
    char **product_name;     /* (nproducts) each product's "name" and "category" columns of */
    char **product_category; /*   its products table, NULL entries when it had none */
    data_dict trained;       /* ids of the training catalogue: code = row of history/id tables */
    long *popularity;        /* (trained.n) training positives per product (0s when unknown) */
    json_t *meta;            /* the whole model.json, owned */
    char *dir;               /* the directory it was loaded from, as given (for messages) */
} rec_model;

/* Writes model.safetensors and model.json as a new version of the model directory dir and
 * switches dir to it in one atomic step (mfile.h): a crash at any instant leaves the old
 * model or the new one, whole. extra (may be NULL) is merged into model.json under
 * "training". */
int rec_save(const char *dir, const rec_net *net, const rec_config *cfg, const data_table *products,
             json_t *extra, hp_error *err);
/* Loads a model directory (versioned, or the two files side by side as earlier builds wrote
 * them). Truncated, corrupt or mismatched files are clear errors, and so is every value of
 * model.json out of its range (a hand edit): the message names the file and the JSON path. */
int rec_load(const char *dir, rec_model *m, hp_error *err);
void rec_model_free(rec_model *m);
/* Where the model's training data came from (training.data of model.json): the dataset
 * config and the data folder, each NULL when not recorded (or for files of earlier builds).
 * The strings belong to m. HP_ERR_FORMAT naming the path when the entry is malformed. */
int rec_model_data_source(const rec_model *m, const char **config, const char **data_dir, hp_error *err);
/* training.data.files of model.json (data_files_fingerprint at training), or NULL. */
struct json_t *rec_model_data_files(const rec_model *m);
/* Validates and loads doc, a parsed model.json (name stands for its path in messages), into
 * m as rec_load does, short of the weights: m has the configuration, the catalogue, the
 * fitted features and the encoded catalogue, but no net parameters. m is initialised here;
 * free it with rec_model_free whatever the result. For tools and fuzzing. */
int rec_meta_load(rec_model *m, json_t *doc, const char *name, hp_error *err);
/* Replaces the catalogue with products (a products table with the training catalogue's
 * feature columns): known products keep their id embedding and bias, new ones (and ones
 * that had no training positive) score from their features alone. Returns the number of
 * products new to the model, or a negative status. */
int rec_set_catalogue(rec_model *m, const data_table *products, hp_error *err);

/* ------------------------------------------------------------------ serving */

/* A scorer for one customer at a time: the product tower computed once, buffers allocated
 * once (the arena grows to the largest request seen), so a request allocates nothing.
 * Not thread-safe: one per thread. id_keep (P) or NULL as in rec_forward. */
typedef struct rec_scorer rec_scorer;

int rec_scorer_new(rec_scorer **out, rec_net *net, const uint8_t *id_keep, hp_error *err);
void rec_scorer_free(rec_scorer *s);
/* All P scores of customer row `row` of e whose history (held products, as rows of the
 * training catalogue: codes of rec_model.trained) is hist[0..nh) (hist NULL: no history),
 * valid until the next call; the modality weights into weights (REC_MOD_COUNT) unless
 * NULL. NULL when out of memory. Scores may be NaN for a broken model: rank_run refuses
 * them. */
const float *rec_scorer_scores(rec_scorer *s, const feat_enc *e, int32_t row, const int32_t *hist, int nh,
                               float *weights);

/* ------------------------------------------------------------------ requests */

/* What the CLI and the service call: a loaded model ready for requests (the product tower
 * computed once, the ranking pipeline of rank.h, buffers for the whole catalogue), one
 * customer (a table row or a JSON object) or a table at a time, results that
 * rec_result_json turns into the JSON line `hyperp recommend` prints.
 * Ownership: the service borrows m (it must outlive the service, and a new catalogue,
 * rec_set_catalogue, comes before the service is made); a result's items and
 * strings are valid until the service's next call. Threading: one service per thread (a
 * loaded model may be shared read-only between services). */
typedef struct rec_service rec_service;

int rec_service_new(rec_service **out, rec_model *m, hp_error *err);
void rec_service_free(rec_service *s);
/* Its pipeline, to add stages (risk filters, fairness re-ranking, exploration). */
rank_pipeline *rec_service_pipeline(rec_service *s);

typedef struct {
    int k;                   /* products per customer (capped at the catalogue) */
    int include_held;        /* 1: held products stay candidates */
} rec_opts;

typedef struct {
    int32_t item;            /* catalogue index */
    const char *product_id;
    const char *name, *category; /* from the products table the model knows, or NULL */
    float score;             /* the model's score (popularity count when not personalised) */
    double probability;      /* BCE (propensity) models: sigmoid(score); NAN otherwise */
    float shown_prob;        /* probability the pipeline showed it with (1: deterministic) */
} rec_item;

typedef struct {
    const char *customer_id;
    int personalised;        /* 0: no consent to use the customer's data: the most popular
                                products not held, weights 0 */
    int n;
    rec_item *items;         /* (n), best first */
    float weights[REC_MOD_COUNT]; /* attention weight of each modality (which data mattered) */
    long unseen;             /* JSON requests: values of the customer the model never saw */
} rec_result;

typedef struct {
    long customers, personalised;
    long unseen;             /* categorical values and list items never seen in training */
} rec_table_stats;

typedef int (*rec_emit_fn)(void *ctx, const rec_result *r, hp_error *err);

/* Every customer of ds (ingested: customers, and interactions for held products and
 * history), in table order, to emit. allowed (customers) or NULL: allowed[row] == 0 gets the
 * non-personalised list (the consent gate's answer). A NaN score is an error naming the
 * customer and the model. */
int rec_recommend_table(rec_service *s, const data_dataset *ds, const uint8_t *allowed, const rec_opts *o,
                        rec_emit_fn emit, void *ctx, rec_table_stats *st, hp_error *err);

/* Per-request buffers of rec_recommend_json (zero-initialise; free when done). */
typedef struct {
    data_dataset ds;
    feat_enc enc;
} rec_request_buf;
void rec_request_buf_free(rec_request_buf *b);

/* One customer given as a JSON object with the customers table's columns, read with the
 * same checks ingest applies to a file (config_text: the dataset config, config_name its
 * name in messages), and "held": [product ids] (optional). Errors name the field. */
int rec_recommend_json(rec_service *s, const char *config_text, size_t config_len, const char *config_name,
                       json_t *record, int personalised, const rec_opts *o, rec_result *r, rec_request_buf *buf,
                       hp_error *err);

/* The JSON object of a result: {"customer_id", "personalised", "recommendations":
 * [{"product_id", "score", "name"?, "category"?, "probability"?}], "modality_weights"}. */
json_t *rec_result_json(const rec_result *r);

/* ------------------------------------------------------------------ evaluation */

/* Systems of an evaluation. itemknn and ease are the baselines of src/base fitted on the
 * training customers' visible positives (what the model trains on) and scoring each
 * customer from its visible positives. */
enum { REC_SYS_MODEL = 0, REC_SYS_POPULARITY, REC_SYS_ORACLE, REC_SYS_ITEMKNN, REC_SYS_EASE, REC_SYS_COUNT };
const char *rec_system_name(int sys);
/* EASE's lambda is chosen from this grid by validation NDCG@k (before the test set is seen). */
#define REC_EASE_NLAMBDA 6
extern const double rec_ease_lambdas[REC_EASE_NLAMBDA];

typedef struct {
    int label_mode;                          /* 1: one product with 0/1 labels (propensity) */
    int k;
    int has[REC_SYS_COUNT];
    eval_rank_result rank[REC_SYS_COUNT];  /* ranking metrics of each system */
    eval_binary_result binary;               /* label mode: the model's AUC, log loss, ... */
    int has_values;                          /* test interactions carried values (ratings) */
    eval_regression_result values[2];        /* [0] the model's score mapped to the value scale
                                                by least squares on training customers; [1] each
                                                product's mean training value */
    double value_a, value_b;                 /* value ~ a * score + b */
    long n_customers;                        /* evaluated */
    int has_given;                           /* split "given": what the test file held */
    rec_given_counts given;
    double modality_weight[REC_MOD_COUNT]; /* mean attention weight per modality */
    double ease_lambda;                      /* the lambda EASE was fitted with */
    int ease_validated;                      /* 1: chosen by validation (ease_valid holds
                                                NDCG@k per rec_ease_lambdas); 0: no validation
                                                customer, the default 500 */
    double ease_valid[REC_EASE_NLAMBDA];
    char ease_skipped[160];                  /* non-empty: why EASE was not run */
} rec_eval_result;

/* Evaluates a loaded model on ds's test customers (the split in the model's config):
 * the model, popularity among training customers, the item-kNN and EASE baselines
 * (src/base; not for propensity models) and, when evaluate.oracle_file (or
 * oracle) names a truth file, the oracle. allowed (customers, or NULL) leaves out the
 * customers whose data may not be used (the consent gate's answer). */
int rec_evaluate(rec_model *m, const data_dataset *ds, const char *oracle, const uint8_t *allowed,
                 rec_eval_result *r, hp_error *err);
/* Writes metrics.json, metrics.csv and summary.txt into dir. */
int rec_eval_write(const rec_eval_result *r, const char *dir, hp_error *err);
void rec_eval_print(const rec_eval_result *r, void *file);

#endif
