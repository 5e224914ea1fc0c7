/* audit: hash chain over the store's audit rows, JSONL export and verification. */
#include "io/io_out.h"
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

static void put_bytes(crypto_generichash_state *st, const char *p, size_t n)
{
    put_u64(st, n);
    if (n) crypto_generichash_update(st, (const unsigned char *)p, n);
}

static store_bytes span_of(const char *s)
{
    store_bytes b = { s ? s : "", s ? strlen(s) : 0, s == NULL };
    return b;
}

/* Hash of an entry (every field as its exact bytes, length-prefixed) given its prev field;
 * HP_ERR_FORMAT when prev is not 64 hex digits. */
static int entry_hash(const store_audit_bytes *a, char out[65])
{
    unsigned char prev[32], h[32];
    size_t got = 0;
    const char *end = NULL;
    if (a->prev.n != 64 || sodium_hex2bin(prev, sizeof prev, a->prev.p, 64, NULL, &got, &end)
        || got != 32 || end != a->prev.p + 64)
        return HP_ERR_FORMAT;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    put_bytes(&st, "hyperp-audit-v1", 15);
    crypto_generichash_update(&st, prev, sizeof prev);
    put_u64(&st, (uint64_t)a->seq);
    put_u64(&st, (uint64_t)a->at);
    const store_bytes *fields[] = { &a->actor, &a->action, &a->purpose, &a->subject_commit,
                                    &a->model_version, &a->inputs_hash, &a->outcome };
    for (size_t i = 0; i < HP_ARRAY_LEN(fields); i++) put_bytes(&st, fields[i]->p, fields[i]->n);
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(out, 65, h, sizeof h);
    return HP_OK;
}

/* The row audit_append writes, as the verifier reads it. */
static store_audit_bytes entry_bytes(const store_audit *a)
{
    store_audit_bytes b;
    memset(&b, 0, sizeof b);
    b.seq = a->seq;
    b.at = a->at;
    b.actor = span_of(a->actor);
    b.action = span_of(a->action);
    b.purpose = span_of(a->purpose);
    b.subject_commit = span_of(a->subject_commit);
    b.model_version = span_of(a->model_version);
    b.inputs_hash = span_of(a->inputs_hash);
    b.outcome = span_of(a->outcome);
    b.prev = span_of(a->prev);
    return b;
}

static void commit_subject(const char *subject, size_t n, const char *nonce_hex, size_t nn, char out[65])
{
    unsigned char nonce[16];
    size_t got = 0;
    const char *end = NULL;
    if (sodium_hex2bin(nonce, sizeof nonce, nonce_hex, nn, NULL, &got, &end) || got != sizeof nonce
        || end != nonce_hex + nn) {
        out[0] = 0;
        return;
    }
    audit_hash_hex(subject, n, nonce, sizeof nonce, out);
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
        commit_subject(a.subject, strlen(a.subject), a.subject_nonce, strlen(a.subject_nonce),
                       a.subject_commit);
    }
    store_audit_bytes b = entry_bytes(&a);
    if ((rc = entry_hash(&b, a.hash))) {
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
    const char *expect;        /* a head kept elsewhere that the chain must hold, or NULL */
    int expect_seen;
    int64_t end_seq;           /* the head the chain must reach (kept in the store or the */
    char end_hash[65];         /* export header); end_seq < 0: none */
    int end_match;             /* the entry at end_seq has end_hash */
} chain;

static int is_hex_n(const char *s, size_t len, size_t n)
{
    if (len != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr("0123456789abcdef", s[i])) return 0;
    return 1;
}

static int is_hex(const char *s, size_t n) { return is_hex_n(s, strlen(s), n); }

