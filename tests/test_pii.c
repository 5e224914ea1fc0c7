/* PII detection: unit cases, masking, and recall/precision per type on the labelled set
 * tests/fixtures/pii_labelled.tsv (written by tests/fixtures/pii_gen.py: the original generated
 * lines, an extension built from published test vectors and the held-out gap classes, each
 * extension line naming its source). Fails below recall 0.99 for cards and IBANs, 0.98 for the
 * other types, or precision 0.995 for any type, and on any miss or false match among the gap
 * classes. A detection is a true positive when it has the gold type and the exact gold span. */
#include "check.h"
#include "core/hp.h"
#include "data/parse.h"
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

/* Cards and SSNs must not be lost behind many earlier matches (e-mails are found first). */
TEST(every_match_is_kept_on_a_long_line)
{
    size_t cap = 16384, len = (size_t)snprintf(NULL, 0, "card 4111 1111 1111 1111 SSN 123-45-6789");
    char *buf = hp_malloc(cap);
    memcpy(buf, "card 4111 1111 1111 1111 SSN 123-45-6789", len + 1);
    for (int i = 0; i < 300; i++) len += (size_t)snprintf(buf + len, cap - len, " u%d@ex.com", i);
    CHECK_EQ_INT(pii_scan(buf, len, NULL, 0), 302);
    size_t counts[PII_TYPE_COUNT];
    char *m = pii_mask(buf, len, NULL, counts);
    CHECK(m != NULL);
    CHECK_EQ_INT(counts[PII_CARD], 1);
    CHECK_EQ_INT(counts[PII_SSN], 1);
    CHECK_EQ_INT(counts[PII_EMAIL], 300);
    CHECK(m && !strstr(m, "4111 1111") && !strstr(m, "123-45-6789") && !strstr(m, "@ex.com"));
    hp_free(m);
    /* and the other way round: the e-mails after hundreds of cards */
    len = 0;
    for (int i = 0; i < 300; i++) len += (size_t)snprintf(buf + len, cap - len, "4111 1111 1111 1111, ");
    len += (size_t)snprintf(buf + len, cap - len, "x@ex.com");
    CHECK_EQ_INT(pii_scan(buf, len, NULL, 0), 301);
    CHECK(has("4111 1111 1111 1111 a@b.com SSN 123-45-6789", PII_SSN, "123-45-6789"));
    hp_free(buf);
}

/* A card beside other numbers: every group boundary giving 13-19 digits is tried, longest
 * valid first, and a rejected run does not hide a card that starts inside it. */
TEST(cards_next_to_other_numbers)
{
    CHECK(has("card 4111 1111 1111 1111 05/27", PII_CARD, "4111 1111 1111 1111"));
    CHECK(has("card 4111 1111 1111 1111 123", PII_CARD, "4111 1111 1111 1111"));
    CHECK(has("Ref 12 4111 1111 1111 1111", PII_CARD, "4111 1111 1111 1111"));
    CHECK(has("acct 0012345630 4111111111111111", PII_CARD, "4111111111111111"));
    CHECK(has("acct 0012345630 4111111111111111", PII_ACCOUNT, "0012345630"));
    CHECK(has("4111-1111-1111-1111 12", PII_CARD, "4111-1111-1111-1111"));
    CHECK(has("12 34 56 4111 1111 1111 1111 0000 99", PII_CARD, "4111 1111 1111 1111"));
    CHECK_EQ_INT(count("41111111111111111234"), 0);
    CHECK_EQ_INT(count("ref 12 4111 1111 1111 1112"), 0); /* Luhn fails */
}

/* What masking leaves (last 4, or first 6 + last 4) must never form a card with the digits
 * around it. */
/* A card run into an e-mail address is masked whole: no more than its last four digits show. */
TEST(card_touching_an_email_is_masked_whole)
{
    const char *t = "paid with 4111 1111 1111 1111.x@ex.com yesterday";
    size_t counts[PII_TYPE_COUNT];
    char *m = pii_mask(t, strlen(t), NULL, counts);
    CHECK(m != NULL);
    if (!m) return;
    CHECKF(strstr(m, "4111 1111") == NULL && counts[PII_CARD] == 1, "'%s'", m);
    hp_free(m);
}

