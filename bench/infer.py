#!/usr/bin/python3
"""bench/infer.py - archex inference against PyTorch eager, in one run.

For each model (wmt-lite-200, wmt-lite-496, wmt-transformer-512) and each
thread count (1, 2), on the same random weights (written by `archex init`):
  * batch-1 greedy translation of a 30-token sentence, forced to 30 output
    tokens (--min-len/--max-len 30): archex `run` with KV caches and conv
    rings, against PyTorch eager decoding without caches (it re-runs the
    decoder over the prefix each step, as nn.Transformer-style decoding
    does; docs/performance.md), using the oracle's independent PyTorch model
    (tests/oracle.py) in float32;
  * batched teacher-forced scoring of 32 x 30 tokens: archex `bench_score`
    against the sgemm peak it measures in the same process.
Reports ms/sentence, tokens/s, achieved GMAC/s (executed MACs / time),
fraction of the sgemm peak, and archex/PyTorch speed-ups, as a Markdown
table. OpenBLAS's core type is printed next to the figures. Both sides run
on the kernel the archex CLI chooses (`archex cpu --coretype`): unless the
user set OPENBLAS_CORETYPE, the script re-executes itself with it, so
PyTorch does not stay on OpenBLAS's generic fallback kernel.

usage: bench/infer.py [--build build] [--repeats 3] [--threads 1,2]
"""
import argparse
import ctypes
import json
import os
import random
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
    cli = os.path.join(build, "archex")
    try:
        return subprocess.run([cli, "cpu", "--coretype"], check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


if not os.environ.get("OPENBLAS_CORETYPE"):
    _core = _chosen_core()
    if _core:
        env = dict(os.environ, OPENBLAS_CORETYPE=_core)
        os.execve(sys.executable, [sys.executable] + sys.argv, env)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import torch  # noqa: E402
import oracle  # noqa: E402

MODELS = ["wmt-lite-200", "wmt-lite-496", "wmt-transformer-512"]
LEN = 30


def openblas():
    """The OpenBLAS this process (numpy, torch) has loaded."""
    with open("/proc/self/maps") as f:
        libs = sorted({line.split()[-1] for line in f if "openblas" in line})
    for lib in libs + ["libopenblas.so.0"]:
        try:
            return ctypes.CDLL(lib)
        except OSError:
            continue
    return None


def corename():
    lib = openblas()
    if lib is None:
        return "unknown"
    f = lib.openblas_get_corename
    f.restype = ctypes.c_char_p
    return f().decode()


def set_threads(torch_threads, blas_threads):
    """PyTorch's intra-op pool and OpenBLAS's pool are separate; running
    both on the same cores is 3-4x slower (docs/performance.md)."""
    torch.set_num_threads(torch_threads)
    lib = openblas()
    if lib is not None:
        lib.openblas_set_num_threads(blas_threads)


def run_archex(build, cfg, weights, src, threads, repeats):
    """Median seconds of a forced 30-token greedy decode, and its MACs."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        for _ in range(repeats + 1):
            f.write(" ".join(map(str, src)) + "\n")
        path = f.name
    out = subprocess.run([os.path.join(build, "archex"), "run", cfg, "--weights", weights,
                          "--src-file", path, "--min-len", str(LEN), "--max-len", str(LEN),
                          "--threads", str(threads), "--format", "json"],
                         check=True, capture_output=True, text=True).stdout
    os.unlink(path)
    recs = json.loads(out)[1:]          # the first sentence warms up
    assert all(r["executed_macs"] == r["analytic_macs"] for r in recs)
    return statistics.median(r["seconds"] for r in recs), recs[0]["executed_macs"]


def torch_model(build, cfg_path, weights):
    oracle.DTYPE = torch.float32
    import yaml
    with open(cfg_path) as f:
        cfg = yaml.safe_load(f)
    P = oracle.ParamSource(oracle.read_weights(weights))
    model = oracle.Model(cfg, P).eval().float()
    for m in model.modules():
        m._forward_hooks.clear()        # the oracle's MAC-counting hooks
        for k, v in list(vars(m).items()):
            if isinstance(v, torch.Tensor) and v.dtype == torch.float64:
                setattr(m, k, v.float())
    return model


@torch.no_grad()
def torch_greedy(model, src):
    """Eager greedy decoding without caches, forced to LEN tokens."""
    enc = model.encode(src)
    step = model.decode_last if hasattr(model, "decode_last") else \
        (lambda toks, e: oracle_decode_last(model, toks, e))
    toks = []
    for t in range(LEN):
        lp = step([model.start] + toks, enc)
        lp[oracle.PAD] = float("-inf")
        if t < LEN - 1:
            lp[oracle.EOS] = float("-inf")
        toks.append(int(torch.argmax(lp)))
    return toks


class NNTransformer(torch.nn.Module):
    """PyTorch's own nn.Transformer at the fairseq Transformer's shape
    (post-norm, ReLU, tied embeddings and output), the module docs/performance.md's
    anchor times. Random weights: only its speed is used."""

    def __init__(self, V, d, heads, ffn, layers):
        super().__init__()
        self.d = d
        self.emb = torch.nn.Embedding(V, d)
        self.tr = torch.nn.Transformer(d, heads, layers, layers, ffn, dropout=0.0,
                                       batch_first=True)
        pos = torch.arange(1024, dtype=torch.float32)[:, None]
        omega = torch.exp(torch.arange(d // 2) * -(torch.log(torch.tensor(1e4)) / (d // 2 - 1)))
        self.pe = torch.cat([torch.sin(pos * omega), torch.cos(pos * omega)], 1)
        self.start = oracle.EOS

    def embed(self, toks):
        t = torch.tensor([toks])
        return self.emb(t) * self.d ** 0.5 + self.pe[2:2 + len(toks)]

    def encode(self, src):
        return self.tr.encoder(self.embed(src))

    def decode_last(self, toks, enc):
        """Log-probabilities of the next token only."""
        n = len(toks)
        mask = self.tr.generate_square_subsequent_mask(n)
        h = self.tr.decoder(self.embed(toks), enc, tgt_mask=mask)
        return torch.log_softmax(h[0, -1] @ self.emb.weight.t(), -1)


def oracle_decode_last(model, toks, enc):
    """The oracle model's decoder, projecting only the last position onto
    the vocabulary (its own decode() projects every position, for scoring)."""
    x = model.tgt_embed(toks)
    for layer in model.dec_layers:
        x = layer(x, enc)
    if model.dec_final is not None:
        x = model.dec_final(x)
    return torch.log_softmax(x[-1] @ model.out_w.t(), -1)


def time_torch(model, src, repeats):
    torch_greedy(model, src)            # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch_greedy(model, src)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    a = ap.parse_args()
    threads = [int(t) for t in a.threads.split(",")]
    rng = random.Random(1)
    src = [rng.randrange(4, 30000) for _ in range(LEN)]
    core = corename()
    print(f"OpenBLAS core: {core} (archex's choice); torch {torch.__version__}")
    rows = []
    tmp = tempfile.mkdtemp()
    for name in MODELS:
        cfg = os.path.join(ROOT, "configs", "paper", name + ".yaml")
        w = os.path.join(tmp, name + ".axw")
        subprocess.run([os.path.join(a.build, "archex"), "init", cfg, "--seed", "1", "--out", w],
                       check=True)
        model = torch_model(a.build, cfg, w)
        nnt = NNTransformer(32768, 512, 8, 2048, 6).eval() if "transformer-512" in name else None
        for th in threads:
            sec, macs = run_archex(a.build, cfg, w, src, th, a.repeats)
            # PyTorch on th threads, both ways of splitting them between
            # its two pools; the faster one is reported
            tsec = 1e9
            for split in {(th, 1), (1, th)}:
                set_threads(*split)
                tsec = min(tsec, time_torch(nnt if nnt is not None else model, src, a.repeats))
            score = json.loads(subprocess.run(
                [os.path.join(a.build, "bench_score"), cfg, "32", str(LEN), str(th)],
                check=True, capture_output=True, text=True).stdout)
            rows.append((name, th, sec, macs, tsec, score))
    print()
    print("| model | threads | archex greedy ms/sent | tokens/s | GMAC/s | PyTorch eager ms/sent (*) | speed-up | "
          "32x30 scoring ms | scoring GMAC/s | of sgemm peak | sgemm GFLOP/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, th, sec, macs, tsec, sc in rows:
        print(f"| {name} | {th} | {1e3 * sec:.1f} | {LEN / sec:.0f} | {macs / sec / 1e9:.1f} | "
              f"{1e3 * tsec:.1f} | {tsec / sec:.2f}x | {1e3 * sc['seconds']:.0f} | {sc['gmacs']:.1f} | "
              f"{100 * sc['fraction_of_peak']:.0f}% | {sc['sgemm_gflops']:.0f} |")
    print(f"\nOpenBLAS core {core}. GMAC/s = executed MACs / wall time; peak fraction = "
          "GMAC/s / (sgemm GFLOP/s / 2).\n(*) PyTorch eager decoding without caches, on the same number of threads (the faster of "
          "torch intra-op threads or OpenBLAS threads, never both): "
          "torch.nn.Transformer for wmt-transformer-512; the oracle's PyTorch model "
          "(tests/oracle.py, float32) for the Lite models, which PyTorch has no module for.")


if __name__ == "__main__":
    main()
