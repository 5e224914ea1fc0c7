/* libFuzzer target: values quoted in messages (data_quote_value) and the parse errors that
 * quote them. A quoted value fits its bound, is NUL-terminated and holds no card number the
 * detectors would find (masking comes before the cut, and the result is checked again). */
#include "data/parse.h"
#include "text/pii.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void no_card(const char *q)
{
    size_t n = pii_scan(q, strlen(q), NULL, 0);
    if (n == 0 || n == PII_SCAN_NOMEM) return;
    pii_match *m = malloc(n * sizeof *m);
    if (!m) return;
    n = pii_scan(q, strlen(q), m, n);
    for (size_t i = 0; i < n; i++)
        if (m[i].type == PII_CARD) abort();
    free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t max = data[0];
    const char *s = (const char *)data + 1;
    char q[300];
    data_quote_value(s, size - 1, max, q, sizeof q);
    if (strlen(q) > max || strlen(q) >= sizeof q) abort();
    no_card(q);
    hp_error err = { 0 };
    double v, lo, hi;
    int64_t t;
    if (data_parse_number(s, size - 1, &v, &err)) no_card(err.msg);
    if (data_band_parse(s, size - 1, &lo, &hi, &err)) no_card(err.msg);
    if (data_parse_timestamp(s, size - 1, &t, &err)) no_card(err.msg);
    return 0;
}