static int bytes_eq(const store_bytes *b, const char *s)
{
    size_t n = strlen(s);
    return b->n == n && !memcmp(b->p, s, n);
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

static int broken(chain *c, int64_t seq, const char *what)
{
    c->rep->bad_seq = seq ? seq : c->last_seq + 1;
    snprintf(c->rep->problem, sizeof c->rep->problem, "entry %lld (after %lld): %s",
             (long long)seq, (long long)c->last_seq, what);
    return 1;
}

/* The subject fields: a subject needs its nonce and the commitment the chain holds (an entry
 * written without a subject cannot be given one); a nonce without a subject is an alteration. */
static const char *subject_problem(chain *c, const store_audit_bytes *a)
{
    char h[65];
    if (!a->subject_commit.null && !is_hex_n(a->subject_commit.p, a->subject_commit.n, 64))
        return "subject commitment altered";
    if (!a->subject.null) {
        if (a->subject_commit.null || !is_hex_n(a->subject_nonce.p, a->subject_nonce.n, 32))
            return "subject added to an entry that had none (or its nonce altered)";
        commit_subject(a->subject.p, a->subject.n, a->subject_nonce.p, a->subject_nonce.n, h);
        if (!bytes_eq(&a->subject_commit, h)) return "subject altered";
    } else if (!a->subject_nonce.null) return "nonce without a subject";
    else if (!a->subject_commit.null) c->rep->redacted++;
    return NULL;
}

/* An audit.purge entry names the anchor it left; the last one must name the kept anchor. */
static void note_purge(chain *c, const store_audit_bytes *a)
{
    char outcome[512], ah[65];
    int64_t aseq = 0;
    if (!bytes_eq(&a->action, AUDIT_PURGE_ACTION)) return;
    c->confirmed = 0;
    if (a->outcome.n >= sizeof outcome || memchr(a->outcome.p, 0, a->outcome.n)) return;
    memcpy(outcome, a->outcome.p, a->outcome.n);
    outcome[a->outcome.n] = 0;
    c->confirmed = audit_anchor_outcome(outcome, &aseq, ah) && aseq == c->anchor_seq &&
                   !strcmp(ah, c->anchor);
}

/* Checks one entry (its exact bytes) against the chain so far; non-zero when broken. */
static int chain_step(void *ctx, const store_audit_bytes *a)
{
    chain *c = ctx;
    char h[65], what[96];
    if (a->bad_type) {
        snprintf(what, sizeof what, "column %s has another type than the one written (altered)", a->bad_type);
        return broken(c, a->seq, what);
    }
    if (a->seq != c->last_seq + 1)
        return broken(c, a->seq, a->seq > c->last_seq + 1 ? "sequence gap: an entry was removed"
                                                          : "out of order: entries were reordered");
    if (!bytes_eq(&a->prev, c->last_hash))
        return broken(c, a->seq, "does not link to the previous entry (removed or reordered)");
    const char *bad = subject_problem(c, a);
    if (bad) return broken(c, a->seq, bad);
    if (entry_hash(a, h) || !bytes_eq(&a->hash, h)) return broken(c, a->seq, "contents altered");
    note_purge(c, a);
    c->last_seq = a->seq;
    memcpy(c->last_hash, h, sizeof h);
    if (c->expect && !strcmp(h, c->expect)) c->expect_seen = 1;
    if (a->seq == c->end_seq) c->end_match = !strcmp(h, c->end_hash);
    c->rep->entries++;
    return 0;
}

static void chain_start(chain *c, audit_report *rep, int64_t anchor_seq, const char *anchor,
                        const char *expect)
{
    memset(rep, 0, sizeof *rep);
    memset(c, 0, sizeof *c);
    c->rep = rep;
    c->last_seq = anchor_seq;
    c->anchor_seq = anchor_seq;
    c->confirmed = -1;
    c->expect = expect;
    c->end_seq = -1;
    rep->anchor_seq = anchor_seq;
    copy_field(c->last_hash, sizeof c->last_hash, anchor && *anchor ? anchor : ZERO_HASH);
    copy_field(c->anchor, sizeof c->anchor, c->last_hash);
    c->expect_seen = expect && !strcmp(expect, c->last_hash);
}

/* The end of the chain: the anchor a purge left must be confirmed by the chain (moving it
 * forward to hide entries fails); the chain must reach the head kept in the store or the
 * export's header (removed newest entries: truncation) and hold the head the caller kept
 * elsewhere (the real defence: whoever can rewrite the store can rewrite its meta table). */
static int chain_end(chain *c, int rc)
{
    if (rc < 0) return rc;
    audit_report *r = c->rep;
    copy_field(r->head, sizeof r->head, c->last_hash);
    r->head_seq = c->last_seq;
    if (r->problem[0]) return HP_ERR_FORMAT;
    long long last = (long long)c->last_seq;
    if ((c->anchor_seq != 0 || strcmp(c->anchor, ZERO_HASH)) && c->confirmed != 1) {
        r->bad_seq = c->anchor_seq + 1;
        snprintf(r->problem, sizeof r->problem, "anchor (seq %lld): %s", (long long)c->anchor_seq,
                 c->confirmed == 0
                 ? "differs from the one the last audit.purge entry names (entries removed after it)"
                 : "no audit.purge entry in the chain names it (entries removed)");
    } else if (c->end_seq > c->last_seq) {
        r->bad_seq = c->last_seq + 1;
        snprintf(r->problem, sizeof r->problem, "the log ends at seq %lld but its kept head is seq "
                 "%lld: the newest entries were removed (truncated)", last, (long long)c->end_seq);
    } else if (c->end_seq > c->anchor_seq && !c->end_match) {
        r->bad_seq = c->end_seq;
        snprintf(r->problem, sizeof r->problem, "entry %lld: differs from the kept head (entries "
                 "were replaced)", (long long)c->end_seq);
    } else if (c->expect && !c->expect_seen) {
        r->bad_seq = c->last_seq + 1;
        snprintf(r->problem, sizeof r->problem, "the expected head is not in the chain (which ends "
                 "at seq %lld): entries were removed or replaced, or it was purged past retention", last);
    }
    return r->problem[0] ? HP_ERR_FORMAT : HP_OK;
}

int audit_verify_store_expect(store *s, const char *expect_head, audit_report *rep, hp_error *err)
{
    if (sodium_init() < 0) return hp_fail(err, HP_ERR_WRITE, "libsodium failed to initialise");
    int64_t aseq, kseq;
    char ahash[65], khash[65];
    int kept = 0;
    int rc = store_audit_anchor(s, &aseq, ahash, err);
    if (!rc) rc = store_audit_kept_head(s, &kseq, khash, &kept, err);
    if (rc) return rc;
    chain c;
    chain_start(&c, rep, aseq, ahash, expect_head);
    if (kept) {
        c.end_seq = kseq;
        copy_field(c.end_hash, sizeof c.end_hash, khash);
    }
    return chain_end(&c, store_audit_each_bytes(s, chain_step, &c, err));
}

int audit_verify_store(store *s, audit_report *rep, hp_error *err)
{
    return audit_verify_store_expect(s, NULL, rep, err);
}

/* ------------------------------------------------------------------ JSONL files */

/* Text as stored, every byte (a NUL becomes \u0000, which verification refuses); NULL as
 * null. NULL (nothing written) for bytes that are not UTF-8: the caller refuses the export. */
static json_t *bytes_json(const store_bytes *b)
{
    return b->null ? json_null() : json_stringn(b->p, b->n);
}

/* One entry as exactly what the table holds, so a tampered row stays tampered in the file. */
static json_t *entry_json(const store_audit_bytes *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer(a->seq));
    json_object_set_new(o, "at", json_integer(a->at));
    json_object_set_new(o, "actor", bytes_json(&a->actor));
    json_object_set_new(o, "action", bytes_json(&a->action));
    json_object_set_new(o, "purpose", bytes_json(&a->purpose));
    json_object_set_new(o, "subject", bytes_json(&a->subject));
    json_object_set_new(o, "subject_nonce", bytes_json(&a->subject_nonce));
    /* no commitment is written as "" (the export format since version 1) */
    json_object_set_new(o, "subject_commit", a->subject_commit.null ? json_string("") : bytes_json(&a->subject_commit));
    json_object_set_new(o, "model_version", bytes_json(&a->model_version));
    json_object_set_new(o, "inputs_hash", bytes_json(&a->inputs_hash));
    json_object_set_new(o, "outcome", bytes_json(&a->outcome));
    json_object_set_new(o, "prev", bytes_json(&a->prev));
    json_object_set_new(o, "hash", bytes_json(&a->hash));
    return o;
}

