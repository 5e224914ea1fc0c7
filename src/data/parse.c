/* Typed parsing of text fields: numbers, timestamps, bands. Hot in ingest, so the common
 * cases avoid strtod and libc time functions. */
#include "data/parse.h"
#include "text/pii.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ quoting values */

static void copy_cut(const char *s, size_t len, size_t max, char *out, size_t size)
{
    if (size == 0) return;
    size_t room = HP_MIN(max, size - 1), n = len, dots = 0;
    if (n > room) { /* "..." marks the cut, within the bound */
        dots = HP_MIN((size_t)3, room);
        n = room - dots;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--; /* not inside a character */
    }
    memcpy(out, s, n);
    memcpy(out + n, "...", dots);
    out[n + dots] = 0;
}

void data_quote_value(const char *s, size_t len, size_t max, char *out, size_t size)
{
    if (!s) s = "", len = 0;
    if (pii_scan(s, len, NULL, 0) == 0) {
        copy_cut(s, len, max, out, size);
        if (size == 0 || pii_scan(out, strlen(out), NULL, 0) == 0) return;
    }
    /* mask, cut, and again while the cut text shows a match (digits glued to a letter the
     * cut removed, say): a few rounds, then nothing of the value is shown */
    char *cur = hp_strndup(s, len);
    size_t clen = len;
    for (int round = 0; cur && round < 4; round++) {
        /* every match becomes its type in brackets: a message shows no digit of a card */
        char *m = pii_mask(cur, clen, &(pii_mask_opts){ .tags_only = 1 }, NULL);
        hp_free(cur);
        cur = NULL;
        if (!m) break;
        copy_cut(m, strlen(m), max, out, size);
        hp_free(m);
        if (pii_scan(out, strlen(out), NULL, 0) == 0) return;
        clen = strlen(out);
        cur = hp_strndup(out, clen);
    }
    hp_free(cur);
    copy_cut("(value withheld)", 16, max, out, size);
}

/* [a, b) lies inside an occurrence in s of one of clear[]. */
static int inside_clear(const char *s, size_t len, size_t a, size_t b, const char *const *clear, size_t nclear)
{
    for (size_t k = 0; k < nclear; k++) {
        size_t n = strlen(clear[k]);
        if (!n || n > len || b - a > n) continue;
        for (size_t o = b > n ? b - n : 0; o <= a && o + n <= len; o++)
            if (!memcmp(s + o, clear[k], n)) return 1;
    }
    return 0;
}

/* The match may be shown because it lies inside one of the user's own arguments; never a card
 * (PCI DSS: a full card number is not displayed, whoever typed it). */
static int shown_clear(const char *s, size_t len, const pii_match *m, const char *const *clear, size_t nclear)
{
    return m->type != PII_CARD && inside_clear(s, len, m->start, m->end, clear, nclear);
}

/* Every PII match in s may be shown (shown_clear; 0 when out of memory). */
static int only_clear_matches(const char *s, size_t len, const char *const *clear, size_t nclear)
{
    size_t n = pii_scan(s, len, NULL, 0);
    if (n == 0) return 1;
    pii_match *m = n != PII_SCAN_NOMEM ? hp_malloc(n * sizeof *m) : NULL;
    int ok = m != NULL;
    if (m) pii_scan(s, len, m, n);
    for (size_t i = 0; ok && i < n; i++) ok = shown_clear(s, len, &m[i], clear, nclear);
    hp_free(m);
    return ok;
}

/* msg with every match that may not be shown replaced by its tag ("[EMAIL]"), into out (cut to
 * max bytes); 0 when out of memory. */
static int tag_unclear(const char *msg, size_t len, const char *const *clear, size_t nclear, size_t max,
                       char *out, size_t size)
{
    size_t n = pii_scan(msg, len, NULL, 0);
    pii_match *m = n && n != PII_SCAN_NOMEM && n <= (SIZE_MAX - len - 1) / 12 ? hp_malloc(n * sizeof *m) : NULL;
    char *buf = m ? hp_malloc(len + 12 * n + 1) : NULL; /* a tag is at most 11 bytes longer */
    if (!buf) {
        hp_free(m);
        return 0;
    }
    pii_scan(msg, len, m, n);
    size_t o = 0, pos = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(buf + o, msg + pos, m[i].start - pos);
        o += m[i].start - pos;
        pos = m[i].start;
        if (shown_clear(msg, len, &m[i], clear, nclear)) continue; /* copied with the rest */
        const char *name = pii_type_name(m[i].type);
        buf[o++] = '[';
        for (const char *c = name; *c; c++) buf[o++] = (char)toupper((unsigned char)*c);
        buf[o++] = ']';
        pos = m[i].end;
    }
    memcpy(buf + o, msg + pos, len - pos);
    o += len - pos;
    copy_cut(buf, o, max, out, size);
    hp_free(buf);
    hp_free(m);
    return 1;
}

