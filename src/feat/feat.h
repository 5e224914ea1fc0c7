/* feat: the features of a customers or products table, fitted and encoded.
 *
 * Any model over customer (or product) tables starts here: the recommender's towers today;
 * risk, reward and sentiment models next. Four kinds of feature, each from the columns of
 * its data role:
 *   numeric      numeric, band and timestamp columns: scaled (log1p for heavy tails and
 *                bands), timestamps as years before the latest fitted time, a missing
 *                indicator where training saw a value missing
 *   categorical  categorical columns (protected ones only when asked): one vocabulary each,
 *                rows of one shared embedding table, row 0 of each = unknown or missing
 *   multi        multi-valued lists: vocabularies as categorical, unknown items dropped
 *   text         text columns: hashed unigram and bigram tokens (text/tok.h)
 *
 * feat_fit learns vocabularies and scaling from the training rows only; feat_encode turns
 * any table with those columns (the training one, a later file, one request's record) into
 * the compact arrays a net reads, counting the values training never saw. A fitted spec
 * goes to and from JSON (model metadata) with every value checked, since model files may be
 * edited by hand.
 *
 * Ownership: a feat_spec and a feat_enc own all their arrays (free with their _free; both
 * free functions accept a zeroed struct). Threading: a fitted spec is read-only while
 * encoding, so one spec can serve many threads each encoding into its own feat_enc.
 * Failure: int status, messages naming the table or the JSON path. */
#ifndef FEAT_H
#define FEAT_H

#include "core/hp.h"
#include "data/data.h"

#include <jansson.h>

/* Limits of fitted scaling that loading accepts (fitting stays inside them: a column with
 * magnitudes above FEAT_LOG_ABOVE is scaled on a log scale). */
#define FEAT_LOG_ABOVE 1e12
#define FEAT_SCALE_MAX 1e15      /* |mean| and std */
#define FEAT_STD_MIN 1e-7        /* fitting gives std > 1e-6, or 1 */
#define FEAT_REF_MAX 1e19        /* |ref| of timestamps (seconds) */

/* Which features a model wants and how text is hashed. */
typedef struct {
    int numeric, categorical, multi, text; /* kinds on (1) or off (0) */
    int text_buckets;        /* hashed text vocabulary, a power of two */
    int max_tokens;          /* tokens kept per row over all its text columns */
    int include_protected;   /* protected attributes as categorical features (default never) */
} feat_opts;

typedef struct {
    char *column;            /* source column name */
    int role;                /* data_role */
    int log;                 /* 1: signed log1p before scaling (heavy-tailed) */
    float mean, std;         /* scaling fitted on training rows */
    double ref;              /* timestamps: the value is years before ref (latest fitted time) */
    int missing_slot;        /* index of its missing-indicator feature, or -1 */
} feat_num;

typedef struct {
    char *column;
    int offset;              /* first row of this column in the shared embedding table */
    int size;                /* rows: vocabulary + 1 (row offset+0 = unknown/missing) */
    data_dict vocab;         /* value -> code (row offset+1+code) */
} feat_vocab;

typedef struct {
    int nnum;                /* numeric inputs (scaled values and missing indicators) */
    feat_num *num;
    int nnumcols;
    feat_vocab *cat;         /* categorical columns */
    int ncat;
    int cat_rows;            /* rows of the categorical table */
    feat_vocab *multi;       /* multi-valued columns */
    int nmulti;
    int multi_rows;
    char **text;             /* text columns */
    int ntext;
} feat_spec;

/* Encoded rows: what a net reads. */
typedef struct {
    int n;
    int F;                   /* numeric width */
    float *num;              /* (n, F) */
    int C;                   /* categorical columns */
    int32_t *cat;            /* (n, C) rows of the categorical table */
    int64_t *multi_off;      /* (n+1) CSR over multi_ids */
    int32_t *multi_ids;      /* rows of the multi table */
    int64_t *text_off;       /* (n+1) CSR over text_ids */
    int32_t *text_ids;       /* hashed text buckets */
    long unseen;             /* categorical values and list items present in the table but
                                never seen in training (encoded as unknown / dropped) */
} feat_enc;

/* 1 for the data roles that give numeric features (numeric, band, timestamp). */
int feat_is_numeric_role(int role);

/* Fits vocabularies and scaling on the rows with use[row] != 0 (NULL: all rows). */
int feat_fit(feat_spec *fs, const data_table *t, const unsigned char *use, const feat_opts *o, hp_error *err);
/* Encodes every row of t (unknown categories -> the unknown row; missing numbers -> 0 with
 * the missing indicator set; empty lists and texts -> empty). Columns of the spec that t
 * lacks encode as missing. */
int feat_encode(const feat_spec *fs, const data_table *t, const feat_opts *o, feat_enc *out, hp_error *err);
void feat_spec_free(feat_spec *fs);
void feat_enc_free(feat_enc *e);
json_t *feat_spec_to_json(const feat_spec *fs);
/* Loads what feat_spec_to_json wrote; fs is initialised here (free it whatever the result). */
int feat_spec_from_json(feat_spec *fs, json_t *j, hp_error *err);

#endif
