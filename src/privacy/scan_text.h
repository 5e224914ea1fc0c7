/* scan_text: the text of a file for a PII scan (hyperp privacy scan). A scan that cannot read
 * what it is given must say so, never report "0 PII findings": a directory, a binary file and
 * text in an encoding the detectors cannot see (UTF-16 has a NUL after every ASCII digit) are
 * refused or decoded here.
 *
 * Accepted: UTF-8 (a BOM is skipped) or any 8-bit code page (the detectors match ASCII), and
 * UTF-16 LE or BE with a byte-order mark, decoded to UTF-8. Refused (HP_ERR_ENCODING, with a
 * sentence naming the file, the line and why): UTF-32, UTF-16 of odd length or with an
 * unpaired surrogate, and binary content: a NUL or a control character other than tab, line
 * feed, vertical tab, form feed and carriage return (also UTF-16 without a BOM, which is
 * mostly NULs). */
#ifndef SCAN_TEXT_H
#define SCAN_TEXT_H

#include "core/hp.h"
#include "text/pii.h"

#include <stdio.h>

typedef enum { SCAN_TEXT_PLAIN = 0, SCAN_TEXT_UTF8_BOM, SCAN_TEXT_UTF16LE, SCAN_TEXT_UTF16BE } scan_text_encoding;

const char *scan_text_encoding_name(scan_text_encoding e);

/* Decodes len bytes of buf (named name in messages) into *out (UTF-8 or the bytes as they
 * are, without a BOM; NUL-terminated, *n bytes; hp_free it) and its encoding into *enc. */
int scan_text_decode(const char *name, const char *buf, size_t len, char **out, size_t *n,
                     scan_text_encoding *enc, hp_error *err);

/* Reads a file (not a directory) and decodes it. */
int scan_text_read(const char *path, char **out, size_t *n, scan_text_encoding *enc, hp_error *err);

/* Encodes n bytes of UTF-8 text back into enc (with its BOM in front when bom is set), so a
 * masked copy keeps the input's encoding. *out is hp_free'd by the caller. */
int scan_text_encode(const char *text, size_t n, scan_text_encoding enc, int bom, char **out,
                     size_t *outn, hp_error *err);

/* Scans text (len bytes of UTF-8, decoded by scan_text_read: enc is the file's encoding) line
 * by line: counts[t] PII findings of each type; finding(ctx, line, count, type) for each
 * line and type found (may be NULL); with mask, the masked text in the file's encoding
 * (first6: keep a card's first six digits). */
int scan_text_mask_lines(const char *text, size_t len, scan_text_encoding enc, FILE *mask, int first6,
                         size_t counts[PII_TYPE_COUNT], void (*finding)(void *ctx, long line, size_t n, pii_type t),
                         void *ctx, hp_error *err);

/* counts as {"card": 1, "iban": 0, ...} into buf (size bytes); returns the total. */
size_t scan_text_counts_json(const size_t counts[PII_TYPE_COUNT], char *buf, size_t size);

#endif
