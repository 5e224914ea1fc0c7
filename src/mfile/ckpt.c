/* Model files: safetensors weights and atomically written JSON (see ckpt.h). */
#include "mfile/ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <sodium.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define CKPT_HOST_LE 0
#else
#define CKPT_HOST_LE 1
#endif

typedef unsigned long long ull;

/* Tensor kinds in a file: the weights and the two AdamW moments. */
enum { KIND_DATA = 0, KIND_M, KIND_V, KIND_COUNT };
static const char *const kind_suffix[KIND_COUNT] = { "", CKPT_ADAM_M, CKPT_ADAM_V };

/* ================================================================== small helpers */

static void put_le64(unsigned char b[8], uint64_t v)
{
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char b[8])
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

/* Reverses the bytes of each float (only used on big-endian hosts). */
static void swap_f32(void *p, size_t n)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++, b += 4) {
        unsigned char t0 = b[0], t1 = b[1];
        b[0] = b[3], b[1] = b[2], b[2] = t1, b[3] = t0;
    }
}

/* 1 when s[0..len) is valid UTF-8 (no overlongs, surrogates or code points > U+10FFFF). */
static int utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = u[i];
        int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
              : (c & 0xf8) == 0xf0 ? 3 : -1;
        if (n < 0 || (size_t)n >= len - i) return 0;
        unsigned cp = n == 0 ? c : c & (0x3fu >> n);
        for (int k = 1; k <= n; k++) {
            if ((u[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (u[i + k] & 0x3f);
        }
        static const unsigned min_cp[4] = { 0, 0x80, 0x800, 0x10000 };
        if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += (size_t)n + 1;
    }
    return 1;
}

/* "[32,8]" into buf. */
static const char *fmt_shape(char *buf, size_t cap, const int64_t *shape, int ndim)
{
    size_t used = 0;
    buf[0] = 0;
    used += (size_t)snprintf(buf, cap, "[");
    for (int k = 0; k < ndim && used < cap; k++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%lld", k ? "," : "",
                                 (long long)shape[k]);
    if (used < cap) snprintf(buf + used, cap - used, "]");
    return buf;
}

static int fail_nomem(hp_error *err) { return hp_fail(err, HP_ERR_NOMEM, "out of memory"); }

/* ================================================================== byte sources */

/* Where the bytes of a safetensors file come from: an open file or a caller's buffer. */
typedef struct {
    FILE *f;                  /* file source, or NULL */
    const unsigned char *buf; /* buffer source */
    uint64_t size;            /* total bytes */
} ckpt_src;

static int src_read(const ckpt_src *s, uint64_t off, void *dst, size_t n, hp_error *err)
{
    if (off > s->size || n > s->size - off)
        return hp_fail(err, HP_ERR_FORMAT, "%zu bytes at offset %llu are past the end (%llu bytes)",
                       n, (ull)off, (ull)s->size);
    if (n == 0) return HP_OK;
    if (!s->f) {
        memcpy(dst, s->buf + off, n);
        return HP_OK;
    }
    errno = 0;
    if (fseeko(s->f, (off_t)off, SEEK_SET) != 0 || fread(dst, 1, n, s->f) != n)
        return hp_fail(err, HP_ERR_IO, "cannot read %zu bytes at offset %llu: %s", n, (ull)off,
                       errno ? strerror(errno) : "the file shrank while being read");
    return HP_OK;
}

/* Opens path for reading; the message does not carry the path (the caller prefixes it). */
static int src_open(ckpt_src *s, const char *path, hp_error *err)
{
    memset(s, 0, sizeof *s);
    s->f = fopen(path, "rb");
    if (!s->f) return hp_fail(err, HP_ERR_IO, "cannot open: %s", strerror(errno));
    struct stat st;
    int ok = fstat(fileno(s->f), &st) == 0;
    if (!ok || !S_ISREG(st.st_mode)) {
        const char *why = ok ? "not a regular file" : strerror(errno);
        fclose(s->f);
        s->f = NULL;
        return hp_fail(err, HP_ERR_IO, "cannot read: %s", why);
    }
    s->size = (uint64_t)st.st_size;
    return HP_OK;
}

static void src_close(ckpt_src *s)
{
    if (s->f) fclose(s->f);
    s->f = NULL;
}

/* ================================================================== header parsing */

static const struct { const char *name; unsigned size; } dtypes[] = {
    { "F32", 4 }, { "F16", 2 }, { "BF16", 2 }, { "F64", 8 }, { "I64", 8 }, { "I32", 4 },
    { "I16", 2 }, { "I8", 1 }, { "U64", 8 }, { "U32", 4 }, { "U16", 2 }, { "U8", 1 },
    { "BOOL", 1 }, { "F8_E5M2", 1 }, { "F8_E4M3", 1 },
};

static unsigned dtype_size(const char *name)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(dtypes); i++)
        if (strcmp(dtypes[i].name, name) == 0) return dtypes[i].size;
    return 0;
}

