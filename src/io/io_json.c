/* io_json: a JSON array of objects, or JSONL (one object per line), as records of text fields.
 *
 * For an array we find each element's byte range ourselves (tracking strings, escapes and
 * nesting) before jansson parses it, so one malformed element is an error for that record
 * only, reported at its line. The outer structure is checked whole on open.
 *
 * Values: strings as is; numbers as the shortest text that reads back to the same double
 * (or the integer's digits); true/false; null or a missing key -> NULL. An array of scalars
 * is joined with the list separator; an item that contains the separator is an error for
 * the record (it could not be split back), a null item is an empty item. */
#include "io/io_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const size_t LOAD_FLAGS = JSON_DECODE_ANY | JSON_REJECT_DUPLICATES;

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* ------------------------------------------------------------------ array scanner */

/* Advances *ip over whitespace, counting lines. */
static void skip_ws(const io_source *s, size_t *ip, long *line)
{
    size_t i = *ip;
    for (; i < s->len && is_ws(s->buf[i]); i++) *line += s->buf[i] == '\n';
    *ip = i;
}

/* Moves *ip to the ',' or ']' that ends the element starting there. Returns 0 on end of
 * file. Brackets of both kinds are just counted: a mismatch is the element parser's job. */
static int scan_element(const io_source *s, size_t *ip, long *line)
{
    const char *b = s->buf;
    long depth = 0;
    int instr = 0;
    for (size_t i = *ip; i < s->len; i++) {
        char c = b[i];
        if (c == '\n') ++*line;
        if (instr) {
            if (c == '\\' && i + 1 < s->len) *line += b[++i] == '\n';
            else if (c == '"') instr = 0;
        } else if (c == '"') {
            instr = 1;
        } else if (c == '[' || c == '{') {
            depth++;
        } else if ((c == ']' && depth == 0) || (c == ',' && depth == 0)) {
            *ip = i;
            return 1;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    *ip = s->len;
    return 0;
}

static int add_elem(io_source *s, size_t start, size_t end, long line)
{
    if (hp_grow((void **)&s->elem, &s->elem_cap, s->nelem + 1, sizeof *s->elem))
        return HP_ERR_NOMEM;
    while (end > start && is_ws(s->buf[end - 1])) end--;
    s->elem[s->nelem++] = (io_json_elem){ start, end, line };
    return HP_OK;
}

static int outer_error(const io_source *s, size_t at, const char *what, hp_error *err)
{
    long line, col;
    io_line_col(s, at, &line, &col);
    return hp_fail(err, HP_ERR_FORMAT, "%s:%ld:%ld: %s", s->name, line, col, what);
}

static int not_array_error(const io_source *s, size_t at, hp_error *err)
{
    char what[200];
    char c = s->buf[at];
    if (c == '{')
        snprintf(what, sizeof what, "expected a JSON array of objects, found an object; for one "
                 "object per line, use the JSONL format (.jsonl)");
    else
        snprintf(what, sizeof what, "expected a JSON array of objects ('['), found '%c'",
                 c >= 0x20 && c < 0x7F ? c : '?');
    return outer_error(s, at, what, err);
}

/* Finds every element of the top-level array; any problem outside the elements is fatal. */
static int scan_array(io_source *s, hp_error *err)
{
    size_t i = s->base;
    long line = 1;
    skip_ws(s, &i, &line);
    if (s->buf[i] != '[') return not_array_error(s, i, err);
    size_t open = i++;
    for (int first = 1;; first = 0) {
        skip_ws(s, &i, &line);
        size_t start = i;
        long start_line = line;
        if (i < s->len && s->buf[i] == ']' && first) break;
        if (!scan_element(s, &i, &line)) {
            char what[200];
            long l, c;
            io_line_col(s, i == start ? open : start, &l, &c);
            snprintf(what, sizeof what, "unterminated JSON array: end of file %s %ld:%ld",
                     i == start ? "before the closing ']' of the array opened at"
                                : "inside the element that starts at", l, c);
            return outer_error(s, s->len, what, err);
        }
        if (add_elem(s, start, i, start_line))
            return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", s->name);
        if (s->buf[i] == ']') break;
        i++;
    }
    i++;
    skip_ws(s, &i, &line);
    if (i < s->len) return outer_error(s, i, "unexpected text after the closing ']'", err);
    return HP_OK;
}

/* ------------------------------------------------------------------ values */

/* Text of a number or boolean into out (at least 32 bytes); returns its length, or -1. */
static int scalar_text(const json_t *x, char *out)
{
    switch (json_typeof(x)) {
    case JSON_INTEGER:
        return snprintf(out, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(x));
    case JSON_REAL: {
        double d = json_real_value(x);
        int n = 0;
        /* The shortest form that reads back exactly: 0.1 stays "0.1", not 0.10000000000000001. */
        for (int prec = 1; prec <= 17; prec++) {
            n = snprintf(out, 32, "%.*g", prec, d);
            if (strtod(out, NULL) == d) break;
        }
        return n;
    }
    case JSON_TRUE: return snprintf(out, 32, "true");
    case JSON_FALSE: return snprintf(out, 32, "false");
    default: return -1;
    }
}

static int scratch_put(io_source *s, const char *p, size_t n)
{
    if (hp_grow((void **)&s->scratch, &s->scratch_cap, s->scratch_len + n + 1, 1))
        return HP_ERR_NOMEM;
    memcpy(s->scratch + s->scratch_len, p, n);
    s->scratch_len += n;
    s->scratch[s->scratch_len] = 0;
    return HP_OK;
}

static const char *type_name(const json_t *x)
{
    switch (json_typeof(x)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* Appends the items of array a joined by the separator. Returns HP_OK, HP_ERR_NOMEM, or
 * HP_ERR_FORMAT with the reason in err. */
static int join_list(io_source *s, const char *key, const json_t *a, hp_error *err)
{
    char num[32];
    for (size_t j = 0; j < json_array_size(a); j++) {
        const json_t *x = json_array_get(a, j);
        const char *t = num;
        int n;
        if (json_is_string(x)) {
            t = json_string_value(x);
            n = (int)HP_MIN(json_string_length(x), (size_t)0x7fffffff);
        } else if (json_is_null(x)) {
            n = 0;
        } else if ((n = scalar_text(x, num)) < 0) {
            return hp_fail(err, HP_ERR_FORMAT, "key '%s': list item %zu is %s; only lists of "
                           "strings, numbers and booleans can be read", key, j + 1,
                           type_name(x));
        }
        if (memchr(t, s->sep, (size_t)n))
            return hp_fail(err, HP_ERR_FORMAT, "key '%s': list item %zu contains the list "
                           "separator '%c'", key, j + 1, s->sep);
        if ((j && scratch_put(s, &s->sep, 1)) || scratch_put(s, t, (size_t)n))
            return HP_ERR_NOMEM;
    }
    return HP_OK;
}

/* Sets field i from value x (NULL when the key is missing). */
static int set_field(io_source *s, int i, const json_t *x, hp_error *err)
{
    const char *key = s->colname[i];
    char num[32];
    s->fptr[i] = NULL;
    s->flen[i] = 0;
    s->soff[i] = SIZE_MAX;
    if (!x || json_is_null(x)) return HP_OK;
    if (json_is_string(x)) {
        s->fptr[i] = json_string_value(x);
        s->flen[i] = json_string_length(x);
        return HP_OK;
    }
    if (json_is_object(x))
        return hp_fail(err, HP_ERR_FORMAT, "key '%s' holds a nested object; only strings, "
                       "numbers, booleans, null and lists of them can be read", key);
    /* Numbers, booleans and lists go to scratch; pointers are set once it stops moving. */
    size_t off = s->scratch_len;
    int rc;
    if (json_is_array(x)) {
        rc = join_list(s, key, x, err);
    } else {
        int n = scalar_text(x, num);
        rc = scratch_put(s, num, (size_t)n);
    }
    if (rc == HP_ERR_NOMEM || (!rc && scratch_put(s, "", 1)))
        return hp_fail(err, HP_ERR_NOMEM, "out of memory");
    if (rc) return rc;
    s->soff[i] = off;
    s->flen[i] = s->scratch_len - 1 - off;
    return HP_OK;
}

/* Turns the parsed element v (owned by s from now on) into the record's fields. */
static int fill_record(io_source *s, json_t *v, const char *what, io_record *rec, hp_error *err)
{
    s->cur = v;
    if (!json_is_object(v))
        return hp_fail(err, HP_ERR_FORMAT, "%s is not a JSON object (found %s)", what,
                       type_name(v));
    s->scratch_len = 0;
    for (int i = 0; i < s->ncols; i++) {
        int rc = set_field(s, i, json_object_get(v, s->colname[i]), err);
        if (rc == HP_ERR_FORMAT) rec->bad_field = i;
        if (rc) return rc;
    }
    for (int i = 0; i < s->ncols; i++)
        if (s->soff[i] != SIZE_MAX) s->fptr[i] = s->scratch + s->soff[i];
    rec->nfields = s->ncols;
    rec->field = s->fptr;
    rec->len = s->flen;
    return 1;
}

/* The per-record message for text jansson could not parse; start is where it begins. */
static int syntax_error(const io_source *s, size_t start, long line, const json_error_t *je,
                        hp_error *err)
{
    if (je->line > 1 && je->column > 0)
        return hp_fail(err, HP_ERR_FORMAT, "invalid JSON at line %ld, column %d: %s",
                       line + je->line - 1, je->column, je->text);
    if (je->line == 1 && je->column > 0) {
        long col = 0; /* characters before the element on its line */
        for (size_t i = start; i > s->base && s->buf[i - 1] != '\n'; i--)
            col += ((unsigned char)s->buf[i - 1] & 0xC0) != 0x80;
        return hp_fail(err, HP_ERR_FORMAT, "invalid JSON at column %ld: %s", col + je->column,
                       je->text);
    }
    return hp_fail(err, HP_ERR_FORMAT, "invalid JSON: %s", je->text);
}

/* Parses [start, end) as one record. */
static int load_record(io_source *s, size_t start, size_t end, long line, const char *what,
                       io_record *rec, hp_error *err)
{
    rec->line = line;
    if (start == end)
        return hp_fail(err, HP_ERR_FORMAT, "empty array element (two commas in a row, or a "
                       "comma before ']')");
    json_error_t je;
    json_t *v = json_loadb(s->buf + start, end - start, LOAD_FLAGS, &je);
    if (!v) return syntax_error(s, start, line, &je, err);
    return fill_record(s, v, what, rec, err);
}

/* ------------------------------------------------------------------ records */

void io_json_release(io_source *s)
{
    if (s->cur) json_decref(s->cur);
    s->cur = NULL;
}

/* Finds the next non-blank line of a JSONL file: [*start, *end) and its line number. */
static int next_line(io_source *s, size_t *start, size_t *end, long *line)
{
    while (s->pos < s->len) {
        const char *b = s->buf + s->pos;
        const char *nl = memchr(b, '\n', s->len - s->pos);
        size_t e = nl ? (size_t)(nl - s->buf) : s->len;
        *start = s->pos;
        *end = e;
        *line = s->line;
        s->pos = nl ? e + 1 : s->len;
        s->line++;
        size_t i = *start;
        while (i < e && is_ws(s->buf[i])) i++;
        if (i < e) return 1;
    }
    return 0;
}

int io_json_next(io_source *s, io_record *rec, hp_error *err)
{
    io_json_release(s);
    if (s->format == IO_FMT_JSONL) {
        size_t start, end;
        long line;
        if (!next_line(s, &start, &end, &line)) return 0;
        return load_record(s, start, end, line, "line", rec, err);
    }
    if (s->ielem >= s->nelem) return 0;
    const io_json_elem *e = &s->elem[s->ielem++];
    s->line = e->line;
    return load_record(s, e->start, e->end, e->line, "array element", rec, err);
}

/* ------------------------------------------------------------------ open */

static int copy_names(io_source *s, const char *const *names, int n)
{
    size_t total = 0;
    for (int i = 0; i < n; i++) total += strlen(names[i]) + 1;
    s->ncols = n;
    s->colname = hp_calloc(n ? (size_t)n : 1, sizeof *s->colname);
    s->namebuf = hp_malloc(total);
    if (!s->colname || !s->namebuf) return HP_ERR_NOMEM;
    char *p = s->namebuf;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]) + 1;
        memcpy(p, names[i], len);
        s->colname[i] = p;
        p += len;
    }
    return HP_OK;
}

/* Without requested keys, the columns are the keys of the first record that is an object. */
static int keys_from_object(io_source *s, const json_t *obj)
{
    size_t n = json_object_size(obj);
    if (n > 100000) n = 100000;
    const char **names = hp_calloc(n ? n : 1, sizeof *names);
    if (!names) return HP_ERR_NOMEM;
    const char *key;
    json_t *val;
    size_t k = 0;
    json_object_foreach((json_t *)obj, key, val) {
        (void)val;
        if (k < n) names[k++] = key;
    }
    int rc = copy_names(s, names, (int)k);
    hp_free(names);
    return rc;
}

/* Parses [start, end); returns it when it is an object (caller decrefs), else NULL. */
static json_t *load_object(const io_source *s, size_t start, size_t end)
{
    json_error_t je;
    json_t *v = end > start ? json_loadb(s->buf + start, end - start, LOAD_FLAGS, &je) : NULL;
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

static json_t *first_object(io_source *s)
{
    json_t *v = NULL;
    if (s->format == IO_FMT_JSON) {
        for (size_t i = 0; i < s->nelem && !v; i++)
            v = load_object(s, s->elem[i].start, s->elem[i].end);
        return v;
    }
    size_t pos = s->pos, start, end;
    long line = s->line, l;
    while (!v && next_line(s, &start, &end, &l)) v = load_object(s, start, end);
    s->pos = pos;
    s->line = line;
    return v;
}

/* A pretty-printed JSON array named .jsonl would give one error per line; say so once. */
static int check_jsonl_start(io_source *s, hp_error *err)
{
    size_t pos = s->pos, start, end;
    long line = s->line, l = 0;
    int ok = 1;
    if (next_line(s, &start, &end, &l)) {
        while (is_ws(s->buf[start])) start++;
        if (s->buf[start] == '[') {
            json_error_t je;
            json_t *v = json_loadb(s->buf + start, end - start, LOAD_FLAGS, &je);
            ok = v != NULL;
            json_decref(v);
        }
    }
    s->pos = pos;
    s->line = line;
    if (!ok)
        return hp_fail(err, HP_ERR_FORMAT, "%s:%ld: this looks like a JSON array spread over "
                       "lines, not JSONL (one object per line); read it as JSON", s->name, l);
    return HP_OK;
}

int io_json_open(io_source *s, const io_source_opts *o, hp_error *err)
{
    s->sep = o->list_separator ? o->list_separator : ',';
    int rc = s->format == IO_FMT_JSON ? scan_array(s, err) : check_jsonl_start(s, err);
    if (rc) return rc;
    if (o->nkeys > 0) {
        rc = copy_names(s, o->keys, o->nkeys);
    } else {
        json_t *v = first_object(s);
        rc = v ? keys_from_object(s, v) : copy_names(s, NULL, 0);
        json_decref(v);
    }
    if (rc) return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", s->name);
    s->soff = hp_calloc(s->ncols ? (size_t)s->ncols : 1, sizeof *s->soff);
    if (!s->soff) return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", s->name);
    return io_alloc_fields(s, err);
}
