#!/usr/bin/python3
"""bench/infer.py - archex decoding at fp32, bf16 and int8 against PyTorch
with a KV cache at fp32 and with dynamic int8, in one run.

For each model (wmt-transformer-512, wmt-lite-496) and thread count, on the
same random weights (written by `archex init`), batch-1 greedy translation
of a 30-token sentence forced to 30 output tokens:
  * archex `run --precision fp32|bf16|int8` (--min-len/--max-len 29: 29
    tokens and the step that picks eos, 30 steps as PyTorch's; the
    JSON `seconds` of the second of two identical sentences, so process
    start and weight loading are excluded); int8 with its default
    activations (16-bit), and "archex int8/a8" with `--activations int8`;
  * PyTorch fp32 with a KV cache: the oracle's modules (tests/oracle.py, in
    float32) driven one step at a time, self-attention keys and values
    cached per layer, cross-attention keys and values computed once per
    sentence, conv branches keeping their last K-1 inputs; checked against
    the oracle's own cache-free decoder before timing;
  * PyTorch dynamic int8: the same cached decoder after
    torch.ao.quantization.quantize_dynamic on its nn.Linear modules (the
    output projection included; int8 weights per tensor, activations
    quantized per call). The encoder runs at fp32 in both PyTorch variants.
Then batched teacher-forced scoring of 32 x 30 tokens per precision
(`bench_score`: the precisions and the sgemm peak interleaved in one
process, --rounds rounds, medians). Decoding runs are interleaved (every variant once per round,
>= 7 rounds after a warm-up); the table gives the median ms/sentence, the spread (min..max) and
speed-ups against PyTorch fp32 with the cache and against PyTorch int8.
PyTorch gets the same thread count as archex, either in its intra-op pool
or in OpenBLAS's, whichever decodes faster (both at once oversubscribes
the cores). Both sides run on the OpenBLAS
kernel the archex CLI chooses (`archex cpu --coretype`): unless the user
set OPENBLAS_CORETYPE, the script re-executes itself with it, so PyTorch's
OpenBLAS does not stay on the generic fallback; the kernel and PyTorch's
quantized engine are printed.

usage: bench/infer.py [--build build] [--rounds 7] [--threads 1[,2]]
                      [--models wmt-transformer-512,wmt-lite-496]
"""
import argparse
import ctypes
import json
import math
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
        # OpenMP pools (archex's reduced-precision linears, PyTorch's
        # intra-op pool) that sleep instead of spinning between parallel
        # regions: on a shared 2-core machine spinning workers steal the
        # cores from OpenBLAS's threads and from each other
        env = dict(os.environ, OPENBLAS_CORETYPE=_core)
        env.setdefault("OMP_WAIT_POLICY", "passive")
        os.execve(sys.executable, [sys.executable] + sys.argv, env)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import torch  # noqa: E402
import oracle  # noqa: E402

MODELS = ["wmt-transformer-512", "wmt-lite-496"]
PRECISIONS = ["fp32", "bf16", "int8"]
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


def archex_decode(build, cfg, weights, src, threads, precision, extra=()):
    """Seconds of one forced 30-token greedy decode (the second of two)."""
    line = " ".join(map(str, src))
    # fairseq's lengths: LEN - 1 tokens, then the step that picks eos, so
    # LEN steps as torch_greedy's
    out = subprocess.run([os.path.join(build, "archex"), "run", cfg, "--weights", weights,
                          "--src-file", "/dev/stdin", "--min-len", str(LEN - 1),
                          "--max-len", str(LEN - 1), "--threads", str(threads),
                          "--precision", precision, "--format", "json", *extra],
                         input=line + "\n" + line + "\n", check=True,
                         capture_output=True, text=True).stdout
    rec = json.loads(out)[1]
    assert rec["executed_macs"] == rec["analytic_macs"]
    assert rec["steps"] == LEN
    return rec["seconds"]


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


class CachedAttention(torch.nn.Module):
    """The oracle's Attention (nn.MultiheadAttention weights) as nn.Linear
    modules, for one query row: self-attention appends its key and value to
    a cache; cross-attention projects the encoder output once."""

    def __init__(self, att):
        super().__init__()
        mha = att.mha
        w = mha.embed_dim
        self.w, self.H = w, mha.num_heads
        bias = mha.in_proj_bias is not None
        self.q = torch.nn.Linear(w, w, bias=bias)
        self.kv = torch.nn.Linear(w, 2 * w, bias=bias)
        self.o = torch.nn.Linear(w, w, bias=bias)
        with torch.no_grad():
            self.q.weight.copy_(mha.in_proj_weight[:w])
            self.kv.weight.copy_(mha.in_proj_weight[w:])
            self.o.weight.copy_(mha.out_proj.weight)
            if bias:
                self.q.bias.copy_(mha.in_proj_bias[:w])
                self.kv.bias.copy_(mha.in_proj_bias[w:])
                self.o.bias.copy_(mha.out_proj.bias)
        self.k = self.v = None

    def memory(self, mem):
        """Cross-attention: keys and values of the encoder output, once."""
        kv = self.kv(mem)
        self.k, self.v = kv[:, :self.w], kv[:, self.w:]

    def forward(self, x, self_attn):
        """x (1, w): the newest row."""
        if self_attn:
            kv = self.kv(x)
            k, v = kv[:, :self.w], kv[:, self.w:]
            self.k = k if self.k is None else torch.cat([self.k, k])
            self.v = v if self.v is None else torch.cat([self.v, v])
        hd = self.w // self.H
        q = (self.q(x) * hd ** -0.5).view(self.H, 1, hd)
        k = self.k.view(-1, self.H, hd).transpose(0, 1)
        v = self.v.view(-1, self.H, hd).transpose(0, 1)
        a = torch.softmax(q @ k.transpose(1, 2), -1) @ v      # (H, 1, hd)
        return self.o(a.reshape(1, self.w))


