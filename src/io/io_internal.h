/* io_internal: the source object shared by io_source.c (open, dispatch, encodings),
 * io_csv.c and io_json.c. Not part of the public API. */
#ifndef IO_INTERNAL_H
#define IO_INTERNAL_H

#include "io/io.h"

#include <jansson.h>

/* One CSV field as found by the scanner: content bytes [start, end) of buf, quotes excluded. */
typedef struct {
    size_t start, end;
    int escaped;              /* holds "" pairs still to collapse */
} io_csv_span;

/* One element of a JSON array: its bytes and the physical line it starts on. */
typedef struct {
    size_t start, end;
    long line;
} io_json_elem;

struct io_source {
    char *name;
    io_format format;
    const char *buf;          /* owned, UTF-8, NUL-terminated at buf[len], never written:
                                 it may be a read-only mapping of the file */
    size_t len;
    size_t mapped;            /* length of the mapping when buf is mmap'ed, else 0 */
    size_t base;              /* first byte after a UTF-8 BOM */
    size_t pos;               /* next unread byte */
    long line;                /* physical line of pos */
    int check_utf8;           /* 0 when the text came from Latin-1 (valid by construction) */
    size_t u8_from, u8_bad;   /* bytes [u8_from, u8_bad) are valid UTF-8; u8_bad = first
                                 invalid byte at or after u8_from, or SIZE_MAX */

    int ncols;
    long header_line;         /* CSV: physical line of the header, 0 without one (and JSON) */
    const char **colname;     /* ncols names, pointing into buf or namebuf */
    char *namebuf;            /* owned storage for names not in buf */

    const char **fptr;        /* the current record: ncols fields and lengths */
    size_t *flen;

    /* CSV */
    char delim;
    unsigned char stop[256];  /* bytes that end an unquoted run: delim, '"', CR, LF, NUL */
    io_csv_span *span;
    size_t span_cap;
    char *rbuf;               /* the current record's bytes, unescaped and NUL-terminated */
    size_t rbuf_cap;

    /* JSON / JSONL */
    char sep;                 /* list separator */
    io_json_elem *elem;       /* JSON array elements, found on open */
    size_t nelem, elem_cap, ielem;
    json_t *cur;              /* the element behind the current record's fields */
    char *scratch;            /* formatted numbers and joined lists of the current record */
    size_t scratch_len, scratch_cap;
    size_t *soff;             /* per field: offset in scratch, or SIZE_MAX */
};

/* io_csv.c */
int io_csv_open(io_source *s, const io_source_opts *o, hp_error *err);
int io_csv_next(io_source *s, io_record *rec, hp_error *err);

/* io_json.c */
int io_json_open(io_source *s, const io_source_opts *o, hp_error *err);
int io_json_next(io_source *s, io_record *rec, hp_error *err);
void io_json_release(io_source *s);

/* io_source.c: the first invalid UTF-8 byte in [from, to) of s->buf, or SIZE_MAX; amortised
 * linear over a file read front to back (from must be a line start). */
size_t io_utf8_bad_in(io_source *s, size_t from, size_t to);
/* Allocates the record arrays (fptr, flen) for s->ncols fields. */
int io_alloc_fields(io_source *s, hp_error *err);
/* The 1-based line and column (in characters) of byte offset off. */
void io_line_col(const io_source *s, size_t off, long *line, long *col);

#endif
