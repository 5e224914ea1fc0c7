/* io_csv: RFC 4180 CSV over a buffer we own.
 *
 * Each record is read in two steps. The scanner finds field boundaries in the file's bytes
 * (never written: they may be a read-only mapping, and after a bad record the reader goes
 * back to the next physical line); a record that passed every check is then copied to a
 * record buffer where its fields are unescaped and NUL-terminated.
 *
 * Leniencies, all harmless for well-formed files: blanks around a quoted field
 * (`a, "b" ,c`) are dropped; blank lines (only spaces, tabs, CR) are skipped, so a
 * one-column file cannot hold an empty value; a CR not followed by LF is data. */
#include "io/io_internal.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

typedef enum { FAULT_NONE, FAULT_STRAY_QUOTE, FAULT_AFTER_QUOTE, FAULT_EOF_IN_QUOTE } csv_fault;

/* What the scanner found in one record. */
typedef struct {
    long nfields;         /* fields seen (only the first span_cap are stored) */
    size_t next;          /* offset just past the record's line break */
    long newlines;        /* line breaks inside quoted fields so far */
    long span_field;      /* first field whose quotes hold a line break, or -1 */
    csv_fault fault;
    long fault_field;
    long nul_field;       /* first field holding a NUL byte, or -1 */
    size_t nul_at;
} csv_scan;

enum { END_FIELD, END_RECORD, END_FAULT, TO_QUOTED };

/* Bytes that end a run inside quotes. */
static const unsigned char qstop[256] = { [0] = 1, ['"'] = 1, ['\n'] = 1 };

static int is_pad(unsigned char c, char delim)
{
    return (c == ' ' || c == '\t') && c != (unsigned char)delim;
}

static void note_nul(csv_scan *sc, long k, size_t at)
{
    if (sc->nul_field < 0) {
        sc->nul_field = k;
        sc->nul_at = at;
    }
}

/* ------------------------------------------------------------------ scanner */

/* Scans an unquoted field from *pp (sp->start is set). This loop is the hot path: one table
 * lookup per byte until a delimiter, quote, CR, LF or NUL. */
static inline int scan_unquoted(const io_source *s, const unsigned char **pp, io_csv_span *sp,
                                csv_scan *sc, long k)
{
    const unsigned char *base = (const unsigned char *)s->buf, *end = base + s->len;
    const unsigned char *stop = s->stop, *p = *pp;
    for (;;) {
        while (!stop[*p]) p++;
        unsigned char c = *p;
        if (c == (unsigned char)s->delim && p != end) {
            sp->end = (size_t)(p - base);
            *pp = p + 1;
            return END_FIELD;
        }
        if (c == '\n' || (c == '\r' && (p[1] == '\n' || p + 1 == end)) || p == end) {
            sp->end = (size_t)(p - base);
            *pp = p + (p == end ? 0 : c == '\r' && p[1] == '\n' ? 2 : 1);
            return END_RECORD;
        }
        if (c == '"') {
            const unsigned char *q = base + sp->start;
            while (q < p && is_pad(*q, s->delim)) q++;
            *pp = p;
            if (q == p) return TO_QUOTED;
            sc->fault = FAULT_STRAY_QUOTE;
            return END_FAULT;
        }
        if (c == 0) note_nul(sc, k, (size_t)(p - base));
        p++; /* a NUL or a lone CR: data */
    }
}

/* Scans a quoted field whose opening quote is at *pp, then what follows the closing quote. */
static int scan_quoted(const io_source *s, const unsigned char **pp, io_csv_span *sp,
                       csv_scan *sc, long k)
{
    const unsigned char *base = (const unsigned char *)s->buf, *end = base + s->len;
    const unsigned char *q = *pp + 1;
    sp->start = (size_t)(q - base);
    for (;;) {
        while (!qstop[*q]) q++;
        if (*q == '"') {
            if (q[1] != '"') break;
            sp->escaped = 1;
            q += 2;
        } else if (*q == '\n') {
            sc->newlines++;
            if (sc->span_field < 0) sc->span_field = k;
            q++;
        } else if (q == end) {
            sc->fault = FAULT_EOF_IN_QUOTE;
            return END_FAULT;
        } else {
            note_nul(sc, k, (size_t)(q - base));
            q++;
        }
    }
    sp->end = (size_t)(q - base);
    q++;
    while (is_pad(*q, s->delim)) q++;
    if (*q == (unsigned char)s->delim && q != end) {
        *pp = q + 1;
        return END_FIELD;
    }
    if (q == end || *q == '\n' || (*q == '\r' && (q[1] == '\n' || q + 1 == end))) {
        *pp = q + (q == end ? 0 : *q == '\r' && q[1] == '\n' ? 2 : 1);
        return END_RECORD;
    }
    sc->fault = FAULT_AFTER_QUOTE;
    return END_FAULT;
}