static int parse_dtype(const char *name, json_t *j, ckpt_tensor_info *t, unsigned *esize,
                       hp_error *err)
{
    const char *s = json_string_value(j);
    *esize = s ? dtype_size(s) : 0;
    if (!*esize)
        return hp_fail(err, HP_ERR_FORMAT, "tensor '%s': dtype %s%s%s is not a safetensors dtype",
                       name, s ? "'" : "", s ? s : "is missing or not a string", s ? "'" : "");
    snprintf(t->dtype, sizeof t->dtype, "%s", s);
    return HP_OK;
}

/* Shape into t; *nbytes = product * esize (overflow-checked). */
static int parse_shape(const char *name, json_t *j, unsigned esize, ckpt_tensor_info *t,
                       uint64_t *nbytes, hp_error *err)
{
    if (!json_is_array(j) || json_array_size(j) > CKPT_MAX_DIMS)
        return hp_fail(err, HP_ERR_FORMAT, "tensor '%s': shape is not an array of at most %d "
                       "dimensions", name, CKPT_MAX_DIMS);
    uint64_t bytes = esize;
    t->ndim = (int)json_array_size(j);
    for (int k = 0; k < t->ndim; k++) {
        json_t *d = json_array_get(j, (size_t)k);
        json_int_t v = json_is_integer(d) ? json_integer_value(d) : -1;
        if (v < 0)
            return hp_fail(err, HP_ERR_FORMAT, "tensor '%s': shape[%d] is not an integer >= 0",
                           name, k);
        if (v > 0 && bytes > UINT64_MAX / (uint64_t)v)
            return hp_fail(err, HP_ERR_FORMAT, "tensor '%s': shape overflows 64 bits", name);
        t->shape[k] = v;
        bytes *= (uint64_t)v;
    }
    *nbytes = bytes;
    return HP_OK;
}

static int parse_offsets(const char *name, json_t *j, ckpt_tensor_info *t, hp_error *err)
{
    json_t *b = json_array_get(j, 0), *e = json_array_get(j, 1);
    if (!json_is_array(j) || json_array_size(j) != 2 || !json_is_integer(b) ||
        !json_is_integer(e) || json_integer_value(b) < 0 ||
        json_integer_value(e) < json_integer_value(b))
        return hp_fail(err, HP_ERR_FORMAT, "tensor '%s': data_offsets is not [begin, end] with "
                       "0 <= begin <= end", name);
    t->begin = (uint64_t)json_integer_value(b);
    t->end = (uint64_t)json_integer_value(e);
    return HP_OK;
}

/* One "name": {"dtype", "shape", "data_offsets"} entry; t->name is set first, so the
 * caller frees it whatever happens. */
static int parse_entry(const char *name, json_t *val, ckpt_tensor_info *t, hp_error *err)
{
    t->name = hp_strdup(name);
    if (!t->name) return fail_nomem(err);
    if (!json_is_object(val) || json_object_size(val) != 3)
        return hp_fail(err, HP_ERR_FORMAT, "tensor '%s': entry is not an object with exactly "
                       "dtype, shape and data_offsets", name);
    unsigned esize = 0;
    uint64_t nbytes = 0;
    int rc = parse_dtype(name, json_object_get(val, "dtype"), t, &esize, err);
    if (!rc) rc = parse_shape(name, json_object_get(val, "shape"), esize, t, &nbytes, err);
    if (!rc) rc = parse_offsets(name, json_object_get(val, "data_offsets"), t, err);
    if (rc) return rc;
    if (t->end - t->begin != nbytes) {
        char sh[160];
        return hp_fail(err, HP_ERR_FORMAT, "tensor '%s': data_offsets [%llu, %llu] hold %llu "
                       "bytes, but shape %s of %s needs %llu", name, (ull)t->begin, (ull)t->end,
                       (ull)(t->end - t->begin), fmt_shape(sh, sizeof sh, t->shape, t->ndim),
                       t->dtype, (ull)nbytes);
    }
    return HP_OK;
}

static int parse_meta(json_t *val, ckpt_info *info, hp_error *err)
{
    const char *key;
    json_t *v;
    if (!json_is_object(val))
        return hp_fail(err, HP_ERR_FORMAT, "__metadata__ is not an object");
    json_object_foreach(val, key, v)
        if (!json_is_string(v))
            return hp_fail(err, HP_ERR_FORMAT, "__metadata__ '%s' is not a string", key);
    info->meta = json_incref(val);
    return HP_OK;
}

