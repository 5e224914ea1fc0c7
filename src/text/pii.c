/* pii: rule-based detectors, one per type, run in priority order; a later detector never
 * takes bytes an earlier one matched (an IBAN's digits are not also a card). */
#include "text/pii.h"
#include "core/hp.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const char *const k_names[PII_TYPE_COUNT] = {
    "card", "iban", "email", "phone", "ssn", "ein", "account",
};

const char *pii_type_name(pii_type t)
{
    return (unsigned)t < PII_TYPE_COUNT ? k_names[t] : "?";
}

int pii_type_parse(const char *s, size_t len)
{
    for (int i = 0; i < PII_TYPE_COUNT; i++)
        if (strlen(k_names[i]) == len && !strncasecmp(s, k_names[i], len)) return i;
    return -1;
}

/* ------------------------------------------------------------------ helpers */

/* Work counter of this thread's last scan (every digit/alphanumeric probe counts one step). */
static _Thread_local size_t g_steps;

typedef struct {
    const char *t;
    size_t n;
    pii_match *m;      /* accepted matches of the detectors run so far: by start, disjoint */
    size_t nm, mcap;
    pii_match *c;      /* the running detector's matches, in text order, disjoint */
    size_t nc, ccap;
    pii_match *tmp;    /* merge scratch */
    size_t tcap;
    size_t *steps;
    int oom;
} scan;

static int dig(const scan *s, size_t i)
{
    (*s->steps)++;
    return i < s->n && isdigit((unsigned char)s->t[i]);
}
static int aln(const scan *s, size_t i)
{
    (*s->steps)++;
    return i < s->n && isalnum((unsigned char)s->t[i]);
}
/* A token may start at i: the byte before is not a letter or digit. */
static int starts(const scan *s, size_t i) { return i == 0 || !isalnum((unsigned char)s->t[i - 1]); }
/* A token may end at i: the byte at i is not a letter or digit, nor "." or "," + digit. */
static int ends(const scan *s, size_t i)
{
    if (aln(s, i)) return 0;
    if (i < s->n && (s->t[i] == '.' || s->t[i] == ',' || s->t[i] == '-') && dig(s, i + 1)) return 0;
    return 1;
}

/* [a, b) overlaps a match of an earlier detector (binary search: m is sorted and disjoint,
 * so its ends are sorted too) or one this detector already found. */
static int taken(const scan *s, size_t a, size_t b)
{
    if (s->nc && a < s->c[s->nc - 1].end) return 1;
    size_t lo = 0, hi = s->nm;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->m[mid].end <= a) lo = mid + 1;
        else hi = mid;
    }
    return lo < s->nm && s->m[lo].start < b;
}

/* Records a match unless its bytes are taken; 1 when recorded. Detectors scan left to right,
 * so a detector's own matches arrive in text order. */
static int add(scan *s, pii_type t, size_t a, size_t b)
{
    if (s->oom || taken(s, a, b)) return 0;
    if (hp_grow((void **)&s->c, &s->ccap, s->nc + 1, sizeof *s->c)) {
        s->oom = 1;
        return 0;
    }
    s->c[s->nc++] = (pii_match){ t, a, b };
    return 1;
}

/* Runs one detector and merges its matches into the accepted ones (both in text order). */
static void run_detector(scan *s, void (*detect)(scan *))
{
    s->nc = 0;
    detect(s);
    if (s->oom || !s->nc) return;
    if (hp_grow((void **)&s->tmp, &s->tcap, s->nm + s->nc, sizeof *s->tmp)) {
        s->oom = 1;
        return;
    }
    size_t i = 0, j = 0, k = 0;
    while (i < s->nm || j < s->nc)
        s->tmp[k++] = j == s->nc || (i < s->nm && s->m[i].start < s->c[j].start) ? s->m[i++] : s->c[j++];
    pii_match *swap = s->m;
    size_t cap = s->mcap;
    s->m = s->tmp, s->mcap = s->tcap;
    s->tmp = swap, s->tcap = cap;
    s->nm = k;
}

