"""PyTorch baseline of hyperp's recommender (src/rec/rec_net.c, rec_train.c): the same
towers, the same tensors (bench/export_model_data.c), the same initial weights, batch,
sampled negatives, AdamW / clip / warmup+cosine, early stopping, and the same metrics.

Two losses, as rec_train picks them from the exported config:
- sampled softmax (ranking configs): positive + uniform negatives avoiding the customer's
  positives, validation NDCG@k, test NDCG@k / HR@k / HR@1 / MRR (src/eval definitions) of the
  model and of popularity among training customers;
- BCE with explicit labels (propensity configs: label data, train.loss "bce"): one example per
  training customer with a label, (customer, label product, 0/1), no sampled negatives;
  validation and test ROC AUC of the label product's score.

usage: torch_model.py DATA.bin THREADS train EPOCHS [TEST_K]
                      (EPOCHS 0: the config's, early stopping, test metrics at TEST_K, default evaluate.k;
                       validation always uses evaluate.k, as rec_train does)
       torch_model.py DATA.bin THREADS serve CALLS    (top-10 latency, 1000 random products)
Prints "key value" lines like bench_model."""
import math, sys, time
import numpy as np
import torch
import torch.nn.functional as Fn

DT = {0: np.float32, 1: np.int32, 2: np.int64, 3: np.float64}


def load(path):
    """The exporter's records -> {name: array}, {param name: flags}."""
    buf, arrs, flags, o = open(path, 'rb').read(), {}, {}, 4
    assert buf[:4] == b'HPX1'
    while o < len(buf):
        name = buf[o:o + 48].split(b'\0')[0].decode(); o += 48
        dtype, fl, ndim = np.frombuffer(buf, np.int32, 3, o); o += 12
        shape = tuple(np.frombuffer(buf, np.int64, ndim, o)); o += 8 * ndim
        n = int(np.prod(shape)) if ndim else 1
        arrs[name] = np.frombuffer(buf, DT[dtype], n, o).reshape(shape).copy(); o += n * np.dtype(DT[dtype]).itemsize
        flags[name] = int(fl)
    return arrs, flags


def padded(off, ids, rows=None):
    """CSR -> (n, L) int64 ids (0 where empty) and (n, L) float mask."""
    off = off.astype(np.int64); n = len(off) - 1
    lens = off[1:] - off[:-1]; L = max(int(lens.max()) if n else 0, 1)
    pos = np.arange(L)[None, :]; mask = pos < lens[:, None]
    idx = np.where(mask, off[:-1, None] + pos, 0)
    out = np.where(mask, ids[np.minimum(idx, max(len(ids) - 1, 0))] if len(ids) else 0, 0)
    return torch.from_numpy(out.astype(np.int64)), torch.from_numpy(mask.astype(np.float32))


