/* scan_text: decoding a file's text for a PII scan (see scan_text.h). */
#include "privacy/scan_text.h"
#include "io/io.h"

#include <string.h>

const char *scan_text_encoding_name(scan_text_encoding e)
{
    switch (e) {
    case SCAN_TEXT_UTF8_BOM: return "UTF-8 with BOM";
    case SCAN_TEXT_UTF16LE: return "UTF-16LE";
    case SCAN_TEXT_UTF16BE: return "UTF-16BE";
    default: return "UTF-8 or 8-bit";
    }
}

static size_t line_of(const char *s, size_t off)
{
    size_t line = 1;
    for (size_t i = 0; i < off; i++) line += s[i] == '\n';
    return line;
}

/* Text holds no NUL and no control character but tab, LF, VT, FF and CR: anything else means
 * the bytes are not text the detectors can read. */
static int check_text(const char *name, const char *s, size_t n, hp_error *err)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 || (c >= '\t' && c <= '\r')) continue;
        if (c == 0)
            return hp_fail(err, HP_ERR_ENCODING, "%s:%zu: a NUL byte: binary content, not text "
                           "(UTF-16 or UTF-32 text needs a byte-order mark); nothing was scanned",
                           name, line_of(s, i));
        return hp_fail(err, HP_ERR_ENCODING, "%s:%zu: control character 0x%02x: binary content, "
                       "not text; nothing was scanned", name, line_of(s, i), c);
    }
    return HP_OK;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) return o[0] = (char)cp, 1;
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static unsigned unit_at(const unsigned char *p, int be)
{
    return be ? (unsigned)(p[0] << 8 | p[1]) : (unsigned)(p[1] << 8 | p[0]);
}

/* UTF-16 (after its BOM) to UTF-8; an odd length or an unpaired surrogate is refused. */
static int from_utf16(const char *name, const unsigned char *p, size_t len, int be, char **out,
                      size_t *n, hp_error *err)
{
    if (len % 2)
        return hp_fail(err, HP_ERR_ENCODING, "%s: UTF-16 text of an odd number of bytes (cut "
                       "short?); nothing was scanned", name);
    char *o = hp_malloc(len / 2 * 3 + 1); /* a unit gives at most 3 bytes (a pair: 4 for 2) */
    if (!o) return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory decoding UTF-16", name);
    size_t k = 0;
    for (size_t i = 0; i < len; i += 2) {
        unsigned u = unit_at(p + i, be), cp = u;
        if (u >= 0xD800 && u <= 0xDBFF && i + 3 < len) {
            unsigned lo = unit_at(p + i + 2, be);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            o[k] = 0;
            size_t line = line_of(o, k);
            hp_free(o);
            return hp_fail(err, HP_ERR_ENCODING, "%s:%zu: an unpaired UTF-16 surrogate (byte %zu): "
                           "not UTF-16 text; nothing was scanned", name, line, i + 2);
        }
        k += put_utf8(o + k, cp);
    }
    o[k] = 0;
    *out = o;
    *n = k;
    return HP_OK;
}

static int copy_out(const char *name, const char *p, size_t len, char **out, size_t *n, hp_error *err)
{
    char *o = hp_malloc(len + 1);
    if (!o) return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", name);
    memcpy(o, p, len);
    o[len] = 0;
    *out = o;
    *n = len;
    return HP_OK;
}

int scan_text_decode(const char *name, const char *buf, size_t len, char **out, size_t *n,
                     scan_text_encoding *enc, hp_error *err)
{
    const unsigned char *b = (const unsigned char *)buf;
    *out = NULL;
    *n = 0;
    *enc = SCAN_TEXT_PLAIN;
    if (len >= 4 && ((b[0] == 0xFF && b[1] == 0xFE && !b[2] && !b[3]) ||
                     (!b[0] && !b[1] && b[2] == 0xFE && b[3] == 0xFF)))
        return hp_fail(err, HP_ERR_ENCODING, "%s: UTF-32 text is not supported (convert it to "
                       "UTF-8); nothing was scanned", name);
    int rc;
    if (len >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF))) {
        int be = b[0] == 0xFE;
        *enc = be ? SCAN_TEXT_UTF16BE : SCAN_TEXT_UTF16LE;
        rc = from_utf16(name, b + 2, len - 2, be, out, n, err);
    } else if (len >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
        *enc = SCAN_TEXT_UTF8_BOM;
        rc = copy_out(name, buf + 3, len - 3, out, n, err);
    } else rc = copy_out(name, buf, len, out, n, err);
    if (!rc) rc = check_text(name, *out, *n, err);
    if (rc) {
        hp_free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int scan_text_read(const char *path, char **out, size_t *n, scan_text_encoding *enc, hp_error *err)
{
    char *buf;
    size_t len;
    *out = NULL;
    *n = 0;
    int rc = io_read_file(path, &buf, &len, err); /* a directory: "is a directory, not a file" */
    if (rc) return rc;
    rc = scan_text_decode(path, buf, len, out, n, enc, err);
    hp_free(buf);
    return rc;
}

/* One code point from UTF-8 at s (n bytes left); 0 bytes used when invalid. */
static size_t get_utf8(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!k || k > n) return 0;
    unsigned v = k == 1 ? c : c & (0x7F >> k);
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    *cp = v;
    return k;
}