TEST(masked_text_holds_no_card)
{
    /* the card ends only where the SSN's digits are replaced by its tag */
    const char *freed = "paid 4111 1111 1111 1111-123 45 6789";
    char *fm = pii_mask(freed, strlen(freed), NULL, NULL);
    CHECKF(fm && !strstr(fm, "4111 1111") && strstr(fm, "[SSN]"), "'%s'", fm ? fm : "(null)");
    hp_free(fm);
    const char *t = "pay 4111 1111 1111 4008 0000 0000 0004 now"; /* "4008 0000 0000 0004" is Luhn-valid */
    for (int first6 = 0; first6 < 2; first6++) {
        pii_mask_opts o = { .card_first6 = first6 };
        size_t counts[PII_TYPE_COUNT];
        char *m = pii_mask(t, strlen(t), &o, counts);
        CHECK(m != NULL);
        if (!m) continue;
        pii_match mm[8];
        size_t n = pii_scan(m, strlen(m), mm, 8);
        for (size_t i = 0; i < n && i < 8; i++) CHECKF(mm[i].type != PII_CARD, "card left in '%s'", m);
        CHECK(!strstr(m, "0000 0000 0004"));
        CHECK(counts[PII_CARD] >= 2);
        hp_free(m);
    }
    /* a chain where each card's last 4 digits start the next (the scan finds every other one,
     * masking reveals the rest): no card is left, and the rounds add only linear work */
    size_t ncards = 3000, clen = 0;
    char *chain = hp_malloc(ncards * 15 + 32), g[5] = "4111";
    clen += (size_t)sprintf(chain, "%s", g);
    hp_rng crng;
    hp_rng_seed(&crng, 11);
    for (size_t i = 0; i < ncards; i++) {
        char card[17];
        uint64_t r = hp_rng_u64(&crng);
        snprintf(card, sizeof card, "%s%08llu4%02llu0", g, (unsigned long long)(r % 100000000ull),
                 (unsigned long long)((r >> 32) % 100));
        for (char k = '0'; k <= '9' && !pii_luhn_ok(card, 16); k++) card[15] = k;
        clen += (size_t)sprintf(chain + clen, " %.4s %.4s %.4s", card + 4, card + 8, card + 12);
        memcpy(g, card + 12, 4);
    }
    size_t ccounts[PII_TYPE_COUNT];
    char *cm = pii_mask(chain, clen, NULL, ccounts);
    CHECK(cm != NULL);
    CHECKF(pii_scan_steps() <= 200 * clen, "%zu steps for %zu bytes", pii_scan_steps(), clen);
    if (cm) {
        pii_match one;
        size_t left = pii_scan(cm, strlen(cm), &one, 1);
        CHECKF(left == 0 || one.type != PII_CARD, "a card is left in the masked chain");
        CHECK(ccounts[PII_CARD] >= ncards / 2);
    }
    hp_free(cm);
    hp_free(chain);
    /* random runs of digit groups with valid cards in them */
    hp_rng rng;
    hp_rng_seed(&rng, 7);
    static const char *const cards[] = { "4111 1111 1111 1111", "5500 0000 0000 0004",
                                         "3782 822463 10005", "6011000990139424", "4008" };
    char buf[512], d[24];
    for (int iter = 0; iter < 2000; iter++) {
        size_t len = 0;
        while (len < 200) {
            uint64_t r = hp_rng_u64(&rng);
            if (r % 3 == 0) len += (size_t)snprintf(buf + len, sizeof buf - len, "%s", cards[(r >> 8) % 5]);
            else {
                size_t k = 1 + (r >> 8) % 5;
                for (size_t j = 0; j < k; j++) d[j] = (char)('0' + (r >> (16 + 3 * j)) % 10);
                d[k] = 0;
                len += (size_t)snprintf(buf + len, sizeof buf - len, "%s", d);
            }
            buf[len++] = " - "[(r >> 40) % 3];
        }
        char *m = pii_mask(buf, len, NULL, NULL);
        CHECK(m != NULL);
        if (!m) break;
        pii_match mm[64];
        size_t n = pii_scan(m, strlen(m), mm, 64);
        for (size_t i = 0; i < n && i < 64; i++)
            CHECKF(mm[i].type != PII_CARD, "card '%.*s' left in '%s'", (int)(mm[i].end - mm[i].start),
                   m + mm[i].start, m);
        hp_free(m);
    }
}

/* The phone detector reads a bounded number of digits per start and does not start again
 * inside an over-long run: linear work, counted in probes (no timing). */
