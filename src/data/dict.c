/* String interning: open addressing over codes, strings in an arena so that a million ids
 * cost a few allocations, not a million. */
#include "data/data.h"

#include <string.h>

#define DICT_BLOCK (1u << 16)

void data_dict_init(data_dict *d) { memset(d, 0, sizeof *d); }

void data_dict_free(data_dict *d)
{
    for (size_t i = 0; i < d->nblocks; i++) hp_free(d->blocks[i]);
    hp_free(d->blocks);
    hp_free(d->str);
    hp_free(d->len);
    hp_free(d->hash);
    hp_free(d->slots);
    memset(d, 0, sizeof *d);
}

static uint32_t dict_hash(const char *s, size_t len) { return (uint32_t)(hp_hash_bytes(s, len) >> 17); }

static uint64_t slot_of(uint32_t hash, uint32_t code) { return (uint64_t)hash << 32 | (uint64_t)(code + 1); }

static int dict_rehash(data_dict *d, uint32_t nslots)
{
    uint64_t *slots = hp_calloc(nslots, sizeof *slots);
    if (!slots) return HP_ERR_NOMEM;
    for (uint32_t code = 0; code < d->n; code++) {
        uint32_t h = d->hash[code] & (nslots - 1);
        while (slots[h]) h = (h + 1) & (nslots - 1);
        slots[h] = slot_of(d->hash[code], code);
    }
    hp_free(d->slots);
    d->slots = slots;
    d->nslots = nslots;
    return HP_OK;
}

static char *arena_copy(data_dict *d, const char *s, size_t len)
{
    if (d->arena_used + len + 1 > d->arena_cap) {
        size_t cap = len + 1 > DICT_BLOCK ? len + 1 : DICT_BLOCK;
        char *block = hp_malloc(cap);
        if (!block) return NULL;
        size_t bc = d->blocks_cap;
        if (hp_grow((void **)&d->blocks, &bc, d->nblocks + 1, sizeof *d->blocks)) {
            hp_free(block);
            return NULL;
        }
        d->blocks_cap = bc;
        d->blocks[d->nblocks++] = block;
        d->arena = block;
        d->arena_used = 0;
        d->arena_cap = cap;
    }
    char *p = d->arena + d->arena_used;
    memcpy(p, s, len);
    p[len] = 0;
    d->arena_used += len + 1;
    return p;
}

static int32_t find_hashed(const data_dict *d, const char *s, size_t len, uint32_t hash)
{
    if (!d->nslots) return -1;
    uint32_t h = hash & (d->nslots - 1);
    for (uint64_t slot; (slot = d->slots[h]) != 0; h = (h + 1) & (d->nslots - 1)) {
        if ((uint32_t)(slot >> 32) != hash) continue;
        uint32_t code = (uint32_t)slot - 1;
        if (d->len[code] == len && memcmp(d->str[code], s, len) == 0) return (int32_t)code;
    }
    return -1;
}

int32_t data_dict_find(const data_dict *d, const char *s, size_t len)
{
    return find_hashed(d, s, len, dict_hash(s, len));
}

static int grow_codes(data_dict *d)
{
    if (d->n < d->cap) return HP_OK;
    uint32_t cap = d->cap ? d->cap * 2 : 16;
    char **str = hp_realloc(d->str, cap * sizeof *str);
    if (!str) return HP_ERR_NOMEM;
    d->str = str;
    uint32_t *len = hp_realloc(d->len, cap * sizeof *len);
    if (!len) return HP_ERR_NOMEM;
    d->len = len;
    uint32_t *hash = hp_realloc(d->hash, cap * sizeof *hash);
    if (!hash) return HP_ERR_NOMEM;
    d->hash = hash;
    d->cap = cap;
    return HP_OK;
}

int32_t data_dict_intern(data_dict *d, const char *s, size_t len)
{
    uint32_t hash = dict_hash(s, len);
    int32_t code = find_hashed(d, s, len, hash);
    if (code >= 0) return code;
    if (d->n >= INT32_MAX - 1 || len > UINT32_MAX) return HP_ERR_RANGE;
    if ((d->n + 1) * 2 > d->nslots && dict_rehash(d, d->nslots ? d->nslots * 2 : 64)) return HP_ERR_NOMEM;
    if (grow_codes(d)) return HP_ERR_NOMEM;
    char *copy = arena_copy(d, s, len);
    if (!copy) return HP_ERR_NOMEM;
    d->str[d->n] = copy;
    d->len[d->n] = (uint32_t)len;
    d->hash[d->n] = hash;
    uint32_t h = hash & (d->nslots - 1);
    while (d->slots[h]) h = (h + 1) & (d->nslots - 1);
    d->slots[h] = slot_of(hash, d->n);
    return (int32_t)d->n++;
}
