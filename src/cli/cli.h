/* cli: thin subcommands. Each parses its flags, calls the library, prints. No logic here
 * that the HTTP service would need again. Exit codes: 0 success, 1 failure while working,
 * 2 bad usage or bad input (a whole file that cannot be used). */
#ifndef CLI_H
#define CLI_H

#include "core/hp.h"
#include "data/data.h"

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
int cli_load_dataset(data_dataset *ds, const char *config, const char *data_dir,
                     const char *const files[DATA_T_COUNT], hp_error *err);


/* Prints "hyperp: <msg>" to stderr and returns the exit code that fits status. */
int cli_error(int status, const char *msg);
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

/* The privacy store whose consent records gate a command: --consent-db, else $HYPERP_DB
 * (the store the privacy commands use), else none; NULL too with --no-consent-check. */
const char *cli_consent_db(const char *flag, int disabled);
/* Asks the privacy store at db which customers of the table may be processed for purpose
 * (a privacy_purpose): *allowed (nrows, caller frees with hp_free) is 1 or 0 per row. The
 * pseudonym key must be set (the gate's decisions are audited). */
int cli_consent_gate(const char *db, const data_table *customers, int purpose, uint8_t **allowed,
                     size_t *nallowed, hp_error *err);
/* Records a trained model (model_dir) in the privacy store's registry, audited. */
int cli_register_model(const char *db, const char *model_dir, const uint8_t *allowed, size_t n, hp_error *err);

#endif