static int write_json_line(FILE *f, json_t *o)
{
    char *line = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) : NULL;
    json_decref(o);
    if (!line) return HP_ERR_NOMEM;
    int bad = fprintf(f, "%s\n", line) < 0;
    free(line);
    return bad ? HP_ERR_WRITE : HP_OK;
}

typedef struct { FILE *f; int64_t bad_seq; } export_ctx;

static int export_row(void *ctx, const store_audit_bytes *a)
{
    export_ctx *x = ctx;
    json_t *o = entry_json(a);
    int n = (int)json_object_size(o);
    if (n != 13) { /* a value that is not UTF-8 text: only an altered row holds one */
        json_decref(o);
        x->bad_seq = a->seq;
        return 1;
    }
    return write_json_line(x->f, o) ? 1 : 0; /* positive: stop, write failed */
}

/* The header: the anchor the chain starts after and the head it ends at (verification of the
 * file reports a removed tail against it; whoever rewrites the file can rewrite it too, so
 * keep the head elsewhere as well). Read in the export's transaction: the rows match it. */
static int write_header(store *s, FILE *f, hp_error *err)
{
    int64_t aseq, hseq;
    char ahash[65], hhash[65];
    int rc = store_audit_anchor(s, &aseq, ahash, err);
    if (!rc) rc = store_audit_head(s, &hseq, hhash, err);
    if (rc) return rc;
    json_t *h = json_pack("{s:i, s:I, s:s, s:I, s:s}", "hyperp_audit", 1, "anchor_seq", (json_int_t)aseq,
                          "anchor_hash", ahash[0] ? ahash : ZERO_HASH, "head_seq", (json_int_t)hseq,
                          "head_hash", hhash[0] ? hhash : ZERO_HASH);
    return write_json_line(f, h);
}