class Net(torch.nn.Module):
    """Parameters named and shaped as the C net's (rec_net.c), initialised from its export."""

    def __init__(self, A, flags, cfg_i):
        super().__init__()
        self.d, self.H = int(cfg_i[0]), int(cfg_i[1])
        self.has_cat, self.has_num, self.has_multi, self.has_text, self.has_hist, self.prod_text = map(bool, cfg_i[10:16])
        self.names = [k[6:] for k in A if k.startswith('param:')]
        self.p = torch.nn.ParameterDict({n.replace('.', '_'): torch.nn.Parameter(torch.from_numpy(A['param:' + n]))
                                         for n in self.names})
        self.no_decay = {n.replace('.', '_') for n in self.names if flags['param:' + n] & 1}

    def P(self, n):
        return self.p[n.replace('.', '_')]

    def products(self, prod, id_keep):
        """v (P,d), bias (P): id embedding (row 0 when dropped) + categorical SUM + Linear + text MEAN."""
        P_ = prod['num'].shape[0]
        rows = torch.arange(1, P_ + 1)
        if id_keep is not None: rows = torch.where(id_keep, rows, torch.zeros_like(rows))
        v = self.P('prod.id.emb')[rows]
        if prod['cat'].shape[1]: v = v + Fn.embedding_bag(prod['cat'], self.P('prod.cat.emb'), mode='sum')
        if prod['num'].shape[1]: v = v + Fn.linear(prod['num'], self.P('prod.num.w'), self.P('prod.num.b'))
        if self.prod_text:
            v = v + Fn.embedding_bag(prod['text'], self.P('text.emb'), per_sample_weights=prod['text_w'], mode='sum')
        return v, self.P('prod.bias')[rows]

    def customers(self, num, cat, multi, multi_w, text, text_m, hist, hist_w):
        """u (B,d): five modality vectors -> LayerNorm + type -> attention fusion -> dropout -> Linear."""
        d, sc = self.d, 1.0 / math.sqrt(self.d)
        B = num.shape[0]
        mods, has = [], []
        one = torch.ones(B, dtype=torch.bool)
        if self.has_num:
            h = Fn.gelu(Fn.linear(num, self.P('cust.num.w1'), self.P('cust.num.b1')))
            mods.append(Fn.linear(h, self.P('cust.num.w2'), self.P('cust.num.b2'))); has.append(one)
        if self.has_cat:
            mods.append(Fn.embedding_bag(cat, self.P('cust.cat.emb'), mode='sum')); has.append(one)
        if self.has_multi:  # MEAN: weights 1/len (mask/len), an empty bag gives 0
            mods.append(Fn.embedding_bag(multi, self.P('cust.multi.emb'), per_sample_weights=multi_w, mode='sum'))
            has.append(multi_w.sum(1) > 0)
        if self.has_text:  # token embeddings, softmax(scale * q.tok) over the row's tokens
            tok = Fn.embedding(text, self.P('text.emb'))
            s = (tok @ self.P('cust.text.q')) * sc
            w = torch.softmax(s.masked_fill(text_m == 0, -1e30), 1) * text_m   # an empty row gives 0
            mods.append((w.unsqueeze(2) * tok).sum(1)); has.append(text_m.sum(1) > 0)
        if self.has_hist:
            mods.append(Fn.embedding_bag(hist, self.P('cust.hist.emb'), per_sample_weights=hist_w, mode='sum'))
            has.append(hist_w.sum(1) > 0)
        x = torch.stack(mods, 1)                                     # (B, M, d)
        x = Fn.layer_norm(x, (d,), self.P('cust.ln.g'), self.P('cust.ln.b'), 1e-5)
        types = [m for m, on in enumerate([self.has_num, self.has_cat, self.has_multi, self.has_text, self.has_hist]) if on]
        x = x + self.P('cust.type')[types]
        s = (x @ self.P('cust.fuse.q')) * sc
        s = s.masked_fill(~torch.stack(has, 1), -math.inf)
        f = (torch.softmax(s, 1).unsqueeze(2) * x).sum(1)
        f = Fn.dropout(f, self.drop, self.training)
        return Fn.linear(f, self.P('cust.out.w'), self.P('cust.out.b'))


def bag_inputs(ids, mask):
    """Padded ids + mask -> per_sample_weights of a MEAN bag (mask / length)."""
    return ids, mask / mask.sum(1, keepdim=True).clamp(min=1)


def rank_metrics(scores, rows, tgt_off, tgt, vis_off, vis, k):
    """eval.h, eval_rank_add_scores: candidates = products not visibly held (excluded never
    ranked, never relevant), ties: higher score then lower index, binary relevance. A target's
    rank = 1 + candidates ranked before it. NDCG@k (log2 discount), HR@k, HR@1, MRR (1 / rank
    of the first relevant candidate in the whole ranking); users whose targets are all
    excluded are left out. Returns (ndcg, hr_k, hr_1, mrr, users)."""
    nd = hr = hr1 = rr = 0.0; n = 0
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    P = scores.shape[1]; idx = np.arange(P)
    for i, c in enumerate(rows):
        ex = vis[vis_off[c]:vis_off[c + 1]]
        rel = np.array(sorted(set(tgt[tgt_off[i]:tgt_off[i + 1]].tolist()) - set(ex.tolist())), np.int64)
        if not len(rel): continue
        s = scores[i]; cand = np.ones(P, bool); cand[ex] = False
        sr = s[rel][:, None]                                        # (R, 1), compared in float32 as in C
        before = cand[None, :] & ((s[None, :] > sr) | ((s[None, :] == sr) & (idx[None, :] < rel[:, None])))
        rank = 1 + before.sum(1)
        top = rank[rank <= k]
        nd += float(disc[top - 1].sum() / disc[:min(k, len(rel))].sum())
        hr += float(len(top) > 0); hr1 += float(rank.min() == 1); rr += 1.0 / float(rank.min()); n += 1
    m = max(n, 1)
    return nd / m, hr / m, hr1 / m, rr / m, n


