/* libFuzzer target: audit-log verification (audit_verify_bytes, the code audit verify --file
 * and, through the same chain step, the store's verification run).
 *
 * A real export is built once (a store in /tmp with consent events, an erasure that redacts
 * a subject and a log purge that leaves an anchor). The first byte picks the mode:
 *   0: the rest is an export of its own (any bytes): verification must not crash, and an
 *      intact answer must describe a consistent chain (entries = head seq - anchor seq, a
 *      64-hex head, no problem text);
 *   1: the real export cut at a line boundary: only the whole file is intact (its header
 *      names the head), and --expect-head of every hash in it is honoured;
 *   2: the real export with a range replaced by the rest of the input: when it still verifies,
 *      its head is a hash of the real chain (no forged entry is ever accepted). */
#include "privacy/audit.h"
#include "privacy/privacy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HASHES 64

static char *g_base;
static size_t g_base_len;
static char g_hash[MAX_HASHES][65];
static int g_nhash;

static void must(int ok)
{
    if (!ok) __builtin_trap();
}

static void record(privacy_ctx *ctx, const char *id, privacy_event ev)
{
    hp_error err;
    privacy_consent_req r = { .customer_id = id, .purpose = PRIVACY_MARKETING, .event = ev,
                              .source = "web", .notice_version = "v1" };
    must(privacy_consent_record(ctx, &r, &err) == HP_OK);
}

static void collect_hashes(void)
{
    for (const char *p = g_base; (p = strstr(p, "\"hash\":\"")) && g_nhash < MAX_HASHES; p += 8) {
        memcpy(g_hash[g_nhash], p + 8, 64);
        g_hash[g_nhash++][64] = 0;
    }
}

static void build_base(void)
{
    char dir[] = "/tmp/fuzz_audit_XXXXXX", db[64], out[64];
    must(mkdtemp(dir) != NULL);
    snprintf(db, sizeof db, "%s/a.db", dir);
    snprintf(out, sizeof out, "%s/a.jsonl", dir);
    privacy_ctx *ctx = NULL;
    hp_error err;
    unsigned char key[32];
    for (int i = 0; i < 32; i++) key[i] = (unsigned char)(i + 1);
    must(privacy_open(&ctx, db, NULL, &err) == HP_OK);
    must(privacy_add_key(ctx, key, sizeof key, &err) == HP_OK);
    privacy_set_now(ctx, 1700000000 - 200 * 86400); /* old enough for the log purge */
    record(ctx, "OLD1", PRIVACY_GIVE);
    record(ctx, "OLD2", PRIVACY_GIVE);
    privacy_set_now(ctx, 1700000000);
    record(ctx, "C1", PRIVACY_GIVE);
    record(ctx, "C2", PRIVACY_GIVE);
    record(ctx, "C2", PRIVACY_OBJECT);
    privacy_erase_result er;
    must(privacy_erase(ctx, "C1", &er, &err) == HP_OK);
    privacy_purge_result pr;
    must(privacy_purge(ctx, 0, &pr, &err) == HP_OK);
    record(ctx, "C3", PRIVACY_GIVE);
    must(audit_export_file(privacy_store(ctx), out, privacy_now(ctx), &err) == HP_OK);
    privacy_close(ctx);
    FILE *f = fopen(out, "rb");
    must(f != NULL);
    fseek(f, 0, SEEK_END);
    g_base_len = (size_t)ftell(f);
    rewind(f);
    g_base = malloc(g_base_len + 1);
    must(g_base && fread(g_base, 1, g_base_len, f) == g_base_len);
    g_base[g_base_len] = 0;
    fclose(f);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    must(system(cmd) == 0);
    collect_hashes();
    audit_report rep;
    must(audit_verify_bytes("base", g_base, g_base_len, NULL, &rep, &err) == HP_OK);
    must(rep.anchor_seq > 0 && rep.redacted > 0 && g_nhash > 3);
}

static int is_hex64(const char *s)
{
    for (int i = 0; i < 64; i++)
        if (!s[i] || !strchr("0123456789abcdef", s[i])) return 0;
    return s[64] == 0;
}

/* Whatever the bytes, the answer is intact, broken (with the reason) or a clear failure. */
static int verify(const char *buf, size_t n, const char *expect, audit_report *rep)
{
    hp_error err;
    err.msg[0] = 0;
    int rc = audit_verify_bytes("fuzz", buf, n, expect, rep, &err);
    must(rc == HP_OK || rc == HP_ERR_FORMAT || rc == HP_ERR_NOMEM);
    if (rc == HP_OK) {
        must(rep->problem[0] == 0 && is_hex64(rep->head));
        must(rep->head_seq - rep->anchor_seq == rep->entries && rep->redacted <= rep->entries);
    } else must(rep->problem[0] != 0 || err.msg[0] != 0);
    return rc;
}

static int known_hash(const char *h)
{
    for (int i = 0; i < g_nhash; i++)
        if (!strcmp(h, g_hash[i])) return 1;
    return 0;
}

static void truncated(const uint8_t *data, size_t size)
{
    audit_report rep;
    size_t lines = 0, want = size ? data[0] : 0, cut = 0;
    for (size_t i = 0; i < g_base_len; i++)
        if (g_base[i] == '\n' && lines++ == want % 16) cut = i + 1;
    if (!cut) cut = g_base_len;
    int rc = verify(g_base, cut, NULL, &rep);
    must((rc == HP_OK) == (cut == g_base_len));
    const char *expect = g_hash[(size > 1 ? data[1] : 0) % g_nhash];
    rc = verify(g_base, g_base_len, expect, &rep);
    must(rc == HP_OK);
}

static void spliced(const uint8_t *data, size_t size)
{
    if (size < 4) return;
    size_t off = ((size_t)data[0] << 8 | data[1]) % g_base_len;
    size_t del = data[2] % 80;
    if (off + del > g_base_len) del = g_base_len - off;
    data += 3, size -= 3;
    size_t n = g_base_len - del + size;
    char *buf = malloc(n ? n : 1);
    must(buf != NULL);
    memcpy(buf, g_base, off);
    memcpy(buf + off, data, size);
    memcpy(buf + off + size, g_base + off + del, g_base_len - off - del);
    audit_report rep;
    if (verify(buf, n, NULL, &rep) == HP_OK && rep.entries > 0) must(known_hash(rep.head));
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_base) build_base();
    if (size == 0) return 0;
    audit_report rep;
    switch (data[0] % 3) {
    case 0: verify((const char *)data + 1, size - 1, NULL, &rep); break;
    case 1: truncated(data + 1, size - 1); break;
    default: spliced(data + 1, size - 1); break;
    }
    return 0;
}
