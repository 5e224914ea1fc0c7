/* libFuzzer target: PII scan and mask on arbitrary bytes. They must never crash or read past
 * the input; matches are in order, non-overlapping and inside the input; masking never adds
 * digits (it only hides them or replaces matches with tags). */
#include "core/hp.h"
#include "text/pii.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    pii_match m[64];
    size_t n = pii_scan(s, size, m, 64);
    for (size_t i = 0; i < n && i < 64; i++) {
        if (m[i].start >= m[i].end || m[i].end > size) abort();
        if (i && m[i].start < m[i - 1].end) abort();
    }
    char *masked = pii_mask(s, size, NULL, NULL);
    if (!masked) return 0;
    size_t din = 0, dout = 0;
    for (size_t i = 0; i < size; i++) din += data[i] >= '0' && data[i] <= '9';
    for (const char *p = masked; *p; p++) dout += *p >= '0' && *p <= '9';
    if (dout > din) abort();
    hp_free(masked);
    return 0;
}