/* Scans the record at pos. Stores the first s->span_cap spans, growing the array first when
 * grow is set (the header, whose width is unknown). Fails only for lack of memory. */
static int scan_record(io_source *s, size_t pos, csv_scan *sc, int grow)
{
    memset(sc, 0, sizeof *sc);
    sc->span_field = sc->nul_field = -1;
    const unsigned char *base = (const unsigned char *)s->buf, *p = base + pos;
    io_csv_span spare;
    for (long k = 0;; k++) {
        if (grow && hp_grow((void **)&s->span, &s->span_cap, (size_t)k + 1, sizeof *s->span))
            return HP_ERR_NOMEM;
        io_csv_span *sp = (size_t)k < s->span_cap ? &s->span[k] : &spare;
        sp->start = (size_t)(p - base);
        sp->escaped = 0;
        int r = scan_unquoted(s, &p, sp, sc, k);
        if (r == TO_QUOTED) r = scan_quoted(s, &p, sp, sc, k);
        if (r == END_FIELD) continue;
        sc->nfields = k + 1;
        if (r == END_FAULT) sc->fault_field = k;
        else sc->next = (size_t)(p - base);
        return HP_OK;
    }
}

/* ------------------------------------------------------------------ commit */

/* Collapses "" to " in place; returns the new length. */
static size_t unescape(char *f, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        f[j++] = f[i];
        if (f[i] == '"') i++;
    }
    return j;
}

/* Copies the record [start, end) to rbuf in one memcpy (buf may be a read-only mapping),
 * then terminates and unescapes the n fields inside the copy. */
static int commit(io_source *s, size_t start, size_t end, int n)
{
    if (hp_grow((void **)&s->rbuf, &s->rbuf_cap, end - start + 1, 1)) return HP_ERR_NOMEM;
    memcpy(s->rbuf, s->buf + start, end - start);
    s->rbuf[end - start] = 0;
    for (int i = 0; i < n; i++) {
        const io_csv_span *sp = &s->span[i];
        char *f = s->rbuf + (sp->start - start);
        size_t len = sp->end - sp->start;
        if (sp->escaped) len = unescape(f, len);
        f[len] = 0;
        s->fptr[i] = f;
        s->flen[i] = len;
    }
    return HP_OK;
}

/* ------------------------------------------------------------------ errors */

/* Sets rec->bad_field to field k, or (a field past the header's width) says its number. */
static int record_fail(const io_source *s, io_record *rec, hp_error *err, long k,
                       const char *reason)
{
    if (k >= 0 && k < s->ncols) {
        rec->bad_field = (int)k;
        return hp_fail(err, HP_ERR_FORMAT, "%s", reason);
    }
    if (k >= 0) return hp_fail(err, HP_ERR_FORMAT, "field %ld: %s", k + 1, reason);
    return hp_fail(err, HP_ERR_FORMAT, "%s", reason);
}

static const char *fault_text(csv_fault f)
{
    switch (f) {
    case FAULT_STRAY_QUOTE:
        return "quote character inside an unquoted field (quote the whole field and double "
               "the quote)";
    case FAULT_AFTER_QUOTE:
        return "text after a closing quote (a quote inside a quoted field must be doubled)";
    case FAULT_EOF_IN_QUOTE: return "unterminated quote: end of file inside quotes";
    default: return "";
    }
}

/* A record whose structure is broken. When a quoted field ran over a line break, the likely
 * cause is a quote that was never closed, so that is what we report, at the record's line. */
static int structure_error(const io_source *s, const csv_scan *sc, long line, io_record *rec,
                           hp_error *err)
{
    char why[256];
    if (sc->span_field >= 0) {
        if (sc->fault == FAULT_EOF_IN_QUOTE)
            snprintf(why, sizeof why, "unterminated quote: end of file inside the quoted field "
                     "that starts on this line");
        else if (sc->fault)
            snprintf(why, sizeof why, "unterminated quote: reading the quoted field across "
                     "lines breaks the record on line %ld (%s)", line + sc->newlines,
                     sc->fault == FAULT_STRAY_QUOTE ? "stray quote" : "text after a quote");
        else
            snprintf(why, sizeof why, "unterminated quote: read across %ld lines the record "
                     "has %ld fields, expected %d", sc->newlines + 1, sc->nfields, s->ncols);
        return record_fail(s, rec, err, sc->span_field, why);
    }
    if (sc->fault) return record_fail(s, rec, err, sc->fault_field, fault_text(sc->fault));
    snprintf(why, sizeof why, "expected %d fields, found %ld", s->ncols, sc->nfields);
    return record_fail(s, rec, err, -1, why);
}

