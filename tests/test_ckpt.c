/* Model files (src/mfile/ckpt.h): safetensors round trips, every way a file can be broken,
 * atomic writes, allocation failures, and a file PyTorch wrote
 * (tests/fixtures/ckpt_ref.safetensors, from tests/fixtures/gen_ckpt_ref.py).
 *
 * With HYPERP_CKPT_OUT=FILE set, the full round trip also leaves its file there so that
 * tests/fixtures/check_ckpt.py can show it loads in PyTorch. */
#include "mfile/ckpt.h"

#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define REF_PATH "tests/fixtures/ckpt_ref.safetensors"

static char g_dir[64];

/* ------------------------------------------------------------------ helpers */

static const char *tpath(char *buf, const char *name)
{
    snprintf(buf, 256, "%s/%s", g_dir, name);
    return buf;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int tmp_exists(const char *path)
{
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    return file_exists(tmp);
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    *len = b && fread(b, 1, (size_t)n, f) == (size_t)n ? (size_t)n : 0;
    fclose(f);
    return b;
}

static int write_all(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(b, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The value test_ckpt.c writes at flat index k of the j-th tensor (check_ckpt.py --pattern). */
static float pattern(int j, size_t k) { return (float)(j + 1) + (float)k / 8; }

/* A parameter block with the standard pattern in data, -pattern in m, pattern/4 in v. */
static void make_params(nn_params *p, const nn_tensor *defs, int n)
{
    hp_error err;
    if (nn_params_init(p, defs, n, &err)) {
        fprintf(stderr, "nn_params_init: %s\n", err.msg);
        abort();
    }
    for (int j = 0; j < n; j++)
        for (size_t k = 0; k < p->t[j].size; k++) {
            size_t o = p->t[j].offset + k;
            p->data[o] = pattern(j, k);
            p->m[o] = -pattern(j, k);
            p->v[o] = pattern(j, k) / 4;
        }
}

static const nn_tensor g_defs[] = {
    { .name = "cust.num.w1", .ndim = 2, .shape = { 4, 3 } },
    { .name = "cust.num.b1", .ndim = 1, .shape = { 4 }, .flags = NN_PARAM_NO_DECAY },
    { .name = "prod.emb", .ndim = 3, .shape = { 5, 2, 2 } },
};
#define NDEFS ((int)HP_ARRAY_LEN(g_defs))

static int blocks_equal(const nn_params *a, const nn_params *b, int with_opt)
{
    size_t bytes = a->total * sizeof(float);
    return a->total == b->total && memcmp(a->data, b->data, bytes) == 0 &&
           (!with_opt || (memcmp(a->m, b->m, bytes) == 0 && memcmp(a->v, b->v, bytes) == 0));
}

static int all_zero(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (x[i] != 0) return 0;
    return 1;
}

/* A safetensors file from a header text (padding added) and n data bytes (all 0x3f). */
static unsigned char *make_st(const char *header, size_t ndata, size_t *len)
{
    size_t h = strlen(header), pad = (8 - (8 + h) % 8) % 8;
    *len = 8 + h + pad + ndata;
    unsigned char *b = malloc(*len);
    uint64_t n = h + pad;
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(n >> (8 * i));
    memcpy(b + 8, header, h);
    memset(b + 8 + h, ' ', pad);
    memset(b + 8 + h + pad, 0x3f, ndata);
    return b;
}

#define META "\"__metadata__\":{\"format\":\"hyperp\",\"format_version\":\"1\"}"

/* Loads the hand-made file into a one-tensor model w: F32 [2] and returns the status;
 * err->msg must start with name. */
static int load_handmade(const char *header, size_t ndata, hp_error *err)
{
    static const nn_tensor def = { .name = "w", .ndim = 1, .shape = { 2 } };
    nn_params p;
    make_params(&p, &def, 1);
    size_t len;
    unsigned char *b = make_st(header, ndata, &len);
    int rc = ckpt_load_buffer("hand.safetensors", b, len, &p, 0, NULL, err);
    if (rc && !starts_with(err->msg, "hand.safetensors: ")) rc = 1000; /* flagged by caller */
    free(b);
    nn_params_free(&p);
    return rc;
}

/* ------------------------------------------------------------------ round trips */

TEST(round_trip)
{
    static const char *const keys[] = { "model", "note" };
    static const char *const vals[] = { "two-tower", "caf\xc3\xa9 \xe2\x82\xac" };
    char path[256], path2[256];
    nn_params a, b;
    hp_error err;
    make_params(&a, g_defs, NDEFS);
    make_params(&b, g_defs, NDEFS);
    memset(b.data, 0, b.total * sizeof(float));
    memset(b.m, 0, b.total * sizeof(float));
    CHECK_EQ_INT(ckpt_save(tpath(path, "rt.safetensors"), &a, keys, vals, 2, &err), HP_OK);
    CHECK(!tmp_exists(path));
    CHECKF(ckpt_load(path, &b, 0, &err) == HP_OK, "%s", err.msg);
    CHECK(blocks_equal(&a, &b, 0));
    CHECK(all_zero(b.m, b.total));
    /* saving what was loaded gives the same bytes */
    CHECK_EQ_INT(ckpt_save(tpath(path2, "rt2.safetensors"), &b, keys, vals, 2, &err), HP_OK);
    size_t n1 = 0, n2 = 0;
    unsigned char *f1 = read_all(path, &n1), *f2 = read_all(path2, &n2);
    CHECK(f1 && f2 && n1 == n2 && n1 > 8 && memcmp(f1, f2, n1) == 0);
    if (f1 && n1 > 8) {
        uint64_t h = 0;
        for (int i = 7; i >= 0; i--) h = (h << 8) | f1[i];
        CHECK((8 + h) % 8 == 0);
        CHECK(f1[8] == '{');
        CHECK_EQ_INT(n1 - 8 - h, (12 + 4 + 20) * 4);
    }
    free(f1);
    free(f2);
    nn_params_free(&a);
    nn_params_free(&b);
}

TEST(round_trip_full)
{
    static const char *const keys[] = { "epoch" };
    static const char *const vals[] = { "3" };
    char path[256], path2[256];
    nn_params a, b, c;
    hp_error err;
    long step = -1;
    make_params(&a, g_defs, NDEFS);
    make_params(&b, g_defs, NDEFS);
    make_params(&c, g_defs, NDEFS);
    nn_params_zero_state(&b);
    memset(b.data, 0, b.total * sizeof(float));
    CHECK_EQ_INT(ckpt_save_full(tpath(path, "full.safetensors"), &a, 1234, keys, vals, 1, &err),
                 HP_OK);
    CHECKF(ckpt_load_full(path, &b, &step, &err) == HP_OK, "%s", err.msg);
    CHECK(blocks_equal(&a, &b, 1));
    CHECK_EQ_INT(step, 1234);
    /* an inference load of a training checkpoint: weights only, moments untouched */
    nn_params_zero_state(&c);
    CHECKF(ckpt_load(path, &c, 0, &err) == HP_OK, "%s", err.msg);
    CHECK(blocks_equal(&a, &c, 0) && all_zero(c.m, c.total) && all_zero(c.v, c.total));
    /* a weights-only file has no optimizer state to resume from */
    CHECK_EQ_INT(ckpt_save(tpath(path2, "weights.safetensors"), &a, NULL, NULL, 0, &err), HP_OK);
    CHECK_EQ_INT(ckpt_load(path2, &b, 1, &err), HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "step") != NULL, "%s", err.msg);
    const char *out = getenv("HYPERP_CKPT_OUT");
    if (out && *out)
        CHECKF(ckpt_save_full(out, &a, 1234, keys, vals, 1, &err) == HP_OK, "%s", err.msg);
    nn_params_free(&a);
    nn_params_free(&b);
    nn_params_free(&c);
}

TEST(inspect_and_metadata)
{
    char path[256];
    nn_params a;
    hp_error err;
    ckpt_info info;
    json_t *meta = NULL;
    make_params(&a, g_defs, NDEFS);
    static const char *const keys[] = { "epoch" };
    static const char *const vals[] = { "3" };
    CHECK_EQ_INT(ckpt_save_full(tpath(path, "insp.safetensors"), &a, 7, keys, vals, 1, &err), HP_OK);
    CHECKF(ckpt_inspect(path, &info, &err) == HP_OK, "%s", err.msg);
    CHECK_EQ_INT(info.n, 3 * NDEFS);
    if (info.n == 3 * NDEFS) {
        CHECK_STR(info.t[0].name, "cust.num.w1");
        CHECK_STR(info.t[2].name, "prod.emb");
        CHECK_STR(info.t[3].name, "cust.num.w1.adam_m");
        CHECK_STR(info.t[8].name, "prod.emb.adam_v");
        CHECK_STR(info.t[2].dtype, "F32");
        CHECK(info.t[2].ndim == 3 && info.t[2].shape[0] == 5 && info.t[2].shape[2] == 2);
        CHECK(info.t[1].begin == 48 && info.t[1].end == 64);
    }
    CHECK(info.data_start % 8 == 0);
    CHECK_STR(json_string_value(json_object_get(info.meta, "step")), "7");
    ckpt_info_free(&info);
    ckpt_info_free(&info); /* twice is harmless */
    CHECK_EQ_INT(ckpt_read_metadata(path, &meta, &err), HP_OK);
    CHECK_STR(json_string_value(json_object_get(meta, "format")), "hyperp");
    CHECK_STR(json_string_value(json_object_get(meta, "format_version")), "2");
    CHECK_EQ_INT(strlen(json_string_value(json_object_get(meta, "checksum"))), 32);
    CHECK_STR(json_string_value(json_object_get(meta, "epoch")), "3");
    CHECK_EQ_INT(json_object_size(meta), 5);
    json_decref(meta);
    nn_params_free(&a);
}

/* ------------------------------------------------------------------ model mismatches */

TEST(shape_mismatch)
{
    static const nn_tensor saved[] = { { .name = "cust.num.w1", .ndim = 2, .shape = { 32, 7 } } };
    static const nn_tensor want[] = { { .name = "cust.num.w1", .ndim = 2, .shape = { 32, 8 } } };
    static const nn_tensor want1[] = { { .name = "cust.num.w1", .ndim = 1, .shape = { 224 } } };
    char path[256], msg[400];
    nn_params a, b, c;
    hp_error err;
    make_params(&a, saved, 1);
    make_params(&b, want, 1);
    make_params(&c, want1, 1);
    CHECK_EQ_INT(ckpt_save(tpath(path, "weights.safetensors"), &a, NULL, NULL, 0, &err), HP_OK);
    CHECK_EQ_INT(ckpt_load(path, &b, 0, &err), HP_ERR_FORMAT);
    snprintf(msg, sizeof msg, "%s: tensor 'cust.num.w1' has shape [32,7], the model expects [32,8]",
             path);
    CHECK_STR(err.msg, msg);
    CHECK(b.data[0] == pattern(0, 0)); /* untouched */
    CHECK_EQ_INT(ckpt_load(path, &c, 0, &err), HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "has shape [32,7], the model expects [224]") != NULL, "%s", err.msg);
    nn_params_free(&a);
    nn_params_free(&b);
    nn_params_free(&c);
}

TEST(missing_and_extra_tensor)
{
    char path[256];
    nn_params small, big;
    hp_error err;
    make_params(&small, g_defs, 2);
    make_params(&big, g_defs, NDEFS);
    CHECK_EQ_INT(ckpt_save(tpath(path, "small.safetensors"), &small, NULL, NULL, 0, &err), HP_OK);
    CHECK_EQ_INT(ckpt_load(path, &big, 0, &err), HP_ERR_NOTFOUND);
    CHECKF(starts_with(err.msg, path) && strstr(err.msg, "tensor 'prod.emb' is missing"),
           "%s", err.msg);
    CHECK_EQ_INT(ckpt_save(tpath(path, "big.safetensors"), &big, NULL, NULL, 0, &err), HP_OK);
    CHECK_EQ_INT(ckpt_load(path, &small, 0, &err), HP_ERR_FORMAT);
    CHECKF(starts_with(err.msg, path) &&
           strstr(err.msg, "tensor 'prod.emb' is in the file but not in the model"), "%s", err.msg);
    /* full file without the moments of one tensor */
    const char *h = "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    "\"w.adam_m\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}";
    static const nn_tensor def = { .name = "w", .ndim = 1, .shape = { 2 } };
    nn_params w;
    make_params(&w, &def, 1);
    size_t len;
    unsigned char *b = make_st(h, 16, &len);
    CHECK_EQ_INT(ckpt_load_buffer("m.safetensors", b, len, &w, 0, NULL, &err), HP_OK);
    CHECK_EQ_INT(ckpt_load_buffer("m.safetensors", b, len, &w, 1, NULL, &err), HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "step is missing") != NULL, "%s", err.msg);
    free(b);
    h = "{\"__metadata__\":{\"format\":\"hyperp\",\"format_version\":\"1\",\"step\":\"9\"},"
        "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"w.adam_m\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}";
    b = make_st(h, 16, &len);
    CHECK_EQ_INT(ckpt_load_buffer("m.safetensors", b, len, &w, 1, NULL, &err), HP_ERR_NOTFOUND);
    CHECK_STR(err.msg, "m.safetensors: tensor 'w.adam_v' is missing from the file "
                       "(saved without optimizer state?)");
    free(b);
    nn_params_free(&w);
    nn_params_free(&small);
    nn_params_free(&big);
}