/* Reads digits from i with single separators from seps between groups; stops at max digits.
 * Writes the digits to d (NUL-terminated) and returns the end offset. */
static size_t digit_run(const scan *s, size_t i, const char *seps, char *d, size_t max, size_t *nd)
{
    *nd = 0;
    while (i < s->n && *nd < max) {
        if (dig(s, i)) d[(*nd)++] = s->t[i++];
        else if (*nd && strchr(seps, s->t[i]) && s->t[i] && dig(s, i + 1)) i++;
        else break;
    }
    d[*nd] = 0;
    return i;
}

int pii_luhn_ok(const char *s, size_t len)
{
    int sum = 0, ndig = 0;
    for (size_t k = len; k-- > 0;) {
        if (!isdigit((unsigned char)s[k])) continue;
        int v = s[k] - '0';
        if (ndig++ % 2) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
        sum += v;
    }
    return ndig >= 2 && sum % 10 == 0;
}

/* ------------------------------------------------------------------ cards */

static int prefix_in(const char *d, int digits, int lo, int hi)
{
    int v = 0;
    for (int i = 0; i < digits; i++) v = v * 10 + (d[i] - '0');
    return v >= lo && v <= hi;
}

/* Issuer prefix and length agree (Visa, Mastercard, Amex, Diners, Discover, JCB, UnionPay). */
static int card_brand_ok(const char *d, size_t n)
{
    if (d[0] == '4') return n == 13 || n == 16 || n == 19;
    if (prefix_in(d, 2, 51, 55) || prefix_in(d, 4, 2221, 2720)) return n == 16;
    if (prefix_in(d, 2, 34, 34) || prefix_in(d, 2, 37, 37)) return n == 15;
    if (prefix_in(d, 3, 300, 305) || prefix_in(d, 2, 36, 36) || prefix_in(d, 2, 38, 39)) return n == 14;
    if (prefix_in(d, 4, 6011, 6011) || prefix_in(d, 2, 65, 65) || prefix_in(d, 3, 644, 649) ||
        prefix_in(d, 4, 3528, 3589) || prefix_in(d, 2, 62, 62))
        return n >= 16 && n <= 19;
    return 0;
}

/* From each token start: digit groups joined by single spaces or dashes. Every group end that
 * gives 13 to 19 digits is a candidate, the longest valid one wins ("4111 1111 1111 1111 05/27"
 * is a card and a date). A start without a card skips nothing: the next group may start one
 * ("Ref 12 4111 1111 1111 1111"). Each start reads at most 19 digits, so the scan is linear. */
static void find_cards(scan *s)
{
    char d[20];
    for (size_t i = 0; i < s->n; i++) {
        if (!dig(s, i) || !starts(s, i)) continue;
        size_t cand_end[20], nd = 0, j = i;
        int cand_nd[20], nc = 0;
        while (j < s->n) {
            if (dig(s, j)) {
                if (nd == 19) break; /* a 20th digit: this group makes the run too long */
                d[nd++] = s->t[j++];
                if (nd >= 13 && !dig(s, j)) cand_end[nc] = j, cand_nd[nc++] = (int)nd;
            } else if (nd && (s->t[j] == ' ' || s->t[j] == '-') && dig(s, j + 1)) j++;
            else break;
        }
        while (nc-- > 0) {
            size_t e = cand_end[nc], k = (size_t)cand_nd[nc];
            if (ends(s, e) && card_brand_ok(d, k) && pii_luhn_ok(d, k) && add(s, PII_CARD, i, e)) {
                i = e - 1;
                break;
            }
        }
    }
}

/* ------------------------------------------------------------------ IBANs */

