/* io_source: opening files and buffers, whole-file checks (empty, UTF-16, binary),
 * encoding conversion, and dispatch to the CSV and JSON readers. */
#include "io/io_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ reading files */

static const char *sniff_not_text(const unsigned char *p, size_t n);

/* Why the first bytes of a device or pipe, which has no size and may never end (/dev/zero,
 * /dev/urandom), are no text: all NUL or binary. NULL if they may be text. */
static const char *stream_not_text(const unsigned char *p, size_t n)
{
    size_t nul = 0;
    for (size_t i = 0; i < n; i++) nul += p[i] == 0;
    if (n > 0 && nul == n) return "reads as NUL bytes (a device such as /dev/zero?), not CSV or JSON text";
    /* text holds no NUL: random bytes hold one in 4096 but once in ten million times, while
     * the control-byte rule below lets a random block through now and then */
    if (nul) return "file looks binary (NUL bytes), not CSV or JSON text";
    const char *why = sniff_not_text(p, n);
    return why && strstr(why, "binary") ? why : NULL;
}

/* stream: a device or pipe; its first IO_STREAM_SNIFF bytes are looked at before reading
 * on, so that an endless one is refused at once (*why) instead of filling the memory. */
enum { IO_STREAM_SNIFF = 4096 };

static int read_fd(int fd, char **buf, size_t *len, size_t hint, int stream, const char **why)
{
    size_t cap = hint + 2 > 4096 ? hint + 2 : 4096, n = 0; /* +2: data, NUL, room to see EOF */
    char *b = hp_malloc(cap);
    int sniffed = !stream;
    if (!b) return HP_ERR_NOMEM;
    for (;;) {
        if (n + 1 >= cap) {
            /* Grow: the size from fstat was only a hint (files can grow, pipes have none). */
            if (hp_grow((void **)&b, &cap, cap + 1, 1) != HP_OK) {
                hp_free(b);
                return HP_ERR_NOMEM;
            }
        }
        ssize_t r = read(fd, b + n, cap - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            hp_free(b);
            errno = e;
            return HP_ERR_IO;
        }
        n += (size_t)r;
        if (!sniffed && (n >= IO_STREAM_SNIFF || r == 0)) {
            sniffed = 1;
            if ((*why = stream_not_text((const unsigned char *)b, HP_MIN(n, (size_t)IO_STREAM_SNIFF)))) {
                hp_free(b);
                return HP_ERR_FORMAT;
            }
        }
        if (r == 0) break;
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return HP_OK;
}

/* Opens path for reading; a directory is refused here because read() on it fails with a
 * less helpful message. */
static int open_file(const char *path, int *fd, struct stat *st, hp_error *err)
{
    *fd = open(path, O_RDONLY);
    if (*fd < 0) return hp_fail(err, HP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(*fd, st) != 0) st->st_mode = 0;
    if (S_ISDIR(st->st_mode)) {
        close(*fd);
        return hp_fail(err, HP_ERR_IO, "%s: is a directory, not a file", path);
    }
    return HP_OK;
}

static int read_open_file(const char *path, int fd, const struct stat *st, char **buf,
                          size_t *len, hp_error *err)
{
    size_t hint = S_ISREG(st->st_mode) ? (size_t)st->st_size : 0;
    const char *why = NULL;
    int rc = read_fd(fd, buf, len, hint, !S_ISREG(st->st_mode), &why);
    int e = errno;
    close(fd);
    if (rc == HP_ERR_FORMAT) return hp_fail(err, rc, "%s: %s", path, why);
    if (rc == HP_ERR_NOMEM) return hp_fail(err, rc, "%s: out of memory reading the file", path);
    if (rc) return hp_fail(err, rc, "%s: cannot read: %s", path, strerror(e));
    return HP_OK;
}

int io_read_file(const char *path, char **buf, size_t *len, hp_error *err)
{
    *buf = NULL;
    *len = 0;
    if (!path) return hp_fail(err, HP_ERR_INVAL, "no file name given");
    int fd;
    struct stat st;
    int rc = open_file(path, &fd, &st, err);
    return rc ? rc : read_open_file(path, fd, &st, buf, len, err);
}

/* Reads path for a source: a regular file is mapped read-only, because filling a fresh
 * heap copy costs more than parsing it (page faults on every new page); the mapping also
 * shares the page cache. A file whose size is a multiple of the page size is read instead,
 * since the readers need a NUL after the last byte and the mapping's zero tail gives it.
 * *mapped is the mapping's length, or 0 for a heap buffer. */
static int load_file(const char *path, char **buf, size_t *len, size_t *mapped, hp_error *err)
{
    int fd;
    struct stat st;
    int rc = open_file(path, &fd, &st, err);
    if (rc) return rc;
    long page = sysconf(_SC_PAGESIZE);
    size_t size = (size_t)st.st_size;
    *mapped = 0;
    if (S_ISREG(st.st_mode) && st.st_size > 0 && page > 0 && size % (size_t)page != 0) {
        void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0); /* one fault pass, not one per page */
        if (m != MAP_FAILED) {
            posix_madvise(m, size, POSIX_MADV_SEQUENTIAL);
            close(fd);
            *buf = m;
            *len = *mapped = size;
            return HP_OK;
        }
    }
    return read_open_file(path, fd, &st, buf, len, err);
}