/* ------------------------------------------------------------------ broken files */

/* A small full checkpoint in memory (caller frees). */
static unsigned char *small_file(size_t *len)
{
    static const nn_tensor defs[] = { { .name = "a", .ndim = 2, .shape = { 2, 3 } },
                                      { .name = "b", .ndim = 1, .shape = { 2 } } };
    char path[256];
    nn_params p;
    hp_error err;
    make_params(&p, defs, 2);
    if (ckpt_save_full(tpath(path, "small_full.safetensors"), &p, 5, NULL, NULL, 0, &err)) abort();
    nn_params_free(&p);
    return read_all(path, len);
}

static void init_small(nn_params *p)
{
    static const nn_tensor defs[] = { { .name = "a", .ndim = 2, .shape = { 2, 3 } },
                                      { .name = "b", .ndim = 1, .shape = { 2 } } };
    make_params(p, defs, 2);
    nn_init_const(p->data, p->total, 9.0f);
}

TEST(every_truncation_fails_cleanly)
{
    size_t len;
    unsigned char *whole = small_file(&len);
    char path[256];
    nn_params p;
    hp_error err;
    init_small(&p);
    CHECK(whole && len > 100);
    tpath(path, "trunc.safetensors");
    for (size_t n = 0; whole && n < len; n++) {
        /* an exact-size heap copy, so ASan sees any read past the end */
        unsigned char *b = malloc(n ? n : 1);
        memcpy(b, whole, n);
        int rc = ckpt_load_buffer("cut.safetensors", b, n, &p, 1, NULL, &err);
        CHECKF(rc == HP_ERR_FORMAT && starts_with(err.msg, "cut.safetensors: "),
               "length %zu: rc %d: %s", n, rc, err.msg);
        CHECK(write_all(path, b, n) == 0);
        rc = ckpt_load(path, &p, 0, &err);
        CHECKF(rc == HP_ERR_FORMAT && starts_with(err.msg, path), "length %zu: %s", n, err.msg);
        free(b);
    }
    CHECK(p.data[0] == 9.0f && p.data[p.total - 1] == 9.0f);
    CHECK_EQ_INT(ckpt_load_buffer("whole", whole, len, &p, 1, NULL, &err), HP_OK);
    CHECK_EQ_INT(ckpt_load_buffer("short", whole, 5, &p, 1, NULL, &err), HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "too short") != NULL, "%s", err.msg);
    free(whole);
    nn_params_free(&p);
}