/* Offset of raw byte at in field k's unescaped value. */
static size_t offset_in_field(const io_source *s, long k, size_t at)
{
    const io_csv_span *sp = &s->span[k];
    size_t off = at - sp->start, quotes = 0;
    if (sp->escaped)
        for (size_t i = sp->start; i < at; i++) quotes += s->buf[i] == '"';
    return off - quotes / 2;
}

static long field_at(const io_source *s, size_t at)
{
    long k = s->ncols - 1;
    while (k > 0 && s->span[k].start > at) k--;
    return k;
}

static int utf8_error(const io_source *s, size_t bad, io_record *rec, hp_error *err)
{
    long k = field_at(s, bad);
    char why[256];
    snprintf(why, sizeof why, "invalid UTF-8 at byte offset %zu (byte 0x%02X); if the file "
             "is Latin-1, declare its encoding", offset_in_field(s, k, bad),
             (unsigned char)s->buf[bad]);
    return record_fail(s, rec, err, k, why);
}

static int nul_error(const io_source *s, const csv_scan *sc, io_record *rec, hp_error *err)
{
    char why[128];
    snprintf(why, sizeof why, "NUL byte at byte offset %zu",
             offset_in_field(s, sc->nul_field, sc->nul_at));
    return record_fail(s, rec, err, sc->nul_field, why);
}

/* ------------------------------------------------------------------ records */

/* Skips lines holding only blanks. Returns 0 at the end of input. */
static int skip_blank_lines(io_source *s)
{
    const char *b = s->buf;
    for (;;) {
        size_t i = s->pos;
        while (i < s->len && (is_pad((unsigned char)b[i], s->delim) || b[i] == '\r')) i++;
        if (i >= s->len) {
            s->pos = s->len;
            return 0;
        }
        if (b[i] != '\n') return 1;
        s->pos = i + 1;
        s->line++;
    }
}

static void resume_next_line(io_source *s, size_t start, long line)
{
    const char *nl = memchr(s->buf + start, '\n', s->len - start);
    s->pos = nl ? (size_t)(nl - s->buf) + 1 : s->len;
    s->line = line + 1;
}

int io_csv_next(io_source *s, io_record *rec, hp_error *err)
{
    if (!skip_blank_lines(s)) return 0;
    size_t start = s->pos;
    long line = s->line;
    rec->line = line;
    csv_scan sc;
    scan_record(s, start, &sc, 0); /* cannot fail without grow */
    if (sc.fault || sc.nfields != s->ncols) {
        resume_next_line(s, start, line);
        return structure_error(s, &sc, line, rec, err);
    }
    s->pos = sc.next;
    s->line = line + sc.newlines + 1;
    if (sc.nul_field >= 0) return nul_error(s, &sc, rec, err);
    size_t bad = io_utf8_bad_in(s, start, sc.next);
    if (bad != SIZE_MAX) return utf8_error(s, bad, rec, err);
    if (commit(s, start, sc.next, s->ncols)) return hp_fail(err, HP_ERR_NOMEM, "out of memory");
    rec->nfields = s->ncols;
    rec->field = s->fptr;
    rec->len = s->flen;
    return 1;
}

/* ------------------------------------------------------------------ header */

/* The most frequent of , ; TAB | outside quotes on the line at pos (',' if none occurs). */
static char detect_delimiter(const io_source *s, size_t pos)
{
    static const char cand[] = { ',', ';', '\t', '|' };
    size_t count[4] = { 0 };
    int inq = 0;
    for (size_t i = pos; i < s->len; i++) {
        char c = s->buf[i];
        if (c == '"') inq = !inq;
        else if (inq) continue;
        else if (c == '\n') break;
        for (int j = 0; j < 4; j++) count[j] += c == cand[j];
    }
    int best = 0;
    for (int j = 1; j < 4; j++)
        if (count[j] > count[best]) best = j;
    return cand[best];
}

static void set_delimiter(io_source *s, char d)
{
    s->delim = d;
    memset(s->stop, 0, sizeof s->stop);
    s->stop[(unsigned char)d] = 1;
    s->stop['"'] = s->stop['\n'] = s->stop['\r'] = s->stop[0] = 1;
}

/* Names "1", "2", ... for a file without a header line. */
static int number_columns(io_source *s)
{
    s->namebuf = hp_malloc((size_t)s->ncols * 12);
    if (!s->namebuf) return HP_ERR_NOMEM;
    char *p = s->namebuf;
    for (int i = 0; i < s->ncols; i++) {
        s->colname[i] = p;
        p += snprintf(p, 12, "%d", i + 1) + 1;
    }
    return HP_OK;
}

