/* The files a dataset was read from, as size and modification time: recorded with a trained
 * model so that evaluating on data changed since training is said, not silently done. */
#include "data/data.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

json_t *data_files_fingerprint(const data_dataset *ds)
{
    json_t *a = json_array();
    for (int k = 0; a && k < DATA_T_COUNT; k++) {
        const data_table *t = &ds->t[k];
        struct stat st;
        if (!t->loaded || !t->file || t->buf || stat(t->file, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I}", "table", data_table_name((data_table_kind)k),
                                           "file", t->file, "bytes", (json_int_t)st.st_size,
                                           "mtime", (json_int_t)st.st_mtime));
    }
    return a;
}

int data_files_changed(const data_dataset *ds, json_t *recorded, char *why, size_t size)
{
    int changed = 0;
    why[0] = 0;
    json_t *now = data_files_fingerprint(ds), *r, *n;
    size_t i, j;
    json_array_foreach(recorded, i, r) {
        const char *table = json_string_value(json_object_get(r, "table"));
        json_array_foreach(now, j, n) {
            if (!table || strcmp(table, json_string_value(json_object_get(n, "table"))) != 0) continue;
            json_int_t b0 = json_integer_value(json_object_get(r, "bytes")), b1 = json_integer_value(json_object_get(n, "bytes"));
            json_int_t m0 = json_integer_value(json_object_get(r, "mtime")), m1 = json_integer_value(json_object_get(n, "mtime"));
            if (b0 == b1 && m0 == m1) continue;
            if (!changed++)
                snprintf(why, size, "%s (%s): %lld bytes when the model was trained, %lld now%s", table,
                         json_string_value(json_object_get(n, "file")), (long long)b0, (long long)b1,
                         b0 == b1 ? " (modified since)" : "");
        }
    }
    json_decref(now);
    return changed;
}
