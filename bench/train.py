#!/usr/bin/python3
"""bench/train.py - `archex train` against PyTorch eager training, in one run.

For each width d (default 128, 256, 512) and thread count (default 1, 2):
a post-norm Transformer with 3+3 layers, d/64 heads (at least 4), FFN 4d,
a shared 8k vocabulary, trained on random sentences of one length (so no
batch has padding in either framework) in batches of --max-tokens target
tokens, with dropout 0.1 (embeddings, residual branches, attention
probabilities and ReLU outputs, as nn.Transformer's dropout=0.1), label
smoothing 0.1 and AdamW:
  * archex: `archex train --max-steps N`, tokens/s the median of
    train.jsonl's per-update figures after the first two updates;
  * PyTorch: torch.nn.Transformer (which adds a final LayerNorm per stack,
    two more row ops than the archex model) with the same shapes, batch,
    threads, loss, optimizer and dropout, eager mode, timed over the same
    updates after two warm-up updates.
Both sides run on the OpenBLAS kernel archex chooses (`archex cpu
--coretype`): unless OPENBLAS_CORETYPE is set, the script re-executes
itself with it, so PyTorch does not run on the generic fallback kernel
while archex runs on the fast one. Prints a Markdown table with the
OpenBLAS core (openblas_get_corename()) and archex/PyTorch ratios, and
from archex's `--profile` summary: its peak RSS against its predicted
memory (weights, gradients, Adam moments, saved activations and their
gradients, scratch, data), and the rate of its linears (forward and
backward GEMMs: products over seconds) as a fraction of a square 1024
sgemm measured at the end of the same run, on the same threads. With
--profile, a second table bounds the ratio: archex's seconds per update
(the batch's target tokens over its tok/s) split into its linears' GEMMs
(the profile's linear share of the time) and the rest, PyTorch's seconds
per update, and PyTorch's time over archex's GEMM time alone: the
archex / PyTorch ratio reachable with the same GEMMs and every other op
free.

usage: bench/train.py [--build build] [--dims 128,256,512] [--threads 1,2]
                      [--steps 8] [--max-tokens 4096] [--len 25] [--profile]
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time


def _chosen_core():
    """The OpenBLAS kernel archex runs on (after its own choice)."""
    build = "build"
    if "--build" in sys.argv[:-1]:
        build = sys.argv[sys.argv.index("--build") + 1]
    try:
        return subprocess.run([os.path.join(build, "archex"), "cpu", "--coretype"],
                              check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


if not os.environ.get("OPENBLAS_CORETYPE"):
    _core = _chosen_core()
    if _core:
        os.execve(sys.executable, [sys.executable] + sys.argv,
                  dict(os.environ, OPENBLAS_CORETYPE=_core))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import oracle  # noqa: E402  (write_dataset's token-file writer)

V = 8000


def config(path, d):
    heads = max(4, d // 64)
    with open(path, "w") as f:
        f.write(f"name: bench-train-{d}\nfamily: transformer\ntask: translation\n"
                f"embed_dim: {d}\nnorm: post\n"
                f"vocab: {{source: {V}, target: {V}, share: all}}\n"
                f"encoder: {{layers: 3, ffn_dim: {4 * d}, attention_heads: {heads}}}\n"
                f"decoder: {{layers: 3, ffn_dim: {4 * d}, attention_heads: {heads}}}\n")
    return heads


def dataset(root, n, length):
    """n sentence pairs of `length` ids (length + 1 with eos)."""
    import hashlib
    os.makedirs(root)
    rng = np.random.default_rng(1)
    files, splits = {}, {}
    for split, k in (("train", n), ("valid", 4), ("test", 4)):
        for side in ("src", "tgt"):
            sents = [list(map(int, rng.integers(4, V, length))) for _ in range(k)]
            name = f"{split}.{side}.bin"
            oracle.write_tokens(os.path.join(root, name), sents)
            with open(os.path.join(root, name), "rb") as f:
                data = f.read()
            files[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        splits[split] = {"sentences": k, "source_tokens": k * length,
                         "target_tokens": k * length}
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump({"format": "archex-dataset", "version": 1, "name": "bench",
                   "task": "translation", "vocab": {"source": V, "target": V},
                   "splits": splits, "files": files}, f)


def run_archex(archex, cfg, data, out, threads, steps, max_tokens):
    """tokens/s, and the summary's "memory" and "profile" objects."""
    r = subprocess.run([archex, "train", cfg, "--data", data, "--out", out,
                        "--max-steps", str(steps), "--threads", str(threads),
                        "--max-tokens", str(max_tokens), "--warmup", "100",
                        # nn.Transformer's dropout=0.1 also drops attention
                        # probabilities and the FFN's ReLU output
                        "--attention-dropout", "0.1", "--activation-dropout", "0.1",
                        "--save-every", str(10 * steps), "--profile"],
                       check=True, capture_output=True, text=True)
    summary = json.loads(r.stdout)
    with open(os.path.join(out, "train.jsonl")) as f:
        rows = [json.loads(x) for x in f if '"tokens_per_s"' in x]
    tps = statistics.median(r["tokens_per_s"] for r in rows[2:])
    return tps, summary["memory"], summary["profile"]