TEST(long_digit_runs_scan_in_linear_steps)
{
    const char *units[] = { "01 ", "+1 ", "0 ", "1-", "+44 20 ", "4111 " };
    size_t n = 300000;
    char *buf = hp_malloc(n + 8);
    for (size_t u = 0; u < HP_ARRAY_LEN(units); u++) {
        size_t len = 0, k = strlen(units[u]);
        while (len + k <= n) memcpy(buf + len, units[u], k), len += k;
        size_t found = pii_scan(buf, len, NULL, 0);
        CHECKF(found == 0, "'%s' x %zu: %zu matches", units[u], len / k, found);
        CHECKF(pii_scan_steps() <= 64 * len, "'%s' x %zu: %zu steps for %zu bytes", units[u],
               len / k, pii_scan_steps(), len);
    }
    hp_free(buf);
    /* bounded reading still finds the usual numbers */
    CHECK(has("call +33 1 42 68 32 89 now", PII_PHONE, "+33 1 42 68 32 89"));
    CHECK(has("call 020 7946 0958", PII_PHONE, "020 7946 0958"));
    CHECK(has("01 01 01 01 01 01 01 01 01 (212) 555-0147", PII_PHONE, "(212) 555-0147"));
}

/* ------------------------------------------------------------------ issue 8 classes */

/* Brands beyond the seven, from published test numbers (sources in the labelled set). */
TEST(card_brands_beyond_the_seven)
{
    CHECK(has("Maestro 6759000000005 ok", PII_CARD, "6759000000005"));           /* Opayo, 13 digits */
    CHECK(has("Maestro 5000000000000000005", PII_CARD, "5000000000000000005"));   /* 19 digits */
    CHECK(has("Dankort 5019 5555 4444 5555", PII_CARD, "5019 5555 4444 5555"));
    CHECK(has("UATP 1354 1001 4004 955.", PII_CARD, "1354 1001 4004 955"));
    CHECK(has("Mir 2200111753579001", PII_CARD, "2200111753579001"));
    CHECK(has("RuPay 6082015309577308", PII_CARD, "6082015309577308"));
    CHECK(has("Elo 5066 9911 1111 1118", PII_CARD, "5066 9911 1111 1118"));
    CHECK(has("Verve 5061 4604 1012 0223 210", PII_CARD, "5061 4604 1012 0223 210"));
    CHECK(has("BC Card 6555900000604105", PII_CARD, "6555900000604105"));
    CHECK(has("UnionPay 62123456789002", PII_CARD, "62123456789002"));           /* 14 digits */
    CHECK(has("UnionPay 8171 9999 2766 0000", PII_CARD, "8171 9999 2766 0000"));
    CHECK(has("Hipercard 6062 8288 8866 6688", PII_CARD, "6062 8288 8866 6688"));
    /* UATP's "1" is not only cards: a UATP-shaped start of a longer run is not one */
    CHECK_EQ_INT(count("shipment 1354 1001 4004 955 1234"), 0);
    /* Luhn-valid numbers outside the issuer ranges and lengths */
    CHECK_EQ_INT(count("IMEI 490154203237518, barcode 5901234123457"), 0);
    CHECK_EQ_INT(count("reference 7000 1234 5678 9012"), 0);
}

/* A mistyped IBAN whose digits form a card is masked whole, as an IBAN; without a card in it
 * a mistyped IBAN is left alone. */
TEST(mistyped_iban_with_a_card_is_an_iban)
{
    const char *t = "Customer typed DE96 5555 5555 5555 4444 50 on the form";
    CHECK(has(t, PII_IBAN, "DE96 5555 5555 5555 4444 50"));
    CHECK_EQ_INT(count(t), 1);
    char *m = pii_mask(t, strlen(t), NULL, NULL);
    CHECK_STR(m, "Customer typed DE** **** **** **** **44 50 on the form");
    hp_free(m);
    CHECK_EQ_INT(count("typed DE96 3704 0044 0532 0130 00 on the form"), 0);
}