def ndcg_hr(scores, rows, tgt_off, tgt, vis_off, vis, k):
    """NDCG@k, HR@k, users (see rank_metrics)."""
    nd, hr, _, _, n = rank_metrics(scores, rows, tgt_off, tgt, vis_off, vis, k)
    return nd, hr, n


def roc_auc(score, label):
    """eval_roc_auc: Mann-Whitney with mid-ranks (tied scores count 1/2) = sklearn's roc_auc_score."""
    score = np.asarray(score, np.float64); label = np.asarray(label) > 0.5
    n1 = int(label.sum()); n0 = len(label) - n1
    if n1 == 0 or n0 == 0: return math.nan
    u, inv, cnt = np.unique(score, return_inverse=True, return_counts=True)
    mid = np.cumsum(cnt) - (cnt - 1) / 2.0                        # 1-based mid-rank of each distinct score
    r = mid[inv]
    return float((r[label].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


class Data:
    """Customers as padded tensors (built once), products, the split's lists."""

    def __init__(self, A):
        self.A = A
        self.num = torch.from_numpy(A['cust_num']); self.cat = torch.from_numpy(A['cust_cat'].astype(np.int64))
        self.multi, self.multi_m = padded(A['cust_multi_off'], A['cust_multi_ids'])
        self.text, self.text_m = padded(A['cust_text_off'], A['cust_text_ids'])
        self.hist, self.hist_m = padded(A['vis_off'], A['vis'])
        self.vis_off, self.vis = A['vis_off'], A['vis']
        pt, ptm = padded(A['prod_text_off'], A['prod_text_ids'])
        self.prod = {'num': torch.from_numpy(A['prod_num']), 'cat': torch.from_numpy(A['prod_cat'].astype(np.int64)),
                     'text': pt, 'text_w': ptm / ptm.sum(1, keepdim=True).clamp(min=1)}

    def batch(self, rows, skip=None):
        """Customer-tower inputs of rows; skip[i] leaves that product out of row i's history."""
        r = torch.from_numpy(rows.astype(np.int64))
        hist, hm = self.hist[r], self.hist_m[r]
        if skip is not None: hm = hm * (hist != torch.from_numpy(skip.astype(np.int64))[:, None])
        return (self.num[r], self.cat[r], *bag_inputs(self.multi[r], self.multi_m[r]), self.text[r], self.text_m[r],
                *bag_inputs(hist, hm))


def lr_at(step, lr_max, lr_min, warmup, total):
    """nn_lr_at: linear warmup then cosine to lr_min."""
    if step < warmup: return lr_max * (step + 1) / warmup
    span = total - warmup
    if span <= 0 or step >= total: return lr_min
    return lr_min + (lr_max - lr_min) * 0.5 * (1 + math.cos(math.pi * (step - warmup) / span))


def score_rows(net, D, rows):
    """Eval-mode scores (n, P) with full history and every product id kept (rec_score)."""
    net.eval()
    with torch.no_grad():
        v, b = net.products(D.prod, None)
        out = [(net.customers(*D.batch(rows[i:i + 256])) @ v.T + b).numpy() for i in range(0, len(rows), 256)]
    net.train()
    return np.concatenate(out) if out else np.zeros((0, v.shape[0]), np.float32)


def train(A, flags, epochs_override, test_k=0):
    ci, cf = A['cfg_i'], A['cfg_f']
    d, K, epochs, Bsz, warmup, patience, k, P = int(ci[0]), int(ci[3]), int(ci[4]), int(ci[5]), int(ci[6]), int(ci[7]), int(ci[8]), int(ci[9])
    loss_kind, labels, label_p = (int(ci[16]), bool(ci[17]), int(ci[18])) if len(ci) > 18 else (0, False, -1)
    assert loss_kind == 0 or (loss_kind == 2 and labels), 'softmax ranking or BCE label configs only'
    lr, lr_min, wd, clip, id_drop, drop = map(float, cf)
    if epochs_override > 0: epochs, patience = epochs_override, epochs_override
    D, net = Data(A), Net(A, flags, ci)
    net.drop = drop
    K1 = 1 if labels else 1 + max(min(K, P - 1), 1)               # rec_train's alloc_step_buffers
    groups = [{'params': [p for n, p in net.p.items() if n not in net.no_decay], 'weight_decay': wd},
              {'params': [p for n, p in net.p.items() if n in net.no_decay], 'weight_decay': 0.0}]
    opt = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8, foreach=True)
    ex_c, ex_p = A['ex_c'], A['ex_p']
    ex_y = A['ex_y'] if 'ex_y' in A else np.ones(len(ex_c), np.float32)
    nex = len(ex_c); steps = (nex + Bsz - 1) // Bsz
    total, warm = steps * epochs, min(warmup, steps)
    visible = np.zeros((len(D.vis_off) - 1, P), bool)          # for negatives avoiding positives
    visible[np.repeat(np.arange(len(D.vis_off) - 1), np.diff(D.vis_off)), D.vis] = True
    rng = np.random.default_rng(42)
    seen, step, step_s, best, best_ep, since, best_state = 0, 0, 0.0, -math.inf, 0, 0, None
    zeros = torch.zeros(Bsz, dtype=torch.long)

    def valid_metric():
        vr = A['valid_rows']
        if labels: return roc_auc(score_rows(net, D, vr)[:, label_p], A['valid_label'])
        return ndcg_hr(score_rows(net, D, vr), vr, A['valid_tgt_off'], A['valid_tgt'], D.vis_off, D.vis, k)[0]

    for ep in range(1, epochs + 1):
        order = rng.permutation(nex)
        for s in range(steps):
            idx = order[s * Bsz:(s + 1) * Bsz]; B = len(idx)
            t0 = time.perf_counter()
            c, pos = ex_c[idx], ex_p[idx]
            if K1 > 1:
                neg = rng.integers(0, P, (B, K1 - 1))            # uniform, resampled (<= 20 tries) on a positive
                for _ in range(19):
                    bad = visible[c[:, None], neg] | (neg == pos[:, None])
                    if not bad.any(): break
                    neg[bad] = rng.integers(0, P, int(bad.sum()))
                cand = torch.from_numpy(np.concatenate([pos[:, None], neg], 1).astype(np.int64))
            else:
                cand = torch.from_numpy(pos[:, None].astype(np.int64))
            id_keep = torch.from_numpy(rng.random(P) >= id_drop)
            v, bias = net.products(D.prod, id_keep)
            u = net.customers(*D.batch(c, pos))
            scores = (v[cand] @ u.unsqueeze(2)).squeeze(2) + bias[cand]
            if labels:                                           # nn_bce_logits_loss: mean over the B x 1 logits
                loss = Fn.binary_cross_entropy_with_logits(scores[:, 0], torch.from_numpy(ex_y[idx].astype(np.float32)))
            else:                                                # nn_sampled_softmax_loss: target 0, mean over B
                loss = Fn.cross_entropy(scores, zeros[:B])
            opt.zero_grad(set_to_none=False)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
            cur = lr_at(step, lr, lr_min, warm, total)
            for g in opt.param_groups: g['lr'] = cur
            opt.step()
            step_s += time.perf_counter() - t0
            step += 1; seen += B
        if epochs_override > 0: continue                         # throughput run: no validation
        m = valid_metric()
        if math.isnan(m) or m > best:                            # run_epochs: NaN counts as an improvement
            best = best if math.isnan(m) else m
            best_ep, since = ep, 0
            best_state = {n: p.detach().clone() for n, p in net.p.items()}
        else:
            since += 1
        print(f"epoch {ep} valid_{'auc' if labels else 'ndcg'} {m:.4f}", file=sys.stderr)
        if since >= patience: break
    print(f"epochs_run {ep}\nbest_epoch {best_ep}\nexamples {seen}\nstep_seconds {step_s:.3f}\nexamples_per_s {seen / step_s:.0f}")
    if epochs_override == 0:
        print(f"best_valid {best:.4f}")
        with torch.no_grad():
            for n, p in net.p.items(): p.copy_(best_state[n])
        tr = A['test_rows']
        S = score_rows(net, D, tr)
        if labels:                                               # rec_evaluate: AUC of sigmoid(score)
            prob = 1.0 / (1.0 + np.exp(-S[:, label_p].astype(np.float64)))
            print(f"test_customers {len(tr)}\ntest_positives {int(A['test_label'].sum())}\nauc {roc_auc(prob, A['test_label']):.6f}")
            return
        k = test_k if test_k > 0 else k
        args = (tr, A['test_tgt_off'], A['test_tgt'], D.vis_off, D.vis, k)
        nd, hr, hr1, mrr, n = rank_metrics(S, *args)
        # popularity among training customers (rec_evaluate's count_popularity: their positives)
        pop = np.bincount(ex_p[ex_y > 0], minlength=P).astype(np.float32)
        pnd, phr, phr1, pmrr, _ = rank_metrics(np.broadcast_to(pop, (len(tr), P)), *args)
        print(f"test_customers {n}\nk {k}\nndcg_at_k {nd:.6f}\nhr_at_k {hr:.6f}\nhr1 {hr1:.6f}\nmrr {mrr:.6f}")
        print(f"pop_ndcg_at_k {pnd:.6f}\npop_hr_at_k {phr:.6f}\npop_hr1 {phr1:.6f}\npop_mrr {pmrr:.6f}")
        if k == 10: print(f"ndcg10 {nd:.4f}\nhr10 {hr:.4f}")


def serve(A, flags, calls):
    """One customer per call: customer tower + v @ u + bias, held products excluded, topk(10);
    the product tower of a 1000-product random catalogue is computed once, as in C."""
    P, rng = 1000, np.random.default_rng(1)
    ci = A['cfg_i'].copy()
    d, Cp, Fp = int(ci[0]), A['prod_cat'].shape[1], A['prod_num'].shape[1]
    ci[9] = P
    B = dict(A)
    for n in list(B):                                             # resize the product-sized tables
        if n in ('param:prod.id.emb', 'param:prod.bias'): B[n] = rng.normal(0, .1, (P + 1,) + A[n].shape[1:]).astype(np.float32)
        elif n == 'param:cust.hist.emb': B[n] = rng.normal(0, .1, (P, d)).astype(np.float32)
        elif n.startswith('param:'): B[n] = rng.normal(0, .1, A[n].shape).astype(np.float32)
    B['prod_num'] = rng.normal(size=(P, Fp)).astype(np.float32)
    B['prod_cat'] = rng.integers(0, A['param:prod.cat.emb'].shape[0], (P, Cp)).astype(np.int32)
    lens = rng.integers(4, 17, P) if len(A['prod_text_ids']) else np.zeros(P, np.int64)
    B['prod_text_off'] = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    B['prod_text_ids'] = rng.integers(0, int(ci[2]), int(lens.sum())).astype(np.int32)
    D, net = Data(B), Net(B, flags, ci)
    net.drop = 0.0
    net.eval()
    lat, n = [], len(D.vis_off) - 1
    with torch.no_grad():
        v, bias = net.products(D.prod, None)
        vt = v.T.contiguous()
        for i in range(calls // 10 + calls):
            row = i % n
            t0 = time.perf_counter_ns()
            ex = torch.from_numpy(D.vis[D.vis_off[row]:D.vis_off[row + 1]].astype(np.int64))
            u = net.customers(*D.batch(np.array([row])))
            s = torch.addmm(bias.unsqueeze(0), u, vt)[0]
            s[ex] = -math.inf
            top = torch.topk(s, 10)
            t1 = time.perf_counter_ns()
            if i >= calls // 10: lat.append((t1 - t0) / 1e3)
    lat.sort()
    print(f"products {P}\ncalls {calls}\np50_us {lat[calls // 2]:.2f}\np99_us {lat[int(0.99 * calls)]:.2f}\nsink {float(top.values[0]):g}")


if __name__ == '__main__':
    path, threads, mode, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    A, flags = load(path)
    print(f"threads {threads}")
    train(A, flags, n, int(sys.argv[5]) if len(sys.argv) > 5 else 0) if mode == 'train' else serve(A, flags, n)