static int cmp_range(const void *a, const void *b)
{
    const ckpt_tensor_info *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Sorts the tensors by offset and checks that they tile [0, data_len) exactly. */
static int check_layout(ckpt_info *info, uint64_t data_len, hp_error *err)
{
    qsort(info->t, (size_t)info->n, sizeof *info->t, cmp_range);
    uint64_t at = 0;
    for (int i = 0; i < info->n; i++) {
        const ckpt_tensor_info *t = &info->t[i];
        if (t->begin < at)
            return hp_fail(err, HP_ERR_FORMAT, "tensors '%s' and '%s' overlap in the data buffer",
                           info->t[i - 1].name, t->name);
        if (t->begin > at)
            return hp_fail(err, HP_ERR_FORMAT, "bytes [%llu, %llu) of the data buffer belong to "
                           "no tensor (before '%s')", (ull)at, (ull)t->begin, t->name);
        at = t->end;
    }
    if (at > data_len)
        return hp_fail(err, HP_ERR_FORMAT, "truncated: the tensors need %llu bytes of data, the "
                       "file has %llu after the header", (ull)at, (ull)data_len);
    if (at < data_len)
        return hp_fail(err, HP_ERR_FORMAT, "%llu bytes after the last tensor belong to no tensor",
                       (ull)(data_len - at));
    return HP_OK;
}

static int parse_root(json_t *root, ckpt_info *info, uint64_t data_len, hp_error *err)
{
    if (!json_is_object(root)) return hp_fail(err, HP_ERR_FORMAT, "header is not a JSON object");
    info->t = hp_calloc(json_object_size(root) + 1, sizeof *info->t);
    if (!info->t) return fail_nomem(err);
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        int rc = strcmp(key, "__metadata__") == 0 ? parse_meta(val, info, err)
                                                   : parse_entry(key, val, &info->t[info->n++], err);
        if (rc) return rc;
    }
    if (!info->meta && !(info->meta = json_object())) return fail_nomem(err);
    return check_layout(info, data_len, err);
}

static int parse_json_header(const char *text, size_t n, ckpt_info *info, uint64_t data_len,
                             hp_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
    if (!root && json_error_code(&je) == json_error_out_of_memory) return fail_nomem(err);
    if (!root)
        return hp_fail(err, HP_ERR_FORMAT, "header is not valid JSON (line %d, column %d): %s",
                       je.line, je.column, je.text);
    int rc = parse_root(root, info, data_len, err);
    json_decref(root);
    return rc;
}

/* Reads and validates the header; on failure *info is empty. With keep, *keep gets the raw
 * header bytes (info->data_start - 8 of them; the caller frees), else they are freed.
 * Messages lack the path. */
static int read_header_keep(const ckpt_src *s, ckpt_info *info, char **keep, hp_error *err)
{
    if (keep) *keep = NULL;
    memset(info, 0, sizeof *info);
    unsigned char len8[8];
    if (s->size < 8)
        return hp_fail(err, HP_ERR_FORMAT, "%llu bytes is too short for a safetensors file "
                       "(an 8-byte header length comes first)", (ull)s->size);
    int rc = src_read(s, 0, len8, 8, err);
    if (rc) return rc;
    uint64_t n = get_le64(len8);
    if (n > CKPT_MAX_HEADER)
        return hp_fail(err, HP_ERR_FORMAT, "header length %llu is over the %llu MB limit (not a "
                       "safetensors file?)", (ull)n, (ull)(CKPT_MAX_HEADER >> 20));
    if (n > s->size - 8)
        return hp_fail(err, HP_ERR_FORMAT, "truncated: header length %llu, but only %llu bytes "
                       "follow", (ull)n, (ull)(s->size - 8));
    char *text = hp_malloc((size_t)n);
    if (!text) return fail_nomem(err);
    rc = src_read(s, 8, text, (size_t)n, err);
    if (!rc) rc = parse_json_header(text, (size_t)n, info, s->size - 8 - n, err);
    info->data_start = 8 + n;
    if (rc) ckpt_info_free(info);
    if (!rc && keep) *keep = text;
    else hp_free(text);
    return rc;
}

static int read_header(const ckpt_src *s, ckpt_info *info, hp_error *err)
{
    return read_header_keep(s, info, NULL, err);
}

void ckpt_info_free(ckpt_info *info)
{
    if (!info) return;
    for (int i = 0; i < info->n; i++) hp_free(info->t[i].name);
    hp_free(info->t);
    json_decref(info->meta);
    memset(info, 0, sizeof *info);
}

int ckpt_inspect_buffer(const char *name, const void *buf, size_t len, ckpt_info *info,
                        hp_error *err)
{
    ckpt_src s = { NULL, buf, len };
    int rc = read_header(&s, info, err);
    if (rc) hp_error_prefix(err, "%s", name);
    return rc;
}

int ckpt_inspect(const char *path, ckpt_info *info, hp_error *err)
{
    ckpt_src s;
    memset(info, 0, sizeof *info);
    int rc = src_open(&s, path, err);
    if (!rc) rc = read_header(&s, info, err);
    src_close(&s);
    if (rc) hp_error_prefix(err, "%s", path);
    return rc;
}

int ckpt_read_metadata(const char *path, json_t **meta, hp_error *err)
{
    ckpt_info info;
    *meta = NULL;
    int rc = ckpt_inspect(path, &info, err);
    if (rc) return rc;
    *meta = json_incref(info.meta);
    ckpt_info_free(&info);
    return HP_OK;
}

/* ================================================================== loading into nn_params */

