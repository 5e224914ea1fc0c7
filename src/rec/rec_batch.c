/* Batches: gathering encoded customer rows (and their history) into contiguous buffers,
 * and scoring customers against the whole catalogue. */
#include "rec/rec.h"

#include <math.h>
#include <string.h>

static int64_t max_len(const int64_t *off, int n)
{
    int64_t m = 0;
    for (int i = 0; off && i < n; i++) m = HP_MAX(m, off[i + 1] - off[i]);
    return m;
}

int rec_batchbuf_init(rec_batchbuf *bb, const feat_enc *e, const rec_lists *hist, int cap)
{
    memset(bb, 0, sizeof *bb);
    bb->cap = cap;
    bb->multi_cap = (size_t)cap * (size_t)max_len(e->multi_off, e->n) + 1;
    bb->text_cap = (size_t)cap * (size_t)max_len(e->text_off, e->n) + 1;
    bb->hist_cap = hist && hist->off ? (size_t)cap * (size_t)max_len(hist->off, e->n) + 1 : 1;
    bb->num = hp_calloc((size_t)cap * (size_t)(e->F ? e->F : 1), sizeof *bb->num);
    bb->cat = hp_calloc((size_t)cap * (size_t)(e->C ? e->C : 1), sizeof *bb->cat);
    bb->multi = hp_malloc(bb->multi_cap * sizeof *bb->multi);
    bb->text = hp_malloc(bb->text_cap * sizeof *bb->text);
    bb->hist = hp_malloc(bb->hist_cap * sizeof *bb->hist);
    bb->multi_off = hp_malloc(((size_t)cap + 1) * sizeof *bb->multi_off);
    bb->text_off = hp_malloc(((size_t)cap + 1) * sizeof *bb->text_off);
    bb->hist_off = hp_malloc(((size_t)cap + 1) * sizeof *bb->hist_off);
    if (!bb->num || !bb->cat || !bb->multi || !bb->text || !bb->hist || !bb->multi_off || !bb->text_off || !bb->hist_off) {
        rec_batchbuf_free(bb);
        return HP_ERR_NOMEM;
    }
    return HP_OK;
}

void rec_batchbuf_free(rec_batchbuf *bb)
{
    hp_free(bb->num);
    hp_free(bb->cat);
    hp_free(bb->multi);
    hp_free(bb->text);
    hp_free(bb->hist);
    hp_free(bb->multi_off);
    hp_free(bb->text_off);
    hp_free(bb->hist_off);
    memset(bb, 0, sizeof *bb);
}

static void gather_csr(int64_t *dst_off, int32_t *dst, const int64_t *off, const int32_t *ids, const int32_t *rows,
                       const int32_t *skip, int n)
{
    int64_t w = 0;
    dst_off[0] = 0;
    for (int i = 0; i < n; i++) {
        for (int64_t k = off[rows[i]]; k < off[rows[i] + 1]; k++)
            if (!skip || ids[k] != skip[i]) dst[w++] = ids[k];
        dst_off[i + 1] = w;
    }
}

void rec_gather(rec_batchbuf *bb, const feat_enc *e, const rec_lists *hist, const int32_t *rows,
                const int32_t *skip, int n)
{
    for (int i = 0; i < n; i++) {
        memcpy(bb->num + (size_t)i * (size_t)e->F, e->num + (size_t)rows[i] * (size_t)e->F, (size_t)e->F * sizeof(float));
        memcpy(bb->cat + (size_t)i * (size_t)e->C, e->cat + (size_t)rows[i] * (size_t)e->C, (size_t)e->C * sizeof(int32_t));
    }
    gather_csr(bb->multi_off, bb->multi, e->multi_off, e->multi_ids, rows, NULL, n);
    gather_csr(bb->text_off, bb->text, e->text_off, e->text_ids, rows, NULL, n);
    int has_hist = hist && hist->off;
    if (has_hist) gather_csr(bb->hist_off, bb->hist, hist->off, hist->ids, rows, skip, n);
    bb->b = (rec_batch){ .B = n, .num = bb->num, .cat = bb->cat, .multi_off = bb->multi_off, .multi_ids = bb->multi,
                           .text_off = bb->text_off, .text_ids = bb->text,
                           .hist_off = has_hist ? bb->hist_off : NULL, .hist_ids = bb->hist };
}

int rec_check_scores(const float *scores, size_t n, int P, const int32_t *rows, hp_error *err)
{
    for (size_t i = 0; i < n; i++)
        for (int p = 0; p < P; p++) {
            float x = scores[i * (size_t)P + (size_t)p];
            if (!isfinite(x))
                return hp_fail(err, HP_ERR_RANGE, "the score of customer row %d for product %d is %s: the model's "
                               "weights or fitted features (or this customer's numbers) are out of the range it can "
                               "compute with", rows ? (int)rows[i] : (int)i, p, isnan(x) ? "NaN" : "infinite");
        }
    return HP_OK;
}

int rec_score(rec_net *net, const feat_enc *e, const rec_lists *hist, const int32_t *rows, int n,
              const uint8_t *id_keep, float *scores, float *weights, hp_error *err)
{
    enum { CHUNK = 256 };
    rec_batchbuf bb;
    nn_arena arena = { 0 };
    int rc = rec_batchbuf_init(&bb, e, hist, CHUNK);
    if (rc) return hp_fail(err, rc, "scoring: out of memory");
    size_t bytes = rec_arena_bytes(net, CHUNK, (long)bb.text_cap, (long)bb.hist_cap, (long)bb.multi_cap);
    if ((rc = nn_arena_init(&arena, bytes, err))) {
        rec_batchbuf_free(&bb);
        return rc;
    }
    int P = net->P, d = net->arch.dim;
    for (int start = 0; start < n; start += CHUNK) {
        int m = HP_MIN(CHUNK, n - start);
        nn_arena_reset(&arena);
        rec_gather(&bb, e, hist, rows + start, NULL, m);
        rec_fwd *f = rec_forward(net, &arena, &bb.b, id_keep, 0, 0.0f, NULL);
        if (!f) { rc = hp_fail(err, HP_ERR_NOMEM, "scoring: arena too small"); break; }
        float *sc = scores + (size_t)start * (size_t)P;
        nn_score_forward(sc, rec_fwd_u(f), rec_fwd_v(f), rec_fwd_bias(f), NULL, m, P, d);
        for (int i = 0; weights && i < m; i++) rec_fwd_weights(f, i, weights + (size_t)(start + i) * REC_MOD_COUNT);
        if ((rc = rec_check_scores(sc, (size_t)m, P, rows + start, err))) break;
    }
    nn_arena_free(&arena);
    rec_batchbuf_free(&bb);
    return rc;
}