static const struct { char cc[3]; unsigned char len; } k_iban_len[] = {
    { "AD", 24 }, { "AE", 23 }, { "AL", 28 }, { "AT", 20 }, { "AZ", 28 }, { "BA", 20 },
    { "BE", 16 }, { "BG", 22 }, { "BH", 22 }, { "BR", 29 }, { "CH", 21 }, { "CR", 22 },
    { "CY", 28 }, { "CZ", 24 }, { "DE", 22 }, { "DK", 18 }, { "DO", 28 }, { "EE", 20 },
    { "EG", 29 }, { "ES", 24 }, { "FI", 18 }, { "FO", 18 }, { "FR", 27 }, { "GB", 22 },
    { "GE", 22 }, { "GI", 23 }, { "GL", 18 }, { "GR", 27 }, { "GT", 28 }, { "HR", 21 },
    { "HU", 28 }, { "IE", 22 }, { "IL", 23 }, { "IS", 26 }, { "IT", 27 }, { "JO", 30 },
    { "KW", 30 }, { "KZ", 20 }, { "LB", 28 }, { "LI", 21 }, { "LT", 20 }, { "LU", 20 },
    { "LV", 21 }, { "MC", 27 }, { "MD", 24 }, { "ME", 22 }, { "MK", 19 }, { "MR", 27 },
    { "MT", 31 }, { "MU", 30 }, { "NL", 18 }, { "NO", 15 }, { "PK", 24 }, { "PL", 28 },
    { "PS", 29 }, { "PT", 25 }, { "QA", 29 }, { "RO", 24 }, { "RS", 22 }, { "SA", 24 },
    { "SE", 24 }, { "SI", 19 }, { "SK", 24 }, { "SM", 27 }, { "TN", 24 }, { "TR", 26 },
    { "UA", 29 }, { "VG", 24 }, { "XK", 20 },
};

static int iban_len(const char *cc)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(k_iban_len); i++)
        if (k_iban_len[i].cc[0] == toupper((unsigned char)cc[0]) &&
            k_iban_len[i].cc[1] == toupper((unsigned char)cc[1]))
            return k_iban_len[i].len;
    return 0;
}

/* mod 97 of the rearranged IBAN (country and check digits moved to the end, letters 10..35). */
static int iban_mod97(const char *c, size_t n)
{
    unsigned r = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned char ch = (unsigned char)c[(k + 4) % n];
        if (isdigit(ch)) r = (r * 10 + (ch - '0')) % 97;
        else if (isalpha(ch)) r = (r * 100 + (unsigned)(toupper(ch) - 'A' + 10)) % 97;
        else return -1;
    }
    return (int)r;
}

int pii_iban_ok(const char *s, size_t len)
{
    char c[40];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ' ') continue;
        if (n == sizeof c - 1 || !isalnum((unsigned char)s[i])) return 0;
        c[n++] = s[i];
    }
    if (n < 15 || !isalpha((unsigned char)c[0]) || !isalpha((unsigned char)c[1]) ||
        !isdigit((unsigned char)c[2]) || !isdigit((unsigned char)c[3]))
        return 0;
    return iban_len(c) == (int)n && iban_mod97(c, n) == 1;
}

static void find_ibans(scan *s)
{
    for (size_t i = 0; i + 4 < s->n; i++) {
        const char *t = s->t + i;
        if (!starts(s, i) || !isalpha((unsigned char)t[0]) || !isalpha((unsigned char)t[1]) ||
            !isdigit((unsigned char)t[2]) || !isdigit((unsigned char)t[3]))
            continue;
        int want = iban_len(t);
        if (!want || (isupper((unsigned char)t[0]) != isupper((unsigned char)t[1]))) continue;
        /* take alphanumerics, single spaces between groups, until the country's length */
        size_t e = i, n = 0;
        while (e < s->n && n < (size_t)want) {
            if (aln(s, e)) n++, e++;
            else if (s->t[e] == ' ' && aln(s, e + 1)) e++;
            else break;
        }
        if (n == (size_t)want && !aln(s, e) && pii_iban_ok(t, e - i)) add(s, PII_IBAN, i, e);
    }
}

