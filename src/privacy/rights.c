/* rights: access/portability export (Art. 15/20), erasure (Art. 17), retention purge. */
#define _GNU_SOURCE /* O_PATH: walking a registered path through folders that may not be listed */
#include "privacy/privacy_internal.h"
#include "data/parse.h"
#include "io/io_out.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ export */

typedef struct {
    json_t *tables;
    int64_t rows;
} export_acc;

static int export_row(void *ctx, const char *table, int ncols, const char *const *names,
                      const char *const *values)
{
    export_acc *acc = ctx;
    json_t *arr = json_object_get(acc->tables, table);
    if (!arr) {
        arr = json_array();
        json_object_set_new(acc->tables, table, arr);
    }
    json_t *row = json_object();
    for (int i = 0; i < ncols; i++)
        json_object_set_new(row, names[i], values[i] ? json_string(values[i]) : json_null());
    json_array_append_new(arr, row);
    acc->rows++;
    return 0;
}

static json_t *consent_state(privacy_ctx *ctx, const char *id, hp_error *err)
{
    json_t *o = json_object();
    for (int p = 0; p < PRIVACY_PURPOSE_COUNT; p++) {
        privacy_decision why;
        int rc = privacy_allowed(ctx, id, (privacy_purpose)p, PRIVACY_REQ_NO_AUDIT, &why, err);
        if (rc < 0) {
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, privacy_purpose_name((privacy_purpose)p),
                            json_pack("{s:b, s:s}", "allowed", why.allowed, "reason", why.reason));
    }
    return o;
}

static int write_export(FILE *f, const char *id, const char *ps, int64_t now, json_t *tables,
                        json_t *state)
{
    char when[32];
    data_format_timestamp(now, when, sizeof when);
    json_t *doc = json_pack("{s:i, s:s, s:s, s:s, s:o, s:o}", "hyperp_export", 1,
                            "generated_at", when, "customer_id", id, "pseudonym", ps,
                            "consent_state", state, "tables", tables);
    if (!doc) return HP_ERR_NOMEM;
    int rc = json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ? HP_ERR_WRITE : HP_OK;
    if (!rc && fputc('\n', f) == EOF) rc = HP_ERR_WRITE;
    json_decref(doc);
    return rc;
}

int privacy_export(privacy_ctx *ctx, const char *customer_id, void *f, hp_error *err)
{
    char ps[PRIVACY_MAX_KEYS][PRIVACY_PSEUDONYM_LEN];
    const char *ptrs[PRIVACY_MAX_KEYS];
    int rc = privacy_id_check(customer_id, err);
    if (!rc) rc = privacy_pseudonyms_all(ctx, customer_id, ps, ptrs, err);
    if (rc) return rc;
    export_acc acc = { json_object(), 0 };
    rc = store_subject_rows(ctx->st, customer_id, ptrs, ctx->nkeys, export_row, &acc, err);
    if (!rc && acc.rows == 0)
        rc = hp_fail(err, HP_ERR_NOTFOUND, "customer '%s': nothing is held about this customer", customer_id);
    json_t *state = rc ? NULL : consent_state(ctx, customer_id, err);
    if (!rc && !state) rc = err ? err->status : HP_ERR_WRITE;
    if (rc) {
        json_decref(acc.tables);
        return rc;
    }
    rc = write_export(f, customer_id, ps[0], privacy_now(ctx), acc.tables, state);
    if (rc) return hp_fail(err, rc, "writing the export failed");
    char outcome[64];
    snprintf(outcome, sizeof outcome, "exported %lld rows", (long long)acc.rows);
    return privacy_audit(ctx, "export", NULL, ps[0], NULL, outcome, err);
}

/* ------------------------------------------------------------------ output files with raw ids */

static const char *const k_output_kinds[PRIVACY_OUT_KIND_COUNT] = {
    "rejects", "recommendations", "subject_export", "masked_text",
};

const char *privacy_output_kind_name(privacy_output_kind k)
{
    return (unsigned)k < PRIVACY_OUT_KIND_COUNT ? k_output_kinds[k] : "?";
}

int privacy_register_output(privacy_ctx *ctx, const char *path, privacy_output_kind kind, hp_error *err)
{
    char canon[PATH_MAX];
    if ((unsigned)kind >= PRIVACY_OUT_KIND_COUNT) return hp_fail(err, HP_ERR_INVAL, "unknown output kind %d", (int)kind);
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && !S_ISREG(st.st_mode)) return HP_OK; /* a pipe or a terminal keeps nothing */
    /* the file itself too: erasure follows a link put at the path later only to this file */
    store_file_id id = { exists ? (int64_t)st.st_dev : 0, exists ? (int64_t)st.st_ino : 0 };
    int rc = io_out_canonical(path, canon, sizeof canon, err);
    return rc ? rc : store_output_record(ctx->st, canon, k_output_kinds[kind], privacy_now(ctx), id, err);
}