void data_quote_message(const char *msg, size_t len, const char *const *clear, size_t nclear, size_t max,
                        char *out, size_t size)
{
    if (!msg) msg = "", len = 0;
    /* the clear arguments' own matches stay; if the result shows any other (a tag freed a card,
     * the cut split an argument), the whole message is masked as a value is */
    if (nclear && size > 0 && pii_scan(msg, len, NULL, 0) != 0 &&
        tag_unclear(msg, len, clear, nclear, max, out, size) && only_clear_matches(out, strlen(out), clear, nclear))
        return;
    data_quote_value(msg, len, max, out, size);
}

/* The value for a message (nothing is computed when the caller wants no message). */
static const char *quoted(const hp_error *err, const char *s, size_t len, size_t max, char *q, size_t size)
{
    if (err) data_quote_value(s, len, max, q, size);
    else q[0] = 0;
    return q;
}

/* ------------------------------------------------------------------ numbers */

static const double k_pow10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
                                  1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18 };

/* Fast path: [sign] digits [. digits] with at most 18 significant digits, exact for the
 * values data files hold; anything else goes to strtod. */
static int parse_simple_decimal(const char *s, size_t len, double *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    uint64_t mant = 0;
    int digits = 0, frac = 0, seen_dot = 0, any = 0;
    for (; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (digits >= 18) return 0;
            mant = mant * 10 + (uint64_t)(c - '0');
            if (mant) digits++;
            if (seen_dot) frac++;
            any = 1;
        } else if (c == '.' && !seen_dot) {
            seen_dot = 1;
        } else {
            return 0;
        }
    }
    if (!any || frac > 18) return 0;
    double v = (double)mant / k_pow10[frac];
    *out = neg ? -v : v;
    return 1;
}

/* Values are stored as float: a number beyond its range would become infinite. */
static int check_float_range(double v, const char *s, size_t len, hp_error *err)
{
    char q[128];
    if (fabs(v) > FLT_MAX)
        return hp_fail(err, HP_ERR_FORMAT, "'%s' is out of range (magnitude above 3.4e38)",
                       quoted(err, s, len, 40, q, sizeof q));
    return HP_OK;
}

int data_parse_number(const char *s, size_t len, double *out, hp_error *err)
{
    hp_trim(&s, &len);
    if (len == 0) return hp_fail(err, HP_ERR_FORMAT, "empty value where a number was expected");
    if (parse_simple_decimal(s, len, out)) return check_float_range(*out, s, len, err);
    char tmp[64], q[128];
    if (len >= sizeof tmp) return hp_fail(err, HP_ERR_FORMAT, "number too long (%zu characters)", len);
    memcpy(tmp, s, len);
    tmp[len] = 0;
    /* strtod accepts hex, inf and nan; data files should not. */
    for (size_t i = 0; i < len; i++) {
        char c = tmp[i];
        if (!(isdigit((unsigned char)c) || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+'))
            return hp_fail(err, HP_ERR_FORMAT, "'%s' is not a number", quoted(err, tmp, len, 64, q, sizeof q));
    }
    char *end;
    double v = strtod(tmp, &end);
    if (end != tmp + len || !isfinite(v))
        return hp_fail(err, HP_ERR_FORMAT, "'%s' is not a number", quoted(err, tmp, len, 64, q, sizeof q));
    *out = v;
    return check_float_range(v, s, len, err);
}

/* ------------------------------------------------------------------ timestamps */

int64_t data_days_from_civil(int y, unsigned m, unsigned d)
{
    /* Howard Hinnant's days_from_civil. */
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int64_t)era * 146097 + (int64_t)doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dm[m - 1];
}

/* Reads exactly n digits at s[*i]. */
static int read_digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9') return 0;
        v = v * 10 + (s[*i] - '0');
    }
    *out = v;
    return 1;
}