int audit_export_file(store *s, const char *path, int64_t at, hp_error *err)
{
    /* whole or not at all: a failure midway leaves no partial, unregistered file */
    io_out_file o;
    int rc = io_out_start(&o, path, NULL, NULL, 0, err);
    if (rc) return rc;
    if ((rc = store_begin(s, err))) return io_out_finish(&o, rc, err);
    export_ctx x = { o.f, -1 };
    rc = write_header(s, o.f, err);
    if (!rc) rc = store_audit_each_bytes(s, export_row, &x, err);
    if (rc > 0 && x.bad_seq >= 0)
        rc = hp_fail(err, HP_ERR_FORMAT, "%s: audit entry %lld holds bytes that are not UTF-8 text: "
                     "the log was altered (run hyperp audit verify)", store_path(s), (long long)x.bad_seq);
    else if (rc > 0) rc = hp_fail(err, HP_ERR_WRITE, "%s: write failed", path);
    rc = io_out_finish(&o, rc, err);
    /* absolute and resolved, as a dataset export's: an erasure run from another folder finds
     * it, and a symbolic link on the path later is one put there since (not followed) */
    char canon[4096];
    if (!rc && io_out_canonical(path, canon, sizeof canon, NULL)) snprintf(canon, sizeof canon, "%s", path);
    if (!rc) rc = store_export_record(s, canon, "audit", 0, at, err);
    if (rc) store_rollback(s);
    else rc = store_commit(s, err);
    if (rc && io_out_is_file(&o)) unlink(o.target); /* written, but not registered */
    return rc;
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

/* A field's exact bytes (json_string_length: the parser refuses \u0000, so none hide a tail). */
static store_bytes json_bytes(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    store_bytes b = { "", 0, 1 };
    if (json_is_string(v)) b.p = json_string_value(v), b.n = json_string_length(v), b.null = 0;
    return b;
}

/* Fills a from one parsed line (pointers into o); HP_ERR_FORMAT when a field has the wrong
 * type. */
static int entry_from_json(json_t *o, store_audit_bytes *a)
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
    a->actor = json_bytes(o, "actor");
    a->action = json_bytes(o, "action");
    a->purpose = json_bytes(o, "purpose");
    a->subject = json_bytes(o, "subject");
    a->subject_nonce = json_bytes(o, "subject_nonce");
    a->subject_commit = json_bytes(o, "subject_commit");
    if (a->subject_commit.n == 0) a->subject_commit.null = 1; /* "" is how none is written */
    a->model_version = json_bytes(o, "model_version");
    a->inputs_hash = json_bytes(o, "inputs_hash");
    a->outcome = json_bytes(o, "outcome");
    a->prev = json_bytes(o, "prev");
    a->hash = json_bytes(o, "hash");
    return HP_OK;
}

