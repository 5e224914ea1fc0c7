/* nn parameter block, initialisers and the activation arena. */
#include "nn/nn.h"

#include <math.h>
#include <string.h>

/* Tensors start on 16-float (64-byte) boundaries so every tensor is cache-line aligned
 * for BLAS and the compiler's vector loops. */
#define NN_ALIGN_FLOATS 16
#define NN_ARENA_ALIGN 64

/* ------------------------------------------------------------------ parameter block */

static int check_def(const nn_tensor *d, const nn_tensor *defs, int i, hp_error *err)
{
    size_t len = strnlen(d->name, NN_NAME_MAX);
    if (len == 0 || len == NN_NAME_MAX)
        return hp_fail(err, HP_ERR_INVAL, "parameter %d: name is empty or longer than %d bytes",
                       i, NN_NAME_MAX - 1);
    if (d->ndim < 1 || d->ndim > NN_MAX_DIMS)
        return hp_fail(err, HP_ERR_INVAL, "parameter '%s': ndim %d is not in 1..%d", d->name,
                       d->ndim, NN_MAX_DIMS);
    for (int k = 0; k < d->ndim; k++)
        if (d->shape[k] <= 0)
            return hp_fail(err, HP_ERR_INVAL, "parameter '%s': dim %d is %d, must be > 0",
                           d->name, k, d->shape[k]);
    for (int j = 0; j < i; j++)
        if (strcmp(defs[j].name, d->name) == 0)
            return hp_fail(err, HP_ERR_INVAL, "parameter '%s' is defined twice", d->name);
    return HP_OK;
}

/* Fills size and offset of every tensor; returns the total floats or 0 on overflow. */
static size_t layout(nn_tensor *t, int n)
{
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        size_t size = 1;
        for (int k = 0; k < t[i].ndim; k++) {
            if (size > SIZE_MAX / 4 / (size_t)t[i].shape[k]) return 0;
            size *= (size_t)t[i].shape[k];
        }
        t[i].size = size;
        t[i].offset = total;
        size_t padded = (size + NN_ALIGN_FLOATS - 1) / NN_ALIGN_FLOATS * NN_ALIGN_FLOATS;
        if (total > SIZE_MAX / 4 - padded) return 0;
        total += padded;
    }
    return total;
}

/* 64-byte aligned zeroed block via the hp allocator; the raw pointer is kept just before
 * the aligned one so nn code can free it. */
static float *block_alloc(size_t nfloats)
{
    size_t bytes = nfloats * sizeof(float) + NN_ARENA_ALIGN + sizeof(void *);
    unsigned char *raw = hp_calloc(1, bytes);
    if (!raw) return NULL;
    uintptr_t a = ((uintptr_t)raw + sizeof(void *) + NN_ARENA_ALIGN - 1) &
                  ~(uintptr_t)(NN_ARENA_ALIGN - 1);
    memcpy((unsigned char *)a - sizeof(void *), &raw, sizeof raw);
    return (float *)a;
}

static void block_free(void *p)
{
    if (!p) return;
    void *raw;
    memcpy(&raw, (unsigned char *)p - sizeof(void *), sizeof raw);
    hp_free(raw);
}

int nn_params_init(nn_params *p, const nn_tensor *defs, int n, hp_error *err)
{
    memset(p, 0, sizeof *p);
    if (n <= 0) return hp_fail(err, HP_ERR_INVAL, "a parameter block needs at least one tensor");
    for (int i = 0; i < n; i++) {
        int rc = check_def(&defs[i], defs, i, err);
        if (rc) return rc;
    }
    p->t = hp_malloc((size_t)n * sizeof *p->t);
    if (!p->t) return hp_fail(err, HP_ERR_NOMEM, "out of memory for %d parameter tensors", n);
    memcpy(p->t, defs, (size_t)n * sizeof *p->t);
    p->n = n;
    p->total = layout(p->t, n);
    if (p->total == 0) {
        nn_params_free(p);
        return hp_fail(err, HP_ERR_RANGE, "parameter block is too large");
    }
    p->data = block_alloc(p->total);
    p->grad = block_alloc(p->total);
    p->m = block_alloc(p->total);
    p->v = block_alloc(p->total);
    if (!p->data || !p->grad || !p->m || !p->v) {
        size_t mb = p->total * sizeof(float) >> 20;
        nn_params_free(p);
        return hp_fail(err, HP_ERR_NOMEM, "out of memory for 4 parameter blocks of %zu MiB", mb);
    }
    return HP_OK;
}

void nn_params_free(nn_params *p)
{
    if (!p) return;
    block_free(p->data);
    block_free(p->grad);
    block_free(p->m);
    block_free(p->v);
    hp_free(p->t);
    memset(p, 0, sizeof *p);
}

