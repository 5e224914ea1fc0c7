/* privacy: consent, the processing gate, data-subject rights (export, erasure), retention,
 * pseudonymisation, k-anonymity and the compliance report. Every decision and every data
 * access is written to the hash-chained audit log (privacy/audit.h) under the customer's
 * pseudonym, never the raw id.
 *
 * The gate is ONE function: ingest, training and recommendation call privacy_allowed (or
 * privacy_allowed_bulk for a list) with a purpose. A customer without personalisation
 * consent gets non-personalised (popular, suitability-safe) products and is left out of
 * training data; that is the caller's branch on a 0 answer.
 *
 * Pseudonyms are "ps_" + 32 hex chars of HMAC-SHA256(key, id). The key comes from
 * HYPERP_PSEUDONYM_KEY_FILE (hex keys one per line: the current key first, retired keys after
 * it, so erasure and export still find entries written under an old key) or
 * HYPERP_PSEUDONYM_KEY (one hex key). It is never stored by hyperp. See docs/privacy.md. */
#ifndef PRIVACY_H
#define PRIVACY_H

#include "core/hp.h"
#include "store/store.h"
#include "data/data.h"
#include <stdint.h>

/* ------------------------------------------------------------------ purposes and config */

typedef enum {
    PRIVACY_PERSONALISATION = 0,
    PRIVACY_CREDIT_PROFILING,
    PRIVACY_MARKETING,        /* direct marketing; an Art. 21 objection is absolute */
    PRIVACY_ANALYTICS,
    PRIVACY_SALE_SHARING,     /* CCPA/CPRA sale or sharing; GPC is an opt-out of it */
    PRIVACY_PURPOSE_COUNT
} privacy_purpose;

const char *privacy_purpose_name(privacy_purpose p);
/* Accepts the names above and "personalization"; HP_ERR_INVAL naming the valid ones. */
int privacy_purpose_parse(const char *s, privacy_purpose *out, hp_error *err);

typedef enum { PRIVACY_ERASE_NEVER = 0, PRIVACY_ERASE_QUEUE, PRIVACY_ERASE_IMMEDIATE } privacy_erase_mode;

#define PRIVACY_MAX_QI 8

typedef struct {
    int64_t retention_days[STORE_CAT_COUNT]; /* 0: keep forever */
    int k_anonymity;                         /* refuse dataset exports below this k */
    privacy_erase_mode erase_on_withdrawal;  /* when a withdrawal leaves no purpose allowed */
    char qi[PRIVACY_MAX_QI][32];             /* quasi-identifier attribute names */
    int nqi;
} privacy_config;

/* Defaults: customer 365, transactions 730, feedback 730, features 30, logs 90 days; k 5;
 * never erase on withdrawal; QIs industry, region, employees, revenue. */
void privacy_config_default(privacy_config *c);
/* Reads a JSON config (docs/privacy.md) over the defaults; unknown keys are errors that name
 * the JSON path. Its text is read as the dataset config's: a UTF-8 BOM skipped, UTF-16
 * refused (io_config_text). */
int privacy_config_load(privacy_config *c, const char *path, hp_error *err);

/* ------------------------------------------------------------------ context */

#define PRIVACY_MAX_KEYS 4
#define PRIVACY_PSEUDONYM_LEN 36 /* "ps_" + 32 hex + NUL */
#define PRIVACY_ID_MAX 64

/* A privacy context: one open store (one SQLite connection), the configuration, the loaded
 * pseudonym keys, the actor written to the audit log and the clock. Opaque.
 * Threading: a context is used by one thread at a time (one per thread, or a caller's lock
 * around every call); contexts on the same store in several threads or processes are safe
 * (SQLite WAL, each writing transaction whole). Keys are wiped on close. */
typedef struct privacy_ctx privacy_ctx;

/* Opens the store at db_path (created on first use) into a new *out (NULL on failure).
 * cfg NULL: defaults. */
int privacy_open(privacy_ctx **out, const char *db_path, const privacy_config *cfg, hp_error *err);
/* Same for a store that must exist (HP_ERR_NOTFOUND naming the path otherwise): for what only
 * reads or changes what is held (store_open_existing). */