class TorchModel(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.d = d
        self.emb = nn.Embedding(V, d, padding_idx=1)
        self.tf = nn.Transformer(d, heads, 3, 3, 4 * d, dropout=0.1)
        self.drop = nn.Dropout(0.1)

    def embed(self, toks):
        T = toks.shape[0]
        pos = torch.arange(T) + 2
        pe = oracle.sinusoids(pos, self.d, True).float()
        return self.drop(math.sqrt(self.d) * self.emb(toks) + pe[:, None, :])

    def forward(self, src, tgt_in):
        T = tgt_in.shape[0]
        mask = torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
        h = self.tf(self.embed(src), self.embed(tgt_in), tgt_mask=mask)
        return F.log_softmax(h @ self.emb.weight.t(), dim=-1)


def run_torch(d, heads, threads, steps, max_tokens, length):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    L = length + 1
    B = max_tokens // L
    m = TorchModel(d, heads)
    opt = torch.optim.AdamW(m.parameters(), lr=5e-4, betas=(0.9, 0.98), eps=1e-8,
                            weight_decay=1e-4)
    src = torch.randint(4, V, (L, B))
    tgt = torch.randint(4, V, (L, B))
    times = []
    for s in range(steps):
        t0 = time.perf_counter()
        lp = m(src, tgt)
        eps_i = 0.1 / (V - 1)   # fairseq's label smoothing, eps 0.1
        loss = (1 - 0.1 - eps_i) * F.nll_loss(lp.view(-1, V), tgt.reshape(-1)) \
            - eps_i * lp.sum(-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    return B * L / statistics.median(times[2:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--dims", default="128,256,512")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=4096)
    ap.add_argument("--len", type=int, default=25)
    ap.add_argument("--profile", action="store_true",
                    help="also print archex's per-kind profile (stderr)")
    o = ap.parse_args()
    archex = os.path.join(o.build, "archex")
    import ctypes
    core = "?"
    for lib in ("libopenblas.so.0", "libopenblasp.so.0"):
        try:
            f = ctypes.CDLL(lib).openblas_get_corename
            f.restype = ctypes.c_char_p
            core = f().decode()
            break
        except OSError:
            pass
    print(f"OpenBLAS core: {core}; torch {torch.__version__}; batch {o.max_tokens} "
          f"tokens of sentences of {o.len}+eos; {o.steps} updates")
    print("| d | threads | archex tok/s | PyTorch tok/s | archex / PyTorch "
          "| peak RSS MiB | predicted MiB | RSS / predicted "
          "| linears GFLOP/s | sgemm GFLOP/s | linears / sgemm | linears' share of time |")
    print("|---" * 12 + "|")
    bounds = []
    with tempfile.TemporaryDirectory(prefix="ax-bench-train-") as tmp:
        data = os.path.join(tmp, "data")
        n = (o.max_tokens // (o.len + 1)) * (o.steps + 2)
        dataset(data, n, o.len)
        for d in map(int, o.dims.split(",")):
            cfg = os.path.join(tmp, f"d{d}.yaml")
            heads = config(cfg, d)
            for t in map(int, o.threads.split(",")):
                a, mem, prof = run_archex(archex, cfg, data,
                                          os.path.join(tmp, f"r{d}.{t}"), t,
                                          o.steps, o.max_tokens)
                p = run_torch(d, heads, t, o.steps, o.max_tokens, o.len)
                mib = 1 << 20
                print(f"| {d} | {t} | {a:.0f} | {p:.0f} | {a / p:.2f} "
                      f"| {mem['peak_rss_bytes'] / mib:.0f} "
                      f"| {mem['predicted_bytes'] / mib:.0f} "
                      f"| {mem['rss_over_predicted']:.2f} "
                      f"| {prof['linear_gflops']:.1f} | {prof['sgemm_gflops']:.1f} "
                      f"| {prof['linear_sgemm_fraction']:.2f} "
                      f"| {prof['linear_share']:.2f} |", flush=True)
                if o.profile:
                    print(json.dumps(prof), file=sys.stderr)
                tok = (o.max_tokens // (o.len + 1)) * (o.len + 1)
                sa, sp = tok / a, tok / p
                bounds.append((d, t, sa, prof["linear_share"] * sa, sp, a / p))
    if o.profile:
        print("\n| d | threads | archex s/update | its GEMMs | its non-GEMM "
              "| PyTorch s/update | archex / PyTorch | bound: PyTorch / archex GEMMs |")
        print("|---" * 8 + "|")
        for d, t, sa, sg, sp, r in bounds:
            print(f"| {d} | {t} | {sa:.3f} | {sg:.3f} | {sa - sg:.3f} | {sp:.3f} "
                  f"| {r:.2f} | {sp / sg:.2f} |")


if __name__ == "__main__":
    main()