/* Every country of the registry, and layouts other than blocks of four. */
TEST(iban_registry_and_layouts)
{
    CHECK(pii_iban_ok("BY13NBRB3600900000002Z00AB00", 28));
    CHECK(pii_iban_ok("TL380080012345678910157", 23));
    CHECK(pii_iban_ok("VA59001123000012345678", 22));
    CHECK(pii_iban_ok("IQ98NBIQ850123456789012", 23));
    CHECK(pii_iban_ok("LC55HEMM000100010012001200023015", 32));
    CHECK(pii_iban_ok("SC18SSCB11010000000000001497USD", 31));
    CHECK(pii_iban_ok("LY83002048000020100120361", 25));
    CHECK(pii_iban_ok("RU0304452522540817810538091310419", 33));
    CHECK(!pii_iban_ok("GB82WE5T12345698765432", 22)); /* bank code must be letters (4a6n8n) */
    CHECK(has("pay NO 0571 3905 25162 now", PII_IBAN, "NO 0571 3905 25162"));
    CHECK(has("pay DE89-3704-0044-0532-0130-00.", PII_IBAN, "DE89-3704-0044-0532-0130-00"));
    CHECK(has("pay ES91 2100 0418 45 0200051332", PII_IBAN, "ES91 2100 0418 45 0200051332"));
    CHECK(has("pay sc18sscb11010000000000001497usd", PII_IBAN, "sc18sscb11010000000000001497usd"));
    CHECK_EQ_INT(count("DE89 3704-0044 0532 0130 00"), 0); /* one kind of separator */
}

/* Misses of an independent held-out set (642 sentences written without the detector's source):
 * older JCB ranges, short Maestro, dotted card groups, IBAN groups two spaces apart. */
TEST(held_out_misses)
{
    CHECK(has("card 3088 0000 0000 0017 by mail", PII_CARD, "3088 0000 0000 0017"));
    CHECK(has("card 50339619890917 was compromised", PII_CARD, "50339619890917"));
    CHECK(has("note with 5033-961989-0917; redact", PII_CARD, "5033-961989-0917"));
    CHECK(has("Card: 4111.1111.1111.1111 (dotted)", PII_CARD, "4111.1111.1111.1111"));
    CHECK(has("account CY17  0020  0128  0000  0012  0052  7600 closed", PII_IBAN,
              "CY17  0020  0128  0000  0012  0052  7600"));
    CHECK(has("IBAN: IQ98  NBIQ  8501  2345  6789  012", PII_IBAN, "IQ98  NBIQ  8501  2345  6789  012"));
    /* dots join groups of four only: amounts, versions and dotted dates stay */
    CHECK_EQ_INT(count("paid 4111111.1111111111 EUR"), 0);
    CHECK_EQ_INT(count("build 4.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1"), 0);
    CHECK_EQ_INT(count("DE89  3704 0044 0532 0130 00x"), 0);
}

TEST(phone_layouts)
{
    CHECK(has("call 090-1234-5678.", PII_PHONE, "090-1234-5678"));
    CHECK(has("call 0216 123 45 67.", PII_PHONE, "0216 123 45 67"));
    CHECK(has("call 06 12 34 56 78", PII_PHONE, "06 12 34 56 78"));
    CHECK(has("call 01512 3456789", PII_PHONE, "01512 3456789"));
    CHECK(has("call (020) 7946 0958", PII_PHONE, "(020) 7946 0958"));
    CHECK(has("call +7 (912) 345-67-89", PII_PHONE, "+7 (912) 345-67-89"));
    CHECK(has("call +55 (11) 96123-4567", PII_PHONE, "+55 (11) 96123-4567"));
    CHECK(has("call (202)-555-1234", PII_PHONE, "(202)-555-1234"));
    const char *two = "numbers 020 7946 0958 020 7946 0959 (home, work)";
    CHECK(has(two, PII_PHONE, "020 7946 0958") && has(two, PII_PHONE, "020 7946 0959"));
    const char *slash = "numbers +1-212-555-0147/+1-212-555-0199";
    CHECK(has(slash, PII_PHONE, "+1-212-555-0147") && has(slash, PII_PHONE, "+1-212-555-0199"));
    const char *mixed = "numbers 070-123 45 67 070-123 45 68";
    CHECK(has(mixed, PII_PHONE, "070-123 45 67") && has(mixed, PII_PHONE, "070-123 45 68"));
    CHECK(has("dial 0044 20 7946 0958.", PII_PHONE, "0044 20 7946 0958"));
    CHECK_EQ_INT(count("ref 00491701234567, build 0001 0002 0003"), 0);
    CHECK(has("tel 09012345678", PII_PHONE, "09012345678"));
    CHECK(has("call me on 2125550147", PII_PHONE, "2125550147"));
    CHECK(has("Mobile no. 07400123456", PII_PHONE, "07400123456"));
    /* not phones */
    CHECK_EQ_INT(count("moved to 05.03.2024 12:30, ZIP 02134-1234, 09:00-17:30"), 0);
    CHECK_EQ_INT(count("order no. 0123 4567 89, invoice 0041-2345-678"), 0);
    CHECK_EQ_INT(count("Canadian SIN 046 454 286"), 0);
    CHECK_EQ_INT(count("customer number 00012345678, PO 4500012345"), 0);
    CHECK_EQ_INT(count("the account 0123456789 was closed"), 1); /* an account, not a phone */
    CHECK(has("the account 0123456789 was closed", PII_ACCOUNT, "0123456789"));
    /* a national number does not start inside a run of groups */
    CHECK_EQ_INT(count("NL91 ABNA 0417 1643 01"), 0);
}