/* Every byte of a file hyperp writes is covered (the length, the header with its padding,
 * the data): any change to one byte, with every bit pattern, must be refused, as an error
 * naming the buffer, and must leave the parameters untouched. */
TEST(flipped_header_bytes)
{
    size_t len;
    unsigned char *whole = small_file(&len);
    nn_params p;
    hp_error err;
    init_small(&p);
    long accepted = 0, tried = 0;
    for (size_t i = 0; whole && i < len; i++)
        for (unsigned m = 1; m < 256; m++) {
            unsigned char *b = malloc(len);
            memcpy(b, whole, len);
            b[i] ^= (unsigned char)m;
            int rc = ckpt_load_buffer("flip", b, len, &p, 1, NULL, &err);
            tried++;
            accepted += rc == HP_OK;
            if (rc == HP_OK && accepted <= 5) CHECKF(0, "byte %zu ^ %#x is accepted", i, m);
            if (rc != HP_OK)
                CHECKF((rc == HP_ERR_FORMAT || rc == HP_ERR_VERSION || rc == HP_ERR_NOTFOUND) &&
                       starts_with(err.msg, "flip: "), "byte %zu ^ %#x: rc %d %s", i, m, rc, err.msg);
            free(b);
        }
    CHECKF(accepted == 0, "%ld of %ld one-byte changes accepted", accepted, tried);
    CHECK(p.data[0] == 9.0f && p.data[p.total - 1] == 9.0f);
    /* a weight changed: only the checksum can tell */
    whole[len - 1] ^= 0x01;
    CHECK_EQ_INT(ckpt_load_buffer("flip", whole, len, &p, 1, NULL, &err), HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "flip: checksum mismatch") != NULL, "%s", err.msg);
    whole[len - 1] ^= 0x01;
    /* version 2 turned into 1 (two bits): the checksum left behind gives it away */
    unsigned char *ver = (unsigned char *)strstr((char *)whole + 8, "\"format_version\":\"2\"");
    CHECK(ver != NULL);
    if (ver) ver[18] = '1';
    CHECK_EQ_INT(ckpt_load_buffer("flip", whole, len, &p, 1, NULL, &err), HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "but format_version 1 has none") != NULL, "%s", err.msg);
    if (ver) ver[18] = '2';
    CHECK_EQ_INT(ckpt_load_buffer("flip", whole, len, &p, 1, NULL, &err), HP_OK);
    /* the specific errors: the opening brace, and the format name */
    whole[8] ^= 0x01;
    CHECK_EQ_INT(ckpt_load_buffer("flip", whole, len, &p, 1, NULL, &err), HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "flip: header is not valid JSON (line 1, column") != NULL, "%s", err.msg);
    whole[8] ^= 0x01;
    unsigned char *hy = (unsigned char *)strstr((char *)whole + 8, "hyperp");
    CHECK(hy != NULL);
    if (hy) hy[0] ^= 0x20;
    CHECK_EQ_INT(ckpt_load_buffer("flip", whole, len, &p, 1, NULL, &err), HP_ERR_VERSION);
    CHECKF(strstr(err.msg, "not a hyperp checkpoint") != NULL, "%s", err.msg);
    free(whole);
    nn_params_free(&p);
}

