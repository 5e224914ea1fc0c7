/* ckpt: model files. Weights are safetensors, everything else is JSON beside them.
 *
 * A safetensors file is
 *   u64 N (little endian) | N bytes of JSON header | data buffer
 * The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
 * (byte offsets into the data buffer) and may hold "__metadata__", a string -> string map.
 * hyperp writes F32 little-endian tensors in table order, pads the header with spaces so
 * the buffer starts 8-byte aligned, and puts "format": "hyperp", "format_version": "2" and
 * "checksum" in __metadata__. The files load in PyTorch (safetensors.torch.load_file, or by
 * hand: tests/fixtures/check_ckpt.py).
 *
 * The checksum covers every byte of the file: it is the BLAKE2b-128 (libsodium's
 * crypto_generichash, 16 bytes, no key) of the whole file (the 8 length bytes, the header
 * with its padding, the data buffer) with the checksum's own 32 hex digits read as '0's,
 * written as 32 lowercase hex digits. The header must hold "checksum":"<digits>" exactly
 * once, so no byte of the file can change without the load refusing it (a flipped bit in a
 * weight, the step, the padding). format_version "1" files (earlier builds, or written by
 * hand as in tests/fixtures/gen_ckpt_ref.py) have no checksum and are still read; a version 1
 * file that carries one is refused (it is a damaged version 2 file).
 *
 * Reading treats the file as hostile: the header length is checked against the file and a
 * 100 MB limit, the JSON is parsed strictly (duplicate keys are errors), every dtype, shape
 * and offset is checked with overflow-safe arithmetic, and the tensors must tile the data
 * buffer exactly (contiguous, non-overlapping, no trailing bytes). Nothing is read out of
 * bounds whatever the bytes are.
 *
 * Errors: every function returns HP_OK or a negative hp_status and writes one sentence in
 * err that starts with the path (or buffer name):
 *   HP_ERR_IO       cannot open or read the file
 *   HP_ERR_WRITE    cannot create, write or rename it (a full disk: the environment, not bad
 *                   input)
 *   HP_ERR_FORMAT   not a well-formed safetensors file, or tensors that do not fit the model
 *                   (wrong dtype or shape, a tensor the model does not have)
 *   HP_ERR_NOTFOUND a tensor the model needs is not in the file
 *   HP_ERR_VERSION  a safetensors file, but not a hyperp one or another format_version
 *   HP_ERR_INVAL    bad arguments (reserved or invalid metadata keys, step < 0)
 *   HP_ERR_NOMEM    allocation failed
 *
 * Writing is atomic: PATH.tmp is written, flushed, fsync'ed and closed (errors checked),
 * then renamed over PATH, so a crash leaves either the old file or the new one under PATH,
 * never half a file. A failed write removes PATH.tmp and leaves PATH untouched. Two
 * processes must not write the same PATH at once (they would share PATH.tmp). */
#ifndef CKPT_H
#define CKPT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/hp.h"
#include "nn/nn.h"

#define CKPT_FORMAT "hyperp"
#define CKPT_FORMAT_VERSION "2"        /* written: with the checksum */
#define CKPT_FORMAT_VERSION_LEGACY "1" /* still read: no checksum */
#define CKPT_CHECKSUM_KEY "checksum"
#define CKPT_CHECKSUM_BYTES 16         /* BLAKE2b-128 */
#define CKPT_MAX_HEADER ((uint64_t)100 << 20) /* bytes of JSON header accepted */
#define CKPT_MAX_DIMS 8                       /* dims accepted in a file's shapes */

/* Suffixes of the AdamW moment tensors in a full checkpoint: "<name>.adam_m", ".adam_v". */
#define CKPT_ADAM_M ".adam_m"
#define CKPT_ADAM_V ".adam_v"

/* ------------------------------------------------------------------ writing */

/* Writes every tensor of p (p->data; F32, shapes from p->t, in table order) to path, with
 * __metadata__ = {"format": "hyperp", "format_version": "2", "checksum": ...,
 * meta_keys[i]: meta_vals[i]...}. The caller's keys must be valid UTF-8, distinct, and not
 * "format", "format_version", "checksum" or "step" (HP_ERR_INVAL); values must be valid
 * UTF-8. meta_keys/meta_vals may be NULL when nmeta is 0. p is not modified. */
int ckpt_save(const char *path, const nn_params *p, const char *const *meta_keys,
              const char *const *meta_vals, int nmeta, hp_error *err);

