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

/* ------------------------------------------------------------------ keyword labels */

/* c is one of the bytes of set (never NUL). */
static int in_set(int c, const char *set) { return c && strchr(set, c); }

/* A keyword list and how far before a number its keywords may end to label it; adjacent: only
 * punctuation and "no.", "number", "id" may stand between. */
typedef struct {
    const char *const *words;
    size_t n, window;
    int adjacent;
} kw_set;
#define KW_SET(a, window) { a, HP_ARRAY_LEN(a), window, 0 }
/* Another kind of number's label counts only right before it ("order no. 0123 4567 89",
 * "routing 021000021", "member id 123456789"); elsewhere such words are ordinary nouns ("the
 * SSN of the deceased account holder: ...", "the card the client showed us"). */
#define KW_ADJACENT(a) { a, HP_ARRAY_LEN(a), 24, 1 }

/* [p, i) holds only spaces, punctuation and the words no, nr, num, number, id. */
static int label_glue(const scan *s, size_t p, size_t i)
{
    static const char *const glue[] = { "no", "nr", "num", "number", "id" };
    while (p < i) {
        if (!isalpha((unsigned char)s->t[p])) {
            if (isdigit((unsigned char)s->t[p])) return 0;
            p++;
            continue;
        }
        size_t e = p;
        while (e < i && isalpha((unsigned char)s->t[e])) e++;
        int ok = 0;
        for (size_t w = 0; w < HP_ARRAY_LEN(glue) && !ok; w++)
            ok = strlen(glue[w]) == e - p && !strncasecmp(s->t + p, glue[w], e - p);
        if (!ok) return 0;
        p = e;
    }
    return 1;
}

/* Labels of other kinds of numbers: a number after one of these is not an SSN or a phone. */
static const char *const k_label_kw[] = {
    "order", "invoice", "inv", "ref", "reference", "ticket", "case", "routing", "aba",
    "sort code", "account", "acct", "a/c", "iban", "card", "zip", "postcode", "policy", "member",
    "customer", "client", "loan", "tracking", "imei", "passport", "licence", "license",
    "employee", "po", "isbn", "serial", "batch", "code", "budget", "part", "sku", "cost centre",
    "cost center",
};
static const char *const k_phone_kw[] = {
    "phone", "telephone", "tel", "mobile", "mob", "cell", "cellphone", "call", "fax", "ph",
    "whatsapp", "sms", "landline", "hotline",
};

/* A sentence ends at k: ';', a line break, or '.', '!' or '?' before a space and a capital. */
static int sentence_end(const scan *s, size_t k)
{
    char c = s->t[k];
    if (c == ';' || c == '\n' || c == '\r') return 1;
    return in_set(c, ".!?") && k + 2 < s->n && s->t[k + 1] == ' ' &&
           isupper((unsigned char)s->t[k + 2]);
}

/* Where the token holding byte k starts (letters, digits and dashes), looking back no further
 * than a. A digit in a token that starts with a letter is part of a word such as "W-2" or
 * "Q3", not a number. */
static size_t token_start(const scan *s, size_t k, size_t a)
{
    while (k > a && (isalnum((unsigned char)s->t[k - 1]) || s->t[k - 1] == '-')) k--, (*s->steps)++;
    return k;
}

/* Which set labels the number at i: the one holding the keyword nearest before i (the
 * longest where several end at one place), within that set's window and with no number and
 * no sentence end between it and the number. -1 when there is none. The cost is bounded by
 * the largest window times the keywords' length, for each number asked about. */
static int label_before(const scan *s, size_t i, const kw_set *sets, int nsets)
{
    size_t window = 0;
    for (int k = 0; k < nsets; k++) window = HP_MAX(window, sets[k].window);
    size_t a = i > window ? i - window : 0;
    for (size_t p = i; p > a; p--) { /* p: where a keyword would end */
        if (isdigit((unsigned char)s->t[p - 1])) {
            size_t b = token_start(s, p - 1, a);
            if (isdigit((unsigned char)s->t[b]) || s->t[b] == '-') return -1;
            p = b + 1; /* no keyword ends inside the word: go on before it */
            continue;
        }
        if (sentence_end(s, p - 1)) return -1;
        if (p < s->n && isalpha((unsigned char)s->t[p]) && isalpha((unsigned char)s->t[p - 1])) continue;
        int best = -1, glue = -1; /* glue: [p, i) is label glue (computed once, when needed) */
        size_t best_len = 0;
        for (int k = 0; k < nsets; k++) {
            if (i - p >= sets[k].window) continue;
            for (size_t w = 0; w < sets[k].n; w++) {
                const char *kw = sets[k].words[w];
                size_t L = strlen(kw);
                (*s->steps)++;
                if (L > p - a || L <= best_len || tolower((unsigned char)s->t[p - 1]) != kw[L - 1]) continue;
                size_t q = p - L;
                if (strncasecmp(s->t + q, kw, L) || (q > 0 && isalpha((unsigned char)s->t[q - 1]))) continue;
                if (sets[k].adjacent && glue < 0) glue = label_glue(s, p, i);
                if (sets[k].adjacent && !glue) continue;
                best = k, best_len = L;
            }
        }
        if (best >= 0) return best;
    }
    return -1;
}

/* ------------------------------------------------------------------ cards */

static int prefix_in(const char *d, int digits, unsigned lo, unsigned hi)
{
    unsigned v = 0;
    for (int i = 0; i < digits; i++) v = v * 10 + (unsigned)(d[i] - '0');
    return v >= lo && v <= hi;
}

/* Bit n set: a card of n digits. */
#define LENS(lo, hi) ((((1u << ((hi) + 1)) - 1) >> (lo)) << (lo))

/* Issuer identification ranges (leading digits) and the card lengths issued in them, from the
 * networks' published ranges; each is backed by published test numbers in
 * tests/fixtures/pii_labelled.tsv. whole: the range is also used for other numbers (UATP's
 * "1"), so the card must be the whole digit run, not the start of a longer one. */
