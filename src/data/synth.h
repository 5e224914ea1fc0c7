/* data_synth: the synthetic data generator. It writes a customers/products/interactions/
 * transactions data set in the hackathon's CSV format, together with the hidden truth it was
 * drawn from, so that every later stage (ingest, recommender, risk, fairness) can be measured
 * against an oracle.
 *
 * Files written into out_dir (RFC 4180 CSV, UTF-8, LF line ends, fields containing , " or a
 * newline are quoted with "" doubling):
 *   customers.csv      customer_id,industry,employees,revenue,financial_needs,preferences,
 *                      region,founded,owner_gender,minority_owned,since,rm_note,message
 *   products.csv       product_id,name,category,term_months,risk_class,min_revenue,fee_level,
 *                      description
 *   interactions.csv   customer_id,product_id,kind,value,timestamp
 *                      kind: held | clicked | adopted | rated; value 1-5 for rated, else 1
 *   transactions.csv   customer_id,timestamp,amount,category,counterparty,memo
 *   truth_customers.csv customer_id,distress,risk,sentiment,protected_group
 *   truth_affinity.csv customer_id,<one column per product_id>: the true adoption
 *                      probability WITHOUT the injected bias
 *   truth.json         generator version, options, model weights, product popularity, the
 *                      needs -> products map: everything needed to reproduce the model
 *
 * The hidden model (weights in truth.json "model"):
 *   logit(c,p) = intercept + engagement(c) + popularity(p) + industry(c) x category(p)
 *              + industry-favoured product tags + size fit (revenue vs min_revenue, small-
 *                business products for big firms, long terms for young firms)
 *              + need bonus (a listed or hidden financial need maps to p)
 *              + preference bonus + risk/sentiment x product purpose and risk class
 *              + noise(c,p)
 *   truth_affinity = sigmoid(logit). Observed holdings/adoptions are Bernoulli draws from
 *   that probability, EXCEPT that for protected_group = 1 the probability of lending
 *   products is multiplied by exp(-bias): the injected bias a fairness stage must find.
 *   protected_group = 1 when owner_gender is female or nonbinary or minority_owned is yes;
 *   the protected attributes are drawn independently of everything else, so with bias = 0
 *   both groups adopt lending products at the same rate.
 *
 * Output is a pure function of the options: the same options give the same bytes. */
#ifndef DATA_SYNTH_H
#define DATA_SYNTH_H

#include "core/hp.h"
#include <stdint.h>

#define DATA_SYNTH_VERSION "1.0"
#define DATA_SYNTH_MIN_CUSTOMERS 100L
#define DATA_SYNTH_MAX_CUSTOMERS 1000000L
#define DATA_SYNTH_MIN_PRODUCTS 30
#define DATA_SYNTH_MAX_TX_PER_YEAR 365
#define DATA_SYNTH_MAX_BIAS 20.0

/* Called about every 1% of customers with stage "customers" and fraction in [0, 1], and
 * once with stage "done" and 1.0 at the end. ctx is opts->progress_ctx. */
typedef void (*data_synth_progress_fn)(void *ctx, const char *stage, double fraction);

typedef struct {
    long customers;          /* N, DATA_SYNTH_MIN_CUSTOMERS..DATA_SYNTH_MAX_CUSTOMERS */
    uint64_t seed;           /* every random choice derives from it */
    double bias;             /* >= 0: protected group's lending adoption x exp(-bias) */
    int tx_per_year;         /* mean transactions per customer over the one-year window, 0..365 */
    int products;            /* DATA_SYNTH_MIN_PRODUCTS..data_synth_max_products() */
    data_synth_progress_fn progress; /* may be NULL */
    void *progress_ctx;
} data_synth_opts;

/* Fills o with the defaults: 10,000 customers, seed 42, bias 0.5, 12 transactions per
 * customer per year, 36 products, no progress callback. */
void data_synth_opts_init(data_synth_opts *o);

/* Size of the built-in product catalog: the largest allowed opts->products. */
int data_synth_max_products(void);

/* Checks o without writing anything: HP_OK, or HP_ERR_RANGE with a sentence naming the
 * option and its allowed range ("customers: 50 is outside 100..1000000"). */
int data_synth_check(const data_synth_opts *o, hp_error *err);

/* Generates the data set into out_dir (created with its parents when missing; existing files
 * of the same names are replaced). opts NULL means the defaults. Returns HP_OK; HP_ERR_RANGE
 * for bad options; HP_ERR_INVAL for a NULL out_dir; HP_ERR_NOMEM; HP_ERR_IO when a directory
 * cannot be created (or out_dir is not one); HP_ERR_WRITE when a file cannot be created or
 * written (disk full: the environment, exit 1), with the path in err. After a failure
 * the files may be partly written. Memory use does not grow with N. */
int data_synth_run(const data_synth_opts *opts, const char *out_dir, hp_error *err);

#endif