static void note_unreachable(privacy_erase_result *res, const char *path, const char *why)
{
    size_t used = strlen(res->unreachable_list);
    res->unreachable++;
    snprintf(res->unreachable_list + used, sizeof res->unreachable_list - used, "%s%s (%s)",
             used ? "; " : "", path, why);
}

/* The characters of a customer id (privacy_id_check). */
static int id_char(int c) { return isalnum(c) || c == '_' || c == '.' || c == ':' || c == '@' || c == '-'; }

/* Whether s holds id as a whole token: not inside a longer id ("C1" is not in "C10"); a
 * trailing '.', ':' or '-' followed by no id character is punctuation ("... C1."). */
static int has_token(const char *s, size_t n, const char *id)
{
    size_t m = strlen(id);
    for (size_t i = 0; m && i + m <= n; i++) {
        if (s[i] != id[0] || memcmp(s + i, id, m) != 0) continue;
        if (i > 0 && id_char((unsigned char)s[i - 1])) continue;
        size_t j = i + m;
        int c = j < n ? (unsigned char)s[j] : 0, next = j + 1 < n ? (unsigned char)s[j + 1] : 0;
        if (!c || !id_char(c) || ((c == '.' || c == ':' || c == '-') && !id_char(next))) return 1;
    }
    return 0;
}

/* Decides for one record of a registered file: 1 keep, 0 drop, -1 the file is not in the
 * expected format (it is left as it is and reported). */
typedef int (*keep_fn)(void *ctx, const char *rec, size_t len, long line);

typedef struct {
    const char *id;
    int subject_column; /* rejects: the header ends with ",customer_id" */
} keep_ctx;

static const char k_rejects_header[] = "file,line,column,reason,record";

/* The last field of a CSV record (after its last comma outside quotes), unquoted. */
static void last_csv_field(const char *rec, size_t len, char *out, size_t size)
{
    size_t start = 0, k = 0;
    int quoted = 0;
    while (len && (rec[len - 1] == '\n' || rec[len - 1] == '\r')) len--;
    for (size_t i = 0; i < len; i++) {
        if (rec[i] == '"') quoted = !quoted;
        else if (rec[i] == ',' && !quoted) start = i + 1;
    }
    int q = start < len && rec[start] == '"';
    for (size_t i = start + q; i < len && k + 1 < size; i++) {
        if (q && rec[i] == '"') {
            if (i + 1 < len && rec[i + 1] == '"') i++; /* "" is one quote */
            else break;
        }
        out[k++] = rec[i];
    }
    out[k] = 0;
}

/* Rejects: a record goes when its customer_id column is the customer, or, when it has none
 * (a row whose customer is unknown, an older file), when any token of it is the id. */
static int keep_reject(void *c, const char *rec, size_t len, long line)
{
    keep_ctx *k = c;
    if (line == 1) {
        size_t h = sizeof k_rejects_header - 1;
        if (len < h || memcmp(rec, k_rejects_header, h) != 0) return -1;
        k->subject_column = len >= h + 12 && memcmp(rec + h, ",customer_id", 12) == 0;
        return 1;
    }
    if (k->subject_column) {
        char subject[PRIVACY_ID_MAX * 2 + 8];
        last_csv_field(rec, len, subject, sizeof subject);
        if (subject[0]) return strcmp(subject, k->id) != 0;
    }
    return !has_token(rec, len, k->id);
}

/* Recommendations: one JSON object per line; the line whose "customer_id" is the id goes. */
static int keep_recommendation(void *c, const char *rec, size_t len, long line)
{
    keep_ctx *k = c;
    (void)line;
    if (!has_token(rec, len, k->id)) return 1; /* cannot be the customer's line */
    json_t *o = json_loadb(rec, len, 0, NULL);
    const char *cid = json_string_value(json_object_get(o, "customer_id"));
    int keep = cid ? strcmp(cid, k->id) != 0 : -1;
    json_decref(o);
    return keep;
}

static int keep_text_line(void *c, const char *rec, size_t len, long line)
{
    (void)line;
    return !has_token(rec, len, ((keep_ctx *)c)->id);
}

/* Appends one physical line to the record being read; *done when the record is complete
 * (csv: its quotes are balanced, so a quoted field may span lines). */
static int add_line(char **rec, size_t *len, size_t *cap, const char *line, size_t n, int csv, int *done)
{
    if (hp_grow((void **)rec, cap, *len + n + 1, 1)) return HP_ERR_NOMEM;
    memcpy(*rec + *len, line, n);
    *len += n;
    (*rec)[*len] = 0;
    size_t quotes = 0;
    for (size_t i = 0; csv && i < *len; i++) quotes += (*rec)[i] == '"';
    *done = quotes % 2 == 0;
    return HP_OK;
}

typedef struct {
    int64_t dropped;
    const char *why;    /* set when the file cannot be handled: left as it is */
} rewrite_result;

/* A registered file as erasure reaches it: opened once, so that the file checked is the file
 * rewritten. */
typedef struct {
    int fd;          /* read-write when it could be opened so; -1 when not reached */
    int writable;
    struct stat st;  /* of fd */
    int in_place;    /* rewrite the inode itself: it has other hard links (a rename would leave
                        them holding the customer), or the path now leads to it through a link */
} output_file;

