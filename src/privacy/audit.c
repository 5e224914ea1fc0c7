/* audit: hash chain over the store's audit rows, JSONL export and verification. */
#include "privacy/audit.h"
#include "privacy/privacy.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

void audit_hash_hex(const void *p, size_t n, const unsigned char *key, size_t keylen,
                    char out[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, p, n, key, key ? keylen : 0);
    sodium_bin2hex(out, 65, h, sizeof h);
}

/* ------------------------------------------------------------------ the entry hash */

static void put_u64(crypto_generichash_state *st, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    crypto_generichash_update(st, b, 8);
}

static void put_str(crypto_generichash_state *st, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    put_u64(st, n);
    if (n) crypto_generichash_update(st, (const unsigned char *)s, n);
}

/* Hash of entry a given its prev field; HP_ERR_FORMAT when prev is not 64 hex digits. */
static int entry_hash(const store_audit *a, char out[65])
{
    unsigned char prev[32], h[32];
    size_t got = 0;
    if (strlen(a->prev) != 64 || sodium_hex2bin(prev, sizeof prev, a->prev, 64, NULL, &got, NULL)
        || got != 32)
        return HP_ERR_FORMAT;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    put_str(&st, "hyperp-audit-v1");
    crypto_generichash_update(&st, prev, sizeof prev);
    put_u64(&st, (uint64_t)a->seq);
    put_u64(&st, (uint64_t)a->at);
    const char *fields[] = { a->actor, a->action, a->purpose, a->subject_commit,
                             a->model_version, a->inputs_hash, a->outcome };
    for (size_t i = 0; i < HP_ARRAY_LEN(fields); i++) put_str(&st, fields[i]);
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(out, 65, h, sizeof h);
    return HP_OK;
}

static void commit_subject(const char *subject, const char *nonce_hex, char out[65])
{
    unsigned char nonce[16];
    size_t got = 0;
    if (sodium_hex2bin(nonce, sizeof nonce, nonce_hex, strlen(nonce_hex), NULL, &got, NULL)
        || got != sizeof nonce) {
        out[0] = 0;
        return;
    }
    audit_hash_hex(subject, strlen(subject), nonce, sizeof nonce, out);
}