TEST(internationalised_email_domains)
{
    CHECK(has("to info@xn--e1afmkfd.xn--80akhbyknj4f.", PII_EMAIL, "info@xn--e1afmkfd.xn--80akhbyknj4f"));
    CHECK(has("to anna@xn--mller-bau-q9a.de", PII_EMAIL, "anna@xn--mller-bau-q9a.de"));
    CHECK(has("to client@xn--e1afmkfd.xn--p1ai", PII_EMAIL, "client@xn--e1afmkfd.xn--p1ai"));
    CHECK_EQ_INT(count("lodash@4.17.21 and a@b.xn--1 and x@y.c"), 0);
}

TEST(ssn_keyword_further_before)
{
    CHECK(has("Social security number of the co-signer, as read over the phone: 123456789", PII_SSN,
              "123456789"));
    CHECK(has("SSN (primary applicant, verified against the W-2 on file): 123456789", PII_SSN, "123456789"));
    CHECK(has("SSN of the deceased account holder for the estate file: 123456789", PII_SSN, "123456789"));
    CHECK(has("Employer identification number of the holding company (IRS letter): 123456789", PII_EIN,
              "123456789"));
    /* a sentence end, another number, or another label right before it */
    CHECK_EQ_INT(count("SSN not on file. Order 778812345 was sent."), 0);
    CHECK_EQ_INT(count("The SSN field was empty; ticket 123456789 opened."), 0);
    CHECK_EQ_INT(count("SSN checked, routing no. 021000021"), 0);
    CHECK_EQ_INT(count("SSN asked on 2024-05-01, order 778812345"), 0);
}

/* The new readers (IBAN shapes, phone runs with brackets and short groups, keyword look-back)
 * stay linear: repeated adversarial units, work counted in probes and keyword compares. */
TEST(new_layouts_scan_in_linear_steps)
{
    static const char *const units[] = {
        "0216 123 45 67 ", "(0", "+44 (", "+4 (0)", "DE96 5555 5555 5555 4444 50 ", "no 0571 ",
        "ssn xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx 123456789 ",
        "phone W-2 Q3 x1 ", "call on 0123456789 ", "order 01 02 ", "a@b.xn--", "NL91 ABNA ",
        "\"x y\"@", "\"\\\"@", "(11) 9", "8 (912) ", "98765 4321 ", "SSN 123.45.", "a@b.c.png.",
    };
    size_t n = 200000;
    char *buf = hp_malloc(n + 128);
    for (size_t u = 0; u < HP_ARRAY_LEN(units); u++) {
        size_t len = 0, k = strlen(units[u]);
        while (len + k <= n) memcpy(buf + len, units[u], k), len += k;
        pii_scan(buf, len, NULL, 0);
        CHECKF(pii_scan_steps() <= 160 * len, "'%s' x %zu: %zu steps for %zu bytes", units[u], len / k,
               pii_scan_steps(), len);
        if (getenv("PII_VERBOSE")) fprintf(stderr, "  '%s': %.1f steps/byte\n", units[u], (double)pii_scan_steps() / (double)len);
    }
    hp_free(buf);
}


/* Classes an independent held-out evaluation (December 2026) found missed or over-flagged; the
 * labelled set's lines 3000 on hold more of each. */
