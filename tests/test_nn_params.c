/* nn parameter block, arena, initialisers, AdamW details, clipping, LR schedule, threads. */
#include "check.h"
#include "nn/nn.h"

#include <stdint.h>
#include <stdlib.h>

static nn_tensor def(const char *name, int d0, int d1, unsigned flags)
{
    nn_tensor t = { .ndim = d1 ? 2 : 1, .shape = { d0, d1 }, .flags = flags };
    snprintf(t.name, sizeof t.name, "%s", name);
    return t;
}

TEST(test_params_layout_and_lookup)
{
    nn_tensor defs[3] = { def("emb", 5, 3, 0), def("bias", 7, 0, NN_PARAM_NO_DECAY),
                          def("w", 2, 9, 0) };
    nn_params p;
    hp_error err = { 0 };
    CHECK_EQ_INT(nn_params_init(&p, defs, 3, &err), HP_OK);
    CHECK_EQ_INT(p.n, 3);
    CHECK_EQ_INT(p.t[0].size, 15);
    CHECK_EQ_INT(p.t[2].size, 18);
    for (int i = 0; i < 3; i++) {
        CHECK((uintptr_t)(p.data + p.t[i].offset) % 64 == 0);
        CHECK((uintptr_t)(p.grad + p.t[i].offset) % 64 == 0);
    }
    CHECK(p.t[1].offset >= p.t[0].offset + p.t[0].size);
    CHECK(nn_params_get(&p, "w") == p.data + p.t[2].offset);
    CHECK(nn_params_grad(&p, "bias") == p.grad + p.t[1].offset);
    CHECK(nn_params_get(&p, "nope") == NULL);
    CHECK_EQ_INT(nn_params_find(&p, "emb"), 0);
    for (size_t i = 0; i < p.total; i++) CHECK(p.data[i] == 0.0f && p.m[i] == 0.0f);
    nn_init_const(p.grad, p.total, 3.0f);
    nn_params_zero_grad(&p);
    CHECK(p.grad[p.total - 1] == 0.0f);
    nn_params_free(&p);
    nn_params_free(&p); /* twice is harmless */
    nn_params_free(NULL);
}

TEST(test_params_bad_definitions)
{
    nn_params p;
    hp_error err = { 0 };
    nn_tensor dup[2] = { def("a", 2, 0, 0), def("a", 3, 0, 0) };
    CHECK_EQ_INT(nn_params_init(&p, dup, 2, &err), HP_ERR_INVAL);
    CHECK(strstr(err.msg, "'a'") != NULL);
    nn_tensor zero = def("z", 4, 0, 0);
    zero.shape[0] = 0;
    CHECK_EQ_INT(nn_params_init(&p, &zero, 1, &err), HP_ERR_INVAL);
    CHECK(strstr(err.msg, "'z'") != NULL);
    nn_tensor deep = def("d", 1, 1, 0);
    deep.ndim = 5;
    CHECK_EQ_INT(nn_params_init(&p, &deep, 1, &err), HP_ERR_INVAL);
    CHECK_EQ_INT(nn_params_init(&p, &deep, 0, &err), HP_ERR_INVAL);
    nn_params_free(&p);
}

/* Fails the Nth allocation from now, so every failure path can be visited; ASan's leak
 * check then proves nothing is left behind. */
static int g_fail_at;
static void *failing_malloc(size_t n) { return --g_fail_at == 0 ? NULL : malloc(n); }

TEST(test_params_out_of_memory)
{
    nn_tensor defs[2] = { def("a", 4, 4, 0), def("b", 3, 0, 0) };
    hp_allocator a = { failing_malloc, realloc, free };
    for (int n = 1; n <= 6; n++) {
        nn_params p;
        hp_error err = { 0 };
        g_fail_at = n;
        hp_set_allocator(&a);
        int rc = nn_params_init(&p, defs, 2, &err);
        hp_set_allocator(NULL);
        CHECK(n <= 5 ? rc == HP_ERR_NOMEM : rc == HP_OK);
        if (rc) CHECK(p.data == NULL && p.t == NULL);
        nn_params_free(&p);
    }
}