static int check_hyperp(json_t *meta, hp_error *err)
{
    const char *f = json_string_value(json_object_get(meta, "format"));
    const char *v = json_string_value(json_object_get(meta, "format_version"));
    if (!f || strcmp(f, CKPT_FORMAT) != 0)
        return hp_fail(err, HP_ERR_VERSION, "not a hyperp checkpoint (__metadata__ format is %s%s%s,"
                       " expected '" CKPT_FORMAT "')", f ? "'" : "", f ? f : "missing", f ? "'" : "");
    if (!v || (strcmp(v, CKPT_FORMAT_VERSION) != 0 && strcmp(v, CKPT_FORMAT_VERSION_LEGACY) != 0))
        return hp_fail(err, HP_ERR_VERSION, "hyperp checkpoint format_version %s%s%s, this build "
                       "reads format_version " CKPT_FORMAT_VERSION_LEGACY " and " CKPT_FORMAT_VERSION,
                       v ? "'" : "", v ? v : "missing", v ? "'" : "");
    return HP_OK;
}

/* ------------------------------------------------------------------ the checksum */

/* The checksum is BLAKE2b-128 of every byte of the file (length, header with its padding,
 * data) with the checksum's own hex digits read as '0': see ckpt.h. */
#define CKPT_SUM_HEX (2 * CKPT_CHECKSUM_BYTES)
static const char k_sum_key[] = "\"" CKPT_CHECKSUM_KEY "\":\"";
static const char k_sum_zeros[CKPT_SUM_HEX + 1] = "00000000000000000000000000000000";
_Static_assert(sizeof k_sum_zeros == CKPT_SUM_HEX + 1, "k_sum_zeros holds the checksum's digits");

static void hex_of(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = 0;
}

/* Offset in text[0..n) of the checksum's hex digits (just after the only "checksum":"),
 * or -1 when the key appears zero or several times or is not followed by exactly
 * CKPT_SUM_HEX lowercase hex digits and a quote. */
static long find_sum(const char *text, size_t n)
{
    size_t kl = sizeof k_sum_key - 1;
    long at = -1;
    for (size_t i = 0; i + kl <= n; i++) {
        if (memcmp(text + i, k_sum_key, kl) != 0) continue;
        if (at >= 0) return -1;
        at = (long)(i + kl);
    }
    if (at < 0 || (size_t)at + CKPT_SUM_HEX >= n || text[at + CKPT_SUM_HEX] != '"') return -1;
    for (int k = 0; k < CKPT_SUM_HEX; k++) {
        char c = text[at + k];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return -1;
    }
    return at;
}

/* Starts the hash of a file with header text[0..n), its checksum digits at sum_at. */
static void sum_header(crypto_generichash_state *st, const char *text, size_t n, size_t sum_at)
{
    unsigned char len8[8];
    put_le64(len8, n);
    crypto_generichash_init(st, NULL, 0, CKPT_CHECKSUM_BYTES);
    crypto_generichash_update(st, len8, 8);
    crypto_generichash_update(st, (const unsigned char *)text, sum_at);
    crypto_generichash_update(st, (const unsigned char *)k_sum_zeros, CKPT_SUM_HEX);
    crypto_generichash_update(st, (const unsigned char *)text + sum_at + CKPT_SUM_HEX,
                              n - sum_at - CKPT_SUM_HEX);
}

/* Hashes the data buffer of s as it is in the file. */
static int sum_data(crypto_generichash_state *st, const ckpt_src *s, uint64_t start, hp_error *err)
{
    if (!s->f) {
        crypto_generichash_update(st, s->buf + start, s->size - start);
        return HP_OK;
    }
    unsigned char chunk[1 << 14];
    for (uint64_t at = start; at < s->size;) {
        size_t n = (size_t)HP_MIN((uint64_t)sizeof chunk, s->size - at);
        int rc = src_read(s, at, chunk, n, err);
        if (rc) return rc;
        crypto_generichash_update(st, chunk, n);
        at += n;
    }
    return HP_OK;
}

/* A format_version 2 file must carry the checksum of its bytes and match it; a version 1
 * file (older builds, other writers) has none, and one that claims version 1 but carries a
 * checksum is a damaged version 2 file. */
static int verify_checksum(const ckpt_src *s, const ckpt_info *info, const char *text,
                           hp_error *err)
{
    const char *v = json_string_value(json_object_get(info->meta, "format_version"));
    json_t *sum = json_object_get(info->meta, CKPT_CHECKSUM_KEY);
    if (v && strcmp(v, CKPT_FORMAT_VERSION_LEGACY) == 0) {
        if (sum)
            return hp_fail(err, HP_ERR_FORMAT, "__metadata__ has a " CKPT_CHECKSUM_KEY " but "
                           "format_version " CKPT_FORMAT_VERSION_LEGACY " has none: the file is "
                           "damaged");
        return HP_OK;
    }
    size_t n = (size_t)(info->data_start - 8);
    long at = find_sum(text, n);
    const char *want = json_string_value(sum);
    if (!want || at < 0 || strlen(want) != CKPT_SUM_HEX || memcmp(text + at, want, CKPT_SUM_HEX))
        return hp_fail(err, HP_ERR_FORMAT, "__metadata__ " CKPT_CHECKSUM_KEY " is missing or not "
                       "written as \"" CKPT_CHECKSUM_KEY "\":\"<%d hex digits>\" (format_version "
                       CKPT_FORMAT_VERSION " needs one): the file is damaged", CKPT_SUM_HEX);
    crypto_generichash_state st;
    sum_header(&st, text, n, (size_t)at);
    int rc = sum_data(&st, s, info->data_start, err);
    if (rc) return rc;
    unsigned char got[CKPT_CHECKSUM_BYTES];
    char hex[CKPT_SUM_HEX + 1];
    crypto_generichash_final(&st, got, sizeof got);
    hex_of(got, sizeof got, hex);
    if (memcmp(hex, want, CKPT_SUM_HEX) != 0)
        return hp_fail(err, HP_ERR_FORMAT, "checksum mismatch: the file's bytes hash to %s, its "
                       "header says %s: the file is damaged", hex, want);
    return HP_OK;
}