static int parse_time_of_day(const char *s, size_t len, size_t *i, int64_t *secs)
{
    int hh, mi, ss = 0;
    if (!read_digits(s, len, i, 2, &hh) || *i >= len || s[(*i)++] != ':' ||
        !read_digits(s, len, i, 2, &mi))
        return 0;
    if (*i < len && s[*i] == ':') {
        (*i)++;
        if (!read_digits(s, len, i, 2, &ss)) return 0;
        if (*i < len && s[*i] == '.') /* fractional seconds are dropped */
            for ((*i)++; *i < len && isdigit((unsigned char)s[*i]); (*i)++) {}
    }
    if (hh > 23 || mi > 59 || ss > 60) return 0;
    *secs = hh * 3600 + mi * 60 + ss;
    return 1;
}

static int parse_zone(const char *s, size_t len, size_t *i, int64_t *offset)
{
    *offset = 0;
    if (*i == len) return 1;
    if (s[*i] == 'Z' || s[*i] == 'z') return ++(*i) == len;
    if (s[*i] != '+' && s[*i] != '-') return 0;
    int sign = s[(*i)++] == '-' ? -1 : 1, hh, mm = 0;
    if (!read_digits(s, len, i, 2, &hh)) return 0;
    if (*i < len && s[*i] == ':') (*i)++;
    if (*i < len && !read_digits(s, len, i, 2, &mm)) return 0;
    if (hh > 14 || mm > 59) return 0;
    *offset = sign * (hh * 3600 + mm * 60);
    return *i == len;
}

/* English month names: "Jan" or "January", any case; 1..12 at s[*i], or 0. */
static int read_month_name(const char *s, size_t len, size_t *i)
{
    static const char *const full[] = { "january", "february", "march", "april", "may", "june", "july",
                                        "august", "september", "october", "november", "december" };
    for (int m = 0; m < 12; m++) {
        size_t n = strlen(full[m]);
        if (*i + n <= len && strncasecmp(s + *i, full[m], n) == 0) { *i += n; return m + 1; }
    }
    for (int m = 0; m < 12; m++)
        if (*i + 3 <= len && strncasecmp(s + *i, full[m], 3) == 0) { *i += 3; return m + 1; }
    return 0;
}

/* One or two digits (a day, a month, an hour written "1" or "01"). */
static int read_1_2_digits(const char *s, size_t len, size_t *i, int *out)
{
    if (*i >= len || !isdigit((unsigned char)s[*i])) return 0;
    int v = s[(*i)++] - '0';
    if (*i < len && isdigit((unsigned char)s[*i])) v = v * 10 + (s[(*i)++] - '0');
    *out = v;
    return 1;
}

static int calendar_fail(hp_error *err, const char *s, size_t len)
{
    char q[128];
    return hp_fail(err, HP_ERR_FORMAT, "'%s' is not a valid calendar date", quoted(err, s, len, 64, q, sizeof q));
}

static int civil_seconds(int y, int m, int d, int64_t secs, const char *s, size_t len, int64_t *out, hp_error *err)
{
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return calendar_fail(err, s, len);
    *out = data_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + secs;
    return HP_OK;
}

/* "01-Jan-1995", "1 January 1995", "01-JAN-1995 13:45[:10]": the month is a word, so day and
 * month cannot be swapped. 0 when s is not of this shape. */
static int parse_day_month_year(const char *s, size_t len, int64_t *out, hp_error *err, int *rc)
{
    size_t i = 0;
    int d, m, y;
    if (!read_1_2_digits(s, len, &i, &d) || i >= len || (s[i] != '-' && s[i] != ' ')) return 0;
    char sep = s[i++];
    if (!(m = read_month_name(s, len, &i)) || i >= len || s[i++] != sep || !read_digits(s, len, &i, 4, &y)) return 0;
    int64_t secs = 0;
    if (i < len && (s[i] != ' ' || (++i, !parse_time_of_day(s, len, &i, &secs)) || i != len)) return 0;
    *rc = civil_seconds(y, m, d, secs, s, len, out, err);
    return 1;
}

/* Integer seconds since the epoch: without a declared format only 9 or 10 digits (1973-03-03
 * to 2286-11-20) are taken as such, so a compact date (19950131) or milliseconds
 * (1422403200000) is never read as a second count. */
/* The signed integer s[0..len) of at most 18 digits that epoch_digits accepted (s need not
 * be NUL-terminated: no strtoll). */