static int hex_field(json_t *h, const char *key)
{
    json_t *v = json_object_get(h, key);
    return json_is_string(v) && is_hex_n(json_string_value(v), json_string_length(v), 64);
}

static int seq_field(json_t *h, const char *key)
{
    json_t *v = json_object_get(h, key);
    return json_is_integer(v) && json_integer_value(v) >= 0;
}

/* The header line: version, anchor and (since the kept head) the head the file ends at. */
static int read_header(const char *line, size_t n, const char *path, chain *c, int64_t *aseq,
                       char ahash[65], hp_error *err)
{
    json_t *h = line ? json_loadb(line, n, JSON_REJECT_DUPLICATES, NULL) : NULL; /* one value a key */
    json_t *version = json_object_get(h, "hyperp_audit");
    size_t keys = json_object_size(h);
    int with_head = keys == 5 && seq_field(h, "head_seq") && hex_field(h, "head_hash");
    int rc = HP_OK;
    if (!h || (keys != 3 && !with_head) || !json_is_integer(version) || json_integer_value(version) != 1
        || !seq_field(h, "anchor_seq") || !hex_field(h, "anchor_hash"))
        rc = hp_fail(err, HP_ERR_FORMAT, "%s:1: not a hyperp audit export (header line)", path);
    else {
        *aseq = json_integer_value(json_object_get(h, "anchor_seq"));
        copy_field(ahash, 65, json_string_value(json_object_get(h, "anchor_hash")));
        if (with_head) {
            c->end_seq = json_integer_value(json_object_get(h, "head_seq"));
            copy_field(c->end_hash, sizeof c->end_hash, json_string_value(json_object_get(h, "head_hash")));
        }
    }
    json_decref(h);
    return rc;
}

static int verify_stream(FILE *f, const char *name, const char *expect_head, audit_report *rep,
                         hp_error *err)
{
    int64_t aseq = 0;
    char ahash[65] = "", *line = NULL;
    size_t cap = 0;
    chain hc, c;
    memset(&hc, 0, sizeof hc);
    hc.end_seq = -1;
    ssize_t n = getline(&line, &cap, f);
    int rc = read_header(n > 0 ? line : NULL, n > 0 ? (size_t)n : 0, name, &hc, &aseq, ahash, err);
    chain_start(&c, rep, aseq, ahash, expect_head);
    c.end_seq = hc.end_seq;
    memcpy(c.end_hash, hc.end_hash, sizeof c.end_hash);
    for (long ln = 2; !rc && (n = getline(&line, &cap, f)) > 0; ln++) {
        json_error_t je;
        /* a key given twice is an alteration: the chain covers one value, and readers differ
         * on which one they take (jansson the last, others the first) */
        json_t *o = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES, &je);
        store_audit_bytes a;
        if (!o && json_error_code(&je) == json_error_duplicate_key) {
            rep->bad_seq = c.last_seq + 1;
            snprintf(rep->problem, sizeof rep->problem, "%.160s:%ld: a key appears twice in the entry "
                     "(column %d; altered)", name, ln, je.column);
            rc = 1;
        } else if (!o || entry_from_json(o, &a)) {
            rep->bad_seq = c.last_seq + 1;
            snprintf(rep->problem, sizeof rep->problem, "%.160s:%ld: not a valid entry (altered)", name, ln);
            rc = 1;
        } else rc = chain_step(&c, &a);
        json_decref(o);
    }
    free(line);
    return rc < 0 || (rc && !rep->problem[0]) ? rc : chain_end(&c, rc);
}