int privacy_open_existing(privacy_ctx **out, const char *db_path, const privacy_config *cfg, hp_error *err);
/* Closes the store, wipes the keys and frees ctx (NULL is fine). */
void privacy_close(privacy_ctx *ctx);
/* The clock: wall time unless privacy_set_now pinned it (tests, replays). */
int64_t privacy_now(const privacy_ctx *ctx);
void privacy_set_now(privacy_ctx *ctx, int64_t now);
/* Who acts ("cli", "service", "test"; default "library"), written to the audit log. */
void privacy_set_actor(privacy_ctx *ctx, const char *actor);
/* "" or a sentence for the user from privacy_load_key (a key file others can read). */
const char *privacy_warning(const privacy_ctx *ctx);
/* The configuration in use (change it only before the calls it should affect). */
privacy_config *privacy_cfg(privacy_ctx *ctx);
/* Keys loaded (0: none; the first is the current one). */
int privacy_nkeys(const privacy_ctx *ctx);
/* The context's store, for the store's own calls (store.h). */
store *privacy_store(privacy_ctx *ctx);

/* Loads the keys from the environment. HP_ERR_NOTFOUND with a sentence that names both
 * variables when neither is set; HP_ERR_FORMAT for a key that is not 32-128 hex digits (naming
 * file:line) or a key file holding a NUL byte. A key file that users other than its owner may
 * read is accepted with privacy_warning set (the CLI prints it). */
int privacy_load_key(privacy_ctx *ctx, hp_error *err);
/* Adds a key (the first added is current; later ones are retired). 16-64 bytes, not all
 * zero (HP_ERR_FORMAT). */
int privacy_add_key(privacy_ctx *ctx, const unsigned char *key, size_t n, hp_error *err);
/* Opens path for writing as a new private file (mode 0600, also when it existed): exports,
 * audit logs and masked text hold personal data. NULL with errno set on failure. */
void *privacy_fopen_private(const char *path);

/* Pseudonym of id under key k (0 = current). HP_ERR_NOTFOUND when that key is absent. */
int privacy_pseudonym_k(const privacy_ctx *ctx, int k, const char *id,
                        char out[PRIVACY_PSEUDONYM_LEN], hp_error *err);
int privacy_pseudonym(const privacy_ctx *ctx, const char *id, char out[PRIVACY_PSEUDONYM_LEN],
                      hp_error *err);

/* A customer id: 1-64 bytes of [A-Za-z0-9_.:@-], starting with a letter or digit.
 * HP_ERR_INVAL with a sentence quoting (a printable cut of) the bad id. */
int privacy_id_check(const char *id, hp_error *err);
/* privacy_id_check, and for an id about to be stored (consent events, and through them erasure
 * requests): refuses one that holds a card number, an e-mail address or an IBAN
 * (store_id_check_pii), without quoting it. Export and erase take such an id still, so that one
 * stored before can be removed. */
int privacy_id_check_storable(const char *id, hp_error *err);

/* ------------------------------------------------------------------ consent */

typedef enum { PRIVACY_GIVE = 0, PRIVACY_WITHDRAW, PRIVACY_OBJECT, PRIVACY_GPC } privacy_event;

typedef struct {
    const char *customer_id;
    privacy_purpose purpose;
    privacy_event event;
    const char *basis;           /* consent, contract, legal_obligation, legitimate_interest,
                                    vital_interest, public_task; NULL: consent */
    const char *source;          /* NULL: "unspecified" */
    const char *notice_version;  /* required for give */
    int64_t at;                  /* when the subject acted, used when has_at is set (0 is
                                    1970-01-01, not now). Future or before 2000: HP_ERR_RANGE */
    int has_at;                  /* 0: the subject acted now (at is ignored) */
} privacy_consent_req;

/* 1 for the channels where the customer acts themself: customer, web, app,
 * branch-customer-signed. After a withdrawal, objection or GPC opt-out only a give with basis
 * consent from one of them lifts it; for marketing and sale_sharing no basis other than
 * consent is accepted after one. */
int privacy_source_is_customer(const char *source);

/* Records one consent event and its audit entry in one transaction (creating the customer
 * row when new). Giving and withdrawing take the same call. A withdrawal that leaves no
 * purpose allowed queues or performs erasure when the config says so. Needs a key. */
int privacy_consent_record(privacy_ctx *ctx, const privacy_consent_req *req, hp_error *err);