static void release_buf(io_source *s)
{
    if (s->mapped) munmap((void *)s->buf, s->mapped);
    else hp_free((void *)s->buf);
    s->buf = NULL;
    s->mapped = 0;
}

/* Replaces the text with buf (owned, NUL-terminated). */
static void replace_buf(io_source *s, char *buf, size_t len)
{
    release_buf(s);
    s->buf = buf;
    s->len = len;
}

/* ------------------------------------------------------------------ UTF-8 bookkeeping */

size_t io_utf8_bad_in(io_source *s, size_t from, size_t to)
{
    if (!s->check_utf8) return SIZE_MAX;
    if (from < s->u8_from || from > s->u8_bad) {
        /* Rescan only when a record starts past the last known bad byte (or before the
         * scanned range), so a file read front to back is validated about once. */
        long r = io_utf8_invalid_at(s->buf + from, s->len - from);
        s->u8_from = from;
        s->u8_bad = r < 0 ? SIZE_MAX : from + (size_t)r;
    }
    return s->u8_bad < to ? s->u8_bad : SIZE_MAX;
}

void io_line_col(const io_source *s, size_t off, long *line, long *col)
{
    long l = 1, c = 1;
    for (size_t i = s->base; i < off && i < s->len; i++) {
        unsigned char b = (unsigned char)s->buf[i];
        if (b == '\n') l++, c = 1;
        else if ((b & 0xC0) != 0x80) c++;
    }
    *line = l;
    *col = c;
}

int io_alloc_fields(io_source *s, hp_error *err)
{
    size_t n = s->ncols > 0 ? (size_t)s->ncols : 1;
    s->fptr = hp_calloc(n, sizeof *s->fptr);
    s->flen = hp_calloc(n, sizeof *s->flen);
    if (!s->fptr || !s->flen) return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", s->name);
    return HP_OK;
}

/* ------------------------------------------------------------------ whole-file checks */

/* A sentence saying why the first bytes are not CSV/JSON text, or NULL if they may be. */
static const char *sniff_not_text(const unsigned char *p, size_t n)
{
    if (n >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF)))
        return "file looks like UTF-16 (it starts with a UTF-16 byte order mark); "
               "convert it to UTF-8 or declare its encoding";
    if (n >= 2 && p[0] == 0x1F && p[1] == 0x8B)
        return "file is gzip-compressed; decompress it first";
    if (n >= 4 && memcmp(p, "PK\3\4", 4) == 0)
        return "file is a ZIP archive (an .xlsx workbook?); export the data as CSV";
    if (n >= 4 && memcmp(p, "\xD0\xCF\x11\xE0", 4) == 0)
        return "file is an OLE document (an .xls workbook?); export the data as CSV";
    if (n >= 4 && memcmp(p, "PAR1", 4) == 0)
        return "file is Parquet; export the data as CSV or JSON";
    size_t nul[2] = { 0, 0 }, ctrl = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == 0) nul[i & 1]++;
        if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r' && p[i] != '\f' &&
            p[i] != '\v')
            ctrl++;
    }
    /* UTF-16 text that is mostly ASCII has a NUL in every other byte. */
    size_t half = n / 2;
    if (half && (nul[0] * 5 >= half * 2 || nul[1] * 5 >= half * 2))
        return "file looks like UTF-16 (every other byte is NUL); "
               "convert it to UTF-8 or declare its encoding";
    if (ctrl * 10 > n)
        return "file looks binary (many control bytes), not CSV or JSON text";
    return NULL;
}

