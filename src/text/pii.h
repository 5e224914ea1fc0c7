/* pii: detection and masking of personal data in free text (RM notes, customer messages,
 * CSV cells) before it is stored, logged or used for training.
 *
 * Detected: payment card numbers (13-19 digits, Luhn-checked, a prefix and length that an
 * issuer range allows: Visa, Mastercard, Amex, Diners, JCB, Discover, UnionPay, Maestro,
 * Dankort, Verve, Elo, RuPay, Hipercard, Bancontact, BC Card, Mir, UATP), IBANs (every country
 * of the SWIFT registry with its length and BBAN structure, ISO 13616 mod-97; any grouping),
 * e-mail addresses (also internationalised domains in xn-- form and quoted local parts
 * "\"john doe\"@example.com"; not file names such as "logo@2x.png": a last label that is a file
 * extension is no top-level domain), phone numbers (North American, "+"/"00" international with
 * a bracketed area, national with a trunk 0 in any usual grouping, national layouts written
 * without one: Indian 5+5, Brazilian "(11) 91234-5678", Chinese 3+4+4, Spanish 3+2+2+2, Russian
 * "8 (912) 345-67-89"; two side by side, bare digits after a phone keyword), US SSNs and EINs
 * (dashed and standing alone, not inside a longer hyphenated code such as "123-45-6789-B"; or
 * labelled by an "SSN"/"EIN" keyword up to 80 bytes before: 9 digits, dotted "123.45.6789",
 * "EIN#12-3456789") and account numbers (6-17 digits after an "account"/"acct"/"a/c" keyword).
 * Near-misses (invalid Luhn or checksum, dates, amounts, ZIP codes, order and invoice numbers,
 * part and budget codes, IMEIs) are left alone. Measured on tests/fixtures/pii_labelled.tsv
 * (see docs/privacy.md for the numbers).
 *
 * pii_scan and pii_mask allocate scratch space for the matches (nothing when a text has none);
 * all functions take (text, len) and never read past len, so they work on slices of CSV
 * buffers. Every match is kept, however many a text has; the time is linear in len. */
#ifndef PII_H
#define PII_H

#include <stddef.h>

typedef enum {
    PII_CARD = 0, PII_IBAN, PII_EMAIL, PII_PHONE, PII_SSN, PII_EIN, PII_ACCOUNT, PII_TYPE_COUNT
} pii_type;

typedef struct {
    pii_type type;
    size_t start, end;   /* byte offsets, [start, end) */
} pii_match;

/* "card", "iban", "email", "phone", "ssn", "ein", "account". */
const char *pii_type_name(pii_type t);
/* Type by name (case-insensitive, "CARD" works), -1 when unknown. */
int pii_type_parse(const char *s, size_t len);

/* Finds non-overlapping matches in text order. Writes at most max of them to out (out may be
 * NULL when max is 0) and returns how many there are in all, or PII_SCAN_NOMEM (nothing
 * written) when out of memory: a caller that skips masking on 0 then still masks (and
 * pii_mask returns NULL). */
#define PII_SCAN_NOMEM ((size_t)-1)
size_t pii_scan(const char *text, size_t len, pii_match *out, size_t max);
/* Work done by this thread's last pii_scan or pii_mask call (all its rounds): one step per
 * byte probe of the detectors. Tests use it to check that the work stays linear in len. */
size_t pii_scan_steps(void);

typedef struct {
    int card_first6;     /* 1: show the first 6 and last 4 digits (PCI-DSS maximum); 0: last 4 */
    int tags_only;       /* 1: cards and IBANs too become "[CARD]", "[IBAN]" (error messages
                            that quote a value show nothing of it) */
} pii_mask_opts;

/* A copy of text with every match masked: cards keep their last 4 (or first 6 + last 4)
 * digits with the others as '*', IBANs keep the country code and last 4 characters, the other
 * types become "[EMAIL]", "[PHONE]", "[SSN]", "[EIN]", "[ACCOUNT]". The result holds no card
 * that pii_scan would find (it is scanned again after masking; a card formed only by the
 * kept digits and their neighbours, or freed by a tag that replaced its neighbour, is then
 * masked in full). opts may be NULL.
 * counts (may be NULL) receives matches per type. Returns a NUL-terminated string the caller
 * frees with hp_free, or NULL when out of memory. */
char *pii_mask(const char *text, size_t len, const pii_mask_opts *opts,
               size_t counts[PII_TYPE_COUNT]);

/* Luhn check over the digits of s (other characters ignored); 0 when fewer than 2 digits. */
int pii_luhn_ok(const char *s, size_t len);
/* ISO 13616 check of an IBAN (spaces and dashes ignored, any case): a registry country, its
 * length and BBAN structure, mod 97. */
int pii_iban_ok(const char *s, size_t len);

#endif