/* Why a file is not reached. The ones below are compared by address: for a dataset or audit
 * export they are reported and the erasure goes on, as for an output; any other stops it. */
static const char k_missing[] = "missing: moved or deleted";
static const char k_link_elsewhere[] = "replaced by a symbolic link since it was registered, to a file that is "
                                       "not the one registered: not followed, the link's target not checked";
static const char k_folder_link_elsewhere[] = "a folder on its path was replaced by a symbolic link since it was "
                                              "registered, leading to a file that is not the one registered: not "
                                              "followed, that file not checked";
static const char k_link_unknown[] = "a symbolic link on its path since it was recorded, and which file was "
                                     "recorded is not known: not followed, the link's target not checked";

static int unreached_by_link(const char *why)
{
    return why == k_missing || why == k_link_elsewhere || why == k_folder_link_elsewhere || why == k_link_unknown;
}

/* O_PATH: a folder that may be searched but not listed can still be walked through. */
#ifndef O_PATH
#define O_PATH 0 /* not Linux: every folder on the path must be readable */
#endif
#define WALK_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Opens the folder holding path's last component (*base), walking every folder on the way
 * without following a symbolic link: the path was canonical when registered, so a link on it
 * came later and may lead anywhere. -1 when a folder is missing, not a folder, or (*via_link
 * set) a symbolic link. */
static int open_parent(const char *path, int *via_link, const char **base)
{
    char name[NAME_MAX + 1];
    const char *p = path, *end;
    int fd = open(*p == '/' ? "/" : ".", WALK_FLAGS);
    *via_link = 0;
    while (fd >= 0) {
        while (*p == '/') p++;
        if (!(end = strchr(p, '/'))) break;
        size_t n = (size_t)(end - p);
        struct stat st;
        int next = -1;
        if (n <= NAME_MAX) {
            memcpy(name, p, n);
            name[n] = 0;
            next = openat(fd, name, WALK_FLAGS);
            if (next < 0) *via_link = fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
        }
        int e = n <= NAME_MAX ? errno : ENAMETOOLONG;
        close(fd);
        errno = e;
        fd = next;
        p = end;
    }
    *base = p;
    return fd;
}

/* Opens name read-write, or read-only when the file may not be written (o->writable). */
static void open_rw(int dir, const char *name, int flags, output_file *o)
{
    o->writable = (o->fd = openat(dir, name, O_RDWR | flags)) >= 0;
    if (o->fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM)) o->fd = openat(dir, name, O_RDONLY | flags);
}

static const char *open_failure(void)
{
    return errno == ENOENT || errno == ENOTDIR ? k_missing : "cannot be read";
}

/* Opens the file at path. A symbolic link on the path, in its last component or in a folder,
 * is followed only to the very file registered (id: { 0, 0 } when not known, then never);
 * anything else is reported (*why) and left alone: rewriting through the link would change
 * another file, rewriting the link would replace it by a file and leave its target as it was. */
static void open_output(const char *path, store_file_id id, output_file *o, const char **why)
{
    struct stat l;
    const char *base;
    int folder_link, flags = O_CLOEXEC | O_NOCTTY | O_NONBLOCK; /* no wait on a fifo */
    o->fd = -1;
    int dir = open_parent(path, &folder_link, &base);
    if (dir < 0 && !folder_link) {
        *why = open_failure();
        return;
    }
    if (dir >= 0 && fstatat(dir, base, &l, AT_SYMLINK_NOFOLLOW) != 0) {
        *why = open_failure();
        close(dir);
        return;
    }
    int link = folder_link || S_ISLNK(l.st_mode);
    const char *elsewhere = !id.ino ? k_link_unknown : folder_link ? k_folder_link_elsewhere : k_link_elsewhere;
    if (!link && !S_ISREG(l.st_mode)) *why = "not a regular file";
    else if (link) open_rw(AT_FDCWD, path, flags, o);
    else open_rw(dir, base, flags | O_NOFOLLOW, o);
    if (dir >= 0) close(dir);
    if (*why) return;
    if (o->fd < 0) {
        *why = link ? elsewhere : open_failure();
        return;
    }
    if (fstat(o->fd, &o->st) != 0 || !S_ISREG(o->st.st_mode)) *why = link ? elsewhere : "not a regular file";
    else if (link && !(id.ino && o->st.st_dev == (dev_t)id.dev && o->st.st_ino == (ino_t)id.ino)) *why = elsewhere;
    else if (!link && (o->st.st_dev != l.st_dev || o->st.st_ino != l.st_ino)) *why = "changed while being checked";
    o->in_place = link || o->st.st_nlink > 1;
    if (!*why && o->in_place && !o->writable) *why = "has other names (hard links) but cannot be written in place";
    if (*why) {
        close(o->fd);
        o->fd = -1;
    }
}

/* Copies the file to a private temporary file without the records keep() drops and, when any
 * was dropped, renames it over path, or, for o->in_place, copies it back into the file itself
 * (every hard link, and a link's target, then lose the records too). A file not in the
 * expected format is left untouched. */
