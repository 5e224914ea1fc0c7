/* libFuzzer target: the CSV reader over arbitrary bytes. The first byte picks options
 * (delimiter, header, encoding) so one corpus covers them all; the rest is the file. */
#include "io/io.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char delims[] = { 0, ',', ';', '\t', '|', ' ', 'a', '\x80' }; /* 0x80 is rejected */
    io_source_opts o = { .format = IO_FMT_CSV };
    if (size > 0) {
        o.delimiter = delims[data[0] & 7];
        o.no_header = (data[0] >> 3) & 1;
        o.encoding = (data[0] >> 4) & 1 ? IO_ENC_LATIN1 : IO_ENC_UTF8;
        data++, size--;
    }
    io_source *s;
    hp_error err;
    if (io_source_open_buffer(&s, "fuzz.csv", (const char *)data, size, &o, &err)) return 0;
    int ncols = io_source_ncolumns(s);
    for (int i = 0; i < ncols; i++)
        if (!io_source_column(s, i)) __builtin_trap();
    io_record r;
    int rc;
    while ((rc = io_source_next(s, &r, &err)) != 0) {
        if (rc < 0 && rc != HP_ERR_FORMAT) break;
        if (rc < 0) {
            if (r.bad_field < -1 || r.bad_field >= ncols || r.line < 1) __builtin_trap();
            continue;
        }
        if (r.nfields != ncols) __builtin_trap();
        /* Every field is NUL-terminated at its length and valid UTF-8. */
        for (int i = 0; i < r.nfields; i++)
            if (strlen(r.field[i]) != r.len[i] || io_utf8_invalid_at(r.field[i], r.len[i]) >= 0)
                __builtin_trap();
    }
    io_source_free(s);
    return 0;
}