TEST(bad_offsets)
{
    static const struct { const char *header; size_t ndata; const char *expect; } cases[] = {
        { "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
          "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap" },
        { "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
          "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20,
          "bytes [8, 12) of the data buffer belong to no tensor" },
        { "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
          "bytes [0, 4)" },
        { "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 7,
          "truncated: the tensors need 8 bytes of data, the file has 7" },
        { "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 9,
          "1 bytes after the last tensor" },
        { "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
          "data_offsets [0, 4] hold 4 bytes, but shape [2] of F32 needs 8" },
        { "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8,
          "data_offsets is not" },
        { "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8,
          "data_offsets is not" },
        { "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.0]}}", 8,
          "data_offsets is not" },
        { "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8,
          "data_offsets is not" },
        { "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,18446744073709551615]}}",
          8, "not valid JSON" },
        { "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
          "\"data_offsets\":[0,8]}}", 8, "overflows" },
        { "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
          "shape[0] is not an integer" },
        { "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}",
          8, "at most 8" },
        { "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "exactly dtype, shape" },
        { "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8,
          "exactly dtype, shape" },
        { "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"offsets\":[0,8]}}", 8,
          "data_offsets is not" },
        { "{" META ",\"w\":[0,8]}", 8, "entry is not an object" },
        { "{" META ",\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
          "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "duplicate" },
        { "[1,2]", 0, "header is not a JSON object" },
        { "", 0, "not valid JSON (line 1" },
        { "{\"__metadata__\":{\"format\":1},\"w\":{\"dtype\":\"F32\",\"shape\":[2],"
          "\"data_offsets\":[0,8]}}", 8, "__metadata__ 'format' is not a string" },
        { "{\"__metadata__\":[],\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
          "__metadata__ is not an object" },
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(cases); i++) {
        hp_error err = { 0, "" };
        int rc = load_handmade(cases[i].header, cases[i].ndata, &err);
        CHECKF(rc == HP_ERR_FORMAT && strstr(err.msg, cases[i].expect), "case %zu: rc %d: %s",
               i, rc, err.msg);
    }
}

TEST(wrong_dtype)
{
    hp_error err;
    ckpt_info info;
    const char *f16 = "{" META ",\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}";
    CHECK_EQ_INT(load_handmade(f16, 4, &err), HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "hand.safetensors: tensor 'w' has dtype F16, hyperp reads only F32"),
           "%s", err.msg);
    size_t len;
    unsigned char *b = make_st(f16, 4, &len);
    CHECK_EQ_INT(ckpt_inspect_buffer("f16", b, len, &info, &err), HP_OK); /* any dtype is listed */
    CHECK(info.n == 1 && strcmp(info.t[0].dtype, "F16") == 0);
    ckpt_info_free(&info);
    free(b);
    CHECK_EQ_INT(load_handmade("{" META ",\"w\":{\"dtype\":\"F33\",\"shape\":[2],"
                               "\"data_offsets\":[0,8]}}", 8, &err), HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "dtype 'F33' is not a safetensors dtype"), "%s", err.msg);
}