static int rewrite_records(const char *path, const output_file *o, int csv, keep_fn keep, void *kctx,
                           rewrite_result *r, hp_error *err)
{
    char tmp[PATH_MAX + 16], *line = NULL, *rec = NULL;
    size_t cap = 0, rlen = 0, rcap = 0;
    ssize_t n;
    int dupfd = dup(o->fd);
    FILE *in = dupfd >= 0 ? fdopen(dupfd, "r") : NULL;
    if (!in) {
        if (dupfd >= 0) close(dupfd);
        return r->why = "cannot be read", HP_OK;
    }
    FILE *out = io_out_tmp(path, tmp, sizeof tmp, err);
    int rc = out ? HP_OK : HP_ERR_WRITE;
    long ln = 0, first = 1;
    while (!rc && !r->why && (n = getline(&line, &cap, in)) > 0) {
        int done;
        ln++;
        if ((rc = add_line(&rec, &rlen, &rcap, line, (size_t)n, csv, &done))) break;
        if (!done) continue;
        int k = keep(kctx, rec, rlen, first);
        if (k < 0) r->why = first == 1 ? "not in the format it was registered with" : "a record is not in the registered format";
        else if (k == 0) r->dropped++;
        else if (fwrite(rec, 1, rlen, out) != rlen) rc = hp_fail(err, HP_ERR_WRITE, "%s: write failed", tmp);
        first = ln + 1;
        rlen = 0;
    }
    if (!rc && !r->why && (ferror(in) || rlen)) r->why = ferror(in) ? "cannot be read" : "ends inside a quoted field";
    free(line);
    hp_free(rec);
    fclose(in);
    if (!out) return rc;
    if (rc || r->why || r->dropped == 0) {
        io_out_abort(out, tmp);
        return rc;
    }
    return io_out_commit_rewrite(out, tmp, o->fd, &o->st, o->in_place, path, err);
}

/* The customer's own export is deleted (it is all about them); another customer's stays. A
 * file with other names (hard links), or reached through a link, is emptied first, so that
 * none of its names keeps the customer. */
static int remove_subject_export(const char *path, const output_file *o, const char *id, int *removed,
                                 const char **why)
{
    int dupfd = dup(o->fd);
    FILE *in = dupfd >= 0 ? fdopen(dupfd, "r") : NULL;
    json_t *doc = in ? json_loadf(in, 0, NULL) : NULL;
    if (in) fclose(in);
    else if (dupfd >= 0) close(dupfd);
    const char *cid = json_string_value(json_object_get(doc, "customer_id"));
    int mine = cid && !strcmp(cid, id);
    if (!cid) *why = "not a hyperp export";
    else if (mine && o->in_place && (ftruncate(o->fd, 0) != 0 || fsync(o->fd) != 0)) *why = "cannot be emptied";
    else if (mine && unlink(path) == 0) *removed = 1;
    else if (mine) *why = "cannot be deleted";
    json_decref(doc);
    return HP_OK;
}

typedef struct {
    char **paths, **kinds;
    store_file_id *ids;
    size_t n, cap, kcap, icap;
} output_list;

static int collect_output(void *ctx, const char *path, const char *kind, int64_t at, store_file_id id)
{
    output_list *l = ctx;
    (void)at;
    if (hp_grow((void **)&l->paths, &l->cap, l->n + 1, sizeof *l->paths) ||
        hp_grow((void **)&l->kinds, &l->kcap, l->n + 1, sizeof *l->kinds) ||
        hp_grow((void **)&l->ids, &l->icap, l->n + 1, sizeof *l->ids))
        return 1;
    l->ids[l->n] = id;
    l->paths[l->n] = hp_strdup(path ? path : "");
    l->kinds[l->n] = hp_strdup(kind ? kind : "");
    if (!l->paths[l->n] || !l->kinds[l->n]) {
        hp_free(l->paths[l->n]);
        hp_free(l->kinds[l->n]);
        return 1;
    }
    l->n++;
    return 0;
}

static void output_list_free(output_list *l)
{
    for (size_t i = 0; i < l->n; i++) hp_free(l->paths[i]), hp_free(l->kinds[i]);
    hp_free(l->paths);
    hp_free(l->kinds);
    hp_free(l->ids);
}

/* Drops the customer's records from the opened file o, by the format its kind names. */
static int erase_by_kind(const char *path, const output_file *o, const char *kind, const char *id,
                         rewrite_result *r, int *removed, hp_error *err)
{
    keep_ctx k = { id, 0 };
    if (!strcmp(kind, k_output_kinds[PRIVACY_OUT_REJECTS])) return rewrite_records(path, o, 1, keep_reject, &k, r, err);
    if (!strcmp(kind, k_output_kinds[PRIVACY_OUT_RECOMMENDATIONS]))
        return rewrite_records(path, o, 0, keep_recommendation, &k, r, err);
    if (!strcmp(kind, k_output_kinds[PRIVACY_OUT_MASKED_TEXT])) return rewrite_records(path, o, 0, keep_text_line, &k, r, err);
    if (!strcmp(kind, k_output_kinds[PRIVACY_OUT_SUBJECT_EXPORT])) return remove_subject_export(path, o, id, removed, &r->why);
    r->why = "unknown kind of file";
    return HP_OK;
}

