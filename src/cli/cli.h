/* cli: thin subcommands. Each parses its flags, calls the library, prints. No logic here
 * that the HTTP service would need again. Exit codes: 0 success, 1 failure while working,
 * 2 bad usage or bad input (a whole file that cannot be used). */
#ifndef CLI_H
#define CLI_H

#include "core/hp.h"
#include "data/data.h"
#include "io/io_out.h"
#include "privacy/privacy.h"
#include "store/store.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

int cli_synth(int argc, char **argv);
int cli_ingest(int argc, char **argv);
int cli_train(int argc, char **argv);
int cli_evaluate(int argc, char **argv);
int cli_recommend(int argc, char **argv);
int cli_privacy(int argc, char **argv);
int cli_audit(int argc, char **argv);

/* Loads a dataset config (or the built-in one over data_dir) and applies per-table file
 * overrides (NULL entries keep the config's file). */
/* The model folder commands use without --model: artifacts/model when it holds a model,
 * else artifacts/demo/model (what `make demo` trains) when that does, else artifacts/model. */
const char *cli_default_model(void);

/* The files of a model directory (mfile.h), which no output may be. */
#define CLI_MODEL_FILES 2
extern const char *const cli_model_files[CLI_MODEL_FILES];
/* Says on stderr that model, what cli_default_model returned, is the demo's fallback. */
void cli_note_default_model(const char *model);

int cli_load_dataset(data_dataset *ds, const char *config, const char *data_dir,
                     const char *const files[DATA_T_COUNT], hp_error *err);


/* Prints "hyperp: <msg>" to stderr and returns the exit code that fits status. PII in msg is
 * masked (data_quote_message), except inside the arguments given to cli_user_arg (a card
 * number is masked even there). */
int cli_error(int status, const char *msg);
/* An argument of the user's own that messages may echo in clear: a path or a flag value given
 * on the command line (no flag takes customer data; customer ids are positional operands and
 * stay masked). arg must live as long as the run (an argv string). */
void cli_user_arg(const char *arg);
/* Exit code for a library status: input problems are 2, the rest 1. */
int cli_exit_code(int status);
/* Creates a directory and its parents (like mkdir -p). */
int cli_mkdirs(const char *path, hp_error *err);
/* Progress on a TTY (one line rewritten in place), nothing otherwise. */
void cli_progress(void *ctx, const char *stage, double fraction);
void cli_progress_done(void);
/* Parses a non-negative integer flag value (digits only); returns 0 on success, else prints
 * "hyperp: FLAG: why" and returns -1. */
int cli_parse_u64(const char *flag, const char *s, uint64_t *out);
/* Parses an integer in lo..hi; returns 0 on success, else prints "hyperp: FLAG: 'S' is not a
 * non-negative integer (allowed: LO..HI)" or "hyperp: FLAG: S is outside LO..HI" (overflow
 * too) and returns -1. */
int cli_parse_range(const char *flag, const char *s, long long lo, long long hi, long long *out);

/* getopt_long over opts (long options, plus -h), refusing a value flag given twice: getopt
 * alone would silently keep the last one (train --epochs 3 --epochs 5 trains 5 epochs).
 * given holds the values seen so far (zero it before the first call). On a repeat prints
 * "hyperp: flag --NAME given twice ('A', then 'B'): it takes one value" and returns '?', as
 * getopt_long does for an unknown flag (so the caller's default branch prints its usage). */
struct option;
#define CLI_MAX_FLAGS 64
typedef struct { const char *value[CLI_MAX_FLAGS]; } cli_given;
int cli_getopt(int argc, char **argv, const struct option *opts, cli_given *given);

/* privacy_load_key, printing its warning (a key file others can read) to stderr once. */
int cli_load_key(privacy_ctx *ctx, hp_error *err);
/* Parses --expect-head's 64 hex digits into out (lower case); prints why and returns -1 if not. */
int cli_parse_head(const char *flag, const char *s, char out[65]);
/* Prints the audit log's head to stderr ("audit head: HASH (seq N); keep it ..."): every command
 * that writes the log says it, so it can be kept outside the store (truncation is only caught
 * against a head kept elsewhere). The _of form opens the store at db (nothing if absent). */
void cli_print_audit_head(store *s);
void cli_print_audit_head_of(const char *db);

/* The privacy store whose consent records gate a command: --consent-db, else $HYPERP_DB
 * (the store the privacy commands use), else none; NULL too with --no-consent-check. */
const char *cli_consent_db(const char *flag, int disabled);
/* Asks the privacy store at db which customers of the table may be processed for purpose
 * (a privacy_purpose): *allowed (nrows, caller frees with hp_free) is 1 or 0 per row. The
 * pseudonym key must be set (the gate's decisions are audited). */
int cli_consent_gate(const char *db, const data_table *customers, int purpose, uint8_t **allowed,
                     size_t *nallowed, hp_error *err);
/* Same, and *snapshot gets the consent snapshot the decisions were made on (for training:
 * pass it to cli_register_model). */
int cli_consent_gate_snapshot(const char *db, const data_table *customers, int purpose,
                              uint8_t **allowed, size_t *nallowed, int64_t *snapshot, hp_error *err);
/* Records a trained model (model_dir) in the privacy store's registry, audited, against the
 * snapshot its gate used: an erasure or withdrawal since then registers it as due. */
int cli_register_model(const char *db, const char *model_dir, const uint8_t *allowed, size_t n,
                       int64_t snapshot, hp_error *err);

/* ---- output paths (cli_out.c) ---- */
/* Refuses (HP_ERR_INVAL, exit 2, the message naming flag and both paths) an output path that
 * is a privacy store (db, $HYPERP_DB or the default, with their -wal, -shm and -journal
 * files) or one of the n inputs (by device and inode). */
int cli_refuse_output(const char *flag, const char *out, const char *db, const char *const *inputs,
                      size_t n, hp_error *err);
/* The same for the files names[] a command writes into dir. */
int cli_refuse_outputs_in(const char *flag, const char *dir, const char *const *names, size_t nnames,
                          const char *db, const char *const *inputs, size_t n, hp_error *err);
/* Checks out as cli_refuse_output and opens it owner-only (io/io_out.h); a FILE *, or NULL
 * with err set (HP_ERR_INVAL refused, HP_ERR_WRITE cannot write). */
void *cli_open_output(const char *flag, const char *out, const char *db, const char *const *inputs,
                      size_t n, hp_error *err);
/* Checks out as cli_refuse_output and starts writing it (io_out_start: a regular file is
 * written to a temporary file renamed over it only when complete, so that a command that
 * fails leaves no partial file). */
int cli_start_output(io_out_file *o, const char *flag, const char *out, const char *db,
                     const char *const *inputs, size_t n, hp_error *err);
/* Finishes o (io_out_finish with rc: every write checked, the message naming the path), then,
 * when db is set, registers it there as an output of kind (a privacy_output_kind). A file that
 * cannot be registered is removed again: no new file holding customer ids is left where
 * erasure cannot find it. */
int cli_finish_output(io_out_file *o, int rc, const char *db, int kind, hp_error *err);
/* The files a dataset reads (its config first when given); returns how many (at most max). */
size_t cli_dataset_inputs(const data_dataset *ds, const char *config, const char **out, size_t max);
/* Registers an output file holding customer ids (a privacy_output_kind) in the store db. */
int cli_register_output(const char *db, const char *path, int kind, hp_error *err);

#endif