static const struct {
    unsigned lo, hi;
    unsigned char digits, whole;
    unsigned lengths;
} k_card_ranges[] = {
    { 1, 1, 1, 1, LENS(15, 15) },            /* UATP */
    { 2200, 2204, 4, 0, LENS(16, 19) },      /* Mir */
    { 2221, 2720, 4, 0, LENS(16, 16) },      /* Mastercard 2-series */
    { 34, 34, 2, 0, LENS(15, 15) },          /* American Express */
    { 37, 37, 2, 0, LENS(15, 15) },
    { 300, 305, 3, 0, LENS(14, 19) },        /* Diners Club */
    { 3095, 3095, 4, 0, LENS(14, 19) },
    { 36, 36, 2, 0, LENS(14, 19) },
    { 38, 39, 2, 0, LENS(14, 19) },
    { 3528, 3589, 4, 0, LENS(16, 19) },      /* JCB (and RuPay-JCB) */
    { 3088, 3094, 4, 0, LENS(16, 16) },      /* JCB, older ranges */
    { 3096, 3102, 4, 0, LENS(16, 16) },
    { 3112, 3120, 4, 0, LENS(16, 16) },
    { 3158, 3159, 4, 0, LENS(16, 16) },
    { 3337, 3349, 4, 0, LENS(16, 16) },
    { 3841, 3841, 4, 0, LENS(16, 19) },      /* Hipercard */
    { 4, 4, 1, 0, LENS(13, 13) | LENS(16, 16) | LENS(19, 19) }, /* Visa, Visa-range Elo, V Pay */
    { 50, 50, 2, 0, LENS(16, 19) },          /* Maestro, Dankort 5019, Verve 506x/507x, Elo, RuPay 508 */
    { 5018, 5018, 4, 0, LENS(13, 15) },      /* Maestro, short (12-19 digits issued) */
    { 5020, 5020, 4, 0, LENS(13, 15) },
    { 5033, 5033, 4, 0, LENS(13, 15) },
    { 5038, 5038, 4, 0, LENS(13, 15) },
    { 51, 55, 2, 0, LENS(16, 16) },          /* Mastercard */
    { 56, 59, 2, 0, LENS(16, 19) },          /* Maestro, BankCard */
    { 60, 69, 2, 0, LENS(16, 19) },          /* Discover, UnionPay, RuPay, Elo, Hipercard, Maestro,
                                                Bancontact, Verve 650, BC Card (6541, 6556) */
    { 62, 62, 2, 0, LENS(14, 15) },          /* UnionPay, short */
    { 6304, 6304, 4, 0, LENS(13, 15) },      /* Maestro, Laser, short */
    { 67, 67, 2, 0, LENS(13, 15) },
    { 81, 82, 2, 0, LENS(16, 19) },          /* UnionPay 81 (ExpressPay), RuPay 82 */
};

/* 0: no issuer range has this prefix and length; 1: one has; 2: only a "whole" range has. */
static int card_brand(const char *d, size_t n)
{
    int found = 0;
    for (size_t r = 0; r < HP_ARRAY_LEN(k_card_ranges); r++)
        if ((k_card_ranges[r].lengths >> n & 1u) &&
            prefix_in(d, k_card_ranges[r].digits, k_card_ranges[r].lo, k_card_ranges[r].hi)) {
            if (!k_card_ranges[r].whole) return 1;
            found = 2;
        }
    return found;
}

/* The card starting at i: digit groups joined by single spaces or dashes. Every group end that
 * gives 13 to 19 digits is a candidate, the longest valid one wins ("4111 1111 1111 1111 05/27"
 * is a card and a date). Reads at most 19 digits. Returns the card's end, 0 when none. */
static size_t card_at(const scan *s, size_t i)
{
    char d[20];
    size_t cand_end[20], nd = 0, j = i;
    int cand_nd[20], nc = 0, cut = 0, group = 0;
    while (j < s->n) {
        if (dig(s, j)) {
            if (nd == 19) { /* a 20th digit: this group makes the run too long */
                cut = 1;
                break;
            }
            d[nd++] = s->t[j++], group++;
            if (nd >= 13 && !dig(s, j)) cand_end[nc] = j, cand_nd[nc++] = (int)nd;
        } else if (nd && (s->t[j] == ' ' || s->t[j] == '-') && dig(s, j + 1)) j++, group = 0;
        /* a dot joins only groups of four: "4111.1111.1111.1111", not a decimal amount */
        else if (nd && s->t[j] == '.' && group == 4 && dig(s, j + 1)) j++, group = 0;
        else break;
    }
    while (nc-- > 0) {
        size_t e = cand_end[nc], k = (size_t)cand_nd[nc];
        int brand = card_brand(d, k);
        if (brand == 2 && (cut || e != j)) continue;
        if (brand && ends(s, e) && pii_luhn_ok(d, k)) return e;
    }
    return 0;
}

/* From each token start (not after "+": that is a phone number). A start without a card skips
 * nothing: the next group may start one ("Ref 12 4111 1111 1111 1111"). Each start reads at
 * most 19 digits, so the scan is linear. */
static void find_cards(scan *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (!dig(s, i) || !starts(s, i) || (i > 0 && s->t[i - 1] == '+')) continue;
        size_t e = card_at(s, i);
        if (e && add(s, PII_CARD, i, e)) i = e - 1;
    }
}

/* ------------------------------------------------------------------ IBANs */

/* The SWIFT IBAN registry (release 100, October 2025): country, IBAN length, BBAN structure
 * (counts of n digits, a letters, c letters or digits). Territories that use their parent's
 * code (AX, GF, IM, ...) write IBANs with that code. */
typedef struct {
    char cc[3];
    unsigned char len;
    const char *bban;
} iban_country;