/* Request-level signals for the gate. */
#define PRIVACY_REQ_GPC 1u     /* the request carries Sec-GPC: 1 */
#define PRIVACY_REQ_NO_AUDIT 2u /* the caller audits the batch itself */

typedef struct {
    int allowed;
    char reason[160];          /* "consent given 2024-03-01 (notice v3)", "objection to direct marketing" */
} privacy_decision;

/* THE GATE. Returns 1 when the customer's data may be processed for purpose, 0 when not,
 * or a negative hp_status (bad id, no key, store failure). Unknown customers and customers
 * without a record are denied (opt-in). why may be NULL. Audited unless NO_AUDIT. */
int privacy_allowed(privacy_ctx *ctx, const char *customer_id, privacy_purpose purpose,
                    unsigned flags, privacy_decision *why, hp_error *err);
/* The gate over n ids: allowed[i] is 1 or 0; *nallowed counts the ones. One audit entry
 * for the batch (counts and a keyed hash of the ids). Returns HP_OK or a negative status. */
int privacy_allowed_bulk(privacy_ctx *ctx, const char *const *ids, size_t n,
                         privacy_purpose purpose, unsigned flags, uint8_t *allowed,
                         size_t *nallowed, hp_error *err);

/* ------------------------------------------------------------------ rights */

/* Art. 15/20: writes everything held about the customer as one JSON document to f
 * (a FILE *). Audited. HP_ERR_NOTFOUND when nothing is held. */
int privacy_export(privacy_ctx *ctx, const char *customer_id, void *f, hp_error *err);

typedef struct {
    store_erase_counts rows;
    int64_t export_files_rewritten;
    int64_t output_files_rewritten; /* registered outputs (privacy_register_output) that lost
                                       the customer's lines */
    int64_t output_files_removed;   /* the customer's own registered exports, deleted */
    int64_t unreachable;            /* registered files that could not be checked: missing
                                       (moved or deleted), not a regular file, unparseable */
    char unreachable_list[1024];    /* "path (why); ..." cut to fit */
    int models_marked;         /* 1 when the registry now says retraining is due */
    int resumed;               /* 1: the rows were already gone; an interrupted erasure of
                                  this customer was finished */
} privacy_erase_result;

/* Output files that hold raw customer ids, by format. */
typedef enum {
    PRIVACY_OUT_REJECTS = 0,     /* ingest's rejects CSV */
    PRIVACY_OUT_RECOMMENDATIONS, /* recommend's JSONL, one "customer_id" per line */
    PRIVACY_OUT_SUBJECT_EXPORT,  /* privacy export --out: one customer's JSON document */
    PRIVACY_OUT_MASKED_TEXT,     /* privacy scan --mask: lines of text */
    PRIVACY_OUT_KIND_COUNT
} privacy_output_kind;

const char *privacy_output_kind_name(privacy_output_kind k);
/* Records an output file (by its absolute path, with its device and inode) in the store, so
 * that erasure removes the customer from it: lines of rejects, recommendations and masked
 * text that name the customer are dropped (the file rewritten atomically, 0600; in place when
 * it has other hard links), the customer's own export is deleted. Never the file's contents. */
int privacy_register_output(privacy_ctx *ctx, const char *path, privacy_output_kind kind, hp_error *err);

/* Art. 17: removes the customer from every table and every registered export file, redacts
 * audit subjects (under every loaded key), marks models for retraining, truncates the WAL,
 * and audits the erasure without naming the subject. HP_ERR_NOTFOUND when nothing is held.
 * Registered output files are rewritten first, before any row goes (a failure there stops the
 * erasure with nothing erased); the ones that cannot be reached are listed in res and counted
 * in the audit entry. A customer held only in registered output files is erased from them.
 * A registered file with other hard links is rewritten in place (every name loses the
 * customer), dataset and audit exports too; a registered path on which a symbolic link
 * appeared (its last component or any folder on it) is followed only to the file that was
 * registered (device and inode; never for an export, whose identity is not recorded),
 * otherwise left alone and listed as unreachable (a warning, not a failure: the erasure goes on).
 * The rows go in one transaction that also records the erasure as pending; the file,
 * registry and audit steps then finish it. When they fail (an export file cannot be
 * rewritten), running privacy_erase or privacy_purge again finishes it (res->resumed).
 * Opt-outs in force (withdrawal, objection, GPC) are kept as suppression records: a keyed
 * token and the purpose, never the id or the pseudonym (docs/privacy.md). */