/* Removes the customer from one registered output file (file: what it was when registered). */
static int erase_from_output(privacy_ctx *ctx, const char *path, const char *kind, store_file_id file,
                             const char *id, privacy_erase_result *res, hp_error *err)
{
    output_file o;
    rewrite_result r = { 0, NULL };
    int removed = 0, rc = HP_OK;
    open_output(path, file, &o, &r.why);
    if (!r.why) rc = erase_by_kind(path, &o, kind, id, &r, &removed, err);
    if (o.fd >= 0) close(o.fd);
    if (rc) return rc;
    if (r.why) note_unreachable(res, path, r.why);
    res->output_files_rewritten += r.dropped > 0;
    res->output_files_removed += removed;
    return removed ? store_output_forget(ctx->st, path, err) : HP_OK;
}

/* Step 0 of an erasure: the registered output files lose the customer before any row goes,
 * while the id is still known (the store keeps no copy of it once the rows are erased). */
static int erase_outputs(privacy_ctx *ctx, const char *id, privacy_erase_result *res, hp_error *err)
{
    output_list l = { 0 };
    int rc = store_output_each(ctx->st, collect_output, &l, err);
    if (rc > 0) rc = hp_fail(err, HP_ERR_NOMEM, "out of memory listing registered output files");
    for (size_t i = 0; !rc && i < l.n; i++) rc = erase_from_output(ctx, l.paths[i], l.kinds[i], l.ids[i], id, res, err);
    if (rc) hp_error_prefix(err, "erasure stopped before erasing anything: a registered output file "
                            "cannot be rewritten; fix this and run erase again");
    output_list_free(&l);
    return rc;
}

/* ------------------------------------------------------------------ erasure */

typedef struct {
    const char *const *ps;
    int n;
} pseudonym_set;

/* A dataset export's line goes when it carries any of the pseudonyms. */
static int keep_without_pseudonyms(void *c, const char *rec, size_t len, long line)
{
    const pseudonym_set *s = c;
    (void)line;
    for (int i = 0; i < s->n; i++)
        if (memmem(rec, len, s->ps[i], strlen(s->ps[i]))) return 0;
    return 1;
}

typedef struct {
    const char *const *ps;
    int n;
    int64_t files, unreachable;
    privacy_erase_result *res; /* may be NULL (purge): where unreachable files are listed */
    hp_error *err;
    int rc;
} scrub_ctx;

/* Removes the pseudonyms from one dataset or audit export. It is opened as a registered output
 * is (open_output), with no identity recorded: a symbolic link on its path is never followed
 * and, like a missing file, reported while the erasure goes on; a file with other hard links
 * is rewritten in place. Anything else that keeps it from being rewritten stops the erasure,
 * which a rerun finishes. */
static int scrub_export(void *ctx, const char *path, const char *kind, int64_t k, int64_t at)
{
    scrub_ctx *sc = ctx;
    store_file_id unknown = { 0, 0 };
    output_file o;
    const char *why = NULL;
    int64_t hits = 0;
    (void)k;
    (void)at;
    open_output(path, unknown, &o, &why);
    if (why && unreached_by_link(why)) {
        sc->unreachable++;
        if (sc->res) note_unreachable(sc->res, path, why);
        return 0;
    }
    if (why) sc->rc = hp_fail(sc->err, HP_ERR_WRITE, "%s: %s: not rewritten", path, why);
    else if (!strcmp(kind, "audit")) sc->rc = audit_redact_fd(o.fd, &o.st, o.in_place, path, sc->ps, sc->n, &hits, sc->err);
    else {
        pseudonym_set set = { sc->ps, sc->n };
        rewrite_result r = { 0, NULL };
        sc->rc = rewrite_records(path, &o, 0, keep_without_pseudonyms, &set, &r, sc->err);
        if (!sc->rc && r.why) sc->rc = hp_fail(sc->err, HP_ERR_WRITE, "%s: %s: not rewritten", path, r.why);
        hits = r.dropped;
    }
    if (o.fd >= 0) close(o.fd);
    sc->files += hits > 0;
    return sc->rc ? 1 : 0;
}

static void erase_counts(const store_erase_counts *c, char *out, size_t size)
{
    snprintf(out, size, "erased rows: customers %lld, consent %lld, feedback %lld, transactions "
             "%lld, features %lld, notes %lld, audit subjects redacted %lld",
             (long long)c->customers, (long long)c->consent, (long long)c->feedback,
             (long long)c->transactions, (long long)c->features, (long long)c->notes,
             (long long)c->audit_redacted);
}

/* An erasure whose rows are gone but whose file, registry and audit steps are not done. */
typedef struct {
    int64_t id;
    char pseudonyms[PRIVACY_MAX_KEYS * PRIVACY_PSEUDONYM_LEN];
    char counts[256];
} pending;

