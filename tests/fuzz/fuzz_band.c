/* libFuzzer target: band, number and timestamp parsers on arbitrary bytes. They must never
 * crash, and a band they accept must be ordered (lo <= hi). */
#include "data/parse.h"

#include <math.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    double lo, hi, v;
    int64_t t;
    if (data_band_parse(s, size, &lo, &hi, NULL) == HP_OK && !(lo <= hi)) abort();
    if (data_parse_number(s, size, &v, NULL) == HP_OK && !isfinite(v)) abort();
    (void)data_parse_timestamp(s, size, &t, NULL);
    return 0;
}
