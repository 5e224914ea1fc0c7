/* hp: the core every module shares: status codes, error messages, the allocation hook,
 * a deterministic random number generator and small string helpers.
 *
 * Conventions (see docs/architecture.md):
 *  - Functions that can fail return int: HP_OK (0) or a negative hp_status.
 *  - When they take an hp_error *, they also write one human sentence there (no trailing
 *    newline) that names where the problem is (file:line, column, JSON field).
 *    err may be NULL when the caller does not want the text.
 *  - Library code never calls exit() and never prints to stdout. */
#ifndef HP_H
#define HP_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

typedef enum {
    HP_OK = 0,
    HP_ERR_INVAL = -1,      /* bad argument or bad configuration */
    HP_ERR_NOMEM = -2,      /* allocation failed */
    HP_ERR_IO = -3,         /* cannot open/read/write a file */
    HP_ERR_FORMAT = -4,     /* malformed input (one record or one value) */
    HP_ERR_NOTFOUND = -5,   /* a named thing does not exist */
    HP_ERR_RANGE = -6,      /* value out of the allowed range */
    HP_ERR_ENCODING = -7,   /* text is not in the declared encoding */
    HP_ERR_INTERRUPTED = -8,/* stopped by a signal; partial work was saved */
    HP_ERR_VERSION = -9,    /* file from another format version */
    HP_ERR_EMPTY = -10,     /* file or input has no data */
    HP_ERR_WRITE = -11      /* cannot write output (disk full, closed pipe): not bad input */
} hp_status;

#define HP_ERROR_MAX 512

typedef struct {
    int status;               /* the hp_status of the last failure, HP_OK if none */
    char msg[HP_ERROR_MAX];   /* one sentence, no trailing newline */
} hp_error;

/* Short name of a status code ("invalid argument"); never NULL. */
const char *hp_strerror(int status);

/* Writes a formatted message into err (if not NULL) and returns status, so callers can write
 * `return hp_fail(err, HP_ERR_INVAL, "column '%s': unknown role", name);`. */
int hp_fail(hp_error *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to the message already in err (for adding file:line context). */
void hp_error_prefix(hp_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- allocation: every module allocates through these so tests can inject failures ---- */
void *hp_malloc(size_t n);
void *hp_calloc(size_t count, size_t size);
void *hp_realloc(void *p, size_t n);
void hp_free(void *p);
char *hp_strdup(const char *s);
char *hp_strndup(const char *s, size_t n);

/* Replaces the allocator (NULL restores libc). The hooks must behave like malloc/realloc/free. */
typedef struct {
    void *(*malloc_fn)(size_t);
    void *(*realloc_fn)(void *, size_t);
    void (*free_fn)(void *);
} hp_allocator;
void hp_set_allocator(const hp_allocator *a);

/* Grows *buf (of *cap elements of size elem) to hold at least need elements. */
int hp_grow(void **buf, size_t *cap, size_t need, size_t elem);

/* ---- deterministic random numbers (xoshiro256**, seeded by splitmix64) ---- */
typedef struct { uint64_t s[4]; } hp_rng;
void hp_rng_seed(hp_rng *r, uint64_t seed);
uint64_t hp_rng_u64(hp_rng *r);
double hp_rng_uniform(hp_rng *r);            /* [0, 1) */
uint64_t hp_rng_below(hp_rng *r, uint64_t n); /* [0, n), n > 0, unbiased */
double hp_rng_normal(hp_rng *r);             /* standard normal */

/* ---- small helpers ---- */
/* Trims ASCII spaces/tabs/CR from both ends of [*s, *s+*len). */
void hp_trim(const char **s, size_t *len);
/* 64-bit FNV-1a hash of bytes. */
uint64_t hp_hash_bytes(const void *p, size_t n);
/* Creates a directory and its parents, like mkdir -p. HP_OK or HP_ERR_IO naming the path. */
int hp_mkdirs(const char *path, hp_error *err);
/* Monotonic seconds, for progress and benchmarks only. */
double hp_now(void);

#define HP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define HP_MIN(a, b) ((a) < (b) ? (a) : (b))
#define HP_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