class CachedConv(torch.nn.Module):
    """The oracle's causal LightDynConv, one row at a time: the last K rows
    of its (GLU'd) input in a window."""

    def __init__(self, conv):
        super().__init__()
        self.c = conv
        self.win = None

    def forward(self, x):
        c = self.c
        u = c.linear1(x)
        if c.glu:
            u = torch.nn.functional.glu(u, dim=-1)
        self.win = torch.cat([self.win[1:], u])                 # (K, c)
        per = c.c // c.H
        if c.kind == "lightweight":
            k = torch.softmax(c.weight, -1)                     # (H, K)
        else:
            k = torch.softmax(c.weight_linear(u).view(c.H, c.K), -1)
        k = k.repeat_interleave(per, dim=0)                     # (c, K)
        return c.linear2((k * self.win.t()).sum(-1)[None])


class CachedDecoder(torch.nn.Module):
    """The oracle's fairseq-family decoder, decoding step by step with
    caches; out is the output projection as an nn.Linear."""

    def __init__(self, model):
        super().__init__()
        if model.family not in ("transformer", "lite", "lightconv") or model.lm \
                or model.asm is not None:
            raise ValueError("the cached decoder covers fairseq translation models")
        self.m = model
        self.steps = torch.nn.ModuleList()
        for layer in model.dec_layers:
            subs = []
            for s, kind in zip(layer.subs, layer.kinds):
                if kind == "cross":
                    subs.append(("cross", s, CachedAttention(s.att)))
                elif hasattr(s, "att"):
                    subs.append(("self", s, CachedAttention(s.att)))
                elif hasattr(s.fn, "att"):                      # Lite's LSRA
                    subs.append(("lsra", s, torch.nn.ModuleList(
                        [CachedAttention(s.fn.att), CachedConv(s.fn.conv)])))
                elif hasattr(s.fn, "linear1"):                  # LightConv
                    subs.append(("conv", s, CachedConv(s.fn)))
                else:
                    subs.append(("ffn", s, s.fn))
            self.steps.append(torch.nn.ModuleList([m for _, _, m in subs]))
            layer.cached = subs
        V, d = model.out_w.shape
        self.out = torch.nn.Linear(d, V, bias=False)
        with torch.no_grad():
            self.out.weight.copy_(model.out_w)

    def start(self, enc):
        for layer, mods in zip(self.m.dec_layers, self.steps):
            for (kind, _, _), mod in zip(layer.cached, mods):
                if kind == "cross":
                    mod.memory(enc)
                elif kind == "self":
                    mod.k = mod.v = None
                elif kind in ("lsra", "conv"):
                    att, conv = (mod[0], mod[1]) if kind == "lsra" else (None, mod)
                    if att is not None:
                        att.k = att.v = None
                    conv.win = torch.zeros(conv.c.K, conv.c.c)

    def step(self, tok, t):
        x = self.m.tgt_embed([tok], start=t)
        for layer, mods in zip(self.m.dec_layers, self.steps):
            for (kind, s, _), mod in zip(layer.cached, mods):
                h = s.ln(x) if s.pre else x
                if kind in ("self", "cross"):
                    y = mod(h, kind == "self")
                elif kind == "lsra":
                    ca = s.fn.ca
                    y = torch.cat([mod[0](h[:, :ca], True), mod[1](h[:, ca:])], 1)
                else:
                    y = mod(h)
                x = x + y if s.pre else s.ln(x + y)
        if self.m.dec_final is not None:
            x = self.m.dec_final(x)
        return torch.log_softmax(self.out(x)[0], -1)


@torch.no_grad()
def torch_greedy(model, dec, src):
    """Greedy decoding with caches, forced to LEN tokens (no pad, no eos
    before the end, as archex's --min-len/--max-len)."""
    dec.start(model.encode(src))
    toks, tok = [], model.start
    for t in range(LEN):
        lp = dec.step(tok, t)
        lp[oracle.PAD] = float("-inf")
        if t < LEN - 1:
            lp[oracle.EOS] = float("-inf")
        tok = int(torch.argmax(lp))
        toks.append(tok)
    return toks