/* ------------------------------------------------------------------ e-mail */

static int local_ch(int c) { return isalnum(c) || (c && strchr("._%+-'", c)); }
static int domain_ch(int c) { return isalnum(c) || c == '.' || c == '-'; }

static void find_emails(scan *s)
{
    for (size_t at = 1; at + 1 < s->n; at++) {
        if (s->t[at] != '@') continue;
        size_t a = at, e = at + 1;
        while (a > 0 && local_ch((unsigned char)s->t[a - 1])) a--;
        while (a < at && !isalnum((unsigned char)s->t[a])) a++; /* no leading punctuation */
        while (e < s->n && domain_ch((unsigned char)s->t[e])) e++;
        while (e > at + 1 && (s->t[e - 1] == '.' || s->t[e - 1] == '-')) e--;
        const char *dot = NULL;
        for (size_t k = at + 1; k < e; k++)
            if (s->t[k] == '.') dot = s->t + k;
        size_t tld = dot ? (size_t)(s->t + e - dot - 1) : 0;
        int alpha_tld = tld >= 2;
        for (size_t k = 0; alpha_tld && k < tld; k++) alpha_tld = isalpha((unsigned char)dot[1 + k]);
        if (a < at && alpha_tld && (size_t)(dot - s->t) > at + 1) add(s, PII_EMAIL, a, e);
    }
}

/* ------------------------------------------------------------------ SSN, EIN */

static int ci_before(const scan *s, size_t i, size_t window, const char *const *words, size_t nw)
{
    size_t a = i > window ? i - window : 0;
    for (size_t w = 0; w < nw; w++) {
        size_t L = strlen(words[w]);
        for (size_t k = a; k + L <= i; k++)
            if (!strncasecmp(s->t + k, words[w], L) && (k == 0 || !isalpha((unsigned char)s->t[k - 1])) &&
                !isalpha((unsigned char)s->t[k + L]))
                return 1;
    }
    return 0;
}

static int ssn_ok(const char *d)
{
    int area = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    return area != 0 && area != 666 && area < 900 && !(d[3] == '0' && d[4] == '0') &&
           strncmp(d + 5, "0000", 4);
}

/* IRS campus prefixes (an EIN never starts with 00, 07-09, 17-19, 28-29, 49, 69-70, 78-79, 89, 96-97). */
static int ein_ok(const char *d)
{
    static const char bad[] = "00 07 08 09 17 18 19 28 29 49 69 70 78 79 89 96 97";
    char p[3] = { d[0], d[1], 0 };
    return strstr(bad, p) == NULL;
}

/* Groups of digits of the given sizes joined by one of seps ("3-2-4"). */
static size_t grouped(const scan *s, size_t i, const int *sizes, int ngroups, const char *seps,
                      char *d)
{
    size_t nd = 0;
    char sep = 0;
    for (int g = 0; g < ngroups; g++) {
        if (g) {
            if (i >= s->n || !strchr(seps, s->t[i]) || (sep && s->t[i] != sep)) return 0;
            sep = s->t[i++];
        }
        for (int k = 0; k < sizes[g]; k++, i++) {
            if (!dig(s, i)) return 0;
            d[nd++] = s->t[i];
        }
    }
    d[nd] = 0;
    return ends(s, i) ? i : 0;
}