static const iban_country k_iban[] = {
    { "AD", 24, "4n4n12c" }, { "AE", 23, "3n16n" }, { "AL", 28, "8n16c" }, { "AT", 20, "5n11n" },
    { "AZ", 28, "4a20c" }, { "BA", 20, "3n3n8n2n" }, { "BE", 16, "3n7n2n" },
    { "BG", 22, "4a4n2n8c" }, { "BH", 22, "4a14c" }, { "BI", 27, "5n5n11n2n" },
    { "BR", 29, "8n5n10n1a1c" }, { "BY", 28, "4c4n16c" }, { "CH", 21, "5n12c" },
    { "CR", 22, "4n14n" }, { "CY", 28, "3n5n16c" }, { "CZ", 24, "4n16n" }, { "DE", 22, "8n10n" },
    { "DJ", 27, "5n5n11n2n" }, { "DK", 18, "4n9n1n" }, { "DO", 28, "4c20n" },
    { "EE", 20, "2n14n" }, { "EG", 29, "4n4n17n" }, { "ES", 24, "4n4n1n1n10n" },
    { "FI", 18, "3n11n" }, { "FK", 18, "2a12n" }, { "FO", 18, "4n9n1n" },
    { "FR", 27, "5n5n11c2n" }, { "GB", 22, "4a6n8n" }, { "GE", 22, "2a16n" },
    { "GI", 23, "4a15c" }, { "GL", 18, "4n9n1n" }, { "GR", 27, "3n4n16c" }, { "GT", 28, "4c20c" },
    { "HN", 28, "4a20n" }, { "HR", 21, "7n10n" }, { "HU", 28, "3n4n1n15n1n" },
    { "IE", 22, "4a6n8n" }, { "IL", 23, "3n3n13n" }, { "IQ", 23, "4a3n12n" },
    { "IS", 26, "4n2n6n10n" }, { "IT", 27, "1a5n5n12c" }, { "JO", 30, "4a4n18c" },
    { "KW", 30, "4a22c" }, { "KZ", 20, "3n13c" }, { "LB", 28, "4n20c" }, { "LC", 32, "4a24c" },
    { "LI", 21, "5n12c" }, { "LT", 20, "5n11n" }, { "LU", 20, "3n13c" }, { "LV", 21, "4a13c" },
    { "LY", 25, "3n3n15n" }, { "MC", 27, "5n5n11c2n" }, { "MD", 24, "2c18c" },
    { "ME", 22, "3n13n2n" }, { "MK", 19, "3n10c2n" }, { "MN", 20, "4n12n" },
    { "MR", 27, "5n5n11n2n" }, { "MT", 31, "4a5n18c" }, { "MU", 30, "4a2n2n12n3n3a" },
    { "NI", 28, "4a20n" }, { "NL", 18, "4a10n" }, { "NO", 15, "4n6n1n" }, { "OM", 23, "3n16c" },
    { "PK", 24, "4a16c" }, { "PL", 28, "8n16n" }, { "PS", 29, "4a21c" }, { "PT", 25, "4n4n11n2n" },
    { "QA", 29, "4a21c" }, { "RO", 24, "4a16c" }, { "RS", 22, "3n13n2n" }, { "RU", 33, "9n5n15c" },
    { "SA", 24, "2n18c" }, { "SC", 31, "4a2n2n16n3a" }, { "SD", 18, "2n12n" },
    { "SE", 24, "3n16n1n" }, { "SI", 19, "5n8n2n" }, { "SK", 24, "4n6n10n" },
    { "SM", 27, "1a5n5n12c" }, { "SO", 23, "4n3n12n" }, { "ST", 25, "4n4n11n2n" },
    { "SV", 28, "4a20n" }, { "TL", 23, "3n14n2n" }, { "TN", 24, "2n3n13n2n" },
    { "TR", 26, "5n1n16c" }, { "UA", 29, "6n19c" }, { "VA", 22, "3n15n" }, { "VG", 24, "4a16n" },
    { "XK", 20, "4n10n2n" }, { "YE", 30, "4a4n18c" },
};

#define IBAN_MAX 34 /* ISO 13616 */

static const iban_country *iban_country_of(const char *cc)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(k_iban); i++)
        if (k_iban[i].cc[0] == toupper((unsigned char)cc[0]) &&
            k_iban[i].cc[1] == toupper((unsigned char)cc[1]))
            return &k_iban[i];
    return NULL;
}

/* c[0..n) (any case) has the country's length, two check digits and its BBAN structure. */
static int iban_form_ok(const iban_country *ct, const char *c, size_t n)
{
    if (n != ct->len || !isdigit((unsigned char)c[2]) || !isdigit((unsigned char)c[3])) return 0;
    size_t k = 4;
    for (const char *p = ct->bban; *p;) {
        unsigned count = 0;
        while (isdigit((unsigned char)*p)) count = count * 10 + (unsigned)(*p++ - '0');
        char kind = *p++;
        for (unsigned r = 0; r < count; r++, k++) {
            unsigned char ch = (unsigned char)c[k];
            if (k >= n || (kind == 'n' && !isdigit(ch)) || (kind == 'a' && !isalpha(ch)) ||
                (kind == 'c' && !isalnum(ch)))
                return 0;
        }
    }
    return k == n;
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
    char c[IBAN_MAX + 1];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ' ' || s[i] == '-') continue;
        if (n == IBAN_MAX || !isalnum((unsigned char)s[i])) return 0;
        c[n++] = s[i];
    }
    const iban_country *ct = n >= 4 ? iban_country_of(c) : NULL;
    return ct && isalpha((unsigned char)c[0]) && iban_form_ok(ct, c, n) && iban_mod97(c, n) == 1;
}

/* An IBAN-shaped token at i: a registry country code (two letters of one case), then letters
 * and digits in groups of any size joined by single spaces or by single dashes (one kind per
 * IBAN; "NO 0571 3905 25162", "DE89-3704-..."), exactly the country's length, with its BBAN
 * structure. Returns the end (0 when there is no such token) and the characters in c. */