static void copy_field(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

int audit_append(store *s, int64_t at, const audit_event *e, hp_error *err)
{
    if (sodium_init() < 0) return hp_fail(err, HP_ERR_WRITE, "libsodium failed to initialise");
    store_audit a;
    memset(&a, 0, sizeof a);
    int rc = store_begin(s, err);
    if (rc) return rc;
    rc = store_audit_head(s, &a.seq, a.prev, err);
    if (rc) goto fail;
    if (!a.prev[0]) copy_field(a.prev, sizeof a.prev, ZERO_HASH);
    a.seq++;
    a.at = at;
    copy_field(a.actor, sizeof a.actor, e->actor);
    copy_field(a.action, sizeof a.action, e->action);
    copy_field(a.purpose, sizeof a.purpose, e->purpose);
    copy_field(a.model_version, sizeof a.model_version, e->model_version);
    copy_field(a.inputs_hash, sizeof a.inputs_hash, e->inputs_hash);
    copy_field(a.outcome, sizeof a.outcome, e->outcome);
    if (e->subject && *e->subject) {
        unsigned char nonce[16];
        randombytes_buf(nonce, sizeof nonce);
        sodium_bin2hex(a.subject_nonce, sizeof a.subject_nonce, nonce, sizeof nonce);
        copy_field(a.subject, sizeof a.subject, e->subject);
        commit_subject(a.subject, a.subject_nonce, a.subject_commit);
    }
    if ((rc = entry_hash(&a, a.hash))) {
        hp_fail(err, rc, "audit: the stored head hash is malformed");
        goto fail;
    }
    if ((rc = store_audit_insert(s, &a, err))) goto fail;
    return store_commit(s, err);
fail:
    store_rollback(s);
    return rc;
}

/* ------------------------------------------------------------------ verification */

typedef struct {
    int64_t last_seq;
    char last_hash[65];
    audit_report *rep;
    int64_t anchor_seq;        /* where the kept chain starts (0: from the beginning) */
    char anchor[65];
    int confirmed;             /* -1: no audit.purge entry seen; 0/1: the last one matches */
} chain;

static int is_hex(const char *s, size_t n)
{
    if (strlen(s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdef", s[i]) || !s[i]) return 0;
    return 1;
}

int audit_anchor_outcome(const char *outcome, int64_t *seq, char hash[65])
{
    const char *p = outcome ? strstr(outcome, "anchor seq ") : NULL;
    long long v;
    char h[65];
    if (!p || sscanf(p, "anchor seq %lld hash %64[0-9a-f]", &v, h) != 2 || !is_hex(h, 64)) return 0;
    *seq = v;
    memcpy(hash, h, 65);
    return 1;
}

static int broken(chain *c, const store_audit *a, const char *what)
{
    c->rep->bad_seq = a->seq ? a->seq : c->last_seq + 1;
    snprintf(c->rep->problem, sizeof c->rep->problem, "entry %lld (after %lld): %s",
             (long long)a->seq, (long long)c->last_seq, what);
    return 1;
}

/* Checks one entry against the chain so far; non-zero when the chain is broken. */
static int chain_step(void *ctx, const store_audit *a)
{
    chain *c = ctx;
    char h[65];
    if (a->seq != c->last_seq + 1)
        return broken(c, a, a->seq > c->last_seq + 1 ? "sequence gap: an entry was removed"
                                                      : "out of order: entries were reordered");
    if (strcmp(a->prev, c->last_hash))
        return broken(c, a, "does not link to the previous entry (removed or reordered)");
    if (a->subject_commit[0] && !is_hex(a->subject_commit, 64)) return broken(c, a, "subject commitment altered");
    if (a->subject[0]) {
        /* a subject needs its nonce and the commitment the chain holds: an entry written
         * without a subject (empty commitment) cannot be given one */
        if (!a->subject_commit[0] || !is_hex(a->subject_nonce, 32))
            return broken(c, a, "subject added to an entry that had none (or its nonce altered)");
        commit_subject(a->subject, a->subject_nonce, h);
        if (strcmp(h, a->subject_commit)) return broken(c, a, "subject altered");
    } else if (a->subject_nonce[0]) return broken(c, a, "nonce without a subject");
    else if (a->subject_commit[0]) c->rep->redacted++;
    if (entry_hash(a, h) || strcmp(h, a->hash)) return broken(c, a, "contents altered");
    if (!strcmp(a->action, AUDIT_PURGE_ACTION)) {
        int64_t aseq = 0;
        char ah[65];
        c->confirmed = audit_anchor_outcome(a->outcome, &aseq, ah) && aseq == c->anchor_seq &&
                       !strcmp(ah, c->anchor);
    }
    c->last_seq = a->seq;
    copy_field(c->last_hash, sizeof c->last_hash, a->hash);
    c->rep->entries++;
    return 0;
}

static void chain_start(chain *c, audit_report *rep, int64_t anchor_seq, const char *anchor)
{
    memset(rep, 0, sizeof *rep);
    c->rep = rep;
    c->last_seq = anchor_seq;
    c->anchor_seq = anchor_seq;
    c->confirmed = -1;
    rep->anchor_seq = anchor_seq;
    copy_field(c->last_hash, sizeof c->last_hash, anchor && *anchor ? anchor : ZERO_HASH);
    copy_field(c->anchor, sizeof c->anchor, c->last_hash);
}

/* A purged prefix leaves an anchor outside the chain; the audit.purge entry written in the
 * same transaction as the purge names it, so the anchor is only trusted when the last such
 * entry in the chain names exactly it (moving the anchor forward to hide entries fails). */
static int chain_end(chain *c, int rc)
{
    if (rc < 0) return rc;
    copy_field(c->rep->head, sizeof c->rep->head, c->last_hash);
    if (!c->rep->problem[0] && (c->anchor_seq != 0 || strcmp(c->anchor, ZERO_HASH)) && c->confirmed != 1) {
        c->rep->bad_seq = c->anchor_seq + 1;
        snprintf(c->rep->problem, sizeof c->rep->problem, "anchor (seq %lld): %s",
                 (long long)c->anchor_seq, c->confirmed == 0
                 ? "differs from the one the last audit.purge entry names (entries removed after it)"
                 : "no audit.purge entry in the chain names it (entries removed)");
    }
    return c->rep->problem[0] ? HP_ERR_FORMAT : HP_OK;
}

int audit_verify_store(store *s, audit_report *rep, hp_error *err)
{
    if (sodium_init() < 0) return hp_fail(err, HP_ERR_WRITE, "libsodium failed to initialise");
    int64_t aseq;
    char ahash[65];
    int rc = store_audit_anchor(s, &aseq, ahash, err);
    if (rc) return rc;
    chain c;
    chain_start(&c, rep, aseq, ahash);
    return chain_end(&c, store_audit_each(s, chain_step, &c, err));
}

/* ------------------------------------------------------------------ JSONL files */

static json_t *entry_json(const store_audit *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer(a->seq));
    json_object_set_new(o, "at", json_integer(a->at));
    json_object_set_new(o, "actor", json_string(a->actor));
    json_object_set_new(o, "action", json_string(a->action));
    json_object_set_new(o, "purpose", json_string(a->purpose));
    json_object_set_new(o, "subject", a->subject[0] ? json_string(a->subject) : json_null());
    json_object_set_new(o, "subject_nonce", a->subject_nonce[0] ? json_string(a->subject_nonce) : json_null());
    json_object_set_new(o, "subject_commit", json_string(a->subject_commit));
    json_object_set_new(o, "model_version", json_string(a->model_version));
    json_object_set_new(o, "inputs_hash", json_string(a->inputs_hash));
    json_object_set_new(o, "outcome", json_string(a->outcome));
    json_object_set_new(o, "prev", json_string(a->prev));
    json_object_set_new(o, "hash", json_string(a->hash));
    return o;
}

static int write_json_line(FILE *f, json_t *o)
{
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!line) return HP_ERR_NOMEM;
    int bad = fprintf(f, "%s\n", line) < 0;
    free(line);
    return bad ? HP_ERR_WRITE : HP_OK;
}

static int export_row(void *ctx, const store_audit *a)
{
    return write_json_line(ctx, entry_json(a)) ? 1 : 0; /* positive: stop, write failed */
}

static int close_file(FILE *f, const char *path, int rc, hp_error *err)
{
    int bad = ferror(f) | fflush(f) | fsync(fileno(f));
    if (fclose(f) || bad) {
        if (!rc) rc = hp_fail(err, HP_ERR_WRITE, "%s: write failed: %s", path, strerror(errno));
    }
    return rc;
}

int audit_export_file(store *s, const char *path, int64_t at, hp_error *err)
{
    int64_t aseq;
    char ahash[65];
    int rc = store_audit_anchor(s, &aseq, ahash, err);
    if (rc) return rc;
    FILE *f = privacy_fopen_private(path);
    if (!f) return hp_fail(err, HP_ERR_WRITE, "%s: cannot write: %s", path, strerror(errno));
    json_t *h = json_pack("{s:i, s:I, s:s}", "hyperp_audit", 1, "anchor_seq", (json_int_t)aseq,
                          "anchor_hash", ahash[0] ? ahash : ZERO_HASH);
    rc = write_json_line(f, h);
    if (!rc) rc = store_audit_each(s, export_row, f, err);
    if (rc > 0) rc = hp_fail(err, HP_ERR_WRITE, "%s: write failed", path);
    rc = close_file(f, path, rc, err);
    return rc ? rc : store_export_record(s, path, "audit", 0, at, err);
}

static const char *jstr(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

/* Text fields are strings (subject and nonce: null when there is none, else non-empty): a
 * null or 0 where "" was written is an alteration, not the same entry. */
static int fields_typed(json_t *o)
{
    static const char *const text[] = { "actor", "action", "purpose", "subject_commit",
        "model_version", "inputs_hash", "outcome", "prev", "hash" };
    for (size_t i = 0; i < HP_ARRAY_LEN(text); i++)
        if (!json_is_string(json_object_get(o, text[i]))) return 0;
    const char *opt[] = { "subject", "subject_nonce" };
    for (size_t i = 0; i < HP_ARRAY_LEN(opt); i++) {
        json_t *v = json_object_get(o, opt[i]);
        if (!json_is_null(v) && !(json_is_string(v) && json_string_length(v) > 0)) return 0;
    }
    return 1;
}

/* Fills a from one parsed line; HP_ERR_FORMAT when a field has the wrong type. */
static int entry_from_json(json_t *o, store_audit *a)
{
    static const char *const keys[] = { "seq", "at", "actor", "action", "purpose", "subject",
        "subject_nonce", "subject_commit", "model_version", "inputs_hash", "outcome", "prev", "hash" };
    memset(a, 0, sizeof a[0]);
    /* exactly the known keys: a renamed key would otherwise read as an empty field */
    if (!json_is_object(o) || json_object_size(o) != HP_ARRAY_LEN(keys)) return HP_ERR_FORMAT;
    for (size_t i = 0; i < HP_ARRAY_LEN(keys); i++)
        if (!json_object_get(o, keys[i])) return HP_ERR_FORMAT;
    json_t *seq = json_object_get(o, "seq"), *at = json_object_get(o, "at");
    if (!json_is_integer(seq) || !json_is_integer(at) || !fields_typed(o)) return HP_ERR_FORMAT;
    a->seq = json_integer_value(seq);
    a->at = json_integer_value(at);
    copy_field(a->actor, sizeof a->actor, jstr(o, "actor"));
    copy_field(a->action, sizeof a->action, jstr(o, "action"));
    copy_field(a->purpose, sizeof a->purpose, jstr(o, "purpose"));
    copy_field(a->subject, sizeof a->subject, jstr(o, "subject"));
    copy_field(a->subject_nonce, sizeof a->subject_nonce, jstr(o, "subject_nonce"));
    copy_field(a->subject_commit, sizeof a->subject_commit, jstr(o, "subject_commit"));
    copy_field(a->model_version, sizeof a->model_version, jstr(o, "model_version"));
    copy_field(a->inputs_hash, sizeof a->inputs_hash, jstr(o, "inputs_hash"));
    copy_field(a->outcome, sizeof a->outcome, jstr(o, "outcome"));
    copy_field(a->prev, sizeof a->prev, jstr(o, "prev"));
    copy_field(a->hash, sizeof a->hash, jstr(o, "hash"));
    return HP_OK;
}

static int read_header(const char *line, const char *path, int64_t *aseq, char ahash[65],
                       hp_error *err)
{
    json_t *h = line ? json_loads(line, 0, NULL) : NULL;
    int rc = HP_OK;
    json_t *seq = json_object_get(h, "anchor_seq"), *hash = json_object_get(h, "anchor_hash");
    json_t *version = json_object_get(h, "hyperp_audit");
    if (!h || json_object_size(h) != 3 || !json_is_integer(version) || json_integer_value(version) != 1
        || !json_is_integer(seq) || !json_is_string(hash) || json_integer_value(seq) < 0
        || !is_hex(json_string_value(hash), 64))
        rc = hp_fail(err, HP_ERR_FORMAT, "%s:1: not a hyperp audit export (header line)", path);
    else {
        *aseq = json_integer_value(json_object_get(h, "anchor_seq"));
        copy_field(ahash, 65, jstr(h, "anchor_hash"));
    }
    json_decref(h);
    return rc;
}

int audit_verify_file(const char *path, audit_report *rep, hp_error *err)
{
    if (sodium_init() < 0) return hp_fail(err, HP_ERR_WRITE, "libsodium failed to initialise");
    FILE *f = fopen(path, "r");
    if (!f) return hp_fail(err, HP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    int64_t aseq = 0;
    char ahash[65] = "", *line = NULL;
    size_t cap = 0;
    int rc = read_header(getline(&line, &cap, f) > 0 ? line : NULL, path, &aseq, ahash, err);
    chain c;
    chain_start(&c, rep, aseq, ahash);
    if (rc) {
        free(line);
        fclose(f);
        return rc;
    }
    for (long ln = 2; !rc && getline(&line, &cap, f) > 0; ln++) {
        json_t *o = json_loads(line, 0, NULL);
        store_audit a;
        if (!o || entry_from_json(o, &a)) {
            rep->bad_seq = c.last_seq + 1;
            snprintf(rep->problem, sizeof rep->problem, "line %ld: not a valid entry (altered)", ln);
            rc = 1;
        } else rc = chain_step(&c, &a);
        json_decref(o);
    }
    free(line);
    fclose(f);
    return chain_end(&c, rc);
}

static int in_list(const char *s, const char *const *list, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s, list[i])) return 1;
    return 0;
}

int audit_redact_file(const char *path, const char *const *pseudonyms, int n, int64_t *redacted,
                      hp_error *err)
{
    char tmp[4096], *line = NULL;
    size_t cap = 0;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *in = fopen(path, "r");
    if (!in) return errno == ENOENT ? HP_OK : hp_fail(err, HP_ERR_WRITE, "%s: %s", path, strerror(errno));
    FILE *out = privacy_fopen_private(tmp);
    if (!out) {
        fclose(in);
        return hp_fail(err, HP_ERR_WRITE, "%s: cannot write: %s", tmp, strerror(errno));
    }
    int rc = HP_OK;
    while (!rc && getline(&line, &cap, in) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        const char *subj = o ? json_string_value(json_object_get(o, "subject")) : NULL;
        if (subj && in_list(subj, pseudonyms, n)) {
            json_object_set_new(o, "subject", json_null());
            json_object_set_new(o, "subject_nonce", json_null());
            (*redacted)++;
            rc = write_json_line(out, o);
        } else {
            json_decref(o);
            if (fputs(line, out) < 0) rc = HP_ERR_WRITE;
        }
    }
    free(line);
    fclose(in);
    rc = close_file(out, tmp, rc, err);
    if (!rc && rename(tmp, path)) rc = hp_fail(err, HP_ERR_WRITE, "%s: %s", path, strerror(errno));
    if (rc) remove(tmp);
    return rc;
}