typedef struct {
    pending *p;
    size_t n, cap;
} pending_list;

static int collect_pending(void *ctx, int64_t id, const char *pseudonyms, const char *counts)
{
    pending_list *l = ctx;
    if (hp_grow((void **)&l->p, &l->cap, l->n + 1, sizeof *l->p)) return 1;
    pending *e = &l->p[l->n++];
    e->id = id;
    snprintf(e->pseudonyms, sizeof e->pseudonyms, "%s", pseudonyms ? pseudonyms : "");
    snprintf(e->counts, sizeof e->counts, "%s", counts ? counts : "");
    return 0;
}

/* Scrubs the export files of one pending erasure, marks the models, then audits it and drops
 * the pending record in one transaction. Safe to repeat: scrubbing twice changes nothing. */
static int finish_one(privacy_ctx *ctx, pending *e, privacy_erase_result *res, hp_error *err)
{
    const char *ptrs[PRIVACY_MAX_KEYS];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(e->pseudonyms, " ", &save); t && n < PRIVACY_MAX_KEYS;
         t = strtok_r(NULL, " ", &save))
        ptrs[n++] = t;
    scrub_ctx sc = { ptrs, n, 0, 0, res, err, HP_OK };
    int rc = n ? store_export_each(ctx->st, scrub_export, &sc, err) : HP_OK;
    if (rc > 0) rc = sc.rc;
    if (res) res->export_files_rewritten += sc.files;
    if (rc) {
        hp_error_prefix(err, "erasure: the rows are erased but an export file is not; fix this and "
                        "run erase or purge again to finish");
        return rc;
    }
    char outcome[320];
    snprintf(outcome, sizeof outcome, "%s, export files %lld", e->counts, (long long)sc.files);
    if (sc.unreachable)
        snprintf(outcome + strlen(outcome), sizeof outcome - strlen(outcome), ", export files not reached %lld",
                 (long long)sc.unreachable);
    if ((rc = store_begin(ctx->st, err))) return rc;
    /* models trained on the customer's data still encode it: the registry says retrain */
    rc = store_model_mark_retrain(ctx->st, "erasure request", privacy_now(ctx), err);
    if (!rc) rc = privacy_audit(ctx, "erase", NULL, NULL, NULL, outcome, err);
    if (!rc) rc = store_erasure_pending_done(ctx->st, e->id, err);
    if (rc) {
        store_rollback(ctx->st);
        return rc;
    }
    return store_commit(ctx->st, err);
}

/* Finishes every pending erasure (only: just that one when not 0); *matched is set when one
 * of them carried one of the nps pseudonyms ps. */
static int finish_pending(privacy_ctx *ctx, int64_t only, const char *const *ps, int nps,
                          int *matched, privacy_erase_result *res, int64_t *done, hp_error *err)
{
    pending_list l = { 0 };
    int rc = store_erasure_pending_each(ctx->st, collect_pending, &l, err);
    if (rc > 0) rc = hp_fail(err, HP_ERR_NOMEM, "out of memory listing pending erasures");
    for (size_t i = 0; !rc && i < l.n; i++) {
        if (only && l.p[i].id != only) continue;
        for (int k = 0; k < nps; k++)
            if (strstr(l.p[i].pseudonyms, ps[k])) *matched = 1;
        rc = finish_one(ctx, &l.p[i], res, err);
        if (!rc && done) (*done)++;
    }
    if (l.p) sodium_memzero(l.p, l.cap * sizeof *l.p);
    hp_free(l.p);
    return rc;
}

/* Step 1, one transaction: suppression records for the opt-outs in force, every row deleted,
 * audit subjects redacted, and a pending record naming what the files still have to lose.
 * Step 2 (finish_pending) may fail and be resumed without losing track of the customer. */
static int erase_store(privacy_ctx *ctx, const char *customer_id, privacy_erase_result *res,
                       hp_error *err)
{
    char ps[PRIVACY_MAX_KEYS][PRIVACY_PSEUDONYM_LEN], counts[256];
    char joined[PRIVACY_MAX_KEYS * PRIVACY_PSEUDONYM_LEN] = "";
    const char *ptrs[PRIVACY_MAX_KEYS];
    int64_t pending_id = 0;
    int rc = privacy_pseudonyms_all(ctx, customer_id, ps, ptrs, err);
    if (rc) return rc;
    for (int k = 0; k < ctx->nkeys; k++)
        snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s", k ? " " : "", ps[k]);
    if ((rc = store_begin(ctx->st, err))) return rc;
    rc = privacy_suppress_opt_outs(ctx, customer_id, err);
    if (!rc) rc = store_subject_erase(ctx->st, customer_id, ptrs, ctx->nkeys, &res->rows, err);
    erase_counts(&res->rows, counts, sizeof counts);
    /* counts only: a path may name the customer, and the audit entry outlives the erasure */
    snprintf(counts + strlen(counts), sizeof counts - strlen(counts), "; output files rewritten %lld, "
             "removed %lld, unreachable %lld", (long long)res->output_files_rewritten,
             (long long)res->output_files_removed, (long long)res->unreachable);
    if (!rc) rc = store_erasure_pending_add(ctx->st, joined, counts, privacy_now(ctx), &pending_id, err);
    if (rc) store_rollback(ctx->st);
    else rc = store_commit(ctx->st, err);
    if (!rc) rc = finish_pending(ctx, pending_id, NULL, 0, NULL, res, NULL, err);
    res->models_marked = !rc;
    if (!rc) rc = store_checkpoint_truncate(ctx->st, err);
    sodium_memzero(ps, sizeof ps);
    sodium_memzero(joined, sizeof joined);
    return rc;
}