static int check_whole_file(io_source *s, io_encoding enc, hp_error *err)
{
    const unsigned char *p = (const unsigned char *)s->buf;
    if (s->len == 0) return hp_fail(err, HP_ERR_EMPTY, "%s: file is empty", s->name);
    int bom = s->len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF;
    const char *why = sniff_not_text(p + (bom ? 3 : 0), HP_MIN(s->len - (bom ? 3 : 0), 4096));
    if (why) return hp_fail(err, HP_ERR_ENCODING, "%s: %s", s->name, why);
    if (bom) s->base = s->pos = 3;
    /* A UTF-8 BOM is unambiguous, so it wins over a declared Latin-1. */
    if (enc == IO_ENC_LATIN1 && !bom) {
        char *u;
        size_t ulen;
        if (io_latin1_to_utf8(s->buf, s->len, &u, &ulen))
            return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory converting from Latin-1",
                           s->name);
        replace_buf(s, u, ulen);
    } else {
        s->check_utf8 = 1;
        s->u8_from = SIZE_MAX;
        s->u8_bad = SIZE_MAX;
    }
    size_t i = s->base;
    while (i < s->len && strchr(" \t\r\n", s->buf[i]) && s->buf[i]) i++;
    if (i == s->len)
        return hp_fail(err, HP_ERR_EMPTY, "%s: file is empty (it holds only blank lines)",
                       s->name);
    return HP_OK;
}

/* Classic Mac files end lines with CR alone; reading them as one huge line helps nobody,
 * so when the file has no LF at all, a copy with CRs turned into LFs is read instead. */
static int fix_cr_only(io_source *s, hp_error *err)
{
    const char *b = s->buf;
    if (memchr(b, '\n', s->len) || !memchr(b, '\r', s->len)) return HP_OK;
    char *c = hp_malloc(s->len + 1);
    if (!c) return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", s->name);
    for (size_t i = 0; i <= s->len; i++) c[i] = b[i] == '\r' ? '\n' : b[i];
    replace_buf(s, c, s->len);
    return HP_OK;
}

/* ------------------------------------------------------------------ open / dispatch */

io_format io_format_of_path(const char *name)
{
    const char *dot = name ? strrchr(name, '.') : NULL;
    if (!dot) return IO_FMT_CSV;
    if (strcasecmp(dot, ".json") == 0) return IO_FMT_JSON;
    if (strcasecmp(dot, ".jsonl") == 0 || strcasecmp(dot, ".ndjson") == 0) return IO_FMT_JSONL;
    return IO_FMT_CSV;
}

static int check_opts(const char *name, const io_source_opts *o, hp_error *err)
{
    if ((unsigned)o->format > IO_FMT_JSONL)
        return hp_fail(err, HP_ERR_INVAL, "%s: unknown format %d", name, (int)o->format);
    if ((unsigned)o->encoding > IO_ENC_LATIN1)
        return hp_fail(err, HP_ERR_INVAL, "%s: unknown encoding %d", name, (int)o->encoding);
    unsigned char d = (unsigned char)o->delimiter;
    if (d == '"' || d == '\n' || d == '\r')
        return hp_fail(err, HP_ERR_INVAL, "%s: the CSV delimiter cannot be a quote or a line "
                       "break", name);
    /* A byte above 0x7F would split UTF-8 sequences (and Latin-1 text is UTF-8 by then). */
    if (d >= 0x80)
        return hp_fail(err, HP_ERR_INVAL, "%s: the CSV delimiter must be an ASCII character",
                       name);
    if (o->nkeys < 0 || (o->nkeys > 0 && !o->keys))
        return hp_fail(err, HP_ERR_INVAL, "%s: bad list of JSON keys", name);
    for (int i = 0; i < o->nkeys; i++)
        if (!o->keys[i]) return hp_fail(err, HP_ERR_INVAL, "%s: JSON key %d is NULL", name, i + 1);
    return HP_OK;
}

