/* Core: status text, errors, allocation hook, RNG, helpers. */
#define _POSIX_C_SOURCE 200809L
#include "hp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <time.h>

/* ------------------------------------------------------------------ status and errors */

const char *hp_strerror(int status)
{
    switch (status) {
    case HP_OK: return "ok";
    case HP_ERR_INVAL: return "invalid argument";
    case HP_ERR_NOMEM: return "out of memory";
    case HP_ERR_IO: return "input/output error";
    case HP_ERR_FORMAT: return "malformed input";
    case HP_ERR_NOTFOUND: return "not found";
    case HP_ERR_RANGE: return "out of range";
    case HP_ERR_ENCODING: return "invalid encoding";
    case HP_ERR_INTERRUPTED: return "interrupted";
    case HP_ERR_VERSION: return "version mismatch";
    case HP_ERR_EMPTY: return "no data";
    case HP_ERR_WRITE: return "write failed";
    default: return "unknown error";
    }
}

int hp_fail(hp_error *err, int status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

void hp_error_prefix(hp_error *err, const char *fmt, ...)
{
    if (!err) return;
    char prefix[HP_ERROR_MAX], old[HP_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* prefix + ": " + old, cut to fit */
    size_t n = strlen(prefix);
    if (n > sizeof err->msg - 3) n = sizeof err->msg - 3;
    memcpy(err->msg, prefix, n);
    memcpy(err->msg + n, ": ", 2);
    size_t room = sizeof err->msg - n - 3;
    size_t m = strnlen(old, room);
    memcpy(err->msg + n + 2, old, m);
    err->msg[n + 2 + m] = 0;
}

/* ------------------------------------------------------------------ allocation */

static hp_allocator g_alloc = { malloc, realloc, free };

void hp_set_allocator(const hp_allocator *a)
{
    if (a) g_alloc = *a;
    else g_alloc = (hp_allocator){ malloc, realloc, free };
}

void *hp_malloc(size_t n) { return g_alloc.malloc_fn(n ? n : 1); }

void *hp_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = hp_malloc(count * size);
    if (p && count && size) memset(p, 0, count * size);
    return p;
}

void *hp_realloc(void *p, size_t n) { return g_alloc.realloc_fn(p, n ? n : 1); }

void hp_free(void *p)
{
    if (p) g_alloc.free_fn(p);
}

char *hp_strndup(const char *s, size_t n)
{
    char *d = hp_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *hp_strdup(const char *s) { return s ? hp_strndup(s, strlen(s)) : NULL; }

int hp_grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return HP_OK;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem) return HP_ERR_NOMEM;
        n *= 2;
    }
    void *p = hp_realloc(*buf, n * elem);
    if (!p) return HP_ERR_NOMEM;
    *buf = p;
    *cap = n;
    return HP_OK;
}

/* ------------------------------------------------------------------ random numbers */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void hp_rng_seed(hp_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t hp_rng_u64(hp_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double hp_rng_uniform(hp_rng *r) { return (double)(hp_rng_u64(r) >> 11) * 0x1.0p-53; }

uint64_t hp_rng_below(hp_rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = hp_rng_u64(r);
    while (x >= limit);
    return x % n;
}

double hp_rng_normal(hp_rng *r)
{
    /* Box-Muller; one value per call keeps the generator state simple to reproduce. */
    double u1 = hp_rng_uniform(r), u2 = hp_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ------------------------------------------------------------------ helpers */

void hp_trim(const char **s, size_t *len)
{
    const char *p = *s;
    size_t n = *len;
    while (n && (*p == ' ' || *p == '\t' || *p == '\r')) p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r')) n--;
    *s = p;
    *len = n;
}

/* Eight bytes per step (dictionaries hash every categorical value during ingest), then a
 * murmur-style finaliser so that all 64 bits are well mixed. */
uint64_t hp_hash_bytes(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = (h ^ (w * 0x87c37b91114253d5ULL)) * 0x4cf5ad432745937fULL;
        h ^= h >> 29;
        b += 8;
        n -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, b, n);
    h = (h ^ (tail * 0x87c37b91114253d5ULL)) * 0x4cf5ad432745937fULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

double hp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int hp_mkdirs(const char *path, hp_error *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return hp_fail(err, HP_ERR_INVAL, "'%s': not a usable directory path", path);
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1;; p++) {
        char c = *p;
        if (c != '/' && c != 0) continue;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return hp_fail(err, HP_ERR_IO, "%s: cannot create directory: %s", buf, strerror(errno));
        *p = c;
        if (!c) break;
    }
    return HP_OK;
}