TEST(held_out_gap_classes)
{
    /* national layouts written without a trunk prefix */
    CHECK(has("ring 98765-43210 today", PII_PHONE, "98765-43210"));
    CHECK(has("ring (11) 91234-5678 today", PII_PHONE, "(11) 91234-5678"));
    CHECK(has("ring (48)3222-1100 today", PII_PHONE, "(48)3222-1100"));
    CHECK(has("ring 133-0000-1234 today", PII_PHONE, "133-0000-1234"));
    CHECK(has("ring 8 (495) 123-45-67 today", PII_PHONE, "8 (495) 123-45-67"));
    CHECK(has("ring 712 34 56 78 today", PII_PHONE, "712 34 56 78"));
    CHECK(has("reached at 0639984567 today", PII_PHONE, "0639984567"));      /* bare, trunk 0 */
    CHECK_EQ_INT(count("order 0639984567, 0639984567 12, 0639984567-3"), 0);
    CHECK(has("account ending 0639984567", PII_ACCOUNT, "0639984567"));
    CHECK_EQ_INT(count("invoice 98765-43210, ref 139 1234 5678, codes 12345-67890"), 0);
    CHECK_EQ_INT(count("items (10) 2345-6789 and (19) 2019-2020 and 139 1234 5678-9"), 0);
    CHECK_EQ_INT(count("98765 432101 and 5 139 1234 5678 1 and 912 34 56 78 90"), 0);
    /* SSN and EIN shapes only alone or after a keyword */
    CHECK_EQ_INT(count("part 234-56-7890-C, PN-234-56-7890, budget code 12-3456789-01"), 0);
    CHECK_EQ_INT(count("lot 2023-45-6789012 and 45-1234567-A and X9-12-3456789"), 0);
    CHECK(has("SSN: 234-56-7890-C", PII_SSN, "234-56-7890"));            /* a keyword says so */
    CHECK(has("(234-56-7890)", PII_SSN, "234-56-7890"));
    CHECK(has("soc sec 234.56.7890.", PII_SSN, "234.56.7890"));
    CHECK_EQ_INT(count("version 234.56.7890 released"), 0);              /* dotted needs a keyword */
    CHECK(has("fein#45-1234567", PII_EIN, "45-1234567"));
    CHECK_EQ_INT(count("ticket #45-1234567 and #234-56-7890"), 0);       /* "#" after no keyword */
    /* a card run into an SSN shape by a dash is still masked whole */
    CHECK(has("4111 1111 1111 1111-123 45 6789", PII_SSN, "123 45 6789"));
    /* e-mail: quoted local parts; file names are not addresses */
    CHECK(has("to \"ana maria\"@bank.example.", PII_EMAIL, "\"ana maria\"@bank.example"));
    CHECK(has("to \"a\\\"b\"@ex.com", PII_EMAIL, "\"a\\\"b\"@ex.com"));
    CHECK(has("file ops@bank.co.uk.xlsx", PII_EMAIL, "ops@bank.co.uk"));
    CHECK(has("to dev@tools.py and x@y.zip", PII_EMAIL, "dev@tools.py"));  /* real TLDs stay */
    CHECK_EQ_INT(count("logo@2x.png, hero@4x.JPEG, a@b.c@1x.svg, x@3x.min.js, \"q\"@2x.gif"), 0);
    CHECK_EQ_INT(count("a@b.abcdefghijklmnopqrstuvwxy and \"\"@ex.com and x\"y\"@ex.com"), 0);
}

/* Messages show the user's own arguments (paths, flag values) as given and mask the rest; a
 * clear argument never uncovers a match that reaches beyond it. */