TEST(test_arena)
{
    nn_arena a;
    hp_error err = { 0 };
    CHECK_EQ_INT(nn_arena_init(&a, 1000, &err), HP_OK);
    float *x = nn_arena_floats(&a, 3);
    float *y = nn_arena_zeros(&a, 10);
    CHECK(x && y && (uintptr_t)x % 64 == 0 && (uintptr_t)y % 64 == 0);
    CHECK(y[9] == 0.0f);
    size_t small = nn_arena_need(3 * sizeof(float)) + nn_arena_need(10 * sizeof(float));
    CHECK_EQ_INT(a.used, small);
    /* beyond the block: heap memory, usable and aligned, and the pass is measured */
    float *big = nn_arena_zeros(&a, 25000);
    CHECK(big && (uintptr_t)big % 64 == 0 && big[24999] == 0.0f);
    big[24999] = 1.0f;
    CHECK_EQ_INT(a.used, small); /* the block itself is unchanged */
    CHECK_EQ_INT(a.peak, small + nn_arena_need(25000 * sizeof(float)));
    CHECK(!nn_arena_failed(&a));
    nn_arena_reset(&a); /* grows the block to the measured pass */
    CHECK_EQ_INT(a.used, 0);
    CHECK_EQ_INT(a.cap, small + nn_arena_need(25000 * sizeof(float)));
    x = nn_arena_floats(&a, 3);
    big = nn_arena_floats(&a, 25000 + 10);
    CHECK(x && big && a.nover == 0 && big == (float *)((unsigned char *)x + nn_arena_need(3 * sizeof(float))));
    nn_arena_reset(&a);
    CHECK(nn_arena_floats(&a, 3) == x); /* memory is reused */
    nn_arena_free(&a);
    nn_arena_free(&a);
}

/* Out of memory beyond the block: NULL, and `failed` until the next reset. */
TEST(test_arena_exhausted)
{
    nn_arena a;
    hp_error err = { 0 };
    CHECK_EQ_INT(nn_arena_init(&a, 256, &err), HP_OK);
    hp_allocator fa = { failing_malloc, realloc, free };
    for (int round = 0; round < 2; round++) { /* and again after a reset */
        g_fail_at = 1;
        hp_set_allocator(&fa);
        void *p = nn_arena_alloc(&a, 4096);
        hp_set_allocator(NULL);
        CHECK(p == NULL && nn_arena_failed(&a));
        CHECK(nn_arena_alloc(&a, 16) != NULL); /* the block still serves */
        CHECK(nn_arena_failed(&a));           /* but the pass stays failed */
        nn_arena_reset(&a);
        CHECK(!nn_arena_failed(&a));
    }
    CHECK(nn_arena_alloc(&a, SIZE_MAX - 8) == NULL && nn_arena_failed(&a)); /* overflowing size */
    nn_arena_free(&a);
}

TEST(test_init_deterministic)
{
    float a[64], b[64];
    hp_rng r1, r2;
    hp_rng_seed(&r1, 42);
    hp_rng_seed(&r2, 42);
    nn_init_normal(a, 64, 0.0f, 0.02f, &r1);
    nn_init_normal(b, 64, 0.0f, 0.02f, &r2);
    CHECK(memcmp(a, b, sizeof a) == 0);
    nn_init_xavier(a, 8, 8, &r1); /* bound sqrt(6/16) */
    for (int i = 0; i < 64; i++) CHECK(fabsf(a[i]) <= sqrtf(6.0f / 16.0f));
    nn_init_uniform(b, 64, 2.0f, 3.0f, &r2);
    for (int i = 0; i < 64; i++) CHECK(b[i] >= 2.0f && b[i] < 3.0f);
    nn_init_zeros(b, 64);
    CHECK(b[63] == 0.0f);
    /* purpose streams: reproducible, and different purposes differ */
    hp_rng s1, s2, s3;
    nn_rng_stream(&s1, 7, "init");
    nn_rng_stream(&s2, 7, "init");
    nn_rng_stream(&s3, 7, "dropout");
    uint64_t x1 = hp_rng_u64(&s1), x2 = hp_rng_u64(&s2), x3 = hp_rng_u64(&s3);
    CHECK(x1 == x2 && x1 != x3);
}