static size_t iban_shape(const scan *s, size_t i, char *c, size_t *n, const iban_country **country)
{
    const unsigned char *t = (const unsigned char *)s->t + i;
    if (i + 4 >= s->n || !starts(s, i) || !isalpha(t[0]) || !isalpha(t[1]) ||
        !isupper(t[0]) != !isupper(t[1]))
        return 0;
    const iban_country *ct = iban_country_of(s->t + i);
    if (!ct) return 0;
    size_t e = i, k = 0;
    char sep = 0;
    while (e < s->n && k < ct->len) {
        if (aln(s, e)) c[k++] = s->t[e++];
        else if (k >= 2 && (s->t[e] == ' ' || s->t[e] == '-') && (!sep || s->t[e] == sep) &&
                 aln(s, e + 1))
            sep = s->t[e++];
        else if (k >= 2 && s->t[e] == ' ' && e + 1 < s->n && s->t[e + 1] == ' ' && (!sep || sep == ' ') &&
                 aln(s, e + 2)) /* groups two spaces apart, as some forms print them */
            sep = ' ', e += 2;
        else break;
    }
    if (k != ct->len || aln(s, e) || !iban_form_ok(ct, c, k)) return 0;
    *n = k, *country = ct;
    return e;
}

/* A card inside [a, b): true for a mistyped IBAN whose digits happen to form a card. */
static int card_inside(const scan *s, size_t a, size_t b)
{
    scan sub = *s;
    sub.n = b;
    for (size_t k = a; k < b; k++)
        if (dig(&sub, k) && starts(&sub, k) && card_at(&sub, k)) return 1;
    return 0;
}

/* IBANs with a valid checksum; and an IBAN-shaped token whose checksum fails but whose digits
 * form a card: it is masked whole, as the IBAN it was meant to be (it would be masked as a
 * card anyway). A mistyped IBAN without a card in it is left alone. */
static void find_ibans(scan *s)
{
    char c[IBAN_MAX + 1];
    for (size_t i = 0; i + 4 < s->n; i++) {
        size_t n;
        const iban_country *ct;
        size_t e = iban_shape(s, i, c, &n, &ct);
        if (!e) continue;
        int mistyped_card = isupper((unsigned char)c[0]) && isdigit((unsigned char)s->t[i + 2]) &&
                            card_inside(s, i, e);
        if ((iban_mod97(c, n) == 1 || mistyped_card) && add(s, PII_IBAN, i, e)) i = e - 1;
    }
}

/* ------------------------------------------------------------------ e-mail */

static int local_ch(int c) { return isalnum(c) || in_set(c, "._%+-'"); }
static int domain_ch(int c) { return isalnum(c) || c == '.' || c == '-'; }

/* A top-level domain: 2 to 24 letters, or an internationalised one in its ASCII form
 * ("xn--p1ai"). */
static int tld_ok(const char *p, size_t n)
{
    if (n >= 6 && !strncasecmp(p, "xn--", 4)) {
        for (size_t k = 4; k < n; k++)
            if (!isalnum((unsigned char)p[k]) && p[k] != '-') return 0;
        return 1;
    }
    for (size_t k = 0; k < n; k++)
        if (!isalpha((unsigned char)p[k])) return 0;
    return n >= 2 && n <= 24;
}

/* File extensions that are no top-level domain (so ".py", ".sh", ".md", ".zip" are not here):
 * after one of them the text is a file name ("logo@2x.png", "anna@bank.com.csv"). */
static int file_extension(const char *p, size_t n)
{
    static const char *const ext[] = {
        "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "tif", "tiff", "heic",
        "css", "js", "mjs", "json", "map", "html", "htm", "xml", "csv", "tsv", "txt", "log",
        "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "yaml", "yml", "toml", "ini", "cfg",
        "conf", "sql", "db", "sqlite", "gz", "tgz", "tar", "bz2", "xz", "rar", "7z", "exe", "dll",
        "bak", "tmp", "wav", "ogg", "woff", "woff2", "ttf", "otf", "eot", "parquet", "jsonl",
        "min", /* "app.min.js" */
    };
    for (size_t k = 0; k < HP_ARRAY_LEN(ext); k++)
        if (strlen(ext[k]) == n && !strncasecmp(p, ext[k], n)) return 1;
    return 0;
}

/* The domain of an address: labels of letters, digits and dashes from at + 1, the last a
 * top-level domain after at least one other. Last labels that are file extensions (up to
 * three: "app.min.js.map") end a file name, not a domain: the domain is what comes before
 * them, if that is still one ("anna@bank-ops.com.csv"; "logo@2x.png" has none). Returns the
 * end, 0 when there is none. */
#define EMAIL_MAX_EXTENSIONS 3

static size_t email_domain_end(const scan *s, size_t at)
{
    size_t e = at + 1;
    while (e < s->n && domain_ch((unsigned char)s->t[e])) e++;
    while (e > at + 1 && (s->t[e - 1] == '.' || s->t[e - 1] == '-')) e--;
    for (int round = 0; round <= EMAIL_MAX_EXTENSIONS; round++) {
        size_t dot = 0;
        for (size_t k = at + 1; k < e; k++)
            if (s->t[k] == '.') dot = k;
        if (!dot || dot == at + 1 || s->t[dot - 1] == '.') return 0;
        const char *tld = s->t + dot + 1;
        size_t n = e - dot - 1;
        if (round < EMAIL_MAX_EXTENSIONS && file_extension(tld, n)) {
            e = dot;
            continue;
        }
        return tld_ok(tld, n) ? e : 0;
    }
    return 0;
}

/* Where a quoted local part ending just before at starts ("\"john doe\"@example.com"):
 * printable ASCII with backslash escapes, at most 64 bytes (RFC 5321), its opening quote at
 * the start of a token. at when there is none. */