static void find_ssn_ein(scan *s)
{
    static const char *const ssn_kw[] = { "ssn", "social security", "ss#", "ss no" };
    static const char *const ein_kw[] = { "ein", "employer identification", "tax id", "fein", "tin" };
    static const int ssn_g[] = { 3, 2, 4 }, ein_g[] = { 2, 7 }, nine[] = { 9 };
    char d[16];
    for (size_t i = 0; i < s->n; i++) {
        if (!dig(s, i) || !starts(s, i) || (i > 0 && strchr("+$#", s->t[i - 1]))) continue;
        size_t e;
        if ((e = grouped(s, i, ssn_g, 3, "- ", d)) && ssn_ok(d)) add(s, PII_SSN, i, e);
        else if ((e = grouped(s, i, ein_g, 2, "-", d)) && ein_ok(d)) add(s, PII_EIN, i, e);
        else if ((e = grouped(s, i, nine, 1, "", d))) {
            if (ci_before(s, i, 24, ssn_kw, HP_ARRAY_LEN(ssn_kw)) && ssn_ok(d)) add(s, PII_SSN, i, e);
            else if (ci_before(s, i, 24, ein_kw, HP_ARRAY_LEN(ein_kw)) && ein_ok(d)) add(s, PII_EIN, i, e);
        }
    }
}

/* ------------------------------------------------------------------ phones */

/* North American: [+1 or 1 sep] (NXX) NXX-XXXX or NXX sep NXX sep XXXX, sep in " -.". */
static size_t nanp(const scan *s, size_t i)
{
    size_t j = i;
    if (s->t[j] == '+') j++;
    if (j + 1 < s->n && s->t[j] == '1' && strchr(" -.", s->t[j + 1])) j += 2;
    else if (s->t[i] == '+') return 0;
    int paren = j < s->n && s->t[j] == '(';
    j += (size_t)paren;
    if (!dig(s, j) || s->t[j] < '2' || !dig(s, j + 1) || !dig(s, j + 2)) return 0;
    j += 3;
    if (paren) {
        if (j >= s->n || s->t[j] != ')') return 0;
        j++;
        if (j < s->n && s->t[j] == ' ') j++;
    } else {
        if (j >= s->n || !strchr(" -.", s->t[j])) return 0;
        j++;
    }
    if (!dig(s, j) || s->t[j] < '2' || !dig(s, j + 1) || !dig(s, j + 2)) return 0;
    j += 3;
    if (j >= s->n || !strchr(" -.", s->t[j])) return 0;
    j++;
    for (int k = 0; k < 4; k++, j++)
        if (!dig(s, j)) return 0;
    return ends(s, j) ? j : 0;
}

#define PHONE_MAX_DIGITS 15 /* E.164 */
#define PHONE_MAX_GROUPS 8

/* "+CC ..." : digit groups joined by one space, dash or dot, an optional "(0)", 9-15 digits in
 * at most 8 groups. A national number starting with 0: space-separated groups of 3+ digits,
 * 10-11 digits. Reading stops at the 16th digit or the 9th group: such a run is not one phone
 * number, and *run_end then says where the run ends, so that the caller does not start again
 * inside it (each start costs a bounded number of steps, each run is skipped once). */
static size_t intl(const scan *s, size_t i, size_t *run_end)
{
    size_t j = i, nd = 0, groups = 0, shortest = 99;
    int plus = s->t[i] == '+', zero = 0;
    *run_end = 0;
    if (plus) j++;
    else if (s->t[i] != '0' || !dig(s, i + 1) || s->t[i + 1] == '0') return 0;
    const char *seps = plus ? " -." : " ";
#define PHONE_SEP(k) (s->t[k] && strchr(seps, s->t[k]) && (dig(s, (k) + 1) || ((k) + 1 < s->n && s->t[(k) + 1] == '(')))
    while (j < s->n) {
        if (dig(s, j)) {
            size_t g = 0;
            while (nd <= PHONE_MAX_DIGITS && dig(s, j)) j++, nd++, g++;
            if (nd > PHONE_MAX_DIGITS || ++groups > PHONE_MAX_GROUPS) {
                while (j < s->n && (dig(s, j) || PHONE_SEP(j))) j++;
                *run_end = j;
                return 0;
            }
            shortest = HP_MIN(shortest, g);
        } else if (plus && !zero && j + 3 < s->n && !strncmp(s->t + j, "(0)", 3)) j += 3, zero = 1;
        else if (PHONE_SEP(j)) j++;
        else break;
    }
#undef PHONE_SEP
    while (j > i && !dig(s, j - 1)) j--;
    if (nd < 9) return 0;
    if (!plus && (groups < 2 || nd < 10 || nd > 11 || shortest < 3)) return 0;
    return ends(s, j) ? j : 0;
}