TEST(messages_keep_the_users_arguments)
{
    char out[256];
    const char *path[] = { "in/anna@bank-ops.com.csv" };
    const char *msg = "in/anna@bank-ops.com.csv:3: unknown customer 'bob@ex.com'";
    data_quote_message(msg, strlen(msg), path, 1, 200, out, sizeof out);
    CHECK_STR(out, "in/anna@bank-ops.com.csv:3: unknown customer '[EMAIL]'");
    data_quote_message(msg, strlen(msg), NULL, 0, 200, out, sizeof out);
    CHECK_STR(out, "in/[EMAIL].csv:3: unknown customer '[EMAIL]'");
    /* the same address elsewhere in the message is not the argument: masked */
    const char *twice = "in/anna@bank-ops.com.csv: anna@bank-ops.com is not a customer";
    data_quote_message(twice, strlen(twice), path, 1, 200, out, sizeof out);
    CHECK_STR(out, "in/anna@bank-ops.com.csv: [EMAIL] is not a customer");
    /* an argument inside a longer match protects nothing */
    const char *part[] = { "4111" }, *card = "card 4111 1111 1111 1111 refused";
    data_quote_message(card, strlen(card), part, 1, 200, out, sizeof out);
    CHECK_STR(out, "card [CARD] refused");
    /* a card is never shown, not even in the user's own argument */
    const char *own_card[] = { "4111 1111 1111 1111" }, *refused = "--at '4111 1111 1111 1111': not a timestamp";
    data_quote_message(refused, strlen(refused), own_card, 1, 200, out, sizeof out);
    CHECK_STR(out, "--at '[CARD]': not a timestamp");
    const char *at[] = { "+44 20 7946 0958" }, *when = "--at '+44 20 7946 0958': not a timestamp, call +44 20 7946 0959";
    data_quote_message(when, strlen(when), at, 1, 200, out, sizeof out);
    CHECK_STR(out, "--at '+44 20 7946 0958': not a timestamp, call [PHONE]");
}

/* ------------------------------------------------------------------ the labelled set */

typedef struct { int type; size_t start, end; } span;

/* Strips {{TYPE:value}} marks from line (up to a tab, which starts the source column, or the
 * end of the line) into text; gold spans go to g. */
