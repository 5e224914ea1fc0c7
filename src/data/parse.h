/* data_parse: conversions of one text field into a typed value, shared by ingest and any
 * module that reads outside text (config, HTTP). Each returns HP_OK or HP_ERR_FORMAT with a
 * short reason in err (no location prefix: the caller knows the file, line and column). */
#ifndef DATA_PARSE_H
#define DATA_PARSE_H

#include "core/hp.h"
#include <stdint.h>

/* A decimal number with optional sign, fraction and exponent; surrounding spaces allowed
 * (Santander pads numbers: " 35"). "inf"/"nan" are rejected: data must be finite. */
int data_parse_number(const char *s, size_t len, double *out, hp_error *err);

/* A timestamp in a form that cannot be misread: "YYYY-MM-DD", "YYYY-MM-DD[T ]HH:MM[:SS[.fff]]"
 * with optional "Z" or "+HH:MM"/"-HH:MM", "DD-Mon-YYYY" ("01-Jan-1995", also with spaces or a
 * full month name, optionally " HH:MM[:SS]"), or epoch seconds of 9 or 10 digits. Slash dates
 * (month/day or day/month?) and other integers are refused with a hint to declare a format. Result: seconds since
 * 1970-01-01T00:00:00Z. Calendar fields are range-checked (no 2023-02-30). */
int data_parse_timestamp(const char *s, size_t len, int64_t *out, hp_error *err);

/* A timestamp of a declared format (a column's "format"): "epoch" (integer seconds, any count
 * of up to 12 digits), or a strptime-like pattern of %Y (4 digits), %m and %d (1 or 2), %b/%B
 * (English month name or its first three letters, any case), %H %M %S and %% with literal
 * characters between ("%d/%m/%Y", "%m/%d/%Y %H:%M"). The whole value must match; dates are
 * range-checked. fmt NULL: data_parse_timestamp. */
int data_parse_timestamp_as(const char *s, size_t len, const char *fmt, int64_t *out, hp_error *err);
/* HP_OK when fmt is a usable format (above: a year, a month and a day, known directives, each
 * once), else HP_ERR_INVAL with the reason in why. */
int data_timestamp_format_check(const char *fmt, char *why, size_t size);

/* Seconds since the epoch for a UTC calendar date-time (proleptic Gregorian). */
int64_t data_days_from_civil(int y, unsigned m, unsigned d);

/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
void data_format_timestamp(int64_t t, char *buf, size_t size);

/* A size or money band: "500-1000", "50M-80M", "1.5B+", "<10", "$20K - $50K", "5000+",
 * "over 1M", "up to 50", "1,000-2,000", "$1-5M" (the lower end takes the upper's suffix).
 * Suffixes K, M/MM/mn, B/bn, T (any case) and words thousand/million/billion; currency
 * symbols $ EUR GBP JPY and codes USD/EUR/GBP are ignored. lo <= hi; an open top gives
 * hi = INFINITY, an open bottom lo = 0. A single number gives lo == hi. */
int data_band_parse(const char *s, size_t len, double *lo, double *hi, hp_error *err);

/* One representative value for a band: lo for a point, geometric mean for a closed band
 * with lo > 0, hi/2 for an open bottom, 1.5*lo for an open top. */
double data_band_value(double lo, double hi);

/* A value made safe to quote in a message: every match of the PII detectors (text/pii.h)
 * becomes its type in brackets ("[CARD]", "[EMAIL]", "[SSN]"), then the result is cut to at
 * most max bytes at a character boundary ("..." marks a cut); masking comes first, so a cut
 * never leaves part of a card number unmasked. out (size bytes) is always NUL-terminated;
 * when out of memory it says "(value withheld)". Messages that quote a field use this:
 * error texts reach terminals, logs and the rejects file, which erasure cannot reach. */
void data_quote_value(const char *s, size_t len, size_t max, char *out, size_t size);
/* A message made safe to show as data_quote_value makes a value, except where it quotes one of
 * clear[] (the user's own arguments: paths and flag values given on the command line, not
 * customer data): a match lying wholly inside an occurrence of one of them is shown as written
 * ("cannot open 'exports/anna@bank.com.csv'"), except a card number, which is never shown
 * (PCI DSS). The result holds no other match; when it would
 * (a cut, a card freed by a tag), the whole message is masked as a value is. */
void data_quote_message(const char *msg, size_t len, const char *const *clear, size_t nclear, size_t max,
                        char *out, size_t size);

#endif