static int64_t epoch_value(const char *s, size_t len)
{
    size_t i = s[0] == '-' || s[0] == '+';
    int64_t v = 0;
    for (; i < len; i++) v = v * 10 + (s[i] - '0');
    return s[0] == '-' ? -v : v;
}

static int epoch_digits(const char *s, size_t len)
{
    size_t i = s[0] == '-' || s[0] == '+';
    if (i == len) return 0;
    for (size_t k = i; k < len; k++)
        if (!isdigit((unsigned char)s[k])) return 0;
    return (int)(len - i);
}

int data_parse_timestamp(const char *s, size_t len, int64_t *out, hp_error *err)
{
    hp_trim(&s, &len);
    if (len == 0) return hp_fail(err, HP_ERR_FORMAT, "empty value where a timestamp was expected");
    size_t i = 0;
    int y, m, d, rc = HP_OK;
    char q[128];
    if (len >= 10 && s[4] == '-') {
        if (!read_digits(s, len, &i, 4, &y) || s[i++] != '-' || !read_digits(s, len, &i, 2, &m) ||
            s[i++] != '-' || !read_digits(s, len, &i, 2, &d))
            goto bad;
        if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return calendar_fail(err, s, len);
        int64_t secs = 0, zone = 0;
        if (i < len) {
            if (s[i] != 'T' && s[i] != ' ') goto bad;
            i++;
            if (!parse_time_of_day(s, len, &i, &secs) || !parse_zone(s, len, &i, &zone)) goto bad;
        }
        *out = data_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + secs - zone;
        return HP_OK;
    }
    if (parse_day_month_year(s, len, out, err, &rc)) return rc;
    int digits = epoch_digits(s, len);
    if (digits == 9 || digits == 10) {
        *out = epoch_value(s, len);
        return HP_OK;
    }
    if (digits)
        return hp_fail(err, HP_ERR_FORMAT, "'%s' is not a timestamp: epoch seconds have 9 or 10 digits "
                       "(1973 to 2286); for another count or a compact date set the column's \"format\" "
                       "(\"epoch\", \"%%Y%%m%%d\")", quoted(err, s, len, 64, q, sizeof q));
    if (memchr(s, '/', len))
        return hp_fail(err, HP_ERR_FORMAT, "'%s' is not a timestamp without a format: a date with slashes "
                       "may be month/day or day/month; set the column's \"format\" (\"%%m/%%d/%%Y\" or "
                       "\"%%d/%%m/%%Y\")", quoted(err, s, len, 64, q, sizeof q));
bad:
    return hp_fail(err, HP_ERR_FORMAT,
                   "'%s' is not a timestamp (expected YYYY-MM-DD[THH:MM:SS[Z]], DD-Mon-YYYY or epoch seconds)",
                   quoted(err, s, len, 64, q, sizeof q));
}

/* ---- declared formats: a strptime subset, locale-free ---- */

/* The directives a format may use; anything else after '%' is refused when the config is read. */
static const char k_fmt_directives[] = "YmdbBHMS%";

int data_timestamp_format_check(const char *fmt, char *why, size_t size)
{
    if (strcmp(fmt, "epoch") == 0) return HP_OK;
    int has[128] = { 0 };
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') continue;
        if (!p[1] || !strchr(k_fmt_directives, p[1])) {
            snprintf(why, size, "unknown directive '%%%.1s' (known: %%Y %%m %%d %%b %%B %%H %%M %%S %%%%, or \"epoch\")",
                     p[1] ? p + 1 : "");
            return HP_ERR_INVAL;
        }
        if (p[1] != '%' && has[(unsigned char)p[1]]++) {
            snprintf(why, size, "'%%%c' is given twice", p[1]);
            return HP_ERR_INVAL;
        }
        p++;
    }
    if (!has['Y'] || !(has['m'] || has['b'] || has['B']) || !has['d']) {
        snprintf(why, size, "needs a year (%%Y), a month (%%m, %%b or %%B) and a day (%%d), or is \"epoch\"");
        return HP_ERR_INVAL;
    }
    if (has['b'] + has['B'] + has['m'] > 1) {
        snprintf(why, size, "names the month twice");
        return HP_ERR_INVAL;
    }
    return HP_OK;
}