static void find_phones(scan *s)
{
    size_t skip = 0; /* an over-long run ends here: no international number starts before */
    for (size_t i = 0; i < s->n; i++) {
        char c = s->t[i];
        if (!(isdigit((unsigned char)c) || c == '+' || c == '(') || !starts(s, i)) continue;
        if (i > 0 && (isdigit((unsigned char)s->t[i - 1]) || strchr("#$-/", s->t[i - 1]))) continue;
        size_t e = nanp(s, i), run_end = 0;
        if (!e && c != '(' && i >= skip) e = intl(s, i, &run_end);
        if (run_end) skip = run_end;
        if (e) {
            add(s, PII_PHONE, i, e);
            i = e;
        }
    }
}

/* ------------------------------------------------------------------ account numbers */

/* An account keyword ends within 28 bytes before i, with no digit between it and i (the
 * number must be the first one after the keyword). */
static int account_keyword_before(const scan *s, size_t i)
{
    static const char *const kw[] = { "account", "acct", "a/c", "acc", "konto", "compte" };
    size_t a = i > 28 ? i - 28 : 0, k = i;
    while (k > a && !isdigit((unsigned char)s->t[k - 1])) k--;
    if (k > a) a = k; /* a digit: the keyword must come after it */
    scan sub = *s;
    sub.n = i;
    return ci_before(&sub, i, i - a, kw, HP_ARRAY_LEN(kw));
}

static void find_accounts(scan *s)
{
    char d[40];
    for (size_t i = 0; i < s->n; i++) {
        if (!dig(s, i) || !starts(s, i) || (i > 0 && strchr("+$", s->t[i - 1]))) continue;
        size_t nd, e = digit_run(s, i, "-", d, 17, &nd);
        if (nd >= 6 && ends(s, e) && account_keyword_before(s, i)) add(s, PII_ACCOUNT, i, e);
        i = e;
    }
}

/* ------------------------------------------------------------------ scan and mask */

/* Every match of every detector, each detector in priority order taking only free bytes.
 * *m (sorted, disjoint) is the caller's to free; HP_ERR_NOMEM when out of memory. */
static int scan_all(const char *text, size_t len, pii_match **m, size_t *n)
{
    size_t steps = 0;
    scan s = { .t = text, .n = len, .steps = &steps };
    /* cards and IBANs first: a card run into an e-mail address must still be masked whole (PCI) */
    static void (*const detectors[])(scan *) = { find_ibans, find_cards, find_emails,
                                                 find_ssn_ein, find_phones, find_accounts };
    for (size_t d = 0; d < HP_ARRAY_LEN(detectors) && !s.oom; d++) run_detector(&s, detectors[d]);
    hp_free(s.c);
    hp_free(s.tmp);
    g_steps += steps;
    if (s.oom) {
        hp_free(s.m);
        *m = NULL, *n = 0;
        return HP_ERR_NOMEM;
    }
    *m = s.m, *n = s.nm;
    return HP_OK;
}

size_t pii_scan_steps(void) { return g_steps; }

size_t pii_scan(const char *text, size_t len, pii_match *out, size_t max)
{
    pii_match *m;
    size_t n;
    g_steps = 0;
    if (scan_all(text, len, &m, &n)) return PII_SCAN_NOMEM;
    if (out && n && max) memcpy(out, m, HP_MIN(n, max) * sizeof *m);
    hp_free(m);
    return n;
}

