/* libFuzzer target: PII scan and mask on arbitrary bytes. They must never crash or read past
 * the input; matches are in order, non-overlapping and inside the input; the work stays
 * linear (a bounded number of probes per byte); masking never adds digits (it only hides them
 * or replaces matches with tags) and leaves no card that a scan would find. */
#include "core/hp.h"
#include "text/pii.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Probes per byte allowed: the unit tests see at most about 20 on adversarial repeats. */
#define STEPS_PER_BYTE 200

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    pii_match m[64];
    size_t n = pii_scan(s, size, m, 64);
    if (pii_scan_steps() > STEPS_PER_BYTE * size + 1000) abort();
    for (size_t i = 0; i < n && i < 64; i++) {
        if (m[i].start >= m[i].end || m[i].end > size) abort();
        if (i && m[i].start < m[i - 1].end) abort();
    }
    char *masked = pii_mask(s, size, NULL, NULL);
    if (!masked) return 0;
    size_t din = 0, dout = 0, mlen = strlen(masked);
    for (size_t i = 0; i < size; i++) din += data[i] >= '0' && data[i] <= '9';
    for (const char *p = masked; *p; p++) dout += *p >= '0' && *p <= '9';
    if (dout > din) abort();
    pii_match *all = hp_malloc((mlen + 1) * sizeof *all);
    size_t k = all ? pii_scan(masked, mlen, all, mlen + 1) : 0;
    for (size_t i = 0; all && k != PII_SCAN_NOMEM && i < k && i <= mlen; i++)
        if (all[i].type == PII_CARD) abort();
    hp_free(all);
    hp_free(masked);
    return 0;
}
