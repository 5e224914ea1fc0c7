/* io_utf8: strict UTF-8 validation and Latin-1 conversion. */
#include "io/io.h"

#include <limits.h>
#include <string.h>

/* ------------------------------------------------------------------ validation */

/* Length of the valid sequence starting at a non-ASCII byte p[0], or 0 if invalid.
 * The second-byte ranges exclude overlongs (E0 80..9F, F0 80..8F), surrogates (ED A0..BF)
 * and code points above U+10FFFF (F4 90.., F5..FF), per RFC 3629 table 3. */
static size_t utf8_seq_len(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else return 0;
    if (avail < n) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return n;
}

long io_utf8_invalid_at(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        /* ASCII fast path, 32 then 8 bytes at a time: data files are mostly ASCII, and this
         * check runs over every byte of every file. */
        while (i + 32 <= len) {
            uint64_t w[4];
            memcpy(w, p + i, 32);
            if ((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ULL) break;
            i += 32;
        }
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ULL) break;
            i += 8;
        }
        if (i >= len) break;
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_seq_len(p + i, len - i);
        if (!n) return i > LONG_MAX ? LONG_MAX : (long)i;
        i += n;
    }
    return -1;
}

/* ------------------------------------------------------------------ Latin-1 */

int io_latin1_to_utf8(const char *in, size_t len, char **out, size_t *outlen)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t high = 0;
    for (size_t i = 0; i < len; i++) high += p[i] >> 7;
    if (len > SIZE_MAX - high - 1) return HP_ERR_NOMEM;
    unsigned char *o = hp_malloc(len + high + 1);
    if (!o) return HP_ERR_NOMEM;
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (c < 0x80) {
            o[j++] = c;
        } else {
            o[j++] = (unsigned char)(0xC0 | (c >> 6));
            o[j++] = (unsigned char)(0x80 | (c & 0x3F));
        }
    }
    o[j] = 0;
    *out = (char *)o;
    if (outlen) *outlen = j;
    return HP_OK;
}

/* ------------------------------------------------------------------ config files */

int io_config_text(const char *name, const char **text, size_t *len, hp_error *err)
{
    const unsigned char *p = (const unsigned char *)*text;
    size_t n = *text ? *len : 0;
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        *text += 3;
        *len -= 3;
        return HP_OK;
    }
    /* a byte-order mark, or JSON's first ASCII character with a NUL beside it */
    int bom16 = n >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF));
    int nul16 = n >= 2 && (p[0] == 0) != (p[1] == 0);
    if (bom16 || nul16)
        return hp_fail(err, HP_ERR_ENCODING, "%s: file is UTF-16; save it as UTF-8", name);
    return HP_OK;
}
