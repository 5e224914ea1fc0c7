/* tok: hashed unigram and bigram tokens (spec in tok.h). */
#include "text/tok.h"

#include <ctype.h>

static uint32_t mix_hash(uint64_t h) { return (uint32_t)((h * 0x9e3779b97f4a7c15ULL) >> 32); }

int text_tokens(const char *text, int32_t *out, int max, int buckets, uint32_t salt)
{
    int n = 0;
    uint64_t prev = 0;
    const unsigned char *s = (const unsigned char *)text;
    while (*s && n < max) {
        while (*s && !(isalnum(*s) || *s >= 0x80)) s++;
        if (!*s) break;
        uint64_t h = 1469598103934665603ULL ^ salt;
        while (*s && (isalnum(*s) || *s >= 0x80)) h = (h ^ (uint64_t)tolower(*s++)) * 1099511628211ULL;
        out[n++] = (int32_t)(mix_hash(h) & (uint32_t)(buckets - 1));
        if (prev && n < max) out[n++] = (int32_t)(mix_hash(prev * 31 + h + 0x51ed) & (uint32_t)(buckets - 1));
        prev = h;
    }
    return n;
}