static int read_step(json_t *meta, long *step, hp_error *err)
{
    const char *s = json_string_value(json_object_get(meta, "step"));
    char *end = NULL;
    errno = 0;
    long v = s && *s >= '0' && *s <= '9' ? strtol(s, &end, 10) : -1;
    if (v < 0 || errno || !end || *end)
        return hp_fail(err, HP_ERR_FORMAT, "__metadata__ step is %s%s%s, expected a step number "
                       "(a checkpoint without optimizer state?)", s ? "'" : "",
                       s ? s : "missing", s ? "'" : "");
    if (step) *step = v;
    return HP_OK;
}

/* Index in p of the tensor a file name stands for, and its kind; -1 when none. */
static int find_target(const nn_params *p, const char *name, int *kind)
{
    *kind = KIND_DATA;
    int idx = nn_params_find(p, name);
    if (idx >= 0) return idx;
    size_t len = strlen(name);
    for (int k = KIND_M; k < KIND_COUNT; k++) {
        size_t sl = strlen(kind_suffix[k]);
        if (len <= sl || len - sl >= NN_NAME_MAX || strcmp(name + len - sl, kind_suffix[k]))
            continue;
        char base[NN_NAME_MAX];
        memcpy(base, name, len - sl);
        base[len - sl] = 0;
        *kind = k;
        return nn_params_find(p, base);
    }
    return -1;
}

static int same_shape(const ckpt_tensor_info *t, const nn_tensor *d)
{
    if (t->ndim != d->ndim) return 0;
    for (int k = 0; k < d->ndim; k++)
        if (t->shape[k] != d->shape[k]) return 0;
    return 1;
}

/* Matches file tensor t to p: *slot = kind * p->n + index, or -1 to skip it. */
static int match_one(const ckpt_tensor_info *t, const nn_params *p, int with_opt, int *slot,
                     hp_error *err)
{
    int kind, idx = find_target(p, t->name, &kind);
    if (idx < 0)
        return hp_fail(err, HP_ERR_FORMAT, "tensor '%s' is in the file but not in the model",
                       t->name);
    if (strcmp(t->dtype, "F32") != 0)
        return hp_fail(err, HP_ERR_FORMAT, "tensor '%s' has dtype %s, hyperp reads only F32",
                       t->name, t->dtype);
    const nn_tensor *d = &p->t[idx];
    if (!same_shape(t, d)) {
        char got[160], want[160];
        int64_t ws[NN_MAX_DIMS];
        for (int k = 0; k < d->ndim; k++) ws[k] = d->shape[k];
        return hp_fail(err, HP_ERR_FORMAT, "tensor '%s' has shape %s, the model expects %s",
                       t->name, fmt_shape(got, sizeof got, t->shape, t->ndim),
                       fmt_shape(want, sizeof want, ws, d->ndim));
    }
    *slot = kind == KIND_DATA || with_opt ? kind * p->n + idx : -1;
    return HP_OK;
}

static int check_all_present(const nn_params *p, const unsigned char *seen, int with_opt,
                             hp_error *err)
{
    for (int k = 0; k < (with_opt ? KIND_COUNT : 1); k++)
        for (int i = 0; i < p->n; i++)
            if (!seen[k * p->n + i])
                return hp_fail(err, HP_ERR_NOTFOUND, "tensor '%s%s' is missing from the file%s",
                               p->t[i].name, kind_suffix[k],
                               k ? " (saved without optimizer state?)" : "");
    return HP_OK;
}

/* Fills slot[0..info->n) (see match_one) and checks every needed tensor is there. */
static int match_tensors(const ckpt_info *info, const nn_params *p, int with_opt, int *slot,
                         hp_error *err)
{
    unsigned char *seen = hp_calloc((size_t)p->n * KIND_COUNT, 1);
    if (!seen) return fail_nomem(err);
    int rc = HP_OK;
    for (int i = 0; i < info->n && !rc; i++) {
        rc = match_one(&info->t[i], p, with_opt, &slot[i], err);
        if (!rc && slot[i] >= 0) seen[slot[i]] = 1;
    }
    if (!rc) rc = check_all_present(p, seen, with_opt, err);
    hp_free(seen);
    return rc;
}

static float *kind_block(const nn_params *p, int kind)
{
    return kind == KIND_DATA ? p->data : kind == KIND_M ? p->m : p->v;
}

