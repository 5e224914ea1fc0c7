/* PII detection: unit cases, masking, and recall/precision per type on the labelled set
 * tests/fixtures/pii_labelled.tsv (written by tests/fixtures/pii_gen.py). Fails below recall
 * 0.99 for cards and IBANs. A detection is a true positive when it has the gold type and the
 * exact gold span. */
#include "check.h"
#include "core/hp.h"
#include "text/pii.h"

#include <stdlib.h>

#define PII_SET "tests/fixtures/pii_labelled.tsv"

static int has(const char *text, pii_type t, const char *value)
{
    pii_match m[32];
    size_t n = pii_scan(text, strlen(text), m, 32);
    for (size_t i = 0; i < n && i < 32; i++)
        if (m[i].type == t && m[i].end - m[i].start == strlen(value) &&
            !strncmp(text + m[i].start, value, strlen(value)))
            return 1;
    return 0;
}

static size_t count(const char *text)
{
    return pii_scan(text, strlen(text), NULL, 0);
}

TEST(luhn_and_iban_checks)
{
    CHECK(pii_luhn_ok("4111111111111111", 16));
    CHECK(!pii_luhn_ok("4111111111111112", 16));
    CHECK(pii_luhn_ok("3782 822463 10005", 17));
    CHECK(pii_iban_ok("DE89 3704 0044 0532 0130 00", 27));
    CHECK(pii_iban_ok("gb82west12345698765432", 22));
    CHECK(!pii_iban_ok("DE89 3704 0044 0532 0130 01", 27));
    CHECK(!pii_iban_ok("DE89 3704 0044 0532 0130", 24)); /* wrong length for DE */
    CHECK(!pii_iban_ok("ZZ89 3704 0044 0532 0130 00", 27));
}

TEST(detects_each_type)
{
    CHECK(has("card 4111 1111 1111 1111.", PII_CARD, "4111 1111 1111 1111"));
    CHECK(has("amex 3782-822463-10005", PII_CARD, "3782-822463-10005"));
    CHECK(has("to DE89370400440532013000 now", PII_IBAN, "DE89370400440532013000"));
    CHECK(has("mail a.b+x@ex-ample.co.uk.", PII_EMAIL, "a.b+x@ex-ample.co.uk"));
    CHECK(has("call (212) 555-0147", PII_PHONE, "(212) 555-0147"));
    CHECK(has("call +44 20 7946 0958 now", PII_PHONE, "+44 20 7946 0958"));
    CHECK(has("ssn 123-45-6789", PII_SSN, "123-45-6789"));
    CHECK(has("SSN: 123456789", PII_SSN, "123456789"));
    CHECK(has("EIN 12-3456789", PII_EIN, "12-3456789"));
    CHECK(has("account number 12345678", PII_ACCOUNT, "12345678"));
}

TEST(near_misses_are_left_alone)
{
    CHECK_EQ_INT(count("4111 1111 1111 1112"), 0);            /* Luhn fails */
    CHECK_EQ_INT(count("DE89 3704 0044 0532 0130 01"), 0);    /* checksum fails */
    CHECK_EQ_INT(count("on 2024-03-15 or 03/15/2024 or 15.03.2024"), 0);
    CHECK_EQ_INT(count("$1,234,567.89 and EUR 1.250.000,00"), 0);
    CHECK_EQ_INT(count("ZIP 94107-1234, invoice INV-2024-00123, order 778812345"), 0);
    CHECK_EQ_INT(count("SSN 000-12-3456, 666-12-3456, 912-12-3456"), 0);
    CHECK_EQ_INT(count("card ending 4821, version 2.10.3"), 0);
    CHECK_EQ_INT(count(""), 0);
    CHECK_EQ_INT(count("@ x@ @y a@b"), 0);
}

TEST(masking_keeps_last4_or_first6_last4)
{
    const char *t = "card 4111 1111 1111 1111, iban DE89 3704 0044 0532 0130 00, mail x@y.com";
    size_t counts[PII_TYPE_COUNT];
    char *m = pii_mask(t, strlen(t), NULL, counts);
    CHECK_STR(m, "card **** **** **** 1111, iban DE** **** **** **** **30 00, mail [EMAIL]");
    CHECK_EQ_INT(counts[PII_CARD], 1);
    CHECK_EQ_INT(counts[PII_EMAIL], 1);
    hp_free(m);
    pii_mask_opts o = { .card_first6 = 1 };
    m = pii_mask("4111-1111-1111-1111", 19, &o, NULL);
    CHECK_STR(m, "4111-11**-****-1111");
    hp_free(m);
    m = pii_mask("no pii here", 11, NULL, NULL);
    CHECK_STR(m, "no pii here");
    hp_free(m);
}