/* Step 0 (the registered output files, while the id is still known), then the store. */
int privacy_erase_one(privacy_ctx *ctx, const char *customer_id, privacy_erase_result *res,
                      hp_error *err)
{
    memset(res, 0, sizeof *res);
    int rc = erase_outputs(ctx, customer_id, res, err);
    return rc ? rc : erase_store(ctx, customer_id, res, err);
}

static int count_row(void *ctx, const char *table, int ncols, const char *const *names,
                     const char *const *values)
{
    (void)table, (void)ncols, (void)names, (void)values;
    (*(int64_t *)ctx)++;
    return 0;
}

/* A customer the store holds nothing about may still be in registered output files (the
 * recommendations name every customer scored): those are erased, and the erasure audited. */
static int erase_outputs_only(privacy_ctx *ctx, const char *customer_id, privacy_erase_result *res,
                              hp_error *err)
{
    privacy_erase_result prior = *res;
    memset(res, 0, sizeof *res);
    int rc = erase_outputs(ctx, customer_id, res, err);
    if (!rc && res->output_files_rewritten + res->output_files_removed > 0)
        rc = erase_store(ctx, customer_id, res, err);
    else if (!rc)
        rc = hp_fail(err, HP_ERR_NOTFOUND, "customer '%s': nothing is held about this customer%s%s%s",
                     customer_id, res->unreachable ? " (registered files that could not be checked: " : "",
                     res->unreachable_list, res->unreachable ? ")" : "");
    res->export_files_rewritten += prior.export_files_rewritten;
    return rc;
}

int privacy_erase(privacy_ctx *ctx, const char *customer_id, privacy_erase_result *res,
                  hp_error *err)
{
    char ps[PRIVACY_MAX_KEYS][PRIVACY_PSEUDONYM_LEN];
    const char *ptrs[PRIVACY_MAX_KEYS];
    int64_t rows = 0;
    int matched = 0;
    memset(res, 0, sizeof *res);
    int rc = privacy_id_check(customer_id, err);
    if (!rc) rc = privacy_pseudonyms_all(ctx, customer_id, ps, ptrs, err);
    /* an earlier erasure that stopped half-way is finished first */
    if (!rc) rc = finish_pending(ctx, 0, ptrs, ctx->nkeys, &matched, res, NULL, err);
    if (!rc) rc = store_subject_rows(ctx->st, customer_id, ptrs, ctx->nkeys, count_row, &rows, err);
    if (rc) return rc;
    if (rows == 0 && matched) { /* its output files went before its rows */
        res->resumed = 1;
        res->models_marked = 1;
        return store_checkpoint_truncate(ctx->st, err);
    }
    if (rows == 0) return erase_outputs_only(ctx, customer_id, res, err);
    privacy_erase_result prior = *res;
    rc = privacy_erase_one(ctx, customer_id, res, err);
    res->export_files_rewritten += prior.export_files_rewritten;
    return rc;
}

/* ------------------------------------------------------------------ purge */

typedef struct {
    char **ids;
    size_t n, cap;
} id_list;

static int collect_id(void *ctx, const char *id)
{
    id_list *l = ctx;
    if (hp_grow((void **)&l->ids, &l->cap, l->n + 1, sizeof *l->ids)) return 1;
    return (l->ids[l->n] = hp_strdup(id)) ? (l->n++, 0) : 1;
}

static void id_list_free(id_list *l)
{
    for (size_t i = 0; i < l->n; i++) hp_free(l->ids[i]);
    hp_free(l->ids);
}

/* Carries out queued erasure requests (and finishes interrupted erasures). A request is
 * dropped instead when the customer allows some purpose again by now. */
static int purge_erasures(privacy_ctx *ctx, int dry_run, privacy_purge_result *res, hp_error *err)
{
    int64_t pend = 0;
    int rc = store_erasure_pending_count(ctx->st, &pend, err);
    if (rc) return rc;
    if (dry_run) {
        rc = store_erasure_count(ctx->st, &res->erasures, err);
        res->erasures += pend;
        return rc;
    }
    rc = finish_pending(ctx, 0, NULL, 0, NULL, NULL, &res->erasures, err);
    id_list l = { 0 };
    if (!rc) rc = store_erasure_each(ctx->st, collect_id, &l, err);
    if (rc > 0) rc = hp_fail(err, HP_ERR_NOMEM, "out of memory listing erasure requests");
    for (size_t i = 0; !rc && i < l.n; i++) {
        int any = 0;
        rc = privacy_any_allowed(ctx, l.ids[i], &any, err);
        if (!rc && any) {
            rc = store_erasure_cancel(ctx->st, l.ids[i], NULL, err);
            continue;
        }
        privacy_erase_result er;
        if (!rc) rc = privacy_erase_one(ctx, l.ids[i], &er, err);
        res->erasures += !rc;
    }
    id_list_free(&l);
    return rc;
}