static int read_tensors(const ckpt_src *s, const ckpt_info *info, const nn_params *p,
                        const int *slot, hp_error *err)
{
    for (int i = 0; i < info->n; i++) {
        if (slot[i] < 0) continue;
        const nn_tensor *d = &p->t[slot[i] % p->n];
        float *dst = kind_block(p, slot[i] / p->n) + d->offset;
        int rc = src_read(s, info->data_start + info->t[i].begin, dst, d->size * sizeof(float), err);
        if (rc) {
            hp_error_prefix(err, "tensor '%s'", info->t[i].name);
            return rc;
        }
        if (!CKPT_HOST_LE) swap_f32(dst, d->size);
    }
    return HP_OK;
}

/* Validates everything, then reads. Messages lack the path. */
static int load_src(const ckpt_src *s, nn_params *p, int with_opt, long *step, hp_error *err)
{
    ckpt_info info;
    char *text;
    int rc = read_header_keep(s, &info, &text, err);
    if (rc) return rc;
    int *slot = hp_malloc((size_t)info.n * sizeof *slot);
    if (!slot) rc = fail_nomem(err);
    if (!rc) rc = check_hyperp(info.meta, err);
    if (!rc) rc = verify_checksum(s, &info, text, err);
    hp_free(text);
    if (!rc && with_opt) rc = read_step(info.meta, step, err);
    if (!rc) rc = match_tensors(&info, p, with_opt, slot, err);
    if (!rc) rc = read_tensors(s, &info, p, slot, err);
    hp_free(slot);
    ckpt_info_free(&info);
    return rc;
}

int ckpt_load_buffer(const char *name, const void *buf, size_t len, nn_params *p,
                     int with_optimizer_state, long *step, hp_error *err)
{
    ckpt_src s = { NULL, buf, len };
    int rc = load_src(&s, p, with_optimizer_state, step, err);
    if (rc) hp_error_prefix(err, "%s", name);
    return rc;
}

static int load_path(const char *path, nn_params *p, int with_opt, long *step, hp_error *err)
{
    ckpt_src s;
    int rc = src_open(&s, path, err);
    if (!rc) rc = load_src(&s, p, with_opt, step, err);
    src_close(&s);
    if (rc) hp_error_prefix(err, "%s", path);
    return rc;
}

int ckpt_load(const char *path, nn_params *p, int with_optimizer_state, hp_error *err)
{
    return load_path(path, p, with_optimizer_state, NULL, err);
}

int ckpt_load_full(const char *path, nn_params *p, long *step, hp_error *err)
{
    return load_path(path, p, 1, step, err);
}

/* ================================================================== atomic writing */

typedef int (*emit_fn)(FILE *f, const void *ctx, hp_error *err);

/* fsync of the directory holding path, so the rename itself is durable (best effort). */
static void sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? hp_strndup(path, slash == path ? 1 : (size_t)(slash - path))
                      : hp_strdup(".");
    if (!dir) return;
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    hp_free(dir);
}

/* Flushes, fsyncs and closes f (always closed); any error is an HP_ERR_WRITE: a full disk or
 * a failing device is the environment's problem (exit 1), not bad input (exit 2). */
static int finish_file(FILE *f, const char *tmp, hp_error *err)
{
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f);
    int e = errno;
    if (fclose(f) != 0 && !bad) bad = 1, e = errno;
    if (bad) return hp_fail(err, HP_ERR_WRITE, "cannot write %s: %s", tmp, strerror(e ? e : EIO));
    return HP_OK;
}

/* Writes path via path.tmp (see ckpt.h). Messages start with path. */
static int atomic_write(const char *path, emit_fn emit, const void *ctx, hp_error *err)
{
    size_t n = strlen(path);
    char *tmp = hp_malloc(n + 5);
    if (!tmp) return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", path);
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    int rc = HP_OK;
    if (!f) rc = hp_fail(err, HP_ERR_WRITE, "cannot create %s: %s", tmp, strerror(errno));
    if (f) {
        rc = emit(f, ctx, err);
        if (rc) fclose(f);
        else rc = finish_file(f, tmp, err);
        if (!rc && rename(tmp, path) != 0)
            rc = hp_fail(err, HP_ERR_WRITE, "cannot rename %s over it: %s", tmp, strerror(errno));
        if (rc) remove(tmp);
    }
    hp_free(tmp);
    if (rc) hp_error_prefix(err, "%s", path);
    else sync_dir(path);
    return rc;
}

/* ================================================================== safetensors writing */

static int jset(json_t *obj, const char *key, json_t *val, hp_error *err)
{
    if (!val || json_object_set_new(obj, key, val) != 0) return fail_nomem(err);
    return HP_OK;
}

