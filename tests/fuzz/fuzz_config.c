/* libFuzzer target: the dataset config parser (and the model settings it carries) over
 * arbitrary bytes. A config either parses into a dataset whose every table and column is
 * complete, or fails with a negative status and a message naming the config. Seeds: the
 * shipped configs and small variants. */
#include "data/data.h"
#include "io/io.h"
#include "rec/rec.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_table(const data_table *t)
{
    if (!t->configured) {
        if (t->nspecs || t->file) __builtin_trap();
        return;
    }
    if (!t->file || !t->file[0] || !t->default_kind || t->nspecs < 1 || !t->specs) __builtin_trap();
    if (t->nmissing < 0 || (t->nmissing && !t->missing)) __builtin_trap();
    for (int i = 0; i < t->nmissing; i++)
        if (!t->missing[i]) __builtin_trap();
    if (t->format < 0 || t->format > IO_FMT_JSONL || t->delimiter == '"' || t->delimiter == '\n')
        __builtin_trap();
    for (int i = 0; i < t->nspecs; i++) {
        const data_column *c = &t->specs[i];
        if (!c->name || (unsigned)c->role >= DATA_ROLE_COUNT_ || !c->separator) __builtin_trap();
        if (c->npositive < 0 || (c->npositive && (!c->positive || c->role != DATA_ROLE_LABEL))) __builtin_trap();
        for (int k = 0; k < c->npositive; k++)
            if (!c->positive[k]) __builtin_trap();
        if (c->product && c->role != DATA_ROLE_HELD) __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    data_dataset ds;
    hp_error err = { 0 };
    int rc = data_config_parse(&ds, (const char *)data, size, "fuzz.json", "/base", &err);
    if (rc) {
        if (rc >= 0 || strncmp(err.msg, "fuzz.json", 9) != 0) __builtin_trap();
        /* a failed parse leaves nothing behind to free */
        for (int k = 0; k < DATA_T_COUNT; k++)
            if (ds.t[k].specs || ds.t[k].missing || ds.t[k].file) __builtin_trap();
        return 0;
    }
    if (!ds.t[DATA_T_CUSTOMERS].configured) __builtin_trap();
    for (int k = 0; k < DATA_T_COUNT; k++) check_table(&ds.t[k]);
    rec_config mc;
    if (rec_config_from_dataset(&mc, &ds, &err) == HP_OK) rec_config_free(&mc);
    else if (!err.msg[0]) __builtin_trap();
    if (data_config_set_file(&ds, DATA_T_CUSTOMERS, "other.csv", &err) != HP_OK) __builtin_trap();
    data_dataset_free(&ds);
    return 0;
}