TEST(header_length_checks)
{
    hp_error err;
    nn_params p;
    init_small(&p);
    unsigned char b[64];
    memset(b, ' ', sizeof b);
    uint64_t lens[] = { (uint64_t)1 << 40, CKPT_MAX_HEADER + 1, UINT64_MAX, 57, 200 };
    const char *expect[] = { "over the 100 MB limit", "over the 100 MB limit", "over the 100 MB",
                             "truncated: header length 57, but only 56 bytes follow",
                             "truncated: header length 200" };
    for (size_t i = 0; i < HP_ARRAY_LEN(lens); i++) {
        for (int k = 0; k < 8; k++) b[k] = (unsigned char)(lens[i] >> (8 * k));
        CHECK_EQ_INT(ckpt_load_buffer("len", b, sizeof b, &p, 0, NULL, &err), HP_ERR_FORMAT);
        CHECKF(strstr(err.msg, expect[i]) != NULL, "%s", err.msg);
    }
    nn_params_free(&p);
}

TEST(wrong_version)
{
    static const struct { const char *meta; const char *expect; } cases[] = {
        { "\"__metadata__\":{\"format\":\"hyperp\",\"format_version\":\"3\"}",
          "format_version '3', this build reads format_version 1 and 2" },
        { "\"__metadata__\":{\"format\":\"hyperp\"}", "format_version missing" },
        { "\"__metadata__\":{\"format\":\"pt\"}", "format is 'pt'" },
        { "\"__metadata__\":{}", "format is missing" },
    };
    char header[300];
    hp_error err;
    for (size_t i = 0; i < HP_ARRAY_LEN(cases); i++) {
        snprintf(header, sizeof header, "{%s,\"w\":{\"dtype\":\"F32\",\"shape\":[2],"
                 "\"data_offsets\":[0,8]}}", cases[i].meta);
        CHECK_EQ_INT(load_handmade(header, 8, &err), HP_ERR_VERSION);
        CHECKF(strstr(err.msg, cases[i].expect) != NULL, "%s", err.msg);
    }
    /* no __metadata__ at all: a plain safetensors file, not ours */
    CHECK_EQ_INT(load_handmade("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                               8, &err), HP_ERR_VERSION);
    /* ...whose metadata can still be read */
    char path[256];
    size_t len;
    unsigned char *b = make_st("{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\","
                               "\"shape\":[2],\"data_offsets\":[0,8]}}", 8, &len);
    CHECK(write_all(tpath(path, "pt.safetensors"), b, len) == 0);
    json_t *meta = NULL;
    CHECK_EQ_INT(ckpt_read_metadata(path, &meta, &err), HP_OK);
    CHECK_STR(json_string_value(json_object_get(meta, "format")), "pt");
    json_decref(meta);
    free(b);
}

/* ------------------------------------------------------------------ atomic writes */

TEST(atomic_write)
{
    char path[256], tmp[300], msg[700];
    nn_params a, b;
    hp_error err;
    make_params(&a, g_defs, NDEFS);
    make_params(&b, g_defs, NDEFS);
    tpath(path, "atomic.safetensors");
    CHECK_EQ_INT(ckpt_save(path, &a, NULL, NULL, 0, &err), HP_OK);
    CHECK(file_exists(path) && !tmp_exists(path));
    size_t n0, n1;
    unsigned char *before = read_all(path, &n0);
    /* a write that cannot create PATH.tmp fails and leaves PATH as it was */
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    CHECK(mkdir(tmp, 0700) == 0);
    a.data[0] = 42.0f;
    CHECK_EQ_INT(ckpt_save(path, &a, NULL, NULL, 0, &err), HP_ERR_WRITE);
    CHECKF(starts_with(err.msg, path) && strstr(err.msg, "cannot create"), "%s", err.msg);
    unsigned char *after = read_all(path, &n1);
    CHECK(before && after && n0 == n1 && memcmp(before, after, n0) == 0);
    CHECK(rmdir(tmp) == 0);
    /* a full disk (PATH.tmp a link to /dev/full): HP_ERR_WRITE naming the path, PATH as it was */
    if (access("/dev/full", W_OK) == 0 && symlink("/dev/full", tmp) == 0) {
        CHECK_EQ_INT(ckpt_save(path, &a, NULL, NULL, 0, &err), HP_ERR_WRITE);
        snprintf(msg, sizeof msg, "%s: cannot write %s: No space left on device", path, tmp);
        CHECKF(strcmp(err.msg, msg) == 0, "%s", err.msg);
        unsigned char *kept = read_all(path, &n1);
        CHECK(kept && n0 == n1 && memcmp(before, kept, n0) == 0);
        free(kept);
        unlink(tmp); /* a failed save removes it already; the link must not stay either way */
    }
    /* overwriting replaces the file */
    CHECK_EQ_INT(ckpt_save(path, &a, NULL, NULL, 0, &err), HP_OK);
    CHECK(!tmp_exists(path));
    CHECK_EQ_INT(ckpt_load(path, &b, 0, &err), HP_OK);
    CHECK(b.data[0] == 42.0f);
    /* no directory: cannot write, nothing created */
    snprintf(tmp, sizeof tmp, "%s/no/such/dir/w.safetensors", g_dir);
    CHECK_EQ_INT(ckpt_save(tmp, &a, NULL, NULL, 0, &err), HP_ERR_WRITE);
    snprintf(msg, sizeof msg, "%s: cannot create %s.tmp: ", tmp, tmp);
    CHECKF(starts_with(err.msg, msg), "%s", err.msg);
    CHECK_EQ_INT(ckpt_load(tmp, &b, 0, &err), HP_ERR_IO);
    CHECK(starts_with(err.msg, tmp));
    CHECK_EQ_INT(ckpt_load(g_dir, &b, 0, &err), HP_ERR_IO); /* a directory */
    CHECKF(strstr(err.msg, "not a regular file") != NULL, "%s", err.msg);
    free(before);
    free(after);
    nn_params_free(&a);
    nn_params_free(&b);
}

TEST(bad_metadata_arguments)
{
    char path[256];
    nn_params a;
    hp_error err;
    make_params(&a, g_defs, NDEFS);
    tpath(path, "meta_args.safetensors");
    static const char *const k1[] = { "format" }, *const v1[] = { "x" };
    static const char *const k2[] = { "a", "a" }, *const v2[] = { "1", "2" };
    static const char *const k3[] = { "a" }, *const v3[] = { "\xff" };
    static const char *const k4[] = { "step" }, *const v4[] = { "1" };
    CHECK_EQ_INT(ckpt_save(path, &a, k1, v1, 1, &err), HP_ERR_INVAL);
    CHECKF(strstr(err.msg, "'format' is reserved") != NULL, "%s", err.msg);
    CHECK_EQ_INT(ckpt_save(path, &a, k2, v2, 2, &err), HP_ERR_INVAL);
    CHECKF(strstr(err.msg, "'a' is given twice") != NULL, "%s", err.msg);
    CHECK_EQ_INT(ckpt_save(path, &a, k3, v3, 1, &err), HP_ERR_INVAL);
    CHECK_EQ_INT(ckpt_save_full(path, &a, 1, k4, v4, 1, &err), HP_ERR_INVAL);
    CHECK_EQ_INT(ckpt_save_full(path, &a, -1, NULL, NULL, 0, &err), HP_ERR_INVAL);
    CHECK(starts_with(err.msg, path));
    CHECK(!file_exists(path) && !tmp_exists(path));
    nn_params_free(&a);
}

/* ------------------------------------------------------------------ the PyTorch reference */

TEST(pytorch_reference_file)
{
    /* Declared in another order than the file stores them. */
    static const nn_tensor defs[] = {
        { .name = "tower.w", .ndim = 2, .shape = { 3, 4 } },
        { .name = "tower.b", .ndim = 1, .shape = { 3 } },
        { .name = "emb", .ndim = 3, .shape = { 2, 2, 2 } },
    };
    nn_params p;
    hp_error err;
    make_params(&p, defs, 3);
    int rc = ckpt_load(REF_PATH, &p, 0, &err);
    CHECKF(rc == HP_OK, "%s (regenerate with /usr/bin/python3 tests/fixtures/gen_ckpt_ref.py)",
           err.msg);
    const float *w = nn_params_get(&p, "tower.w"), *b = nn_params_get(&p, "tower.b");
    const float *e = nn_params_get(&p, "emb");
    for (int i = 0; i < 12 && rc == HP_OK; i++) CHECK(w[i] == (float)(i - 5) / 8);
    for (int i = 0; i < 8 && rc == HP_OK; i++) CHECK(e[i] == (float)i * 0.25f);
    if (rc == HP_OK) {
        CHECK(b[0] == 1.5f);
        CHECK(b[1] == 0.0f && signbit(b[1]));
        CHECK(b[2] == ldexpf(1.0f, -130) && b[2] != 0.0f);
    }
    json_t *meta = NULL;
    CHECK_EQ_INT(ckpt_read_metadata(REF_PATH, &meta, &err), HP_OK);
    const char *prod = json_string_value(json_object_get(meta, "producer"));
    CHECK(prod && starts_with(prod, "torch "));
    json_decref(meta);
    nn_params_free(&p);
}

/* ------------------------------------------------------------------ JSON helpers */

TEST(json_helpers)
{
    char path[256], msg[300];
    hp_error err;
    json_t *doc = json_pack("{s:i, s:[f, f], s:s}", "a", 1, "b", 0.1, 1e-300, "s", "caf\xc3\xa9");
    json_t *back = NULL;
    CHECK_EQ_INT(ckpt_write_json_atomic(tpath(path, "model.json"), doc, &err), HP_OK);
    CHECK(!tmp_exists(path));
    CHECK_EQ_INT(ckpt_read_json(path, &back, &err), HP_OK);
    CHECK(back && json_equal(doc, back)); /* doubles survive exactly */
    size_t n;
    unsigned char *text = read_all(path, &n);
    CHECK(text && n > 0 && text[n - 1] == '\n');
    free(text);
    json_decref(back);
    json_decref(doc);
    const char *bad = "{\n  \"a\": 1,\n  oops\n}\n";
    CHECK(write_all(tpath(path, "bad.json"), bad, strlen(bad)) == 0);
    CHECK_EQ_INT(ckpt_read_json(path, &back, &err), HP_ERR_FORMAT);
    snprintf(msg, sizeof msg, "%s:3:", path);
    CHECKF(starts_with(err.msg, msg) && back == NULL, "%s", err.msg);
    const char *dup = "{\"a\": 1, \"a\": 2}";
    CHECK(write_all(path, dup, strlen(dup)) == 0);
    CHECK_EQ_INT(ckpt_read_json(path, &back, &err), HP_ERR_FORMAT);
    CHECK_EQ_INT(ckpt_read_json(tpath(path, "none.json"), &back, &err), HP_ERR_IO);
    CHECK(starts_with(err.msg, path));
    CHECK_EQ_INT(ckpt_write_json_atomic(tpath(path, "x.json"), NULL, &err), HP_ERR_INVAL);
    json_t *str = json_string("x");
    CHECK_EQ_INT(ckpt_write_json_atomic(path, str, &err), HP_ERR_INVAL);
    CHECK(!file_exists(path));
    json_decref(str);
}

/* ------------------------------------------------------------------ allocation failures */

/* The Nth allocation through the hp hook fails, for every N until a pass needs no more.
 * jansson's own allocations are not injected: libjansson 2.14 itself crashes in json_loadb
 * when its allocator fails mid-parse (and reports other failures as parse errors). */

static long g_alloc_n, g_fail_at = -1;

static void *failing_malloc(size_t n)
{
    if (g_fail_at >= 0 && g_alloc_n++ == g_fail_at) return NULL;
    return malloc(n);
}

static void *failing_realloc(void *p, size_t n)
{
    if (g_fail_at >= 0 && g_alloc_n++ == g_fail_at) return NULL;
    return realloc(p, n);
}

/* One pass of everything that allocates; returns the first non-OK status. */
static int ckpt_workout(nn_params *a, nn_params *b, const char *path, const char *jpath)
{
    static const char *const keys[] = { "k" }, *const vals[] = { "v" };
    hp_error err;
    long step;
    ckpt_info info;
    json_t *doc = NULL;
    int rc = ckpt_save_full(path, a, 3, keys, vals, 1, &err);
    if (!rc) rc = ckpt_load_full(path, b, &step, &err);
    if (!rc) rc = ckpt_inspect(path, &info, &err);
    if (!rc) ckpt_info_free(&info);
    if (!rc) rc = ckpt_read_json(jpath, &doc, &err);
    if (!rc) rc = ckpt_write_json_atomic(jpath, doc, &err);
    json_decref(doc);
    return rc;
}

TEST(allocation_failures)
{
    char path[256], jpath[256];
    nn_params a, b;
    make_params(&a, g_defs, NDEFS);
    make_params(&b, g_defs, NDEFS);
    tpath(path, "oom.safetensors");
    tpath(jpath, "oom.json");
    const char *jtext = "{\"x\": [1, 2, {\"y\": \"z\"}]}";
    CHECK(write_all(jpath, jtext, strlen(jtext)) == 0);
    const hp_allocator hook = { failing_malloc, failing_realloc, free };
    int ok = 0;
    for (long n = 0; n < 2000 && !ok; n++) {
        hp_set_allocator(&hook);
        g_alloc_n = 0;
        g_fail_at = n;
        int rc = ckpt_workout(&a, &b, path, jpath);
        g_fail_at = -1;
        hp_set_allocator(NULL);
        ok = rc == HP_OK && g_alloc_n <= n;
        CHECKF(rc == HP_OK || rc == HP_ERR_NOMEM, "allocation %ld fails: rc %d", n, rc);
        CHECK(!tmp_exists(path) && !tmp_exists(jpath));
    }
    CHECK(ok);
    CHECK(blocks_equal(&a, &b, 1));
    nn_params_free(&a);
    nn_params_free(&b);
}

/* ------------------------------------------------------------------ main */

/* Removes the files the tests made (one directory level, plus no/such/dir). */
static void remove_dir(void)
{
    static const char *const names[] = {
        "rt.safetensors", "rt2.safetensors", "full.safetensors", "weights.safetensors",
        "insp.safetensors", "small.safetensors", "big.safetensors", "small_full.safetensors",
        "trunc.safetensors", "pt.safetensors", "atomic.safetensors", "meta_args.safetensors",
        "model.json", "bad.json", "oom.safetensors", "oom.json",
    };
    char path[256];
    for (size_t i = 0; i < HP_ARRAY_LEN(names); i++) remove(tpath(path, names[i]));
    rmdir(g_dir);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/test_ckpt.XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(round_trip);
    RUN(round_trip_full);
    RUN(inspect_and_metadata);
    RUN(shape_mismatch);
    RUN(missing_and_extra_tensor);
    RUN(every_truncation_fails_cleanly);
    RUN(flipped_header_bytes);
    RUN(bad_offsets);
    RUN(wrong_dtype);
    RUN(header_length_checks);
    RUN(wrong_version);
    RUN(atomic_write);
    RUN(bad_metadata_arguments);
    RUN(pytorch_reference_file);
    RUN(json_helpers);
    RUN(allocation_failures);
    remove_dir();
    return check_summary("test_ckpt");
}
