/* tok: the tokenizer every text model shares (recommender text tower; sentiment and
 * explanations next).
 *
 * Words are runs of ASCII letters and digits and of bytes >= 0x80 (so UTF-8 letters of any
 * script stay inside words), lower-cased (ASCII), hashed with FNV-1a and mixed; each word
 * gives its unigram bucket and, after the first, the bucket of the bigram with the word
 * before. salt separates the hash spaces of different text columns. Pure functions of their
 * arguments: thread-safe, no allocation. */
#ifndef TEXT_TOK_H
#define TEXT_TOK_H

#include <stdint.h>

/* Writes at most max hashed unigram and bigram buckets of text (NUL-terminated) into out;
 * buckets is a power of two. Returns the number written. */
int text_tokens(const char *text, int32_t *out, int max, int buckets, uint32_t salt);

#endif