/* Reads one directive of a checked format at s[*i]; 0 when the text does not fit it. */
static int read_directive(char dir, const char *s, size_t len, size_t *i, int f[6])
{
    switch (dir) {
    case 'Y': return read_digits(s, len, i, 4, &f[0]);
    case 'm': return read_1_2_digits(s, len, i, &f[1]);
    case 'b': case 'B': return (f[1] = read_month_name(s, len, i)) != 0;
    case 'd': return read_1_2_digits(s, len, i, &f[2]);
    case 'H': return read_1_2_digits(s, len, i, &f[3]) && f[3] <= 23;
    case 'M': return read_1_2_digits(s, len, i, &f[4]) && f[4] <= 59;
    case 'S': return read_1_2_digits(s, len, i, &f[5]) && f[5] <= 60;
    default: return *i < len && s[(*i)++] == '%';
    }
}

int data_parse_timestamp_as(const char *s, size_t len, const char *fmt, int64_t *out, hp_error *err)
{
    if (!fmt) return data_parse_timestamp(s, len, out, err);
    hp_trim(&s, &len);
    if (len == 0) return hp_fail(err, HP_ERR_FORMAT, "empty value where a timestamp was expected");
    char q[128];
    if (strcmp(fmt, "epoch") == 0) {
        int digits = epoch_digits(s, len);
        if (digits == 0 || digits > 12)
            return hp_fail(err, HP_ERR_FORMAT, "'%s' is not epoch seconds (an integer of at most 12 digits)",
                           quoted(err, s, len, 64, q, sizeof q));
        *out = epoch_value(s, len);
        return HP_OK;
    }
    int f[6] = { 0, 0, 0, 0, 0, 0 };
    size_t i = 0;
    for (const char *p = fmt; *p; p++) {
        if (*p == '%' && !p[1]) goto bad;
        int ok = *p == '%' ? read_directive(*++p, s, len, &i, f) : i < len && s[i++] == *p;
        if (!ok) goto bad;
    }
    if (i != len) goto bad;
    return civil_seconds(f[0], f[1], f[2], (int64_t)f[3] * 3600 + f[4] * 60 + f[5], s, len, out, err);
bad:
    return hp_fail(err, HP_ERR_FORMAT, "'%s' is not a timestamp of the column's format '%s'",
                   quoted(err, s, len, 64, q, sizeof q), fmt);
}