/* Names given by the caller for a file without a header line. The first record must be as wide
 * (else every row would be rejected for its field count: the names do not fit this file) and
 * must not be the names themselves (the file has a header line after all, which would be read
 * as a data row). */
static int given_names(io_source *s, const io_source_opts *o, size_t start, size_t end, long line, hp_error *err)
{
    if (s->ncols != o->nnames)
        return hp_fail(err, HP_ERR_FORMAT, "%s:%ld: the first line has %d field%s, but %d column name%s "
                       "were given for this file without a header line", s->name, line, s->ncols,
                       s->ncols == 1 ? "" : "s", o->nnames, o->nnames == 1 ? "" : "s");
    size_t total = 0;
    for (int i = 0; i < s->ncols; i++) total += strlen(o->names[i]) + 1;
    char *p = s->namebuf = hp_malloc(total);
    if (!p || commit(s, start, end, s->ncols)) return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", s->name);
    int repeats = 1;
    for (int i = 0; i < s->ncols; i++) {
        size_t n = strlen(o->names[i]);
        memcpy(p, o->names[i], n + 1);
        s->colname[i] = p;
        p += n + 1;
        const char *f = s->fptr[i];
        size_t flen = s->flen[i];
        hp_trim(&f, &flen);
        repeats &= flen == n && strncasecmp(f, o->names[i], n) == 0;
    }
    if (repeats)
        return hp_fail(err, HP_ERR_FORMAT, "%s:%ld: the first line is the given column names: the file "
                       "has a header line, so it is not a file without one", s->name, line);
    return HP_OK;
}

/* Names from the committed header record, blanks trimmed (`" age "` is "age"). */
static int header_names(io_source *s)
{
    size_t total = 0;
    for (int i = 0; i < s->ncols; i++) total += s->flen[i] + 1;
    char *p = s->namebuf = hp_malloc(total);
    if (!p) return HP_ERR_NOMEM;
    for (int i = 0; i < s->ncols; i++) {
        const char *f = s->fptr[i];
        size_t n = s->flen[i];
        hp_trim(&f, &n);
        memcpy(p, f, n);
        p[n] = 0;
        s->colname[i] = p;
        p += n + 1;
    }
    return HP_OK;
}

static int header_error(io_source *s, const csv_scan *sc, size_t start, long line,
                        hp_error *err)
{
    if (sc->fault)
        return hp_fail(err, HP_ERR_FORMAT, "%s: header (line %ld), field %ld: %s", s->name,
                       line, sc->fault_field + 1, fault_text(sc->fault));
    if (sc->nul_field >= 0)
        return hp_fail(err, HP_ERR_FORMAT, "%s: header (line %ld), field %ld: NUL byte",
                       s->name, line, sc->nul_field + 1);
    size_t bad = io_utf8_bad_in(s, start, sc->next);
    if (bad != SIZE_MAX)
        return hp_fail(err, HP_ERR_ENCODING, "%s: header (line %ld), field %ld: invalid UTF-8 "
                       "(byte 0x%02X); if the file is Latin-1, declare its encoding", s->name,
                       line, field_at(s, bad) + 1, (unsigned char)s->buf[bad]);
    return HP_OK;
}

int io_csv_open(io_source *s, const io_source_opts *o, hp_error *err)
{
    s->delim = o->delimiter ? o->delimiter : ',';
    if (!skip_blank_lines(s)) return hp_fail(err, HP_ERR_EMPTY, "%s: file is empty", s->name);
    set_delimiter(s, o->delimiter ? o->delimiter : detect_delimiter(s, s->pos));
    size_t start = s->pos;
    long line = s->line;
    csv_scan sc;
    if (scan_record(s, start, &sc, 1)) return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory",
                                                      s->name);
    if (sc.nfields > INT_MAX / 16)
        return hp_fail(err, HP_ERR_FORMAT, "%s: header (line %ld) has %ld fields, too many",
                       s->name, line, sc.nfields);
    s->ncols = (int)sc.nfields;
    s->colname = hp_calloc((size_t)s->ncols, sizeof *s->colname);
    if (!s->colname || io_alloc_fields(s, err))
        return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", s->name);
    if (o->no_header) {
        if (sc.fault) return hp_fail(err, HP_ERR_FORMAT, "%s: line %ld, field %ld: %s", s->name,
                                     line, sc.fault_field + 1, fault_text(sc.fault));
        if (o->nnames > 0) return given_names(s, o, start, sc.next, line, err);
        if (number_columns(s)) return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", s->name);
        return HP_OK;
    }
    int rc = header_error(s, &sc, start, line, err);
    if (rc) return rc;
    if (commit(s, start, sc.next, s->ncols) || header_names(s))
        return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", s->name);
    s->header_line = line;
    s->pos = sc.next;
    s->line = line + sc.newlines + 1;
    return HP_OK;
}