static size_t put_unit(char *o, unsigned u, int be)
{
    o[be ? 0 : 1] = (char)(u >> 8);
    o[be ? 1 : 0] = (char)(u & 0xFF);
    return 2;
}

int scan_text_encode(const char *text, size_t n, scan_text_encoding enc, int bom, char **out,
                     size_t *outn, hp_error *err)
{
    *out = NULL;
    *outn = 0;
    if (enc == SCAN_TEXT_PLAIN || enc == SCAN_TEXT_UTF8_BOM) {
        size_t b = bom && enc == SCAN_TEXT_UTF8_BOM ? 3 : 0;
        char *o = hp_malloc(n + b + 1);
        if (!o) return hp_fail(err, HP_ERR_NOMEM, "out of memory encoding the masked text");
        memcpy(o, "\xEF\xBB\xBF", b);
        memcpy(o + b, text, n);
        *out = o;
        *outn = n + b;
        return HP_OK;
    }
    int be = enc == SCAN_TEXT_UTF16BE;
    char *o = hp_malloc(2 * n + 2); /* a byte gives at most one unit (4 bytes: a pair) */
    if (!o) return hp_fail(err, HP_ERR_NOMEM, "out of memory encoding the masked text");
    size_t k = bom ? put_unit(o, 0xFEFF, be) : 0;
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < n;) {
        unsigned cp;
        size_t used = get_utf8(s + i, n - i, &cp);
        if (!used) {
            hp_free(o);
            return hp_fail(err, HP_ERR_ENCODING, "masked text: invalid UTF-8 at byte %zu", i);
        }
        i += used;
        if (cp >= 0x10000) {
            k += put_unit(o + k, 0xD800 + ((cp - 0x10000) >> 10), be);
            k += put_unit(o + k, 0xDC00 + ((cp - 0x10000) & 0x3FF), be);
        } else k += put_unit(o + k, cp, be);
    }
    *out = o;
    *outn = k;
    return HP_OK;
}

/* ------------------------------------------------------------------ scanning */

/* Writes one masked line to the mask file in the input's encoding (its BOM before the first). */
static int write_masked(FILE *mask, const char *m, size_t n, scan_text_encoding enc, int first, hp_error *err)
{
    char *e;
    size_t en;
    int rc = scan_text_encode(m, n, enc, first, &e, &en, err);
    if (!rc && fwrite(e, 1, en, mask) != en) rc = hp_fail(err, HP_ERR_WRITE, "write failed");
    hp_free(e);
    return rc;
}

int scan_text_mask_lines(const char *text, size_t len, scan_text_encoding enc, FILE *mask, int first6,
                         size_t counts[PII_TYPE_COUNT], void (*finding)(void *ctx, long line, size_t n, pii_type t),
                         void *ctx, hp_error *err)
{
    pii_mask_opts o = { .card_first6 = first6 };
    memset(counts, 0, PII_TYPE_COUNT * sizeof counts[0]);
    int rc = HP_OK;
    const char *p = text, *end = text + len;
    for (long ln = 1; !rc && p < end; ln++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        size_t c[PII_TYPE_COUNT];
        char *m = pii_mask(p, n, &o, c);
        if (!m) return hp_fail(err, HP_ERR_NOMEM, "out of memory");
        for (int t = 0; t < PII_TYPE_COUNT; t++) {
            counts[t] += c[t];
            if (c[t] && finding) finding(ctx, ln, c[t], (pii_type)t);
        }
        if (mask) rc = write_masked(mask, m, strlen(m), enc, ln == 1, err);
        hp_free(m);
        p += n;
    }
    return rc;
}

size_t scan_text_counts_json(const size_t counts[PII_TYPE_COUNT], char *buf, size_t size)
{
    size_t used = 0, total = 0;
    used += (size_t)snprintf(buf, size, "{");
    for (int t = 0; t < PII_TYPE_COUNT && used < size; t++) {
        total += counts[t];
        used += (size_t)snprintf(buf + used, size - used, "%s\"%s\": %zu", t ? ", " : "", pii_type_name((pii_type)t),
                                 counts[t]);
    }
    if (used < size) snprintf(buf + used, size - used, "}");
    return total;
}
