/* libFuzzer target: the safetensors reader (src/mfile/ckpt.h) over arbitrary bytes. The
 * bytes are loaded into a fixed two-tensor model, weights only and with optimizer state,
 * and listed with ckpt_inspect_buffer; a success must have produced what it claims. */
#include "mfile/ckpt.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const nn_tensor defs[] = {
    { .name = "a", .ndim = 2, .shape = { 2, 3 } },
    { .name = "b", .ndim = 1, .shape = { 2 } },
};

static void check_info(const ckpt_info *info, size_t size)
{
    uint64_t at = 0;
    if (info->data_start < 8 || info->data_start > size || !info->meta) __builtin_trap();
    for (int i = 0; i < info->n; i++) {
        if (info->t[i].begin != at || info->t[i].end < at) __builtin_trap();
        if (info->t[i].ndim < 0 || info->t[i].ndim > CKPT_MAX_DIMS) __builtin_trap();
        at = info->t[i].end;
    }
    if (at != size - info->data_start) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static nn_params p;
    static int ready;
    hp_error err;
    if (!ready && nn_params_init(&p, defs, (int)HP_ARRAY_LEN(defs), &err) == HP_OK) ready = 1;
    if (!ready) return 0;
    long step = -1;
    for (int opt = 0; opt <= 1; opt++) {
        int rc = ckpt_load_buffer("fuzz", data, size, &p, opt, &step, &err);
        if (rc && strncmp(err.msg, "fuzz: ", 6) != 0) __builtin_trap();
        if (rc == HP_OK && opt && step < 0) __builtin_trap();
    }
    ckpt_info info;
    if (ckpt_inspect_buffer("fuzz", data, size, &info, &err) == HP_OK) check_info(&info, size);
    ckpt_info_free(&info);
    return 0;
}