static size_t parse_marked(const char *line, char *text, span *g, size_t *ng)
{
    size_t o = 0;
    *ng = 0;
    for (const char *p = line; *p && *p != '\n' && *p != '\t';) {
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

static double prf_precision(const prf *s) { return s->tp + s->fp ? (double)s->tp / (double)(s->tp + s->fp) : 1.0; }
static double prf_recall(const prf *s) { return s->tp + s->fn ? (double)s->tp / (double)(s->tp + s->fn) : 1.0; }

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

/* Lines from 2000 on are the extension built from published vectors (issue 8), lines from 3000
 * on the classes an independent held-out evaluation found missed or over-flagged; the ones
 * before are the original generated set. Each is scored on its own, and all together. */
#define PII_EXT_FIRST_ID 2000
#define PII_GAP_FIRST_ID 3000

static void print_prf(const char *title, long lines, const prf *s)
{
    printf("PII, %s: %ld labelled lines (exact span and type):\n", title, lines);
    printf("  %-8s %5s %5s %5s %9s %7s\n", "type", "tp", "fp", "fn", "precision", "recall");
    for (int t = 0; t < PII_TYPE_COUNT; t++)
        printf("  %-8s %5ld %5ld %5ld %9.3f %7.3f\n", pii_type_name((pii_type)t), s[t].tp, s[t].fp,
               s[t].fn, prf_precision(&s[t]), prf_recall(&s[t]));
}

/* Targets: recall >= 0.99 for cards and IBANs, >= 0.98 for the other types (0.95 until the
 * held-out gap classes), precision >= 0.995 for every type (was 0.99); each type must occur. */
#define PII_RECALL_CARD_IBAN 0.99
#define PII_RECALL_OTHER 0.98
#define PII_PRECISION 0.995
static void check_targets(const char *title, const prf *s)
{
    for (int t = 0; t < PII_TYPE_COUNT; t++) {
        double p = prf_precision(&s[t]), r = prf_recall(&s[t]);
        double want_r = t == PII_CARD || t == PII_IBAN ? PII_RECALL_CARD_IBAN : PII_RECALL_OTHER;
        CHECKF(s[t].tp > 0, "%s: no %s in the set", title, pii_type_name((pii_type)t));
        CHECKF(r >= want_r, "%s: %s recall %.3f < %.3f", title, pii_type_name((pii_type)t), r, want_r);
        CHECKF(p >= PII_PRECISION, "%s: %s precision %.3f < %.3f", title, pii_type_name((pii_type)t), p,
               PII_PRECISION);
    }
}

TEST(labelled_set_recall_precision)
{
    FILE *f = fopen(PII_SET, "r");
    CHECKF(f != NULL, "cannot open %s (run from the repository root)", PII_SET);
    if (!f) return;
    prf old_set[PII_TYPE_COUNT], ext_set[PII_TYPE_COUNT], gap_set[PII_TYPE_COUNT], all[PII_TYPE_COUNT];
    memset(old_set, 0, sizeof old_set);
    memset(ext_set, 0, sizeof ext_set);
    memset(gap_set, 0, sizeof gap_set);
    char line[2048], text[2048];
    span g[16];
    long old_lines = 0, ext_lines = 0, gap_lines = 0;
    int verbose = getenv("PII_VERBOSE") != NULL;
    while (fgets(line, sizeof line, f)) {
        const char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab) continue;
        long id = atol(line);
        int gap = id >= PII_GAP_FIRST_ID, ext = !gap && id >= PII_EXT_FIRST_ID;
        size_t ng, len = parse_marked(tab + 1, text, g, &ng);
        score_line(text, len, g, ng, gap ? gap_set : ext ? ext_set : old_set, verbose);
        ++*(gap ? &gap_lines : ext ? &ext_lines : &old_lines);
    }
    fclose(f);
    for (int t = 0; t < PII_TYPE_COUNT; t++)
        all[t] = (prf){ old_set[t].tp + ext_set[t].tp + gap_set[t].tp, old_set[t].fp + ext_set[t].fp + gap_set[t].fp,
                        old_set[t].fn + ext_set[t].fn + gap_set[t].fn };
    CHECK(old_lines >= 400);
    CHECK(ext_lines >= 400);
    CHECK(gap_lines >= 60);
    print_prf("original set", old_lines, old_set);
    print_prf("extension from published vectors", ext_lines, ext_set);
    print_prf("held-out gap classes", gap_lines, gap_set);
    print_prf("all", old_lines + ext_lines + gap_lines, all);
    check_targets("original set", old_set);
    check_targets("all", all);
    /* the gap classes hold phones, e-mails, SSNs and EINs, each with hard negatives beside them:
     * every one found with its exact span and none of the look-alikes flagged */
    static const pii_type gap_types[] = { PII_EMAIL, PII_PHONE, PII_SSN, PII_EIN };
    for (size_t k = 0; k < HP_ARRAY_LEN(gap_types); k++) {
        const prf *p = &gap_set[gap_types[k]];
        CHECKF(p->tp >= 5 && p->fp == 0 && p->fn == 0, "held-out gap classes: %s tp %ld fp %ld fn %ld",
               pii_type_name(gap_types[k]), p->tp, p->fp, p->fn);
    }
    for (int t = 0; t < PII_TYPE_COUNT; t++)
        CHECKF(gap_set[t].fp == 0, "held-out gap classes: %ld false %s", gap_set[t].fp, pii_type_name((pii_type)t));
    /* the extension has no EIN or account classes of its own: check the types it holds */
    for (int t = PII_CARD; t <= PII_SSN; t++) {
        CHECKF(ext_set[t].tp > 0, "extension: no %s", pii_type_name((pii_type)t));
        double want_r = t == PII_CARD || t == PII_IBAN ? PII_RECALL_CARD_IBAN : PII_RECALL_OTHER;
        CHECKF(prf_recall(&ext_set[t]) >= want_r && prf_precision(&ext_set[t]) >= PII_PRECISION,
               "extension: %s precision %.3f recall %.3f", pii_type_name((pii_type)t),
               prf_precision(&ext_set[t]), prf_recall(&ext_set[t]));
    }
}

int main(void)
{
    RUN(luhn_and_iban_checks);
    RUN(detects_each_type);
    RUN(near_misses_are_left_alone);
    RUN(masking_keeps_last4_or_first6_last4);
    RUN(many_matches_beyond_one_chunk);
    RUN(every_match_is_kept_on_a_long_line);
    RUN(cards_next_to_other_numbers);
    RUN(masked_text_holds_no_card);
    RUN(card_touching_an_email_is_masked_whole);
    RUN(long_digit_runs_scan_in_linear_steps);
    RUN(card_brands_beyond_the_seven);
    RUN(mistyped_iban_with_a_card_is_an_iban);
    RUN(iban_registry_and_layouts);
    RUN(held_out_misses);
    RUN(phone_layouts);
    RUN(internationalised_email_domains);
    RUN(ssn_keyword_further_before);
    RUN(new_layouts_scan_in_linear_steps);
    RUN(held_out_gap_classes);
    RUN(messages_keep_the_users_arguments);
    RUN(labelled_set_recall_precision);
    return check_summary("test_pii");
}