static size_t quoted_local_start(const scan *s, size_t at)
{
    if (at < 3 || s->t[at - 1] != '"') return at;
    size_t lo = at > 66 ? at - 66 : 0;
    for (size_t k = at - 1; k-- > lo;) {
        unsigned char c = (unsigned char)s->t[k];
        (*s->steps)++;
        if (c < 0x20 || c > 0x7e) return at;
        if (c != '"') continue;
        size_t bs = 0; /* an odd count of backslashes before it escapes it */
        while (k - bs > 0 && s->t[k - bs - 1] == '\\') bs++;
        if (bs % 2) continue;
        return k + 1 < at - 1 && starts(s, k) ? k : at;
    }
    return at;
}

static void find_emails(scan *s)
{
    for (size_t at = 1; at + 1 < s->n; at++) {
        if (s->t[at] != '@') continue;
        size_t a = quoted_local_start(s, at);
        if (a == at) {
            while (a > 0 && local_ch((unsigned char)s->t[a - 1])) a--;
            while (a < at && !isalnum((unsigned char)s->t[a])) a++; /* no leading punctuation */
        }
        size_t e = email_domain_end(s, at);
        if (a < at && e) add(s, PII_EMAIL, a, e);
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
            if (i >= s->n || !in_set(s->t[i], seps) || (sep && s->t[i] != sep)) return 0;
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

/* How far before a bare 9-digit number its "SSN"/"EIN" keyword may be ("social security
 * number of the co-signer, as read over the phone: 123456789"): the nearest label within
 * this many bytes decides, with no digit or sentence end between. */
#define SSN_KEYWORD_WINDOW 80

/* A hyphen at h joins the shape [a, b) to the group on its other side (at k): the group is a
 * word ("PN-123-45-6789", "456-78-9012-XL"), or a number and the shape is hyphenated too, so
 * the hyphens chain one code ("01-12-3456789"). A dash between a spaced shape and a number is
 * a boundary ("4111 1111 1111 1111-123 45 6789": a card and an SSN run together). */
static int hyphen_joins(const scan *s, size_t h, size_t k, size_t a, size_t b)
{
    if (s->t[h] != '-' || k >= s->n || !isalnum((unsigned char)s->t[k])) return 0;
    return isalpha((unsigned char)s->t[k]) || memchr(s->t + a, '-', b - a) != NULL;
}

/* [a, b) stands alone: no letter or digit touches it, nor a group that a hyphen chains to it
 * ("part 123-45-6789-B", "budget code 01-12-3456789"): an SSN or EIN is the whole code. */
static int stands_alone(const scan *s, size_t a, size_t b)
{
    if (a > 0 && (isalnum((unsigned char)s->t[a - 1]) || (a > 1 && hyphen_joins(s, a - 1, a - 2, a, b))))
        return 0;
    return !(b < s->n && (isalnum((unsigned char)s->t[b]) || hyphen_joins(s, b, b + 1, a, b)));
}

static const char *const k_ssn_kw[] = { "ssn", "social security", "social security number",
                                        "soc sec", "ss#", "ss no" };
static const char *const k_ein_kw[] = { "ein", "employer identification", "tax id", "fein", "tin" };
static const kw_set ssn_labels[] = { KW_SET(k_ssn_kw, SSN_KEYWORD_WINDOW), KW_SET(k_ein_kw, SSN_KEYWORD_WINDOW),
                                     KW_ADJACENT(k_label_kw) };

/* The label of the number at i: 0 SSN, 1 EIN, 2 another kind, -1 none; looked up once per
 * number (*label is -2 until then) and only for numbers of an SSN or EIN shape. */
static int ssn_label(const scan *s, size_t i, int *label)
{
    if (*label == -2) *label = label_before(s, i, ssn_labels, (int)HP_ARRAY_LEN(ssn_labels));
    return *label;
}

static void find_ssn_ein(scan *s)
{
    static const int ssn_g[] = { 3, 2, 4 }, ein_g[] = { 2, 7 }, nine[] = { 9 };
    char d[16];
    for (size_t i = 0; i < s->n; i++) {
        if (!dig(s, i) || !starts(s, i) || (i > 0 && in_set(s->t[i - 1], "+$"))) continue;
        /* "EIN#36-1234567": a "#" right before the number counts only after a keyword */
        int hash = i > 0 && s->t[i - 1] == '#';
        size_t e;
        int label = -2;
        if ((e = grouped(s, i, ssn_g, 3, "- ", d)) && ssn_ok(d)) {
            if ((!hash && stands_alone(s, i, e)) || ssn_label(s, i, &label) == 0) add(s, PII_SSN, i, e);
        } else if ((e = grouped(s, i, ssn_g, 3, ".", d)) && ssn_ok(d)) {
            if (ssn_label(s, i, &label) == 0) add(s, PII_SSN, i, e); /* dotted: "SSN 123.45.6789" */
        } else if ((e = grouped(s, i, ein_g, 2, "-", d)) && ein_ok(d)) {
            if ((!hash && stands_alone(s, i, e)) || ssn_label(s, i, &label) == 1) add(s, PII_EIN, i, e);
        } else if ((e = grouped(s, i, nine, 1, "", d))) {
            if (ssn_label(s, i, &label) == 0 && ssn_ok(d)) add(s, PII_SSN, i, e);
            else if (ssn_label(s, i, &label) == 1 && ein_ok(d)) add(s, PII_EIN, i, e);
        }
    }
}

/* ------------------------------------------------------------------ phones */

/* North American: [+1 or 1 sep] (NXX) NXX-XXXX or NXX sep NXX sep XXXX, sep in " -."; after
 * "(NXX)" the separator may be left out. */
static size_t nanp(const scan *s, size_t i)
{
    size_t j = i;
    if (s->t[j] == '+') j++;
    if (j + 1 < s->n && s->t[j] == '1' && in_set(s->t[j + 1], " -.")) j += 2;
    else if (s->t[i] == '+') return 0;
    int paren = j < s->n && s->t[j] == '(';
    j += (size_t)paren;
    if (!dig(s, j) || s->t[j] < '2' || !dig(s, j + 1) || !dig(s, j + 2)) return 0;
    j += 3;
    if (paren) {
        if (j >= s->n || s->t[j] != ')') return 0;
        j++;
        if (j < s->n && in_set(s->t[j], " -.")) j++;
    } else {
        if (j >= s->n || !in_set(s->t[j], " -.")) return 0;
        j++;
    }
    if (!dig(s, j) || s->t[j] < '2' || !dig(s, j + 1) || !dig(s, j + 2)) return 0;
    j += 3;
    if (j >= s->n || !in_set(s->t[j], " -.")) return 0;
    j++;
    for (int k = 0; k < 4; k++, j++)
        if (!dig(s, j)) return 0;
    return ends(s, j) ? j : 0;
}

#define PHONE_MAX_DIGITS 15 /* E.164 */
#define PHONE_MAX_GROUPS 8
/* A run of groups is read up to the size of two numbers side by side. */
#define RUN_MAX_DIGITS (2 * PHONE_MAX_DIGITS)
#define RUN_MAX_GROUPS (2 * PHONE_MAX_GROUPS)

typedef struct {
    size_t start, end;  /* the group's bytes, brackets included */
    int digits;         /* digits dialled ("(0)" after a country code counts none) */
    int width;          /* digits written */
    char sep;           /* the separator before it, 0 for none */
} phone_group;

typedef struct {
    phone_group g[RUN_MAX_GROUPS];
    int ng;
    size_t overlong_end; /* > 0: the run is longer than two numbers and ends here */
} phone_run;

/* 2 when a "00" international prefix starts at i ("0044 20 7946 0958"): 00 and a country
 * code's first digit. */
static size_t intl_prefix00(const scan *s, size_t i)
{
    return i + 2 < s->n && s->t[i] == '0' && s->t[i + 1] == '0' && s->t[i + 2] >= '1' &&
                   s->t[i + 2] <= '9'
               ? 2
               : 0;
}

/* Reads the digit groups of a "+" (or "00") or 0-prefixed number from i. "+" numbers join
 * groups by single spaces, dashes or dots and may hold one bracketed group after the country code
 * ("+44 (0)20 ...", "+52 (55) ..."). National numbers may bracket their first group
 * ("(020) 7946 0958"), join it to the next by one of " -./", and join the others by one kind
 * of " -." ("090-1234-5678", "0216 123 45 67", "08-123 456 78"); a later group with a trunk
 * 0 may start a second number, with separators of its own. */
static void read_phone_run(const scan *s, size_t i, phone_run *r)
{
    size_t prefix = s->t[i] == '+' ? 1 : intl_prefix00(s, i);
    int plus = prefix > 0, total = 0;
    size_t j = i + prefix;
    char sep = 0, kind = 0;
    r->ng = 0;
    r->overlong_end = 0;
    for (;;) {
        phone_group g = { .start = j, .sep = sep };
        int paren = j < s->n && s->t[j] == '(' && (plus ? r->ng == 1 : r->ng == 0);
        size_t k = j + (size_t)paren;
        while (dig(s, k) && total + g.width <= RUN_MAX_DIGITS) k++, g.width++;
        if (!g.width || (paren && (k >= s->n || s->t[k] != ')'))) break;
        if (total + g.width > RUN_MAX_DIGITS || r->ng == RUN_MAX_GROUPS) {
            while (k < s->n && (dig(s, k) || (in_set(s->t[k], " -./()") && dig(s, k + 1)))) k++;
            r->overlong_end = k;
            return;
        }
        k += (size_t)paren;
        g.end = k;
        g.digits = plus && paren && g.width == 1 && s->t[j + 1] == '0' ? 0 : g.width;
        total += g.width;
        r->g[r->ng++] = g;
        /* the separator to the next group */
        char c = k < s->n ? s->t[k] : 0;
        int next_paren = plus && r->ng == 1 && ((c == '(') || (c == ' ' && k + 1 < s->n && s->t[k + 1] == '('));
        if (paren && in_set(c, " -") && dig(s, k + 1)) sep = c, j = k + 1;
        else if (paren && dig(s, k)) sep = 0, j = k;
        else if (next_paren) sep = c == ' ' ? ' ' : 0, j = k + (c == ' ');
        else if (plus && in_set(c, " -.") && dig(s, k + 1)) sep = c, j = k + 1;
        else if (!plus && (r->ng == 1 || s->t[g.start] == '0') && in_set(c, " -./") &&
                 dig(s, k + 1))
            sep = c, kind = 0, j = k + 1;
        else if (!plus && r->ng > 1 && in_set(c, " -.") && (!kind || c == kind) && dig(s, k + 1))
            kind = sep = c, j = k + 1;
        else break;
    }
}

/* Groups [a, b) make one number: "+": 9 to 15 digits dialled; national (trunk 0 and a
 * non-zero digit): 10 to 12 digits in 2+ groups, or 9 in 3+ after a 2-digit first group;
 * every group after the first of 2+ digits, the first of 2 to 6, at most 8 groups, one kind of
 * separator after the second group. */
static int phone_ok(const scan *s, const phone_run *r, int a, int b, int national)
{
    int digits = 0, groups = b - a;
    for (int k = a; k < b; k++) digits += r->g[k].digits;
    if (groups > PHONE_MAX_GROUPS) return 0;
    if (!national) return digits >= 9 && digits <= PHONE_MAX_DIGITS;
    const phone_group *f = &r->g[a];
    size_t d0 = f->start + (s->t[f->start] == '(');
    if (f->width < 2 || f->width > 6 || s->t[d0] != '0' || s->t[d0 + 1] == '0') return 0;
    for (int k = a + 1; k < b; k++) {
        if (r->g[k].width < 2 || s->t[r->g[k].start] == '(') return 0;
        if (k > a + 1 && r->g[k].sep != r->g[a + 2].sep) return 0;
        if (k > a + 1 && r->g[k].sep == '/') return 0;
    }
    /* 9 digits: a one-digit area code ("02 123 45 67", "09 1234 567") */
    return (groups >= 2 && digits >= 10 && digits <= 12) || (groups >= 3 && digits == 9 && f->width == 2);
}

/* A "+" or 0-prefixed number at i, or the first of two written side by side with only a
 * separator between them, the second starting with its trunk 0 ("020 7946 0958 020 7946 0959").
 * A run longer than two numbers is none: *run_end then says where it ends, so that the caller
 * does not start again inside it (each start reads a bounded number of groups, each over-long
 * run is skipped once). */
static size_t phone_at(const scan *s, size_t i, size_t *run_end)
{
    phone_run r;
    read_phone_run(s, i, &r);
    *run_end = r.overlong_end;
    if (r.overlong_end || !r.ng) return 0;
    int national = s->t[i] != '+' && !intl_prefix00(s, i);
    size_t end = r.g[r.ng - 1].end;
    if (!ends(s, end) || (!national && s->t[i] == '0' && r.ng < 2)) return 0; /* "0044...": grouped */
    if (phone_ok(s, &r, 0, r.ng, national)) return end;
    for (int k = r.ng - 1; k > 0; k--)
        if (s->t[r.g[k].start] == '0' && phone_ok(s, &r, 0, k, national) && phone_ok(s, &r, k, r.ng, 1))
            return r.g[k - 1].end;
    return 0;
}

/* Another group of digits is joined to [a, b) by one separator ("5 139 1234 5678 1"): the
 * number is part of a longer run, not one on its own. */
static int joined_to_digits(const scan *s, size_t a, size_t b)
{
    if (a > 1 && in_set(s->t[a - 1], " -./") && isdigit((unsigned char)s->t[a - 2])) return 1;
    return b + 1 < s->n && in_set(s->t[b], " -./") && isdigit((unsigned char)s->t[b + 1]);
}

/* Digits without separators after a phone keyword ("tel 02079460958", "call 2125550147"):
 * North American (10 digits, or 11 with its leading 1) or national with a trunk 0 (10 to 12).
 * Without a keyword, a national number of 10 or 11 digits with its trunk 0 ("reached at
 * 0639984567"), standing alone and not labelled as another kind of number ("order 0123456789",
 * "customer number 00012345678" has no trunk 0). */
#define PHONE_KEYWORD_WINDOW 32

static const kw_set phone_labels[] = { KW_SET(k_phone_kw, PHONE_KEYWORD_WINDOW),
                                       KW_ADJACENT(k_label_kw) };

static int account_keyword_before(const scan *s, size_t i);

static size_t keyword_phone(const scan *s, size_t i)
{
    size_t e = i;
    while (e - i < 13 && dig(s, e)) e++;
    size_t nd = e - i;
    const char *d = s->t + i;
    if (nd < 10 || nd > 12 || !ends(s, e)) return 0;
    int nanp10 = nd <= 11 && d[nd - 10] >= '2' && d[nd - 7] >= '2' && (nd == 10 || d[0] == '1');
    int national = d[0] == '0' && d[1] != '0';
    if (!nanp10 && !national) return 0;
    int label = label_before(s, i, phone_labels, 2);
    if (label == 0) return e;
    return label < 0 && national && nd <= 11 && !joined_to_digits(s, i, e) && !account_keyword_before(s, i)
               ? e
               : 0;
}

/* Four digits at d and four after them are both years (1900-2099): "(12) 2023-2024" is a
 * range of years, not a landline. */
static int year_range(const char *d)
{
    for (int k = 0; k < 8; k += 4)
        if (!((d[k] == '1' && d[k + 1] == '9') || (d[k] == '2' && d[k + 1] == '0'))) return 0;
    return 1;
}

/* A Brazilian number at i: a 2-digit area code (1-9 each: no code holds a 0) in brackets,
 * then a mobile 9NNNN-NNNN or a landline [2-5]NNN-NNNN ("(11) 91234-5678", "(21) 3456-7890"). */
static size_t brazil_phone(const scan *s, size_t i)
{
    static const int mobile[] = { 5, 4 }, landline[] = { 4, 4 };
    char d[16];
    if (i + 4 >= s->n || s->t[i] != '(' || s->t[i + 3] != ')') return 0;
    for (size_t k = i + 1; k < i + 3; k++)
        if (!dig(s, k) || s->t[k] == '0') return 0;
    size_t j = i + 4 + (s->t[i + 4] == ' '), e;
    if ((e = grouped(s, j, mobile, 2, "- ", d)) && d[0] == '9') return e;
    if ((e = grouped(s, j, landline, 2, "- ", d)) && d[0] >= '2' && d[0] <= '5' && !year_range(d)) return e;
    return 0;
}

/* A Russian number in national format at i: trunk 8, a 3-digit area code (3, 4, 8 or 9
 * first), bracketed or not, then 3+2+2 ("8 (912) 345-67-89", "8 912 345 67 89"). */
static size_t russia_phone(const scan *s, size_t i)
{
    static const int rest[] = { 3, 2, 2 };
    char d[16];
    if (i + 2 >= s->n || s->t[i] != '8' || !in_set(s->t[i + 1], " -")) return 0;
    size_t j = i + 2;
    int paren = s->t[j] == '(';
    j += (size_t)paren;
    if (!dig(s, j) || !in_set(s->t[j], "3489") || !dig(s, j + 1) || !dig(s, j + 2)) return 0;
    j += 3;
    if (paren && (j >= s->n || s->t[j++] != ')')) return 0;
    if (j >= s->n || !in_set(s->t[j], " -")) return 0;
    return grouped(s, j + 1, rest, 3, " -", d);
}

/* National numbers that people write without a trunk prefix, in their countries' usual
 * layouts: Indian mobiles (10 digits from 6-9) as 5+5 ("98765 43210", "98765-43210"),
 * Chinese mobiles 1[3-9]N NNNN NNNN ("139 1234 5678", "186-2100-3344"), Spanish numbers of 9
 * digits from 6-9 as 3+2+2+2 ("612 34 56 78"), Brazilian and Russian ones as above. Each
 * stands alone (grouped() checks the end; the caller the start and other labels). */
static size_t regional_phone(const scan *s, size_t i)
{
    static const int india[] = { 5, 5 }, china[] = { 3, 4, 4 }, spain[] = { 3, 2, 2, 2 };
    char d[16];
    size_t e = 0;
    if (s->t[i] == '(') e = brazil_phone(s, i);
    else if (!(e = russia_phone(s, i)) && !((e = grouped(s, i, india, 2, " -", d)) && d[0] >= '6') &&
             !((e = grouped(s, i, china, 3, " -", d)) && d[0] == '1' && d[1] >= '3') &&
             !((e = grouped(s, i, spain, 4, " ", d)) && d[0] >= '6'))
        e = 0;
    return e && !joined_to_digits(s, i, e) ? e : 0;
}

/* The alphanumeric token ending just before a single separator at k - 1: its start, or k
 * when there is none. */
static size_t token_before(const scan *s, size_t k)
{
    if (k < 2 || !in_set(s->t[k - 1], " -") || !isalnum((unsigned char)s->t[k - 2])) return k;
    size_t b = k - 2;
    while (b > 0 && k - b <= IBAN_MAX && isalnum((unsigned char)s->t[b - 1])) b--;
    return b;
}

/* A national number at i would continue a run of groups: the token before it (joined by one
 * separator) holds a digit ("DE89 3704 0044 0532 0130 01" with a wrong checksum, "12 34 0532
 * 0130 01"), or is the bank code of an IBAN-like start ("NL91 ABNA 0417 1643 01"). */
static int inside_group_run(const scan *s, size_t i)
{
    size_t b = token_before(s, i);
    if (b == i) return 0;
    for (size_t q = b; q + 1 < i; q++)
        if (isdigit((unsigned char)s->t[q])) return 1;
    size_t c = token_before(s, b);
    const unsigned char *t = (const unsigned char *)s->t + c;
    return b - c == 5 && isalpha(t[0]) && isalpha(t[1]) && isdigit(t[2]) && isdigit(t[3]);
}

static void find_phones(scan *s)
{
    size_t skip = 0;         /* an over-long run ends here: no "+"/national number starts before */
    size_t last_end = 0;     /* where the previous phone ended */
    for (size_t i = 0; i < s->n; i++) {
        char c = s->t[i];
        if (!(isdigit((unsigned char)c) || c == '+' || c == '(') || !starts(s, i)) continue;
        if (i > 0) {
            char p = s->t[i - 1];
            if (isdigit((unsigned char)p) || in_set(p, "#$-")) continue;
            /* "03/15/2024", but "+1-212-555-0147/+1-212-555-0199" holds two */
            if (p == '/' && c != '+' && !(last_end && last_end == i - 1)) continue;
        }
        size_t e = nanp(s, i), run_end = 0;
        int trunk = c == '0' || (c == '(' && i + 1 < s->n && s->t[i + 1] == '0');
        if (trunk && !(last_end && last_end == i - 1) && inside_group_run(s, i)) trunk = 0;
        if (!e && (c == '+' || trunk) && i >= skip) e = phone_at(s, i, &run_end);
        int regional = 0;
        if (!e && !trunk && i >= skip) regional = (e = regional_phone(s, i)) != 0;
        /* "order 0123 4567 89", "invoice 91234-56780": a national-looking number labelled as
         * something else */
        if (e && (trunk || regional) && label_before(s, i, phone_labels, 2) == 1) e = 0;
        if (run_end) skip = run_end;
        if (!e && isdigit((unsigned char)c)) e = keyword_phone(s, i);
        if (e) {
            add(s, PII_PHONE, i, e);
            last_end = e;
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
static char *mask_once(const char *text, size_t len, int first6, int full, int tags_only,
                       size_t counts[PII_TYPE_COUNT], size_t *cards, size_t *outlen)
{
    static const char *const tags[PII_TYPE_COUNT] = { "[CARD]", "[IBAN]", "[EMAIL]", "[PHONE]", "[SSN]",
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
        if (tags_only) w = strlen(tags[m[i].type]), memcpy(out + o, tags[m[i].type], w);
        else if (m[i].type == PII_CARD) mask_card(out + o, text + m[i].start, w, first6, full), (*cards)++;
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
 * a new card ("**** **** **** 4532 0151 1283 0366"); a tag that replaces another match may
 * free a card that its digits kept from ending ("4111 1111 1111 1111-123 45 6789": the SSN
 * hid the card). So the output is scanned again after any round that masked something, and a
 * card found then is masked in full (no digit kept, so it cannot chain on: an adversarial chain
 * of cards costs one more round, not one round per card). Repeated until no card is left; each
 * round hides at least 13 digits, so this ends. */
char *pii_mask(const char *text, size_t len, const pii_mask_opts *opts,
               size_t counts[PII_TYPE_COUNT])
{
    size_t c[PII_TYPE_COUNT] = { 0 }, cards, n;
    int first6 = opts && opts->card_first6, tags_only = opts && opts->tags_only;
    g_steps = 0;
    char *out = mask_once(text, len, first6, 0, tags_only, c, &cards, &n);
    size_t masked = 0;
    for (int t = 0; t < PII_TYPE_COUNT; t++) masked += c[t];
    while (out && (cards || masked)) {
        masked = 0;
        size_t again_c[PII_TYPE_COUNT] = { 0 }, m;
        char *again = mask_once(out, n, first6, 1, tags_only, again_c, &cards, &m);
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