void data_format_timestamp(int64_t t, char *buf, size_t size)
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t secs = t - days * 86400;
    /* civil_from_days (Hinnant) */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d,
             (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

/* ------------------------------------------------------------------ bands */

typedef struct {
    const char *s;
    size_t len, i;
} cursor;

static void skip_space(cursor *c)
{
    while (c->i < c->len && (c->s[c->i] == ' ' || c->s[c->i] == '\t')) c->i++;
}

static int starts_with_ci(const cursor *c, const char *word)
{
    size_t n = strlen(word);
    if (c->len - c->i < n) return 0;
    for (size_t k = 0; k < n; k++)
        if (tolower((unsigned char)c->s[c->i + k]) != (unsigned char)word[k]) return 0;
    return 1;
}

static int eat_word(cursor *c, const char *word)
{
    if (!starts_with_ci(c, word)) return 0;
    c->i += strlen(word);
    skip_space(c);
    return 1;
}

static void skip_currency(cursor *c)
{
    static const char *symbols[] = { "$", "\xe2\x82\xac", "\xc2\xa3", "\xc2\xa5", "usd", "eur", "gbp" };
    skip_space(c);
    if (c->i < c->len && isdigit((unsigned char)c->s[c->i])) return;
    for (size_t k = 0; k < HP_ARRAY_LEN(symbols); k++)
        if (eat_word(c, symbols[k])) return;
}

/* Reads digits with optional thousands separators ("1,000") and a decimal part. */
static int read_band_number(cursor *c, double *v)
{
    char tmp[48];
    size_t n = 0;
    while (c->i < c->len && n < sizeof tmp - 1) {
        char ch = c->s[c->i];
        int thousands = ch == ',' && n > 0 && c->i + 3 < c->len + 0 &&
                        isdigit((unsigned char)c->s[c->i + 1]) && isdigit((unsigned char)c->s[c->i + 2]) &&
                        isdigit((unsigned char)c->s[c->i + 3]) &&
                        (c->i + 4 >= c->len || !isdigit((unsigned char)c->s[c->i + 4]));
        if (isdigit((unsigned char)ch) || ch == '.') tmp[n++] = ch;
        else if (!thousands) break;
        c->i++;
    }
    if (n == 0) return 0;
    tmp[n] = 0;
    char *end;
    *v = strtod(tmp, &end);
    return *end == 0;
}

/* Returns the multiplier of a K/M/B/T suffix or word at the cursor, 0 if none. */
static double read_suffix(cursor *c)
{
    static const struct { const char *word; double mult; } suffixes[] = {
        { "thousand", 1e3 }, { "million", 1e6 }, { "billion", 1e9 }, { "trillion", 1e12 },
        { "mm", 1e6 }, { "mn", 1e6 }, { "bn", 1e9 },
        { "k", 1e3 }, { "m", 1e6 }, { "b", 1e9 }, { "t", 1e12 },
    };
    skip_space(c);
    if (c->i >= c->len || !isalpha((unsigned char)c->s[c->i])) return 0;
    for (size_t k = 0; k < HP_ARRAY_LEN(suffixes); k++) {
        size_t n = strlen(suffixes[k].word);
        size_t after = c->i + n;
        if (starts_with_ci(c, suffixes[k].word) &&
            (after >= c->len || !isalpha((unsigned char)c->s[after]))) {
            c->i = after;
            skip_space(c);
            return suffixes[k].mult;
        }
    }
    return 0;
}

/* An amount: [currency] number [suffix]. *mult is 0 when no suffix was written. */
static int read_amount(cursor *c, double *v, double *mult)
{
    skip_currency(c);
    if (!read_band_number(c, v)) return 0;
    *mult = read_suffix(c);
    return 1;
}

static int eat_range_separator(cursor *c)
{
    skip_space(c);
    if (c->i < c->len && c->s[c->i] == '-') { c->i++; skip_space(c); return 1; }
    if (eat_word(c, "\xe2\x80\x93") || eat_word(c, "\xe2\x80\x94")) return 1; /* en/em dash */
    return eat_word(c, "to ");
}

static int band_fail(hp_error *err, const char *s, size_t len, const char *why)
{
    char q[128];
    return hp_fail(err, HP_ERR_FORMAT, "'%s' is not a band (%s)", quoted(err, s, len, 64, q, sizeof q), why);
}

int data_band_parse(const char *s, size_t len, double *lo, double *hi, hp_error *err)
{
    hp_trim(&s, &len);
    if (len == 0) return hp_fail(err, HP_ERR_FORMAT, "empty value where a band was expected");
    cursor c = { s, len, 0 };
    int plain = isdigit((unsigned char)s[0]); /* the common case: no prefix word to try */
    int open_bottom = !plain && (eat_word(&c, "<=") || eat_word(&c, "<") || eat_word(&c, "under ") ||
                      eat_word(&c, "up to ") || eat_word(&c, "less than ") || eat_word(&c, "below "));
    int open_top = !plain && !open_bottom && (eat_word(&c, ">=") || eat_word(&c, ">") ||
                                    eat_word(&c, "over ") || eat_word(&c, "more than ") ||
                                    eat_word(&c, "above "));
    double a, ma;
    if (!read_amount(&c, &a, &ma)) return band_fail(err, s, len, "no number");
    double b = a, mb = ma;
    int range = 0;
    if (!open_bottom && !open_top) {
        if (c.i < len && c.s[c.i] == '+') { c.i++; skip_space(&c); open_top = 1; }
        else if (eat_word(&c, "or more") || eat_word(&c, "and above")) open_top = 1;
        else if (eat_range_separator(&c)) {
            if (!read_amount(&c, &b, &mb)) return band_fail(err, s, len, "no upper bound after '-'");
            range = 1;
        }
    }
    if (c.i != len) return band_fail(err, s, len, "unexpected text after the number");
    if (range && ma == 0) ma = mb; /* "$1-5M": the lower end takes the upper end's suffix */
    a *= ma ? ma : 1;
    b *= mb ? mb : 1;
    if (open_bottom) { *lo = 0; *hi = a; }
    else if (open_top) { *lo = a; *hi = INFINITY; }
    else { *lo = a; *hi = b; }
    if (*lo > *hi) return band_fail(err, s, len, "lower bound above upper bound");
    if (*lo > FLT_MAX || (!isinf(*hi) && *hi > FLT_MAX)) return band_fail(err, s, len, "out of range");
    return HP_OK;
}

double data_band_value(double lo, double hi)
{
    if (isinf(hi)) return lo * 1.5;
    if (lo == hi) return lo;
    if (lo <= 0) return hi / 2;
    return sqrt(lo * hi);
}