int privacy_erase(privacy_ctx *ctx, const char *customer_id, privacy_erase_result *res,
                  hp_error *err);

/* ------------------------------------------------------------------ retention */

typedef struct {
    int64_t cutoff[STORE_CAT_COUNT]; /* 0: category kept forever */
    int64_t rows[STORE_CAT_COUNT];   /* past retention (dry run) or deleted */
    int64_t erasures;                /* pending erasure requests carried out */
} privacy_purge_result;

/* Deletes what is past its period (dry_run: only counts) and carries out queued erasures.
 * Customers deleted past retention count as erased for the model registry: registered models
 * are marked due, and a model whose consent snapshot is older registers as due. */
int privacy_purge(privacy_ctx *ctx, int dry_run, privacy_purge_result *res, hp_error *err);

/* ------------------------------------------------------------------ k-anonymity */

/* Generalises one quasi-identifier value: numbers and bands become order-of-magnitude
 * ranges ("100-999"), text is kept (trimmed, lower case); level 2 suppresses ("*"). */
void privacy_generalise(const char *value, int level, char *out, size_t size);

typedef struct {
    int64_t records, classes, smallest; /* smallest equivalence class (the k achieved) */
    int level;                          /* generalisation level used */
} privacy_kanon;

/* k-anonymity of the customers' quasi-identifiers at a generalisation level. */
int privacy_kanon_store(privacy_ctx *ctx, int level, privacy_kanon *out, hp_error *err);
/* Writes a pseudonymised, generalised CSV (pseudonym + QIs) of all customers that have
 * analytics consent; refuses (HP_ERR_RANGE, smallest class named) below cfg.k_anonymity.
 * The file is registered so that erasure rewrites it. */
int privacy_export_dataset(privacy_ctx *ctx, const char *path, int level, privacy_kanon *out,
                           hp_error *err);

/* ------------------------------------------------------------------ report */

/* The consent snapshot a training run is gated on: the audit log's head seq, read before the
 * gate decides. Every consent event and every erasure appends its audit entry in the
 * transaction that makes it, so whatever lands after the snapshot has a higher seq. */
int privacy_consent_snapshot(privacy_ctx *ctx, int64_t *seq, hp_error *err);

/* Records a trained model in the registry (so an erasure can mark it as due for retraining)
 * and audits the training run: inputs_hash identifies the training data without holding it.
 * snapshot is the privacy_consent_snapshot its training gate used: when an erasure, a retention
 * purge that deleted customers or an opt-out of personalisation landed after it (or an erasure
 * is still unfinished), the model may hold a customer it must not and is registered as due for
 * retraining at once (*due, may be NULL, says so). One transaction: an erasure lands before it
 * (and is seen) or after it (and marks the registered model). */
int privacy_register_model(privacy_ctx *ctx, const char *name, const char *version, const char *path,
                           const char *inputs_hash, int64_t snapshot, int *due, hp_error *err);

/* The gate over a customers table (privacy_allowed_bulk over its ids): allowed[row] 1 or
 * 0 (hp_free it), *nallowed the ones; with snapshot, the consent snapshot read before the
 * first decision (for privacy_register_trained). */
int privacy_gate_table(privacy_ctx *ctx, const data_table *customers, privacy_purpose purpose, uint8_t **allowed,
                       size_t *nallowed, int64_t *snapshot, hp_error *err);

/* privacy_register_model for a model directory just trained on the customers allowed[0..n)
 * (the gate's answer): its version is a hash of model_dir/weights_file, its inputs a hash of
 * allowed, kind the model's kind ("recommender"). */
int privacy_register_trained(privacy_ctx *ctx, const char *kind, const char *model_dir, const char *weights_file,
                             const uint8_t *allowed, size_t n, int64_t snapshot, int *due, hp_error *err);

/* The compliance report: consent coverage per purpose, pending erasures, data past
 * retention, k-anonymity, registered exports, PII findings in stored text and recorded scans,
 * audit chain state. As JSON (json != 0) or readable text, to f (a FILE *). */
int privacy_report(privacy_ctx *ctx, int json, void *f, hp_error *err);

#endif