/* Removes the log prefix past retention and, in the same transaction, appends the entry that
 * names the new anchor (verification trusts the anchor only when that entry confirms it). */
static int purge_logs(privacy_ctx *ctx, int64_t cutoff, int64_t *n, hp_error *err)
{
    int64_t aseq;
    char ahash[65], outcome[192];
    int rc = store_begin(ctx->st, err);
    if (rc) return rc;
    rc = store_delete_older(ctx->st, STORE_CAT_LOGS, cutoff, n, err);
    if (!rc && *n > 0) rc = store_audit_anchor(ctx->st, &aseq, ahash, err);
    if (!rc && *n > 0) {
        snprintf(outcome, sizeof outcome, "removed %lld entries past retention; anchor seq %lld hash %s",
                 (long long)*n, (long long)aseq, ahash);
        rc = privacy_audit(ctx, AUDIT_PURGE_ACTION, NULL, NULL, NULL, outcome, err);
    }
    if (rc) {
        store_rollback(ctx->st);
        return rc;
    }
    return store_commit(ctx->st, err);
}

/* A retention deletion is an erasure for the models: those registered encode the deleted
 * customers (marked here), and one in training registers after this entry, which its snapshot
 * check counts (privacy_register_model). Both in the caller's transaction with the delete. */
static int purge_marks_models(privacy_ctx *ctx, int64_t n, hp_error *err)
{
    char outcome[128];
    snprintf(outcome, sizeof outcome, "customers past retention deleted %lld; models marked for retraining",
             (long long)n);
    int rc = store_model_mark_retrain(ctx->st, "retention deletion", privacy_now(ctx), err);
    return rc ? rc : privacy_audit(ctx, PRIVACY_RETENTION_ERASE_ACTION, NULL, NULL, NULL, outcome, err);
}

/* Customers past retention go with their consent history; the opt-outs in force stay as
 * suppression records (as on erasure), in the same transaction as the delete. */
static int purge_customers(privacy_ctx *ctx, int64_t cutoff, int64_t *n, hp_error *err)
{
    id_list l = { 0 };
    int rc = store_begin(ctx->st, err);
    if (rc) return rc;
    rc = store_customer_each_older(ctx->st, cutoff, collect_id, &l, err);
    if (rc > 0) rc = hp_fail(err, HP_ERR_NOMEM, "out of memory listing customers past retention");
    for (size_t i = 0; !rc && i < l.n; i++) rc = privacy_suppress_opt_outs(ctx, l.ids[i], err);
    if (!rc) rc = store_delete_older(ctx->st, STORE_CAT_CUSTOMER, cutoff, n, err);
    if (!rc && *n > 0) rc = purge_marks_models(ctx, *n, err);
    id_list_free(&l);
    if (rc) {
        store_rollback(ctx->st);
        return rc;
    }
    return store_commit(ctx->st, err);
}

int privacy_purge(privacy_ctx *ctx, int dry_run, privacy_purge_result *res, hp_error *err)
{
    memset(res, 0, sizeof *res);
    int64_t now = privacy_now(ctx);
    int rc = HP_OK;
    for (int c = 0; !rc && c < STORE_CAT_COUNT; c++) {
        int64_t days = ctx->cfg.retention_days[c];
        if (days <= 0) continue;
        res->cutoff[c] = now - days * 86400;
        if (dry_run) rc = store_count_older(ctx->st, (store_category)c, res->cutoff[c], &res->rows[c], err);
        else if (c == STORE_CAT_LOGS) rc = purge_logs(ctx, res->cutoff[c], &res->rows[c], err);
        else if (c == STORE_CAT_CUSTOMER) rc = purge_customers(ctx, res->cutoff[c], &res->rows[c], err);
        else rc = store_delete_older(ctx->st, (store_category)c, res->cutoff[c], &res->rows[c], err);
    }
    if (!rc) rc = purge_erasures(ctx, dry_run, res, err);
    if (rc || dry_run) return rc;
    char outcome[256];
    snprintf(outcome, sizeof outcome, "purged: customer %lld, transactions %lld, feedback %lld, "
             "features %lld, logs %lld; erasures %lld", (long long)res->rows[0],
             (long long)res->rows[1], (long long)res->rows[2], (long long)res->rows[3],
             (long long)res->rows[4], (long long)res->erasures);
    rc = privacy_audit(ctx, "purge", NULL, NULL, NULL, outcome, err);
    return rc ? rc : store_checkpoint_truncate(ctx->st, err);
}
