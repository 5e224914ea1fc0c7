/* libFuzzer target: the JSON array and JSONL readers over arbitrary bytes. The first byte
 * picks the format, whether keys are given, the list separator and the encoding. */
#include "io/io.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = { "a", "b", "id", "tags", "" };
    io_source_opts o = { .format = IO_FMT_JSON };
    if (size > 0) {
        o.format = data[0] & 1 ? IO_FMT_JSONL : IO_FMT_JSON;
        if (data[0] & 2) {
            o.keys = keys;
            o.nkeys = (int)HP_ARRAY_LEN(keys);
        }
        o.list_separator = data[0] & 4 ? ';' : 0;
        o.encoding = data[0] & 8 ? IO_ENC_LATIN1 : IO_ENC_UTF8;
        data++, size--;
    }
    io_source *s;
    hp_error err;
    if (io_source_open_buffer(&s, "fuzz.json", (const char *)data, size, &o, &err)) return 0;
    int ncols = io_source_ncolumns(s);
    io_record r;
    int rc;
    while ((rc = io_source_next(s, &r, &err)) != 0) {
        if (rc < 0 && rc != HP_ERR_FORMAT) break;
        if (rc < 0) {
            if (r.bad_field < -1 || r.bad_field >= ncols || r.line < 1) __builtin_trap();
            continue;
        }
        if (r.nfields != ncols) __builtin_trap();
        for (int i = 0; i < r.nfields; i++)
            if (r.field[i] && strlen(r.field[i]) != r.len[i]) __builtin_trap();
    }
    io_source_free(s);
    return 0;
}