TEST(many_matches_beyond_one_chunk)
{
    size_t n = 600, len = 0;
    char *buf = hp_malloc(n * 24 + 1);
    for (size_t i = 0; i < n; i++) len += (size_t)sprintf(buf + len, "x%zu@ex.com ", i);
    CHECK_EQ_INT(pii_scan(buf, len, NULL, 0), n);
    hp_free(buf);
}

/* ------------------------------------------------------------------ the labelled set */

typedef struct { int type; size_t start, end; } span;

/* Strips {{TYPE:value}} marks from line into text; gold spans go to g. */
static size_t parse_marked(const char *line, char *text, span *g, size_t *ng)
{
    size_t o = 0;
    *ng = 0;
    for (const char *p = line; *p && *p != '\n';) {
        const char *colon = strchr(p, ':'), *close;
        if (p[0] == '{' && p[1] == '{' && colon && (close = strstr(colon, "}}"))) {
            g[*ng].type = pii_type_parse(p + 2, (size_t)(colon - p - 2));
            g[*ng].start = o;
            memcpy(text + o, colon + 1, (size_t)(close - colon - 1));
            o += (size_t)(close - colon - 1);
            g[(*ng)++].end = o;
            p = close + 2;
        } else text[o++] = *p++;
    }
    text[o] = 0;
    return o;
}

typedef struct { long tp, fp, fn; } prf;

static void score_line(const char *text, size_t len, const span *g, size_t ng, prf *s, int verbose)
{
    pii_match m[64];
    size_t n = HP_MIN(pii_scan(text, len, m, 64), (size_t)64);
    int used[64] = { 0 };
    for (size_t i = 0; i < n; i++) {
        int hit = 0;
        for (size_t j = 0; j < ng && !hit; j++)
            if (!used[j] && g[j].type == (int)m[i].type && g[j].start == m[i].start && g[j].end == m[i].end)
                used[j] = hit = 1;
        if (hit) s[m[i].type].tp++;
        else {
            s[m[i].type].fp++;
            if (verbose) fprintf(stderr, "  fp %s: '%.*s' in: %s\n", pii_type_name(m[i].type),
                                 (int)(m[i].end - m[i].start), text + m[i].start, text);
        }
    }
    for (size_t j = 0; j < ng; j++)
        if (!used[j]) {
            s[g[j].type].fn++;
            if (verbose) fprintf(stderr, "  fn %s: '%.*s' in: %s\n", pii_type_name((pii_type)g[j].type),
                                 (int)(g[j].end - g[j].start), text + g[j].start, text);
        }
}

TEST(labelled_set_recall_precision)
{
    FILE *f = fopen(PII_SET, "r");
    CHECKF(f != NULL, "cannot open %s (run from the repository root)", PII_SET);
    if (!f) return;
    prf s[PII_TYPE_COUNT];
    memset(s, 0, sizeof s);
    char line[2048], text[2048];
    span g[16];
    long lines = 0;
    int verbose = getenv("PII_VERBOSE") != NULL;
    while (fgets(line, sizeof line, f)) {
        const char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab) continue;
        size_t ng, len = parse_marked(tab + 1, text, g, &ng);
        score_line(text, len, g, ng, s, verbose);
        lines++;
    }
    fclose(f);
    CHECK(lines >= 400);
    printf("PII on %ld labelled lines (exact span and type):\n", lines);
    printf("  %-8s %5s %5s %5s %9s %7s\n", "type", "tp", "fp", "fn", "precision", "recall");
    for (int t = 0; t < PII_TYPE_COUNT; t++) {
        double p = s[t].tp + s[t].fp ? (double)s[t].tp / (double)(s[t].tp + s[t].fp) : 1.0;
        double r = s[t].tp + s[t].fn ? (double)s[t].tp / (double)(s[t].tp + s[t].fn) : 1.0;
        printf("  %-8s %5ld %5ld %5ld %9.3f %7.3f\n", pii_type_name((pii_type)t), s[t].tp,
               s[t].fp, s[t].fn, p, r);
        CHECK(s[t].tp > 0);
        if (t == PII_CARD || t == PII_IBAN) CHECKF(r >= 0.99, "%s recall %.3f < 0.99", pii_type_name((pii_type)t), r);
        CHECKF(r >= 0.9 && p >= 0.9, "%s precision %.3f recall %.3f", pii_type_name((pii_type)t), p, r);
    }
}

int main(void)
{
    RUN(luhn_and_iban_checks);
    RUN(detects_each_type);
    RUN(near_misses_are_left_alone);
    RUN(masking_keeps_last4_or_first6_last4);
    RUN(many_matches_beyond_one_chunk);
    RUN(labelled_set_recall_precision);
    return check_summary("test_pii");
}
