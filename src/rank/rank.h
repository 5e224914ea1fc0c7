/* rank: from one customer's scored catalogue to the list the customer is shown.
 *
 * Every ranking in hyperp goes through here: the recommender's scores, the popularity
 * fallback for customers without consent, offline evaluation's systems and (next) the
 * service. A pipeline runs stages of four kinds, always in this order:
 *
 *   RANK_FILTER    drop candidates: products the customer holds (built in, first), then
 *                  eligibility and suitability (risk: a product this customer may not get)
 *   RANK_RERANK    reorder or rescore the best `depth` survivors (fairness correction)
 *   RANK_EXPLORE   choose the k shown and the probability each was shown with, so that
 *                  feedback learning can weigh what it observes (off-policy evaluation)
 *
 * Selection between the filters and the re-rankers is rank_topk: higher score first, ties
 * to the lower product index (the same order as eval), NaN or infinite scores refused.
 * A pipeline without re-rank or exploration stages returns exactly rank_topk's list, with
 * probability 1 for every entry.
 *
 * Ownership: a pipeline owns its buffers (sized for P products once, so a run allocates
 * nothing); stages' state stays the caller's and must outlive the pipeline.
 * Threading: a pipeline is not thread-safe: one per thread (they are small); stages may be
 * shared between pipelines only if their run function is. Failure: int status, with a
 * message naming the stage. */
#ifndef RANK_H
#define RANK_H

#include "core/hp.h"

#include <stdint.h>

/* One shown (or candidate) product. */
typedef struct {
    int32_t item;            /* product index in the catalogue */
    float score;             /* the model's score, or the last re-ranker's */
    float prob;              /* probability this item was shown at this position under the
                                exploration policy: 1 for a deterministic list */
} rank_entry;

/* The best n of k items whose score beats the rest, best first, leaving out skip[p] != 0
 * (skip may be NULL). out has room for k. Returns n (< k when fewer candidates remain), or
 * HP_ERR_RANGE when a candidate's score is NaN or infinite (never ranked around). */
int rank_topk(const float *scores, int P, const uint8_t *skip, int k, rank_entry *out);

/* Popularity: adds 1 to count[items[i]] for every i with keep[i] != 0 (keep may be NULL:
 * all). Items outside [0, P) are ignored. The one count behind every popularity ranking. */
void rank_popularity_add(double *count, int P, const int32_t *items, size_t n, const uint8_t *keep);

/* ------------------------------------------------------------------ the pipeline */

typedef enum { RANK_FILTER = 0, RANK_RERANK, RANK_EXPLORE } rank_kind;

/* What a run knows about the customer being ranked. */
typedef struct {
    const int32_t *held;     /* products the customer already holds (may be NULL) */
    int nheld;
    int include_held;        /* 1: held products stay candidates */
    uint64_t seed;           /* exploration's randomness for this request (reproducible) */
    const void *user;        /* the caller's data for its stages (a customer record, say) */
} rank_request;

/* One customer's candidates while the pipeline runs. Filters see all P products (drop
 * with rank_drop); re-rankers and explorers see list[0..n), best first. */
typedef struct {
    int P;
    const float *scores;     /* (P) the scores ranked */
    uint8_t *dropped;        /* (P) 0: candidate; else 1 + index of the stage that dropped it */
    rank_entry *list;        /* (depth) after selection */
    int n;                   /* entries in list */
    int k;                   /* entries the caller wants */
    int depth;               /* selected for re-ranking: max(k, the pipeline's depth) */
    hp_rng rng;              /* seeded from the request */
    int stage;               /* index of the running stage */
} rank_list;

typedef struct {
    const char *name;        /* for messages and rank_dropped_by */
    rank_kind kind;
    /* Filters drop items of l (rank_drop); re-rankers reorder or rescore l->list[0..l->n)
     * and may shorten it; explorers choose and order the shown entries in l->list, set
     * their prob and may shorten it. Non-zero stops the run with that status. */
    int (*run)(void *state, rank_list *l, const rank_request *rq, hp_error *err);
    void *state;
} rank_stage;

#define RANK_MAX_STAGES 16

typedef struct rank_pipeline rank_pipeline;

/* A pipeline for a catalogue of P products whose first stage excludes held products.
 * depth (>= 0): how many of the best candidates re-rankers and explorers get to work on
 * (at least k). */
int rank_pipeline_new(rank_pipeline **out, int P, int depth, hp_error *err);
void rank_pipeline_free(rank_pipeline *pl);
/* Appends a stage. Kinds must come in the order above (HP_ERR_INVAL otherwise). */
int rank_pipeline_add(rank_pipeline *pl, const rank_stage *st, hp_error *err);
int rank_pipeline_nstages(const rank_pipeline *pl);

/* Runs the stages over scores (P) and writes up to k entries, best first, into out.
 * Returns the number written, or a negative status (a NaN score: HP_ERR_RANGE). */
int rank_run(rank_pipeline *pl, const float *scores, const rank_request *rq, int k, rank_entry *out,
             hp_error *err);
/* After a run: the name of the stage that dropped item, or NULL when it stayed a candidate. */
const char *rank_dropped_by(const rank_pipeline *pl, int32_t item);

/* For filters: drops item from l (ignored outside [0, P); the first stage to drop it keeps
 * the credit). */
void rank_drop(rank_list *l, int32_t item);

#endif
