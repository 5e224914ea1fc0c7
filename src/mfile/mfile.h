/* mfile: the model-file envelope every trained model of hyperp is saved in.
 *
 * A model directory (versioned, switched atomically: mfile_dir.h) holds two files:
 *   model.safetensors   the weights (ckpt.h: F32 tensors, checksummed, loads in PyTorch)
 *   model.json          {"format": "hyperp-model", "format_version": 2,
 *                        "kind": "recommender", "kind_version": 1,
 *                        "weights": "model.safetensors", "weights_hash": "<16 hex>",
 *                        ...the kind's own sections}
 * The kind says which model it is (recommender today; risk, reward, sentiment next) and
 * kind_version the layout of that kind's sections; weights_hash ties the two files
 * together. Files of earlier builds ({"format": "hyperp-recommender", "format_version": 1},
 * no kind) load as kind "recommender", version 1.
 *
 * Loading is strict, for files may be edited by hand or damaged: the envelope checks its
 * own keys, refuses keys that neither it nor the kind knows, refuses another kind, loads
 * the weights into the tensor table the kind set up from its sections, refuses NaN or
 * infinite weights and weights of another training. Messages name the file and the key.
 *
 * Ownership: mfile_load hands the parsed model.json to the kind's callback, which keeps a
 * reference if it wants one. Threading: no shared state; two processes must not save into
 * one directory at once (mfile_dir.h), readers may run during a save (a load retries when
 * a save switched the directory under it). */
#ifndef MFILE_H
#define MFILE_H

#include "core/hp.h"
#include "nn/nn.h"

#include <jansson.h>

#define MFILE_FORMAT "hyperp-model"
#define MFILE_FORMAT_VERSION 2
#define MFILE_LEGACY_FORMAT "hyperp-recommender" /* format_version 1: kind recommender */
#define MFILE_META "model.json"
#define MFILE_WEIGHTS "model.safetensors"
#define MFILE_KIND_MAX 32

/* Saves p and body (an object with the kind's sections; none of its keys may be the
 * envelope's) as a new version of dir, atomically. body is not modified or released. */
int mfile_save(const char *dir, const char *kind, int kind_version, const nn_params *p, json_t *body,
               hp_error *err);

/* What a kind supplies to load its files. */
typedef struct {
    const char *kind;                 /* the kind wanted */
    int max_version;                  /* newest kind_version this build reads */
    const char *const *keys;          /* the kind's top-level sections (others are refused) */
    size_t nkeys;
    /* Validates doc's sections (jpath names model.json in messages; version is the file's
     * kind_version) and sets up the tensor table the weights load into (*params, owned by
     * ctx). Called once per attempt; reset undoes it before a retry. */
    int (*meta)(void *ctx, json_t *doc, const char *jpath, int version, nn_params **params, hp_error *err);
    void (*reset)(void *ctx);
} mfile_kind;

/* Loads the model directory dir as kind k: model.json through k->meta, then the weights
 * into the table it set up, every check above applied. */
int mfile_load(const char *dir, const mfile_kind *k, void *ctx, hp_error *err);

/* Checks the envelope of doc (a parsed model.json; name for messages) as mfile_load does,
 * without weights: for tools and fuzzing. *version gets the kind_version. */
int mfile_check(json_t *doc, const char *name, const mfile_kind *k, int *version, hp_error *err);

/* The kind of the model in dir ("recommender", ...) into kind (MFILE_KIND_MAX bytes). */
int mfile_kind_of(const char *dir, char *kind, hp_error *err);

#endif