int nn_params_find(const nn_params *p, const char *name)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->t[i].name, name) == 0) return i;
    return -1;
}

float *nn_params_get(const nn_params *p, const char *name)
{
    int i = nn_params_find(p, name);
    return i < 0 ? NULL : p->data + p->t[i].offset;
}

float *nn_params_grad(const nn_params *p, const char *name)
{
    int i = nn_params_find(p, name);
    return i < 0 ? NULL : p->grad + p->t[i].offset;
}

void nn_params_zero_grad(nn_params *p) { memset(p->grad, 0, p->total * sizeof(float)); }

void nn_params_zero_state(nn_params *p)
{
    memset(p->m, 0, p->total * sizeof(float));
    memset(p->v, 0, p->total * sizeof(float));
}

/* ------------------------------------------------------------------ initialisers */

void nn_init_zeros(float *w, size_t n) { memset(w, 0, n * sizeof *w); }

void nn_init_const(float *w, size_t n, float value)
{
    for (size_t i = 0; i < n; i++) w[i] = value;
}

void nn_init_normal(float *w, size_t n, float mean, float std, hp_rng *rng)
{
    for (size_t i = 0; i < n; i++) w[i] = mean + std * (float)hp_rng_normal(rng);
}

void nn_init_uniform(float *w, size_t n, float lo, float hi, hp_rng *rng)
{
    for (size_t i = 0; i < n; i++) w[i] = lo + (hi - lo) * (float)hp_rng_uniform(rng);
}

void nn_init_xavier(float *w, int fan_out, int fan_in, hp_rng *rng)
{
    float a = sqrtf(6.0f / (float)(fan_in + fan_out));
    nn_init_uniform(w, (size_t)fan_out * (size_t)fan_in, -a, a, rng);
}

/* ------------------------------------------------------------------ arena */

size_t nn_arena_need(size_t n)
{
    return (n + NN_ARENA_ALIGN - 1) / NN_ARENA_ALIGN * NN_ARENA_ALIGN;
}

int nn_arena_init(nn_arena *a, size_t cap, hp_error *err)
{
    memset(a, 0, sizeof *a);
    cap = nn_arena_need(cap);
    a->base = (unsigned char *)block_alloc(cap / sizeof(float));
    if (!a->base) return hp_fail(err, HP_ERR_NOMEM, "out of memory for a %zu-byte arena", cap);
    a->cap = cap;
    return HP_OK;
}

static void free_overflow(nn_arena *a)
{
    for (size_t i = 0; i < a->nover; i++) block_free(a->over[i]);
    a->nover = 0;
}

void nn_arena_free(nn_arena *a)
{
    if (!a) return;
    free_overflow(a);
    hp_free(a->over);
    block_free(a->base);
    memset(a, 0, sizeof *a);
}

/* Beyond the block: a heap allocation of its own, remembered for reset. */
static void *alloc_overflow(nn_arena *a, size_t need)
{
    if (hp_grow((void **)&a->over, &a->over_cap, a->nover + 1, sizeof *a->over)) return NULL;
    void *p = block_alloc(need / sizeof(float));
    if (p) a->over[a->nover++] = p;
    return p;
}

void *nn_arena_alloc(nn_arena *a, size_t n)
{
    size_t need = nn_arena_need(n);
    void *p = NULL;
    if (need >= n && need <= a->cap - a->used) {
        p = a->base + a->used;
        a->used += need;
    } else if (need >= n) {
        p = alloc_overflow(a, need);
    }
    if (!p) {
        a->failed = 1;
        return NULL;
    }
    a->pass += need;
    if (a->pass > a->peak) a->peak = a->pass;
    return p;
}

int nn_arena_failed(const nn_arena *a) { return a->failed; }

float *nn_arena_floats(nn_arena *a, size_t n)
{
    if (n > SIZE_MAX / sizeof(float)) return NULL;
    return nn_arena_alloc(a, n * sizeof(float));
}

float *nn_arena_zeros(nn_arena *a, size_t n)
{
    float *p = nn_arena_floats(a, n);
    if (p) memset(p, 0, n * sizeof *p);
    return p;
}

void nn_arena_reset(nn_arena *a)
{
    free_overflow(a);
    if (a->peak > a->cap) { /* measured: the block becomes as large as the largest pass */
        float *grown = block_alloc(a->peak / sizeof(float));
        if (grown) { /* otherwise keep the old block: passes go on overflowing (or fail) */
            block_free(a->base);
            a->base = (unsigned char *)grown;
            a->cap = a->peak;
        }
    }
    a->used = a->pass = 0;
    a->failed = 0;
}