@torch.no_grad()
def check_cache(model, dec, src):
    """The cached decoder against the oracle's cache-free one, 4 steps."""
    enc = model.encode(src)
    dec.start(enc)
    toks = [model.start]
    for t in range(4):
        a = dec.step(toks[-1], t)
        b = model.decode(toks, enc)[-1]
        err = float((a - b).abs().max())
        if not err < 1e-3:
            raise SystemExit(f"cached decoder differs from the oracle by {err}")
        toks.append(int(torch.argmax(b[4:])) + 4)


def torch_split(model, dec, src, th):
    """PyTorch's th threads: in its intra-op pool or in OpenBLAS's (never
    both, which oversubscribes the cores); the faster of the two, by one
    timed decode each after a warm-up."""
    best = None
    for split in sorted({(th, 1), (1, th)}):
        set_threads(*split)
        torch_greedy(model, dec, src)
        t = timed(lambda: torch_greedy(model, dec, src))
        if best is None or t < best[0]:
            best = (t, split)
    return best[1]


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def fmt(v):
    s = sorted(v)
    return f"{1e3 * statistics.median(s):.1f} | {1e3 * s[0]:.1f}..{1e3 * s[-1]:.1f}"


def bench_model(a, name, src, th, tmp):
    cfg = os.path.join(ROOT, "configs", "paper", name + ".yaml")
    w = os.path.join(tmp, name + ".axw")
    subprocess.run([os.path.join(a.build, "archex"), "init", cfg, "--seed", "1", "--out", w],
                   check=True)
    model = torch_model(a.build, cfg, w)
    dec = CachedDecoder(model).eval()
    check_cache(model, dec, src)
    qdec = torch.ao.quantization.quantize_dynamic(dec, {torch.nn.Linear},
                                                  dtype=torch.qint8)
    variants = {f"archex {p}": (lambda p=p: archex_decode(a.build, cfg, w, src, th, p))
                for p in PRECISIONS}
    variants["archex int8/a8"] = lambda: archex_decode(a.build, cfg, w, src, th, "int8",
                                                       ("--activations", "int8"))
    for k, d in (("torch fp32 kv", dec), ("torch int8 dyn", qdec)):
        split = torch_split(model, d, src, th)
        variants[k] = lambda d=d, split=split: (set_threads(*split),
                                                timed(lambda: torch_greedy(model, d, src)))[1]
    times = {k: [] for k in variants}
    for r in range(a.rounds + 1):               # round 0 warms up
        for k, f in variants.items():
            t = f()
            if r:
                times[k].append(t)
    med = {k: statistics.median(v) for k, v in times.items()}
    rows = []
    for k, v in times.items():
        rows.append(f"| {name} | {th} | {k} | {fmt(v)} | "
                    f"{med['torch fp32 kv'] / med[k]:.2f}x | {med['torch int8 dyn'] / med[k]:.2f}x | "
                    f"{med['archex fp32'] / med[k]:.2f}x |")
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", default="1")
    ap.add_argument("--models", default=",".join(MODELS))
    a = ap.parse_args()
    if a.rounds < 7:
        ap.error("--rounds must be at least 7")
    threads = [int(t) for t in a.threads.split(",")]
    rng = random.Random(1)
    src = [rng.randrange(4, 30000) for _ in range(LEN)]
    core = corename()
    cpu = subprocess.run([os.path.join(a.build, "archex"), "cpu"], capture_output=True,
                         text=True).stdout.strip().splitlines()
    print(f"OpenBLAS kernel {core} for both sides (archex's choice); torch "
          f"{torch.__version__}, quantized engine {torch.backends.quantized.engine}; "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '')}")
    for line in cpu[:2]:
        print("  " + line)
    print(f"\nbatch-1 greedy, {LEN} source and {LEN} target tokens, {a.rounds} interleaved "
          "rounds after a warm-up\n")
    print("| model | threads | variant | ms/sentence (median) | spread | vs torch fp32 kv | "
          "vs torch int8 dyn | vs archex fp32 |")
    print("|---|---|---|---|---|---|---|---|")
    tmp = tempfile.mkdtemp()
    for name in a.models.split(","):
        for th in threads:
            for row in bench_model(a, name, src, th, tmp):
                print(row, flush=True)
    print("\n| model | threads | precision | 32x30 scoring ms | GMAC/s | sgemm GFLOP/s | of sgemm peak |")
    print("|---|---|---|---|---|---|---|")
    for name in a.models.split(","):
        cfg = os.path.join(ROOT, "configs", "paper", name + ".yaml")
        for th in threads:
            out = subprocess.run(
                [os.path.join(a.build, "bench_score"), "--rounds", str(a.rounds), cfg, "32",
                 str(LEN), str(th), ",".join(PRECISIONS)],
                check=True, capture_output=True, text=True).stdout
            for line in out.splitlines():
                sc = json.loads(line)
                print(f"| {name} | {th} | {sc['precision']} | {1e3 * sc['seconds']:.0f} | "
                      f"{sc['gmacs']:.1f} | {sc['sgemm_gflops']:.0f} | "
                      f"{100 * sc['fraction_of_peak']:.0f}% |", flush=True)

if __name__ == "__main__":
    main()