/* Same, plus the AdamW moments (p->m as "<name>.adam_m", p->v as "<name>.adam_v", after all
 * the weights) and "step": the decimal step (>= 0) the moments belong to, so training
 * resumes bit-for-bit from the file. */
int ckpt_save_full(const char *path, const nn_params *p, long step, const char *const *meta_keys,
                   const char *const *meta_vals, int nmeta, hp_error *err);

/* ------------------------------------------------------------------ loading into a model */

/* Loads path into p, which the caller has initialised (nn_params_init) with the tensor table
 * the model expects. The file must be a hyperp checkpoint of format_version 1 or 2 (else
 * HP_ERR_VERSION) whose checksum (version 2) matches its bytes (else HP_ERR_FORMAT, "checksum
 * mismatch"), and every tensor of p must be in it as F32 with the same shape (else
 * HP_ERR_FORMAT / HP_ERR_NOTFOUND naming the tensor, e.g. "w.safetensors: tensor
 * 'cust.num.w1' has shape [32,7], the model expects [32,8]"). A tensor in the file the model
 * does not have is an error too. With with_optimizer_state, "<name>.adam_m"/".adam_v" of
 * every tensor are required and loaded into p->m / p->v, and "step" must be valid; without
 * it they are checked when present but not loaded (an inference load of a training
 * checkpoint). Everything is validated before p is touched: on any error but HP_ERR_IO (the
 * file failing mid-read) p is unchanged. Gradients are never touched. */
int ckpt_load(const char *path, nn_params *p, int with_optimizer_state, hp_error *err);

/* ckpt_load with the optimizer state, also returning the saved step in *step. */
int ckpt_load_full(const char *path, nn_params *p, long *step, hp_error *err);

/* ckpt_load from len bytes in memory (not copied, not kept); name stands for the path in
 * messages. step may be NULL; it is set only with with_optimizer_state. For fuzzing and for
 * files the caller already holds. */
int ckpt_load_buffer(const char *name, const void *buf, size_t len, nn_params *p,
                     int with_optimizer_state, long *step, hp_error *err);

/* ------------------------------------------------------------------ looking inside a file */

typedef struct {
    char *name;                    /* owned */
    char dtype[8];                 /* "F32", "F16", "BF16", "I64", ... */
    int ndim;                      /* 0..CKPT_MAX_DIMS (0: a scalar) */
    int64_t shape[CKPT_MAX_DIMS];
    uint64_t begin, end;           /* byte range in the data buffer */
} ckpt_tensor_info;

typedef struct {
    int n;                         /* tensors, in data-buffer order */
    ckpt_tensor_info *t;           /* (n), owned */
    json_t *meta;                  /* the __metadata__ object (string values), an empty
                                      object when the file has none; owned (one reference) */
    uint64_t data_start;           /* file offset of the data buffer: 8 + header length */
} ckpt_info;

/* Reads and validates the header of any safetensors file (any dtype, any __metadata__: it
 * does not require a hyperp file) without reading the tensor data, and fills *info (free
 * with ckpt_info_free; on failure *info is empty). */
int ckpt_inspect(const char *path, ckpt_info *info, hp_error *err);
int ckpt_inspect_buffer(const char *name, const void *buf, size_t len, ckpt_info *info,
                        hp_error *err);
/* Frees what info owns; info may be NULL or already freed. */
void ckpt_info_free(ckpt_info *info);

/* The __metadata__ of a safetensors file (validated as by ckpt_inspect), as a new reference
 * the caller json_decref's: an object of strings, empty when the file has none. */
int ckpt_read_metadata(const char *path, json_t **meta, hp_error *err);

/* ------------------------------------------------------------------ JSON beside the weights */

/* Writes doc, an object or array (else HP_ERR_INVAL), atomically as ckpt_save does: 2-space
 * indent, keys in insertion order, doubles with 17 significant digits (they read back
 * exactly), a final newline. doc is not modified or released. */
int ckpt_write_json_atomic(const char *path, json_t *doc, hp_error *err);

/* Parses the JSON file path (duplicate keys are errors) into a new *doc the caller
 * json_decref's. Parse errors say "path:line:column: what" (HP_ERR_FORMAT); a file that
 * cannot be opened is HP_ERR_IO. On failure *doc is NULL. */
int ckpt_read_json(const char *path, json_t **doc, hp_error *err);

#endif