static int check_meta_pair(json_t *meta, const char *k, const char *v, int i, hp_error *err)
{
    if (!k || !v || !utf8_valid(k, strlen(k)) || !utf8_valid(v, strlen(v)))
        return hp_fail(err, HP_ERR_INVAL, "metadata pair %d: key or value is NULL or not UTF-8", i);
    if (!strcmp(k, "format") || !strcmp(k, "format_version") || !strcmp(k, "step") ||
        !strcmp(k, CKPT_CHECKSUM_KEY))
        return hp_fail(err, HP_ERR_INVAL, "metadata key '%s' is reserved for hyperp", k);
    if (json_object_get(meta, k))
        return hp_fail(err, HP_ERR_INVAL, "metadata key '%s' is given twice", k);
    return HP_OK;
}

static int add_meta(json_t *meta, int with_opt, long step, const char *const *keys,
                    const char *const *vals, int nmeta, hp_error *err)
{
    int rc = jset(meta, "format", json_string(CKPT_FORMAT), err);
    if (!rc) rc = jset(meta, "format_version", json_string(CKPT_FORMAT_VERSION), err);
    /* a placeholder: save_impl writes the real digits once the whole file is known */
    if (!rc) rc = jset(meta, CKPT_CHECKSUM_KEY, json_string(k_sum_zeros), err);
    if (!rc && with_opt) {
        char buf[32];
        snprintf(buf, sizeof buf, "%ld", step);
        rc = jset(meta, "step", json_string(buf), err);
    }
    for (int i = 0; i < nmeta && !rc; i++) {
        rc = check_meta_pair(meta, keys[i], vals[i], i, err);
        if (!rc) rc = jset(meta, keys[i], json_string(vals[i]), err);
    }
    return rc;
}

static json_t *tensor_entry(const nn_tensor *d, uint64_t begin)
{
    json_t *e = json_object(), *shape = json_array();
    int bad = !e || !shape;
    for (int k = 0; k < d->ndim && !bad; k++)
        bad = json_array_append_new(shape, json_integer(d->shape[k])) != 0;
    bad = bad || json_object_set_new(e, "dtype", json_string("F32")) != 0;
    bad = bad || json_object_set(e, "shape", shape) != 0;
    bad = bad || json_object_set_new(e, "data_offsets",
                                     json_pack("[II]", (json_int_t)begin,
                                               (json_int_t)(begin + d->size * 4))) != 0;
    json_decref(shape);
    if (bad) json_decref(e);
    return bad ? NULL : e;
}

static int add_tensors(json_t *root, const nn_params *p, int with_opt, hp_error *err)
{
    uint64_t at = 0;
    int rc = HP_OK;
    for (int k = 0; k < (with_opt ? KIND_COUNT : 1); k++)
        for (int i = 0; i < p->n && !rc; i++) {
            char name[NN_NAME_MAX + 16];
            snprintf(name, sizeof name, "%s%s", p->t[i].name, kind_suffix[k]);
            rc = jset(root, name, tensor_entry(&p->t[i], at), err);
            at += p->t[i].size * 4;
        }
    return rc;
}

/* The header JSON padded with spaces to a multiple of 8 bytes (caller frees). */
static int pad_header(json_t *root, char **out, size_t *len, hp_error *err)
{
    char *text = json_dumps(root, JSON_COMPACT);
    if (!text) return fail_nomem(err);
    size_t n = strlen(text), padded = (n + 7) / 8 * 8;
    *out = hp_malloc(padded + 1);
    if (*out) {
        memcpy(*out, text, n);
        memset(*out + n, ' ', padded - n);
        (*out)[padded] = 0;
        *len = padded;
    }
    json_free_t jfree;
    json_get_alloc_funcs(NULL, &jfree);
    jfree(text); /* json_dumps allocates with jansson's allocator */
    return *out ? HP_OK : fail_nomem(err);
}

static int build_header(const nn_params *p, int with_opt, long step, const char *const *keys,
                        const char *const *vals, int nmeta, char **out, size_t *len,
                        hp_error *err)
{
    json_t *root = json_object(), *meta = json_object();
    int rc = root && meta ? HP_OK : fail_nomem(err);
    if (!rc) rc = add_meta(meta, with_opt, step, keys, vals, nmeta, err);
    if (!rc) rc = jset(root, "__metadata__", json_incref(meta), err);
    if (!rc) rc = add_tensors(root, p, with_opt, err);
    if (!rc) rc = pad_header(root, out, len, err);
    json_decref(meta);
    json_decref(root);
    return rc;
}

static int write_f32_le(FILE *f, const float *x, size_t n)
{
    if (CKPT_HOST_LE) return fwrite(x, sizeof *x, n, f) == n ? 0 : -1;
    float buf[256];
    for (size_t i = 0; i < n; i += HP_ARRAY_LEN(buf)) {
        size_t m = HP_MIN(n - i, HP_ARRAY_LEN(buf));
        memcpy(buf, x + i, m * sizeof *x);
        swap_f32(buf, m);
        if (fwrite(buf, sizeof *x, m, f) != m) return -1;
    }
    return 0;
}