/* Takes ownership of buf (len bytes, NUL-terminated; a mapping of length mapped if that is
 * not 0) whatever happens. */
static int source_open_owned(io_source **out, const char *name, char *buf, size_t len,
                             size_t mapped, const io_source_opts *opts, hp_error *err)
{
    static const io_source_opts defaults;
    const io_source_opts *o = opts ? opts : &defaults;
    io_source *s = hp_calloc(1, sizeof *s);
    if (!s || !(s->name = hp_strdup(name))) {
        if (mapped) munmap(buf, mapped);
        else hp_free(buf);
        hp_free(s);
        return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", name);
    }
    s->buf = buf;
    s->len = len;
    s->mapped = mapped;
    s->line = 1;
    s->format = o->format != IO_FMT_AUTO ? o->format : io_format_of_path(name);
    int rc = check_whole_file(s, o->encoding, err);
    if (!rc) rc = fix_cr_only(s, err);
    if (!rc) rc = s->format == IO_FMT_CSV ? io_csv_open(s, o, err) : io_json_open(s, o, err);
    if (rc) {
        io_source_free(s);
        return rc;
    }
    *out = s;
    return HP_OK;
}

int io_source_open(io_source **out, const char *path, const io_source_opts *opts, hp_error *err)
{
    if (!out) return hp_fail(err, HP_ERR_INVAL, "io_source_open: out is NULL");
    *out = NULL;
    if (!path) return hp_fail(err, HP_ERR_INVAL, "io_source_open: no file name given");
    if (opts) {
        int rc = check_opts(path, opts, err);
        if (rc) return rc;
    }
    char *buf;
    size_t len, mapped;
    int rc = load_file(path, &buf, &len, &mapped, err);
    if (rc) return rc;
    return source_open_owned(out, path, buf, len, mapped, opts, err);
}

int io_source_open_buffer(io_source **out, const char *name, const char *buf, size_t len,
                          const io_source_opts *opts, hp_error *err)
{
    if (!out) return hp_fail(err, HP_ERR_INVAL, "io_source_open_buffer: out is NULL");
    *out = NULL;
    if (!name) name = "(buffer)";
    if (!buf && len) return hp_fail(err, HP_ERR_INVAL, "%s: buffer is NULL", name);
    if (opts) {
        int rc = check_opts(name, opts, err);
        if (rc) return rc;
    }
    char *copy = hp_malloc(len + 1);
    if (!copy) return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", name);
    if (len) memcpy(copy, buf, len);
    copy[len] = 0;
    return source_open_owned(out, name, copy, len, 0, opts, err);
}

int io_source_next(io_source *s, io_record *rec, hp_error *err)
{
    if (!s || !rec) return hp_fail(err, HP_ERR_INVAL, "io_source_next: NULL argument");
    rec->nfields = 0;
    rec->field = NULL;
    rec->len = NULL;
    rec->bad_field = -1;
    rec->line = s->line;
    return s->format == IO_FMT_CSV ? io_csv_next(s, rec, err) : io_json_next(s, rec, err);
}

/* ------------------------------------------------------------------ accessors */

int io_source_ncolumns(const io_source *s) { return s ? s->ncols : 0; }

const char *io_source_column(const io_source *s, int i)
{
    return s && i >= 0 && i < s->ncols ? s->colname[i] : NULL;
}

const char *io_source_name(const io_source *s) { return s ? s->name : NULL; }

long io_source_header_line(const io_source *s) { return s ? s->header_line : 0; }

io_format io_source_format(const io_source *s) { return s ? s->format : IO_FMT_AUTO; }

char io_source_delimiter(const io_source *s)
{
    return s && s->format == IO_FMT_CSV ? s->delim : 0;
}

void io_source_free(io_source *s)
{
    if (!s) return;
    io_json_release(s);
    hp_free(s->elem);
    hp_free(s->scratch);
    hp_free(s->soff);
    hp_free(s->span);
    hp_free(s->fptr);
    hp_free(s->flen);
    hp_free(s->colname);
    hp_free(s->namebuf);
    hp_free(s->rbuf);
    release_buf(s);
    hp_free(s->name);
    hp_free(s);
}