/* full: no digit is kept (used on a card that appeared only after masking). */
static void mask_card(char *dst, const char *src, size_t n, int first6, int full)
{
    size_t total = 0, seen = 0;
    for (size_t i = 0; i < n; i++) total += isdigit((unsigned char)src[i]) != 0;
    for (size_t i = 0; i < n; i++) {
        dst[i] = src[i];
        if (!isdigit((unsigned char)src[i])) continue;
        int keep = !full && (seen >= total - 4 || (first6 && seen < 6));
        if (!keep) dst[i] = '*';
        seen++;
    }
}

static void mask_iban(char *dst, const char *src, size_t n)
{
    size_t total = 0, seen = 0;
    for (size_t i = 0; i < n; i++) total += isalnum((unsigned char)src[i]) != 0;
    for (size_t i = 0; i < n; i++) {
        dst[i] = src[i];
        if (!isalnum((unsigned char)src[i])) continue;
        if (seen >= 2 && seen < total - 4) dst[i] = '*';
        seen++;
    }
}

/* One masking pass over text; *cards counts the cards it masked. NULL when out of memory. */
static char *mask_once(const char *text, size_t len, int first6, int full,
                       size_t counts[PII_TYPE_COUNT], size_t *cards, size_t *outlen)
{
    static const char *const tags[PII_TYPE_COUNT] = { "", "", "[EMAIL]", "[PHONE]", "[SSN]",
                                                      "[EIN]", "[ACCOUNT]" };
    pii_match *m;
    size_t n;
    if (scan_all(text, len, &m, &n)) return NULL;
    char *out = n <= (SIZE_MAX - len - 1) / 12 ? hp_malloc(len + 12 * n + 1) : NULL; /* a tag is at most 11 bytes longer */
    if (!out) {
        hp_free(m);
        return NULL;
    }
    size_t o = 0, pos = 0;
    *cards = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(out + o, text + pos, m[i].start - pos);
        o += m[i].start - pos;
        size_t w = m[i].end - m[i].start;
        if (m[i].type == PII_CARD) mask_card(out + o, text + m[i].start, w, first6, full), (*cards)++;
        else if (m[i].type == PII_IBAN) mask_iban(out + o, text + m[i].start, w);
        else w = strlen(tags[m[i].type]), memcpy(out + o, tags[m[i].type], w);
        o += w;
        pos = m[i].end;
        counts[m[i].type]++;
    }
    memcpy(out + o, text + pos, len - pos);
    o += len - pos;
    out[o] = 0;
    *outlen = o;
    hp_free(m);
    return out;
}

/* Masking a card keeps up to 10 of its digits, and those may join the text around them into
 * a new card ("**** **** **** 4532 0151 1283 0366"): the output is scanned again, and a card
 * found then is masked in full (no digit kept, so it cannot chain on: an adversarial chain of
 * cards costs one more round, not one round per card). Repeated until no card is left; each
 * round hides at least 13 digits, so this ends. */
char *pii_mask(const char *text, size_t len, const pii_mask_opts *opts,
               size_t counts[PII_TYPE_COUNT])
{
    size_t c[PII_TYPE_COUNT] = { 0 }, cards, n;
    int first6 = opts && opts->card_first6;
    g_steps = 0;
    char *out = mask_once(text, len, first6, 0, c, &cards, &n);
    while (out && cards) {
        size_t again_c[PII_TYPE_COUNT] = { 0 }, m;
        char *again = mask_once(out, n, first6, 1, again_c, &cards, &m);
        if (again && cards) {
            for (int t = 0; t < PII_TYPE_COUNT; t++) c[t] += again_c[t];
            hp_free(out);
            out = again, n = m;
        } else {
            hp_free(again);
            if (!again) hp_free(out), out = NULL;
            break;
        }
    }
    if (counts) memcpy(counts, c, sizeof c);
    return out;
}