int audit_verify_file_expect(const char *path, const char *expect_head, audit_report *rep, hp_error *err)
{
    memset(rep, 0, sizeof *rep);
    if (sodium_init() < 0) return hp_fail(err, HP_ERR_WRITE, "libsodium failed to initialise");
    FILE *f = fopen(path, "r");
    if (!f) return hp_fail(err, HP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    int rc = verify_stream(f, path, expect_head, rep, err);
    fclose(f);
    return rc;
}

int audit_verify_file(const char *path, audit_report *rep, hp_error *err)
{
    return audit_verify_file_expect(path, NULL, rep, err);
}

int audit_verify_bytes(const char *name, const void *buf, size_t len, const char *expect_head,
                       audit_report *rep, hp_error *err)
{
    memset(rep, 0, sizeof *rep);
    if (sodium_init() < 0) return hp_fail(err, HP_ERR_WRITE, "libsodium failed to initialise");
    if (len == 0) return hp_fail(err, HP_ERR_FORMAT, "%s:1: not a hyperp audit export (empty)", name);
    FILE *f = fmemopen((void *)buf, len, "r");
    if (!f) return hp_fail(err, HP_ERR_NOMEM, "%s: cannot read: %s", name, strerror(errno));
    int rc = verify_stream(f, name, expect_head, rep, err);
    fclose(f);
    return rc;
}

static int in_list(const char *s, const char *const *list, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s, list[i])) return 1;
    return 0;
}

/* One line of an export, with its subject redacted when it is one of the pseudonyms. */
static int redact_line(FILE *out, const char *line, const char *const *pseudonyms, int n, int64_t *redacted)
{
    json_t *o = json_loads(line, 0, NULL);
    const char *subj = o ? json_string_value(json_object_get(o, "subject")) : NULL;
    if (subj && in_list(subj, pseudonyms, n)) {
        json_object_set_new(o, "subject", json_null());
        json_object_set_new(o, "subject_nonce", json_null());
        (*redacted)++;
        return write_json_line(out, o);
    }
    json_decref(o);
    return fputs(line, out) < 0 ? HP_ERR_WRITE : HP_OK;
}

int audit_redact_fd(int fd, const struct stat *st, int in_place, const char *path, const char *const *pseudonyms,
                    int n, int64_t *redacted, hp_error *err)
{
    char tmp[4096 + 32], *line = NULL;
    size_t cap = 0;
    int64_t here = 0;
    int dupfd = dup(fd);
    FILE *in = dupfd >= 0 ? fdopen(dupfd, "r") : NULL;
    if (!in) {
        if (dupfd >= 0) close(dupfd);
        return hp_fail(err, HP_ERR_WRITE, "%s: cannot be read: %s", path, strerror(errno));
    }
    FILE *out = io_out_tmp(path, tmp, sizeof tmp, err);
    int rc = out ? HP_OK : HP_ERR_WRITE;
    while (!rc && getline(&line, &cap, in) > 0) rc = redact_line(out, line, pseudonyms, n, &here);
    if (!rc && ferror(in)) rc = hp_fail(err, HP_ERR_WRITE, "%s: cannot be read", path);
    else if (rc && out) rc = hp_fail(err, rc, "%s: write failed", tmp);
    free(line);
    fclose(in);
    if (!out) return rc;
    if (rc || here == 0) { /* nothing to redact: the file stays as it is */
        io_out_abort(out, tmp);
        return rc;
    }
    *redacted += here;
    return io_out_commit_rewrite(out, tmp, fd, st, in_place, path, err);
}