/* Feeds x[0..n) to the hash as little-endian F32, the bytes write_f32_le writes. */
static void sum_f32_le(crypto_generichash_state *st, const float *x, size_t n)
{
    if (CKPT_HOST_LE) {
        crypto_generichash_update(st, (const unsigned char *)x, n * sizeof *x);
        return;
    }
    float buf[256];
    for (size_t i = 0; i < n; i += HP_ARRAY_LEN(buf)) {
        size_t m = HP_MIN(n - i, HP_ARRAY_LEN(buf));
        memcpy(buf, x + i, m * sizeof *x);
        swap_f32(buf, m);
        crypto_generichash_update(st, (const unsigned char *)buf, m * sizeof *x);
    }
}

/* Writes the checksum of the whole file-to-be into header[0..len) in place of its
 * placeholder digits (add_meta put them there). */
static int seal_header(char *header, size_t len, const nn_params *p, int with_opt, hp_error *err)
{
    long at = find_sum(header, len);
    if (at < 0 || memcmp(header + at, k_sum_zeros, CKPT_SUM_HEX) != 0)
        return hp_fail(err, HP_ERR_INVAL, "the checksum placeholder is not in the header");
    crypto_generichash_state st;
    sum_header(&st, header, len, (size_t)at);
    for (int k = 0; k < (with_opt ? KIND_COUNT : 1); k++)
        for (int i = 0; i < p->n; i++) sum_f32_le(&st, kind_block(p, k) + p->t[i].offset, p->t[i].size);
    unsigned char sum[CKPT_CHECKSUM_BYTES];
    char hex[CKPT_SUM_HEX + 1];
    crypto_generichash_final(&st, sum, sizeof sum);
    hex_of(sum, sizeof sum, hex);
    memcpy(header + at, hex, CKPT_SUM_HEX);
    return HP_OK;
}

typedef struct {
    const nn_params *p;
    int with_opt;
    const char *header;
    size_t header_len;
} save_ctx;

static int emit_safetensors(FILE *f, const void *ctx, hp_error *err)
{
    const save_ctx *c = ctx;
    unsigned char len8[8];
    errno = 0;
    put_le64(len8, c->header_len);
    int bad = fwrite(len8, 1, 8, f) != 8 ||
              fwrite(c->header, 1, c->header_len, f) != c->header_len;
    for (int k = 0; k < (c->with_opt ? KIND_COUNT : 1) && !bad; k++)
        for (int i = 0; i < c->p->n && !bad; i++)
            bad = write_f32_le(f, kind_block(c->p, k) + c->p->t[i].offset, c->p->t[i].size);
    if (bad) return hp_fail(err, HP_ERR_WRITE, "cannot write: %s", strerror(errno ? errno : EIO));
    return HP_OK;
}

static int save_impl(const char *path, const nn_params *p, int with_opt, long step,
                     const char *const *keys, const char *const *vals, int nmeta, hp_error *err)
{
    if (nmeta < 0 || (nmeta > 0 && (!keys || !vals)) || step < 0 || !p || p->n <= 0)
        return hp_fail(err, HP_ERR_INVAL, "%s: bad arguments to ckpt_save", path);
    save_ctx c = { p, with_opt, NULL, 0 };
    char *header = NULL;
    int rc = build_header(p, with_opt, step, keys, vals, nmeta, &header, &c.header_len, err);
    if (!rc) rc = seal_header(header, c.header_len, p, with_opt, err);
    if (rc) {
        hp_free(header);
        hp_error_prefix(err, "%s", path);
        return rc;
    }
    c.header = header;
    rc = atomic_write(path, emit_safetensors, &c, err);
    hp_free(header);
    return rc;
}

int ckpt_save(const char *path, const nn_params *p, const char *const *meta_keys,
              const char *const *meta_vals, int nmeta, hp_error *err)
{
    return save_impl(path, p, 0, 0, meta_keys, meta_vals, nmeta, err);
}

int ckpt_save_full(const char *path, const nn_params *p, long step, const char *const *meta_keys,
                   const char *const *meta_vals, int nmeta, hp_error *err)
{
    return save_impl(path, p, 1, step, meta_keys, meta_vals, nmeta, err);
}

/* ================================================================== JSON files */

static int emit_json(FILE *f, const void *ctx, hp_error *err)
{
    const json_t *doc = ctx;
    errno = 0;
    if (json_dumpf(doc, f, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) != 0 || fputc('\n', f) == EOF)
        return hp_fail(err, HP_ERR_WRITE, "cannot write JSON: %s", strerror(errno ? errno : EIO));
    return HP_OK;
}

int ckpt_write_json_atomic(const char *path, json_t *doc, hp_error *err)
{
    if (!json_is_object(doc) && !json_is_array(doc))
        return hp_fail(err, HP_ERR_INVAL, "%s: the JSON document to write is not an object or "
                       "array", path);
    return atomic_write(path, emit_json, doc, err);
}

int ckpt_read_json(const char *path, json_t **doc, hp_error *err)
{
    json_error_t je;
    *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (*doc) return HP_OK;
    switch (json_error_code(&je)) {
    case json_error_cannot_open_file:
        return hp_fail(err, HP_ERR_IO, "%s: %s", path, je.text);
    case json_error_out_of_memory:
        return hp_fail(err, HP_ERR_NOMEM, "%s: out of memory", path);
    default:
        return hp_fail(err, HP_ERR_FORMAT, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    }
}
