/* io: reading outside data files (CSV, JSON array, JSONL) as a stream of records of text
 * fields, with the physical line each record starts on, so that every problem can be
 * reported as file:line. Nothing here knows about schemas; src/data maps fields to roles.
 *
 * Encodings: UTF-8 (a leading BOM is skipped) or Latin-1 (converted to UTF-8 on open).
 * A whole-file problem (unreadable, empty, UTF-16/binary/compressed content, a CSV header
 * with broken quotes or invalid UTF-8, JSON that is not an array of objects, a JSON array
 * spread over lines named as JSONL) fails io_source_open with one sentence in err. A problem in one record
 * (broken quotes, wrong field count, invalid UTF-8, a JSON element that is not an object)
 * makes io_source_next return HP_ERR_FORMAT for that record only; the next call continues
 * with the following record, so good rows are never lost. */
#ifndef IO_H
#define IO_H

#include "core/hp.h"

typedef enum { IO_FMT_AUTO = 0, IO_FMT_CSV, IO_FMT_JSON, IO_FMT_JSONL } io_format;
typedef enum { IO_ENC_UTF8 = 0, IO_ENC_LATIN1 } io_encoding;

typedef struct {
    io_format format;      /* AUTO: by extension: .json -> JSON, .jsonl/.ndjson -> JSONL,
                              anything else CSV; a CSV-named file starting with '[' or '{' is
                              still CSV (the config says what it is) */
    io_encoding encoding;  /* a UTF-8 BOM wins over a declared Latin-1 */
    char delimiter;        /* CSV: 0 = detect from the header line among , ; TAB | (the most
                              frequent outside quotes; ',' if none). Any other ASCII byte
                              except '"', CR and LF may be given. */
    int no_header;         /* CSV: 1 = first line is data; columns are named by names, else "1", "2", ... */
    /* CSV with no_header: the column names in file order (trimmed, distinct: the caller's
     * job). The first record must have nnames fields and must not repeat the names (then the
     * file has a header line after all): either is a whole-file error naming line 1. */
    const char *const *names;
    int nnames;
    /* JSON/JSONL: the keys to extract, in this order (the source's columns); with nkeys == 0
     * the columns are the keys of the first record that is an object, in file order.
     * Values that are strings are returned as is, numbers and booleans as their JSON text
     * (integers as digits, other numbers in the shortest form that reads back to the same
     * double: 0.1, 1e+300), arrays of scalars joined with list_separator (a null item is an
     * empty item), null or a missing key as field == NULL. Per-record errors (bad_field =
     * the key's index): a nested object, a list holding a list or object, a list item that
     * contains the separator (it could not be split back; there is no escaping). Duplicate
     * keys in one object are a per-record error too. */
    const char *const *keys;
    int nkeys;
    char list_separator;   /* JSON arrays: 0 = ',' */
} io_source_opts;

typedef struct {
    int nfields;
    const char *const *field; /* field[i]: NUL-terminated UTF-8, or NULL when absent */
    const size_t *len;        /* len[i]: byte length of field[i] (0 when NULL) */
    long line;                /* 1-based physical line where the record starts */
    int bad_field;            /* on HP_ERR_FORMAT: index of the offending column, or -1 when
                                 no column is to blame (field count, invalid JSON, or a
                                 problem in a field past the header's width, whose number
                                 the reason then gives). nfields is 0 on errors. */
} io_record;

typedef struct io_source io_source;

/* Opens path. On failure returns a negative status with one sentence in err that starts with
 * the path ("data.csv: file is empty"); *out is NULL. A regular file is memory-mapped
 * read-only while the source is open (fast, shares the page cache), so truncating it
 * meanwhile is undefined (SIGBUS); other files are read into memory. */
int io_source_open(io_source **out, const char *path, const io_source_opts *opts, hp_error *err);

/* Same over a copy of buf (len bytes); name is used in messages. For tests and fuzzing. */
int io_source_open_buffer(io_source **out, const char *name, const char *buf, size_t len,
                          const io_source_opts *opts, hp_error *err);

/* Number of columns and their names: the CSV header (surrounding spaces trimmed, so
 * " age " is "age") or the requested JSON keys. Names live as long as the source. */
int io_source_ncolumns(const io_source *s);
const char *io_source_column(const io_source *s, int i);
const char *io_source_name(const io_source *s);
/* The physical line the CSV header was read from (blank lines before it are skipped), for
 * messages that name header columns as file:line; 0 for JSON and for CSV without a header. */
long io_source_header_line(const io_source *s);

/* The format being read (AUTO resolved) and, for CSV, the delimiter in use (detected or
 * given; 0 for JSON). For logging "read x.csv as CSV with ';'". */
io_format io_source_format(const io_source *s);
char io_source_delimiter(const io_source *s);

/* Reads the next record into *rec (valid until the next call or free).
 * Returns 1 for a record, 0 at end of input, HP_ERR_FORMAT for a malformed record (err holds
 * the reason without the file:line prefix, rec->line and rec->bad_field say where; call again
 * to continue), or another negative status for a failure that ends reading.
 * A CSV record with a field count different from the header's is HP_ERR_FORMAT; a quoted
 * field may span lines, but when such a record does not have the header's field count the
 * reader reports the quote's line and resumes at the next physical line.
 *
 * CSV details: RFC 4180 quoting ("" inside quotes; delimiters and line breaks inside quotes
 * are data); LF or CRLF (a file with CR only is read as if it had LF); blank lines (only
 * spaces, tabs, CR) are skipped, not records; blanks around a quoted field are dropped.
 * A record with broken quoting or the wrong field count is reported at the line it starts
 * on and reading resumes at the following physical line (re-reading lines a runaway quote
 * swallowed). A record that parses but holds a NUL byte or invalid UTF-8 is reported (the
 * reason gives the byte offset in the field) and reading resumes after it.
 * JSON array: each element is reported at the line it starts on; a malformed element (or
 * an empty one, as in ",,") is a per-record error; a broken outer array fails the open
 * with file:line:column. JSONL: one object per line; blank lines are skipped. */
int io_source_next(io_source *s, io_record *rec, hp_error *err);

void io_source_free(io_source *s);

/* ---- lower-level helpers, also used by other modules ---- */

/* The format a file of this name is read as when none is declared (by extension: .json,
 * .jsonl/.ndjson, else CSV). */
io_format io_format_of_path(const char *path);

/* Reads a whole file into a NUL-terminated buffer (caller frees with hp_free). */
int io_read_file(const char *path, char **buf, size_t *len, hp_error *err);

/* Returns the byte offset of the first invalid UTF-8 sequence in s, or -1 if all valid
 * (overlongs, surrogates and code points above U+10FFFF are invalid). */
long io_utf8_invalid_at(const char *s, size_t len);

/* Readies the whole text of a JSON config file (text, len bytes) for the parser, so that every
 * config reads alike: a leading UTF-8 BOM (editors on Windows save one) is skipped, and
 * UTF-16 text (a UTF-16 byte-order mark, or a NUL beside the first character) is refused
 * with HP_ERR_ENCODING and "NAME: file is UTF-16; save it as UTF-8", where the parser
 * would only say it cannot decode byte 0xff. */
int io_config_text(const char *name, const char **text, size_t *len, hp_error *err);

/* Converts Latin-1 bytes to a new NUL-terminated UTF-8 buffer (caller frees). */
int io_latin1_to_utf8(const char *in, size_t len, char **out, size_t *outlen);

#endif
