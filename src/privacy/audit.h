/* audit: the append-only, hash-chained log of decisions and data access.
 *
 * Entry hash = BLAKE2b-256("hyperp-audit-v1" || prev hash || seq || at || actor || action ||
 * purpose || subject commitment || model version || inputs hash || outcome), each text field
 * length-prefixed. The subject (a pseudonym, never a raw id) is not hashed directly: the
 * chain covers a commitment BLAKE2b-256(key = a random 16-byte nonce, subject). Erasure drops
 * subject and nonce; the commitment stays, hides the subject, and the chain still verifies.
 * Any altered byte, removed entry or reordered pair breaks a link that verify reports; the
 * store's rows are read as their exact bytes and SQLite types, the export's as JSON strings.
 * A removed tail is caught against the head the store keeps in its meta table (a naive
 * DELETE), the head an export's header names, and, the real defence, a head kept outside the
 * store (verify and every writing command print it; audit_verify_*_expect checks it). */
#ifndef AUDIT_H
#define AUDIT_H

#include "core/hp.h"
#include "store/store.h"

#include <sys/stat.h>

typedef struct {
    const char *actor;         /* who or what acted: "cli", "service", "train" */
    const char *action;        /* "consent.give", "gate", "export", "erase", ... */
    const char *purpose;       /* may be NULL */
    const char *subject;       /* a pseudonym or NULL; NEVER a raw customer id */
    const char *model_version; /* may be NULL */
    const char *inputs_hash;   /* hex hash of the inputs, may be NULL */
    const char *outcome;       /* "allowed", "denied: no consent", counts; no personal data */
} audit_event;

/* Appends one entry at time `at` (inside the caller's transaction if one is open). */
int audit_append(store *s, int64_t at, const audit_event *e, hp_error *err);

typedef struct {
    int64_t entries;           /* entries checked */
    int64_t redacted;          /* entries whose subject was erased */
    int64_t bad_seq;           /* first broken entry (0 when intact) */
    char head[65];             /* hash of the last entry: keep it elsewhere to catch truncation */
    int64_t head_seq;          /* its seq */
    int64_t anchor_seq;        /* the chain starts after this seq (0: from the first entry) */
    char problem[256];         /* what broke, "" when intact */
} audit_report;

/* Verifies the chain in the store over every column's exact bytes and SQLite type. HP_OK when
 * intact, HP_ERR_FORMAT when broken (rep->problem says which entry and how), other negative
 * status when the store cannot be read. Broken too: the chain does not reach the head the
 * store keeps in its meta table (the newest entries were removed; a naive DELETE FROM audit),
 * or, with expect_head (a head printed earlier and kept outside the store: the real defence
 * against truncation, since whoever rewrites the table can rewrite meta too), the chain does
 * not hold an entry with that hash. */
int audit_verify_store_expect(store *s, const char *expect_head, audit_report *rep, hp_error *err);
int audit_verify_store(store *s, audit_report *rep, hp_error *err);
/* Writes the log as JSONL (a header line with the anchor and the head, then one entry per
 * line, every value as stored) and registers the file as an export, so erasure redacts it
 * too. HP_ERR_FORMAT when a stored value is not UTF-8 text (only an altered row holds one). */
int audit_export_file(store *s, const char *path, int64_t at, hp_error *err);
/* Verifies an exported file line by line; same results as audit_verify_store (the header's
 * head, when present, plays the kept head). */
int audit_verify_file_expect(const char *path, const char *expect_head, audit_report *rep, hp_error *err);
int audit_verify_file(const char *path, audit_report *rep, hp_error *err);
/* Same over len bytes of an export in memory (name is used in messages). For fuzzing. */
int audit_verify_bytes(const char *name, const void *buf, size_t len, const char *expect_head,
                       audit_report *rep, hp_error *err);
/* Redacts the subjects in pseudonyms[] from the exported file at path, already opened as fd and
 * checked by the caller (erasure: the file at the recorded path, not one a link leads to); st is
 * its fstat. *redacted counts the entries redacted; when there are any the file is rewritten:
 * in place when in_place (it keeps its inode, so its other hard links lose them too), else
 * through a temporary file renamed over path. A file without them is left as it is. */
int audit_redact_fd(int fd, const struct stat *st, int in_place, const char *path, const char *const *pseudonyms,
                    int n, int64_t *redacted, hp_error *err);

/* The entry a log purge appends in the same transaction as the delete; its outcome names the
 * new anchor ("... anchor seq S hash H"), which verification checks the kept anchor against. */
#define AUDIT_PURGE_ACTION "audit.purge"
/* Reads "anchor seq S hash H" from an outcome; 1 when found. */
int audit_anchor_outcome(const char *outcome, int64_t *seq, char hash[65]);

/* Hex BLAKE2b-256 of bytes, keyed when key is not NULL (16-64 bytes). */
void audit_hash_hex(const void *p, size_t n, const unsigned char *key, size_t keylen,
                    char out[65]);

#endif