TEST(test_adamw_first_step)
{
    nn_tensor defs[2] = { def("w", 2, 0, 0), def("b", 2, 0, NN_PARAM_NO_DECAY) };
    nn_params p;
    CHECK_EQ_INT(nn_params_init(&p, defs, 2, NULL), HP_OK);
    float *w = nn_params_get(&p, "w"), *b = nn_params_get(&p, "b");
    float *gw = nn_params_grad(&p, "w"), *gb = nn_params_grad(&p, "b");
    w[0] = 1.0f, w[1] = -2.0f, b[0] = 1.0f, b[1] = -2.0f;
    gw[0] = 0.5f, gw[1] = -0.25f, gb[0] = 0.5f, gb[1] = -0.25f;
    nn_adamw_config cfg = nn_adamw_defaults();
    cfg.weight_decay = 0.1f;
    nn_adamw_step(&p, &cfg, 0.01f, 1);
    /* step 1: m_hat = g, v_hat = g^2, so p = p (1 - lr wd) - lr g / (|g| + eps) */
    CHECK_NEAR(w[0], 1.0 * (1 - 0.001) - 0.01, 1e-6);
    CHECK_NEAR(w[1], -2.0 * (1 - 0.001) + 0.01, 1e-6);
    CHECK_NEAR(b[0], 1.0 - 0.01, 1e-6); /* NO_DECAY: no weight decay */
    CHECK_NEAR(b[1], -2.0 + 0.01, 1e-6);
    nn_params_zero_state(&p);
    CHECK(p.m[0] == 0.0f && p.v[0] == 0.0f);
    CHECK(gw[0] == 0.5f); /* gradients are kept by default */
    /* zero_grad: the same update, and the gradients are cleared in the same pass */
    w[0] = 1.0f, gw[0] = 0.5f, gw[1] = -0.25f, gb[0] = 0.5f, gb[1] = -0.25f;
    cfg.zero_grad = 1;
    nn_adamw_step(&p, &cfg, 0.01f, 1);
    CHECK_NEAR(w[0], 1.0 * (1 - 0.001) - 0.01, 1e-6);
    CHECK(gw[0] == 0.0f && gw[1] == 0.0f && gb[0] == 0.0f && gb[1] == 0.0f);
    nn_params_free(&p);
}

TEST(test_clip_grad_norm)
{
    nn_tensor defs[2] = { def("a", 1, 0, 0), def("b", 1, 0, 0) };
    nn_params p;
    CHECK_EQ_INT(nn_params_init(&p, defs, 2, NULL), HP_OK);
    nn_params_grad(&p, "a")[0] = 3.0f;
    nn_params_grad(&p, "b")[0] = 4.0f;
    CHECK_NEAR(nn_clip_grad_norm(&p, 10.0f), 5.0, 1e-6); /* below max: unchanged */
    CHECK_NEAR(nn_params_grad(&p, "a")[0], 3.0, 0.0);
    CHECK_NEAR(nn_clip_grad_norm(&p, 1.0f), 5.0, 1e-6);
    CHECK_NEAR(nn_grad_norm(&p), 1.0, 1e-5);
    CHECK_NEAR(nn_params_grad(&p, "b")[0], 0.8, 1e-5);
    CHECK_NEAR(nn_clip_grad_norm(&p, 0.0f), 1.0, 1e-5); /* 0: report only */
    nn_params_free(&p);
}

TEST(test_lr_schedule)
{
    nn_lr_schedule s = { .lr_max = 1.0f, .lr_min = 0.1f, .warmup = 10, .total = 110 };
    CHECK_NEAR(nn_lr_at(&s, 0), 0.1, 1e-6);
    CHECK_NEAR(nn_lr_at(&s, 4), 0.5, 1e-6);
    CHECK_NEAR(nn_lr_at(&s, 9), 1.0, 1e-6);
    CHECK_NEAR(nn_lr_at(&s, 10), 1.0, 1e-6);
    CHECK_NEAR(nn_lr_at(&s, 60), 0.55, 1e-6); /* cosine midpoint */
    CHECK_NEAR(nn_lr_at(&s, 110), 0.1, 1e-6);
    CHECK_NEAR(nn_lr_at(&s, 5000), 0.1, 1e-6);
    for (long t = 11; t < 110; t++) CHECK(nn_lr_at(&s, t) <= nn_lr_at(&s, t - 1));
    nn_lr_schedule flat = { .lr_max = 0.5f, .lr_min = 0.5f, .warmup = 0, .total = 5 };
    CHECK_NEAR(nn_lr_at(&flat, 0), 0.5, 1e-7);
}

TEST(test_threads)
{
    CHECK(nn_set_threads(0) >= 1);
    CHECK_EQ_INT(nn_set_threads(1), 1);
}

int main(void)
{
    RUN(test_params_layout_and_lookup);
    RUN(test_params_bad_definitions);
    RUN(test_params_out_of_memory);
    RUN(test_arena);
    RUN(test_arena_exhausted);
    RUN(test_init_deterministic);
    RUN(test_adamw_first_step);
    RUN(test_clip_grad_norm);
    RUN(test_lr_schedule);
    RUN(test_threads);
    return check_summary("test_nn_params");
}
