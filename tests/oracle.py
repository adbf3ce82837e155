#!/usr/bin/python3
"""oracle.py - an independent PyTorch oracle for archex's C inference.

What it checks. For each model config (archex's YAML schema, docs/config.md)
it asks archex to write random weights (`archex init`), loads that file
here, rebuilds the model in PyTorch, and compares

  (a) teacher-forced log-probabilities: `archex run --tgt ... --dump-logits`
      writes the (T, V) float32 log-probs of every target position; every
      entry must satisfy |a - b| / (1 + |a|) <= --tol (default 1e-4), a the
      oracle's value;
  (b) greedy decoding: `archex run --beam 1 --max-len-b N` must return
      exactly the oracle's tokens (argmax, pad never chosen, eos banned at
      steps below --min-len 1, forced at step N, stop at eos), and its
      `score` (sum of log-probs / length) must agree to the same tolerance;
  (c) beam search (beams 2-4, min-len up to 5, lenpen 0.6 and 1) against
      the oracle's own beam search with fairseq's rules (Model.beam_search),
      tokens exactly and score to --tol. archex appends eos to the source
      (fairseq's input), so the oracle passes the source without it.

Language-model configs are scored only (archex scores LM input; the context
starts with eos).

Why it is independent of archex's C code. Nothing here calls into or
copies from archex's kernels, executor or builders: the model is written
again from the equations in docs/models.md with PyTorch's own modules where they
exist (nn.Linear, nn.LayerNorm, nn.MultiheadAttention, F.conv1d with
`groups` for depthwise and lightweight convolution, F.softmax, F.glu,
nn.AdaptiveLogSoftmaxWithLoss) and evaluated in float64. The weights file
is parsed here with `struct` (CRCs checked) and matched to parameters by
name only: every name the oracle expects must be in the file with the
expected shape, and every tensor in the file must be used, so a renamed or
re-shaped parameter in archex fails loudly instead of being ignored. The
oracle decodes greedily by re-running the whole decoder on the prefix at
each step (no caches), so it also checks archex's incremental state (KV
caches, conv ring buffers) against the sequence-mode math.

With --grad it checks training instead: `archex train --dump-grad` writes
the gradients of its first batch, which must match autograd through the
same float64 model (label-smoothed loss, eps 0.1; adaptive models:
fairseq's adaptive loss, no smoothing) to --tol per tensor, for every
family (conv weights as leaves, the adaptive softmax functional on the
tied tensors), and one `archex train --max-steps 1` update must match torch.optim.AdamW
fed the same gradients.

Usage:
  oracle.py --archex build/archex CONFIG.yaml [CONFIG.yaml ...]
  oracle.py --archex build/archex --grad CONFIG.yaml
  oracle.py --archex build/archex --vocab 64 --layers 2 configs/paper/x.yaml
  oracle.py --self-test CONFIG.yaml      # oracle only: random weights,
                                         # weights-file round trip, no archex

Exit codes: 0 all match, 1 a mismatch or an archex failure, 2 usage error,
77 PyTorch or NumPy not importable (ctest SKIP_RETURN_CODE).
"""

import argparse
import copy
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import zlib

SKIP = 77

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"oracle.py: SKIP: PyTorch/NumPy not importable ({e}); "
          "install python3-torch and python3-numpy (scripts/test.sh does)",
          file=sys.stderr)
    sys.exit(SKIP)

try:
    import yaml
except ImportError as e:  # pragma: no cover
    print(f"oracle.py: SKIP: PyYAML not importable ({e}); "
          "install python3-yaml", file=sys.stderr)
    sys.exit(SKIP)

DTYPE = torch.float64

# fairseq's dictionary specials (docs/models.md §2.1)
BOS, PAD, EOS, UNK = 0, 1, 2, 3

EPS_FAIRSEQ = 1e-5
EPS_T2T = 1e-6


class Mismatch(Exception):
    """archex disagrees with the oracle."""


class Unsupported(Exception):
    """archex reports it cannot run this config (yet)."""


# --------------------------------------------------------------------------
# The weights file (docs/weights-format.md)
# --------------------------------------------------------------------------

WEIGHTS_MAGIC = b"AXWT"
WEIGHTS_VERSION = 1
DTYPE_F32 = 0
ALIGN = 64


def read_weights(path):
    """Parses an archex weights file into {name: float32 ndarray}.

    Layout (little-endian): magic "AXWT", u32 version, u32 count; per
    tensor u16 name length, name, u8 dtype (0 = f32), u8 ndim (1 or 2),
    i64 dims[ndim], u64 offset, u64 length, u32 CRC-32 of the data; then a
    u32 CRC-32 of the header bytes before it. Data is 64-byte aligned.
    """
    with open(path, "rb") as f:
        blob = f.read()

    def need(pos, n, what):
        if pos + n > len(blob):
            raise ValueError(f"{path}: truncated in {what} at byte {pos}")

    need(0, 12, "the preamble")
    if blob[:4] != WEIGHTS_MAGIC:
        raise ValueError(f"{path}: bad magic {blob[:4]!r}, want {WEIGHTS_MAGIC!r}")
    version, count = struct.unpack_from("<II", blob, 4)
    if version != WEIGHTS_VERSION:
        raise ValueError(f"{path}: version {version}, this oracle reads "
                         f"{WEIGHTS_VERSION}; regenerate the file")
    pos = 12
    entries = []
    for i in range(count):
        need(pos, 2, f"tensor {i}'s name length")
        (nlen,) = struct.unpack_from("<H", blob, pos)
        pos += 2
        need(pos, nlen + 2, f"tensor {i}'s name")
        name = blob[pos:pos + nlen].decode("utf-8")
        pos += nlen
        dtype, ndim = struct.unpack_from("<BB", blob, pos)
        pos += 2
        if dtype != DTYPE_F32:
            raise ValueError(f"{path}: {name}: dtype {dtype}, only f32 (0) known")
        if ndim not in (1, 2):
            raise ValueError(f"{path}: {name}: ndim {ndim}, want 1 or 2")
        need(pos, 8 * ndim + 20, f"{name}'s dims")
        dims = struct.unpack_from(f"<{ndim}q", blob, pos)
        pos += 8 * ndim
        off, length, crc = struct.unpack_from("<QQI", blob, pos)
        pos += 20
        entries.append((name, dims, off, length, crc))
    need(pos, 4, "the header CRC")
    (hcrc,) = struct.unpack_from("<I", blob, pos)
    if zlib.crc32(blob[:pos]) != hcrc:
        raise ValueError(f"{path}: header CRC mismatch "
                         f"(stored {hcrc:08x}, computed {zlib.crc32(blob[:pos]):08x})")
    out = {}
    for name, dims, off, length, crc in entries:
        n = 1
        for x in dims:
            n *= x
        if length != 4 * n:
            raise ValueError(f"{path}: {name}: {length} bytes for dims {dims}")
        if off % ALIGN:
            raise ValueError(f"{path}: {name}: offset {off} not {ALIGN}-byte aligned")
        need(off, length, f"{name}'s data")
        data = blob[off:off + length]
        if zlib.crc32(data) != crc:
            raise ValueError(f"{path}: {name}: data CRC mismatch")
        if name in out:
            raise ValueError(f"{path}: duplicate tensor name {name}")
        out[name] = np.frombuffer(data, dtype="<f4").reshape(dims).copy()
    return out


def graph_params(archex, config):
    """[(name, shape)] from `archex graph --params CONFIG`, in archex's
    parameter order (the table: name, shape "(r,c)" or "(n)", kind, count)."""
    out = run_archex(archex, ["graph", "--params", config], "graph --params")
    params = []
    for line in out.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 2 or not parts[1].startswith("("):
            continue
        shape = tuple(int(x) for x in parts[1].strip("()").split(","))
        params.append((parts[0], shape))
    return params


def read_raw_weights(path, params):
    """archex's interim weights stub (src/weights_stub.c, until
    src/weights.c lands): the tensors' float32 data back to back, in
    `graph --params` order, no header. Only used when the file has no
    AXWT magic."""
    raw = np.fromfile(path, dtype="<f4")
    n = sum(int(np.prod(s)) for _, s in params)
    if raw.size != n:
        raise ValueError(f"{path}: {raw.size} floats, `graph --params` lists {n}")
    out, pos = {}, 0
    for name, shape in params:
        k = int(np.prod(shape))
        out[name] = raw[pos:pos + k].reshape(shape).copy()
        pos += k
    return out


def write_weights(path, tensors):
    """Writes {name: float32 ndarray} in the format read_weights reads
    (for --self-test; archex files come from `archex init`)."""
    items = list(tensors.items())
    header = bytearray(WEIGHTS_MAGIC + struct.pack("<II", WEIGHTS_VERSION, len(items)))
    size = len(header) + 4
    for name, a in items:
        size += 2 + len(name.encode()) + 2 + 8 * a.ndim + 20
    off = (size + ALIGN - 1) // ALIGN * ALIGN
    chunks = []
    for name, a in items:
        data = np.ascontiguousarray(a, dtype="<f4").tobytes()
        nb = name.encode()
        header += struct.pack("<H", len(nb)) + nb
        header += struct.pack("<BB", DTYPE_F32, a.ndim)
        header += struct.pack(f"<{a.ndim}q", *a.shape)
        header += struct.pack("<QQI", off, len(data), zlib.crc32(data))
        chunks.append((off, data))
        off = (off + len(data) + ALIGN - 1) // ALIGN * ALIGN
    header += struct.pack("<I", zlib.crc32(bytes(header)))
    with open(path, "wb") as f:
        f.write(header)
        for o, data in chunks:
            f.write(b"\0" * (o - f.tell()))
            f.write(data)


class ParamSource:
    """Hands out parameters by archex name, checking shapes; remembers
    what was taken so leftovers and missing names can be reported.

    With `weights` None it invents random values instead (for --self-test)
    and keeps them in `made`, ready for write_weights()."""

    def __init__(self, weights=None, seed=0):
        self.weights = weights
        self.used = set()
        self.missing = []
        self.bad_shape = []
        self.made = {}
        self.rng = np.random.default_rng(seed)
        # --grad: every tensor handed out is a leaf that collects its
        # gradient; grad_of[name]() returns it (modules that copy a tensor
        # into their own parameters re-point their names below)
        self.grad_mode = False
        self.grad_of = {}

    def take(self, name, shape, kind="weight"):
        shape = tuple(int(s) for s in shape)
        if name in self.used:
            raise KeyError(f"oracle bug: parameter {name} taken twice")
        self.used.add(name)
        if self.weights is None:
            a = self._invent(shape, kind)
            self.made[name] = a
        else:
            a = self.weights.get(name)
            if a is None:
                self.missing.append(f"{name} {shape}")
                a = np.zeros(shape, dtype=np.float32)
            else:
                # archex stores vectors as (n,) or (n, 1)
                if a.shape != shape and a.size == int(np.prod(shape)) and \
                        len(shape) == 1:
                    a = a.reshape(shape)
                if a.shape != shape:
                    self.bad_shape.append(f"{name}: file {a.shape}, oracle {shape}")
                    a = np.zeros(shape, dtype=np.float32)
        t = torch.from_numpy(np.array(a, dtype=np.float64))
        if self.grad_mode:
            t.requires_grad_(True)
            self.grad_of[name] = lambda t=t: t.grad
        return t

    def _invent(self, shape, kind):
        fan_in = shape[-1] if len(shape) == 2 else 1
        if kind == "gamma":
            return (1 + self.rng.uniform(-0.1, 0.1, shape)).astype(np.float32)
        if kind in ("bias", "beta"):
            return self.rng.uniform(-0.1, 0.1, shape).astype(np.float32)
        return self.rng.uniform(-1, 1, shape).astype(np.float32) / math.sqrt(fan_in)

    def check(self):
        problems = []
        if self.missing:
            problems.append("missing from the weights file: " + ", ".join(self.missing))
        if self.bad_shape:
            problems.append("wrong shapes: " + ", ".join(self.bad_shape))
        if self.weights is not None:
            extra = sorted(set(self.weights) - self.used)
            if extra:
                problems.append("in the file but unused by the oracle: " +
                                ", ".join(extra))
        if problems:
            raise Mismatch("parameter names/shapes differ:\n  " + "\n  ".join(problems))


# --------------------------------------------------------------------------
# Config (YAML) -> plain Python structure
# --------------------------------------------------------------------------

def per_layer(value, layers, key):
    """A per-layer key is a scalar (every layer) or one entry per layer."""
    if isinstance(value, list):
        if len(value) != layers:
            raise ValueError(f"{key}: {len(value)} entries for {layers} layers")
        return list(value)
    return [value] * layers


def stack_layers(stack):
    """Expands a stack mapping into one dict per layer."""
    L = stack["layers"]
    flat = {}
    for k, v in stack.items():
        if k == "layers":
            continue
        if isinstance(v, dict):
            for kk, vv in v.items():
                flat[f"{k}.{kk}"] = per_layer(vv, L, f"{k}.{kk}")
        else:
            flat[k] = per_layer(v, L, k)
    return [{k: v[i] for k, v in flat.items()} for i in range(L)]


def shrink(cfg, base_name, vocab=None, layers=None, cutoffs=None):
    """A smaller copy of a config: vocabulary, layer count, adaptive cutoffs."""
    cfg = copy.deepcopy(cfg)
    if vocab:
        for k in ("source", "target"):
            if k in cfg["vocab"]:
                cfg["vocab"][k] = vocab
    if cutoffs and "adaptive" in cfg:
        cfg["adaptive"]["cutoffs"] = cutoffs
    if layers:
        for side in ("encoder", "decoder"):
            st = cfg.get(side)
            if not st or st["layers"] <= layers:
                continue
            st["layers"] = layers

            def cut(m):
                for k, v in m.items():
                    if isinstance(v, list):
                        m[k] = v[:layers]
                    elif isinstance(v, dict):
                        cut(v)
            cut(st)
    cfg["name"] = cfg.get("name", base_name) + "-oracle"
    return cfg


class _NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data):   # archex's loader refuses aliases
        return True


def dump_yaml(cfg, path):
    with open(path, "w") as f:
        yaml.dump(cfg, f, Dumper=_NoAliasDumper, default_flow_style=None,
                  sort_keys=False)


# --------------------------------------------------------------------------
# MAC counting (docs/models.md §8.2 `exact`, §8.4 incremental)
# --------------------------------------------------------------------------

class MacCounter:
    """Counts the multiply-accumulates the oracle's own math performs, so
    archex's `executed_macs` and `analytic_macs` are checked against a
    count that shares nothing with archex's cost model.

    Sequence mode (step None): every row counts. Step mode (greedy step t,
    0-based; the oracle re-runs the whole prefix): only the newest target
    row counts, causal self-attention sees t+1 keys (one new K/V row), and
    cross-attention K/V of the memory count at step 0 only (docs/models.md §8.4).
    nn.Linear modules are counted by a forward hook (in*out per row);
    attention, convolutions and the output layer count themselves."""

    def __init__(self):
        self.total = 0
        self.step = None

    def rows(self, n):
        return n if self.step is None else 1

    def add(self, n):
        self.total += int(n)

    def linear_hook(self, module, inputs, output):
        x = inputs[0]
        n = x.shape[0] if x.dim() > 1 else 1
        self.add(self.rows(n) * module.in_features * module.out_features)


COUNT = MacCounter()


# --------------------------------------------------------------------------
# Building blocks (docs/models.md §2)
# --------------------------------------------------------------------------

def linear(P, name, i, o, bias=True):
    """nn.Linear(i, o) with archex's `name.weight` (o, i) and `name.bias`."""
    m = nn.Linear(i, o, bias=bias).to(DTYPE)
    with torch.no_grad():
        m.weight.copy_(P.take(f"{name}.weight", (o, i)))
        if bias:
            m.bias.copy_(P.take(f"{name}.bias", (o,), "bias"))
    P.grad_of[f"{name}.weight"] = lambda: m.weight.grad
    if bias:
        P.grad_of[f"{name}.bias"] = lambda: m.bias.grad
    return m


def layer_norm(P, name, w, eps):
    m = nn.LayerNorm(w, eps=eps).to(DTYPE)
    with torch.no_grad():
        m.weight.copy_(P.take(f"{name}.weight", (w,), "gamma"))
        m.bias.copy_(P.take(f"{name}.bias", (w,), "beta"))
    P.grad_of[f"{name}.weight"] = lambda: m.weight.grad
    P.grad_of[f"{name}.bias"] = lambda: m.bias.grad
    return m


def sinusoids(positions, d, offset_one):
    """fairseq (offset_one: log(1e4)/(d/2-1)) and t2t (/max(d/2-1, 1))
    sinusoids; halves concatenated [sin | cos], odd d: trailing zero."""
    half = d // 2
    denom = max(half - 1, 1) if not offset_one else (half - 1)
    if denom == 0:
        denom = 1   # fairseq divides by zero at d = 2; keep finite
    omega = torch.exp(torch.arange(half, dtype=DTYPE) * -(math.log(10000.0) / denom))
    ang = positions.to(DTYPE)[:, None] * omega[None, :]
    pe = torch.cat([torch.sin(ang), torch.cos(ang)], dim=1)
    if d % 2:
        pe = torch.cat([pe, torch.zeros(len(positions), 1, dtype=DTYPE)], dim=1)
    return pe


def causal_mask(n):
    return torch.triu(torch.full((n, n), float("-inf"), dtype=DTYPE), diagonal=1)


class Attention(nn.Module):
    """fairseq / t2t multi-head attention (docs/models.md §2.3) as PyTorch's own
    nn.MultiheadAttention: q scaled by h^-1/2 after the bias, heads are
    contiguous channel blocks, softmax over keys, output projection."""

    def __init__(self, P, prefix, w, heads, bias=True):
        super().__init__()
        self.mha = nn.MultiheadAttention(w, heads, bias=bias).to(DTYPE)
        q = linear(P, f"{prefix}.q_proj", w, w, bias)
        k = linear(P, f"{prefix}.k_proj", w, w, bias)
        v = linear(P, f"{prefix}.v_proj", w, w, bias)
        o = linear(P, f"{prefix}.out_proj", w, w, bias)
        with torch.no_grad():
            self.mha.in_proj_weight.copy_(torch.cat([q.weight, k.weight, v.weight]))
            self.mha.out_proj.weight.copy_(o.weight)
            if bias:
                self.mha.in_proj_bias.copy_(torch.cat([q.bias, k.bias, v.bias]))
                self.mha.out_proj.bias.copy_(o.bias)
        mha = self.mha
        for j, r in enumerate("qkv"):
            P.grad_of[f"{prefix}.{r}_proj.weight"] = \
                lambda j=j: mha.in_proj_weight.grad[j * w:(j + 1) * w]
            if bias:
                P.grad_of[f"{prefix}.{r}_proj.bias"] = \
                    lambda j=j: mha.in_proj_bias.grad[j * w:(j + 1) * w]
        P.grad_of[f"{prefix}.out_proj.weight"] = lambda: mha.out_proj.weight.grad
        if bias:
            P.grad_of[f"{prefix}.out_proj.bias"] = lambda: mha.out_proj.bias.grad

    def forward(self, x, mem, causal):
        """x (N, w) queries, mem (M, w) keys and values."""
        N, M, w = x.shape[0], mem.shape[0], x.shape[1]
        if COUNT.step is None:        # q, o on N rows; k, v on M; QK^T, AV
            COUNT.add(2 * N * w * w + 2 * M * w * w + 2 * N * M * w)
        elif mem is x:                # decoder self-attention, newest row
            COUNT.add(2 * w * w + 2 * w * w + 2 * M * w)
        else:                         # cross-attention: K/V once per sentence
            COUNT.add(2 * w * w + 2 * M * w +
                      (2 * M * w * w if COUNT.step == 0 else 0))
        mask = causal_mask(x.shape[0]) if causal else None
        y, _ = self.mha(x[:, None, :], mem[:, None, :], mem[:, None, :],
                        attn_mask=mask, need_weights=False)
        return y[:, 0, :]


class FFN(nn.Module):
    """fc1 -> act -> [LN] -> fc2 (docs/models.md §2.4; ET's decoder FFN has a LN
    of width 4d after swish, §6.3)."""

    def __init__(self, P, prefix, d, f, act="relu", mid_ln_eps=None):
        super().__init__()
        self.fc1 = linear(P, f"{prefix}.fc1", d, f)
        self.act = act
        self.mid = layer_norm(P, f"{prefix}.layer_norm_4d", f, mid_ln_eps) \
            if mid_ln_eps else None
        self.fc2 = linear(P, f"{prefix}.fc2", f, d)

    def forward(self, x):
        h = self.fc1(x)
        h = F.relu(h) if self.act == "relu" else h * torch.sigmoid(h)
        if self.mid is not None:
            h = self.mid(h)
        return self.fc2(h)


def conv_padding(K, causal):
    """Taps before the current row: K-1 (causal), else K//2 for odd K and
    (K-1)//2 for even K (docs/models.md §2.5)."""
    if causal:
        return K - 1
    return K // 2 if K % 2 else (K - 1) // 2


def depthwise(x, w, pad_left):
    """y[i, ch] = sum_k w[ch, k] x[i + k - pad_left, ch], zeros outside:
    F.conv1d with groups = channels. x (N, c), w (c, K)."""
    K = w.shape[1]
    xt = F.pad(x.t()[None], (pad_left, K - 1 - pad_left))
    return F.conv1d(xt, w[:, None, :], groups=x.shape[1])[0].t()


class LightDynConv(nn.Module):
    """linear1 [+ GLU] -> lightweight or dynamic conv -> linear2
    (docs/models.md §2.5, §2.6, §4, §5.1)."""

    def __init__(self, P, prefix, c_in, c, out, kind, heads, K, glu, causal):
        super().__init__()
        self.glu = glu
        self.linear1 = linear(P, f"{prefix}.linear1", c_in, 2 * c if glu else c)
        self.kind, self.H, self.K, self.c = kind, heads, K, c
        self.pad = conv_padding(K, causal)
        if kind == "dynamic":
            self.weight_linear = linear(P, f"{prefix}.weight_linear", c, heads * K,
                                        bias=False)
        elif kind == "lightweight":
            self.weight = P.take(f"{prefix}.lightconv.weight", (heads, K))
        else:
            raise ValueError(f"conv type {kind}")
        self.linear2 = linear(P, f"{prefix}.linear2", c, out)

    def forward(self, x):
        u = self.linear1(x)
        if self.glu:
            u = F.glu(u, dim=-1)
        N, c, H, K = u.shape[0], self.c, self.H, self.K
        COUNT.add(COUNT.rows(N) * c * K)                     # taps
        per_head = c // H      # heads are contiguous channel blocks
        if self.kind == "lightweight":
            w = F.softmax(self.weight, dim=-1)              # (H, K)
            w = w.repeat_interleave(per_head, dim=0)        # (c, K)
            y = depthwise(u, w, self.pad)
        else:
            kern = F.softmax(self.weight_linear(u).view(N, H, K), dim=-1)
            kern = kern.repeat_interleave(per_head, dim=1)  # (N, c, K)
            # softmax over all K taps, then zero padding: no renormalisation
            xp = F.pad(u.t(), (self.pad, K - 1 - self.pad))  # (c, N+K-1)
            win = xp.unfold(1, K, 1).permute(1, 0, 2)        # (N, c, K)
            y = (kern * win).sum(-1)
        return self.linear2(y)


def padded_add(x, y):
    """x (N, w0) + zero-pad(y (N, w1)), w1 <= w0 (ET's narrow branches)."""
    if y.shape[1] == x.shape[1]:
        return x + y
    return x + F.pad(y, (0, x.shape[1] - y.shape[1]))


class SepConv(nn.Module):
    """ET SeparableConv1D: depthwise (W (K, Cin), no bias) -> pointwise
    Linear(Cin, Cout) with bias (docs/models.md §6.1)."""

    def __init__(self, P, prefix, cin, cout, K, pad_left):
        super().__init__()
        self.dw = P.take(f"{prefix}.depthwise.weight", (K, cin))
        self.pw = linear(P, f"{prefix}.pointwise", cin, cout)
        self.pad = pad_left

    def forward(self, x):
        COUNT.add(COUNT.rows(x.shape[0]) * self.dw.numel())  # K * c taps
        return self.pw(depthwise(x, self.dw.t(), self.pad))


class Conv1d(nn.Module):
    """ET standard Conv1D (k taps, 'SAME' for odd k), as nn.Conv1d.
    archex stores W as (out, K*in) with tap k in columns [k*in, (k+1)*in)."""

    def __init__(self, P, prefix, cin, cout, K, pad_left):
        super().__init__()
        w = P.take(f"{prefix}.weight", (cout, K * cin))
        self.b = P.take(f"{prefix}.bias", (cout,), "bias")
        # nn.Conv1d's layout (out, in, K), a view of the leaf (--grad)
        self.w = w.view(cout, K, cin).permute(0, 2, 1)
        self.pad, self.K = pad_left, K

    def forward(self, x):
        COUNT.add(COUNT.rows(x.shape[0]) * self.w.numel())
        xt = F.pad(x.t()[None], (self.pad, self.K - 1 - self.pad))
        return F.conv1d(xt, self.w, self.b)[0].t()


# --------------------------------------------------------------------------
# Layers per family
# --------------------------------------------------------------------------

class Sub(nn.Module):
    """One residual sub-block under post-norm (x = LN(x + f(x))) or
    pre-norm (x = x + f(LN(x)))."""

    def __init__(self, P, ln_name, d, pre, eps, fn):
        super().__init__()
        self.ln = layer_norm(P, ln_name, d, eps)
        self.pre, self.fn = pre, fn

    def forward(self, x, *args):
        if self.pre:
            return x + self.fn(self.ln(x), *args)
        return self.ln(x + self.fn(x, *args))


class FairseqLayer(nn.Module):
    """Transformer, LightConv and Lite layers: a list of sub-blocks."""

    def __init__(self, subs, kinds):
        super().__init__()
        self.subs = nn.ModuleList(subs)
        self.kinds = kinds     # "self" or "cross" per sub-block

    def forward(self, x, enc):
        for s, kind in zip(self.subs, self.kinds):
            x = s(x, enc) if kind == "cross" else s(x)
        return x


def self_attn_fn(att, causal):
    return lambda x: att(x, x, causal)


def cross_attn_fn(att):
    return lambda x, enc: att(x, enc, False)


class LSRA(nn.Module):
    """Lite's Long-Short Range Attention (docs/models.md §5.1): attention on the
    channel slice [0, c_a), the conv block on [c_a, d), outputs concatenated."""

    def __init__(self, P, prefix, d, lc, causal):
        super().__init__()
        self.ca = lc["attention_branch.dim"]
        cc = lc["conv_branch.dim"]
        if self.ca + cc != d:
            raise ValueError("LSRA branches must sum to embed_dim")
        self.att = Attention(P, f"{prefix}.attn", self.ca,
                             lc["attention_branch.heads"])
        kind = lc["conv_branch.type"]
        # the lightweight branch ignores GLU upstream (docs/models.md §5.1)
        glu = kind == "dynamic" and bool(lc["conv_branch.glu"])
        self.conv = LightDynConv(P, f"{prefix}.conv", cc, cc, cc, kind,
                                 lc["conv_branch.heads"],
                                 lc["conv_branch.kernel_size"], glu, causal)
        self.causal = causal

    def forward(self, x):
        a, c = x[:, :self.ca], x[:, self.ca:]
        return torch.cat([self.att(a, a, self.causal), self.conv(c)], dim=1)


def fairseq_layer(P, family, prefix, d, lc, pre, decoder, cross):
    eps = EPS_FAIRSEQ
    subs, kinds = [], []
    if family == "transformer":
        att = Attention(P, f"{prefix}.self_attn", d, lc["attention_heads"])
        subs.append(Sub(P, f"{prefix}.self_attn.self_attn_layer_norm", d, pre, eps,
                        self_attn_fn(att, decoder)))
        subs[-1].att = att
    elif family == "lite":
        lsra = LSRA(P, f"{prefix}.lsra", d, lc, decoder)
        subs.append(Sub(P, f"{prefix}.lsra.self_attn_layer_norm", d, pre, eps, lsra))
    elif family == "lightconv":
        conv = LightDynConv(P, f"{prefix}.conv", d, lc["conv.dim"], d,
                            lc["conv.type"], lc["conv.heads"],
                            lc["conv.kernel_size"], bool(lc["conv.glu"]), decoder)
        subs.append(Sub(P, f"{prefix}.conv.conv_layer_norm", d, pre, eps, conv))
    else:
        raise ValueError(family)
    kinds.append("self")
    if cross:
        xatt = Attention(P, f"{prefix}.encoder_attn", d, lc["attention_heads"])
        s = Sub(P, f"{prefix}.encoder_attn.encoder_attn_layer_norm", d, pre, eps,
                cross_attn_fn(xatt))
        s.att = xatt
        subs.append(s)
        kinds.append("cross")
    ffn = FFN(P, f"{prefix}.ffn", d, lc["ffn_dim"])
    subs.append(Sub(P, f"{prefix}.ffn.final_layer_norm", d, pre, eps, ffn))
    kinds.append("self")
    return FairseqLayer(subs, kinds)


def heads2(h):
    """ET's second head count H2 = max(min(2H, 16), H) (docs/models.md §6.3)."""
    return max(min(2 * h, 16), h)


class EvolvedEncoderCell(nn.Module):
    """docs/models.md §6.2, pre-norm blocks with LN eps 1e-6."""

    def __init__(self, P, p, d, H):
        super().__init__()
        e = EPS_T2T
        self.ln_glu = layer_norm(P, f"{p}.glu.layer_norm", d, e)
        self.glu = linear(P, f"{p}.glu.glu", d, 2 * d)
        self.ln_conv = layer_norm(P, f"{p}.conv.layer_norm", d, e)
        self.dense = linear(P, f"{p}.conv.dense_4d", d, 4 * d)
        self.conv3 = Conv1d(P, f"{p}.conv.conv1d_3", d, d // 2, 3, 1)
        self.ln_4d = layer_norm(P, f"{p}.conv.layer_norm_4d", 4 * d, e)
        self.sep9 = SepConv(P, f"{p}.conv.sep_conv_9", 4 * d, d // 2, 9, 4)
        self.ln_att = layer_norm(P, f"{p}.self_attn.layer_norm", d, e)
        self.att = Attention(P, f"{p}.self_attn", d, H, bias=False)
        self.ln_ffn = layer_norm(P, f"{p}.ffn.layer_norm", d, e)
        self.ffn = FFN(P, f"{p}.ffn", d, 4 * d)

    def forward(self, x, enc=None):
        x = x + F.glu(self.glu(self.ln_glu(x)), dim=-1)
        u = self.ln_conv(x)
        s = padded_add(F.relu(self.dense(u)), F.relu(self.conv3(u)))
        x = padded_add(x, self.sep9(self.ln_4d(s)))
        u = self.ln_att(x)
        x = x + self.att(u, u, False)
        return x + self.ffn(self.ln_ffn(x))


class EvolvedDecoderCell(nn.Module):
    """docs/models.md §6.3: all convolutions causal (left padding K-1)."""

    def __init__(self, P, p, d, H, cross):
        super().__init__()
        e = EPS_T2T
        self.cross = cross
        self.ln_pair = layer_norm(P, f"{p}.attn_pair.layer_norm", d, e)
        self.pair_self = Attention(P, f"{p}.attn_pair.self_attn", d, heads2(H), bias=False)
        if cross:
            self.pair_cross = Attention(P, f"{p}.attn_pair.encoder_attn", d, H, bias=False)
        self.ln_conv = layer_norm(P, f"{p}.conv.layer_norm", d, e)
        self.sep11 = SepConv(P, f"{p}.conv.sep_conv_11", d, 2 * d, 11, 10)
        self.sep7r = SepConv(P, f"{p}.conv.sep_conv_7_right", d, d // 2, 7, 6)
        self.ln_2d = layer_norm(P, f"{p}.conv.layer_norm_2d", 2 * d, e)
        self.sep7o = SepConv(P, f"{p}.conv.sep_conv_7_out", 2 * d, d, 7, 6)
        self.ln_self = layer_norm(P, f"{p}.self_attn.layer_norm", d, e)
        self.self_att = Attention(P, f"{p}.self_attn", d, H, bias=False)
        if cross:
            self.ln_cross = layer_norm(P, f"{p}.encoder_attn.layer_norm", d, e)
            self.cross_att = Attention(P, f"{p}.encoder_attn", d, H, bias=False)
        self.ln_ffn = layer_norm(P, f"{p}.ffn.layer_norm", d, e)
        self.ffn = FFN(P, f"{p}.ffn", d, 4 * d, act="swish", mid_ln_eps=e)

    def forward(self, x, enc):
        u = self.ln_pair(x)
        y = self.pair_self(u, u, True)
        if self.cross:
            y = y + self.pair_cross(u, enc, False)
        x = x + y
        u = self.ln_conv(x)
        s = padded_add(F.relu(self.sep11(u)), self.sep7r(u))
        x = x + self.sep7o(self.ln_2d(s))
        u = self.ln_self(x)
        x = x + self.self_att(u, u, True)
        if self.cross:
            x = x + self.cross_att(self.ln_cross(x), enc, False)
        return x + self.ffn(self.ln_ffn(x))


# --------------------------------------------------------------------------
# Front end and output layer
# --------------------------------------------------------------------------

class TokenEmbed(nn.Module):
    """x = sqrt(d) E[tok] + PE[pos] (docs/models.md §2.1; t2t §6.1 for ET)."""

    def __init__(self, table, d, t2t, space=None):
        super().__init__()
        self.table, self.d, self.t2t, self.space = table, d, t2t, space

    def forward(self, toks, start=0):
        idx = torch.tensor(toks, dtype=torch.long)
        x = math.sqrt(self.d) * F.embedding(idx, self.table)
        if self.t2t:
            # t2t's padding id 0 embeds to the zero vector (docs/models.md §6.1)
            x = x * (idx != 0).to(DTYPE)[:, None]
            pos = torch.arange(start, start + len(toks))
        else:
            pos = torch.arange(start, start + len(toks)) + PAD + 1
        x = x + sinusoids(pos, self.d, offset_one=not self.t2t)
        if self.space is not None:
            # t2t's encoder adds one target-space row; archex uses row 0,
            # t2t's generic space id
            x = x + self.space[0]
        return x


class AdaptiveInput(nn.Module):
    """fairseq adaptive input (docs/models.md §2.8): band b looks up E_b[id - start_b]
    (width d_b), projects with P_b = Linear(d_b, d, no bias), scales by
    sqrt(d), adds the sinusoids."""

    def __init__(self, P, prefix, V, d, cutoffs, factor):
        super().__init__()
        self.edges = [0] + list(cutoffs) + [V]
        self.d = d
        self.tables, self.projs = [], nn.ModuleList()
        for b in range(len(self.edges) - 1):
            db = d // factor ** b
            size = self.edges[b + 1] - self.edges[b]
            self.tables.append(P.take(f"{prefix}.band{b}.table.weight", (size, db)))
            self.projs.append(linear(P, f"{prefix}.band{b}.proj", db, d, bias=False))

    def forward(self, toks, start=0):
        rows = []
        for t in toks:
            b = next(i for i in range(len(self.edges) - 1)
                     if self.edges[i] <= t < self.edges[i + 1])
            e = self.tables[b][t - self.edges[b]]
            if t - self.edges[b] == PAD:
                # fairseq gives every band's nn.Embedding padding_idx 1:
                # local row 1 gets no gradient from the input side
                e = e.detach()
            rows.append(self.projs[b](e))
        x = math.sqrt(self.d) * torch.stack(rows)
        pos = torch.arange(start, start + len(toks)) + PAD + 1
        return x + sinusoids(pos, self.d, offset_one=True)


class AdaptiveLogSoftmax(nn.Module):
    """The adaptive softmax's log-probabilities over the whole vocabulary
    computed from archex's tensors themselves (no copies), so that --grad
    reaches them, tied ones included: head = [E_0 | W_cls]; tail b: z =
    P_b h (P_b (d_b, d)), log-probs lsm(head)[c0+b-1] + lsm(E_b z)
    (docs/models.md §2.8). MACs count themselves as nn.Linear's hooks
    count nn.AdaptiveLogSoftmaxWithLoss's."""

    def __init__(self, head, cls, tails):
        super().__init__()
        self.head, self.cls, self.tails = head, cls, tails

    def log_prob(self, h):
        n, d = h.shape
        W = torch.cat([self.head, self.cls])
        COUNT.add(COUNT.rows(n) * W.numel())
        lh = F.log_softmax(h @ W.t(), dim=-1)
        c0 = self.head.shape[0]
        out = [lh[:, :c0]]
        for b, (proj, table) in enumerate(self.tails, 1):
            proj = proj()
            COUNT.add(COUNT.rows(n) * (proj.numel() + table.numel()))
            lt = F.log_softmax((h @ proj.t()) @ table.t(), dim=-1)
            out.append(lh[:, c0 + b - 1:c0 + b] + lt)
        return torch.cat(out, dim=-1)


def adaptive_softmax(P, prefix_out, ai, V, d, cutoffs, factor, tie_w, tie_p):
    """PyTorch's nn.AdaptiveLogSoftmaxWithLoss loaded with archex's tensors:
    head = [E_0 | W_cls], tail b = (P_b^T, E_b) (docs/models.md §2.8). In
    --grad mode the functional AdaptiveLogSoftmax on the same tensors."""
    nb = len(cutoffs) + 1
    head = ai.tables[0] if tie_w and ai else \
        P.take(f"{prefix_out}.head.word_proj.weight", (cutoffs[0], d))
    cls = P.take(f"{prefix_out}.head.class_proj.weight", (nb - 1, d))
    edges = [0] + list(cutoffs) + [V]
    tails = []
    for b in range(1, nb):
        db = d // factor ** b
        if tie_w and tie_p and ai:
            # the input projection's own parameter, read at call time
            proj = (lambda m=ai.projs[b]: m.weight.t())
        else:
            t = P.take(f"{prefix_out}.band{b}.out_proj.weight", (db, d))
            proj = (lambda t=t: t)
        table = ai.tables[b] if tie_w and ai else \
            P.take(f"{prefix_out}.band{b}.out_table.weight",
                   (edges[b + 1] - edges[b], db))
        tails.append((proj, table))
    if P.grad_mode:
        return AdaptiveLogSoftmax(head, cls, tails)
    m = nn.AdaptiveLogSoftmaxWithLoss(d, V, list(cutoffs), div_value=float(factor),
                                      head_bias=False).to(DTYPE)
    with torch.no_grad():
        m.head.weight.copy_(torch.cat([head, cls]))
        for b in range(1, nb):
            m.tail[b - 1][0].weight.copy_(tails[b - 1][0]())
            m.tail[b - 1][1].weight.copy_(tails[b - 1][1])
    return m


# --------------------------------------------------------------------------
# The whole model
# --------------------------------------------------------------------------

class Model(nn.Module):
    """Encoder-decoder or decoder-only model of any family, built from a
    config dict and a ParamSource. All math in float64."""

    def __init__(self, cfg, P):
        super().__init__()
        fam, task = cfg["family"], cfg["task"]
        self.family, self.lm = fam, task == "language_model"
        d = self.d = cfg["embed_dim"]
        pre = cfg["norm"] == "pre"
        final = pre and bool(cfg.get("final_norm", False))
        voc = cfg["vocab"]
        share = voc["share"]
        V = self.V = voc["target"]
        t2t = fam == "evolved"
        eps = EPS_T2T if t2t else EPS_FAIRSEQ
        # the decoder's first input: eos (fairseq), or t2t's shifted-right
        # zero vector, which id 0 embeds to (docs/models.md §2.1, §6.1)
        self.start = 0 if t2t else EOS
        if t2t and not pre:
            raise ValueError("the oracle builds ET pre-norm only (docs/models.md §6.1)")

        # encoder
        self.enc_layers = nn.ModuleList()
        self.enc_final = None
        if not self.lm:
            src_table = P.take("embed.src.embed_tokens.weight", (voc["source"], d),
                               "embed")
            space = P.take("embed.src.target_space_embedding.weight", (32, d),
                           "embed") if t2t else None
            self.src_embed = TokenEmbed(src_table, d, t2t, space)
            for l, lc in enumerate(stack_layers(cfg["encoder"])):
                p = f"enc.{l}"
                self.enc_layers.append(
                    EvolvedEncoderCell(P, p, d, lc["attention_heads"]) if t2t else
                    fairseq_layer(P, fam, p, d, lc, pre, decoder=False, cross=False))
            if final:
                self.enc_final = layer_norm(P, "enc.layer_norm", d, eps)

        # decoder input
        ad = cfg.get("adaptive")
        self.ai = None
        if ad:
            self.ai = AdaptiveInput(P, "embed.tgt", V, d, ad["cutoffs"], ad["factor"])
            self.tgt_embed = self.ai
            tgt_table = None
        else:
            if share == "all" and not self.lm:
                if voc["source"] != V:
                    raise ValueError("share: all needs equal vocabularies")
                tgt_table = src_table
            else:
                tgt_table = P.take("embed.tgt.embed_tokens.weight", (V, d), "embed")
            self.tgt_embed = TokenEmbed(tgt_table, d, t2t)

        self.dec_layers = nn.ModuleList()
        for l, lc in enumerate(stack_layers(cfg["decoder"])):
            p = f"dec.{l}"
            self.dec_layers.append(
                EvolvedDecoderCell(P, p, d, lc["attention_heads"], not self.lm) if t2t
                else fairseq_layer(P, fam, p, d, lc, pre, decoder=True,
                                   cross=not self.lm))
        self.dec_final = layer_norm(P, "dec.layer_norm", d, eps) if final else None

        # output layer
        self.asm = None
        if ad:
            self.asm = adaptive_softmax(P, "out", self.ai, V, d, ad["cutoffs"],
                                        ad["factor"], bool(ad["tie_weights"]),
                                        bool(ad["tie_proj"]))
        elif share == "none":
            self.out_w = P.take("out.embed_out.weight", (V, d), "embed")
        else:
            self.out_w = tgt_table
        for m in self.modules():
            if isinstance(m, nn.Linear):
                m.register_forward_hook(COUNT.linear_hook)

    def encode(self, src):
        if self.lm:
            return None
        x = self.src_embed(src)
        for layer in self.enc_layers:
            x = layer(x, None)
        return self.enc_final(x) if self.enc_final is not None else x

    def decode(self, tgt_in, enc):
        """Log-probabilities (T, V) for the decoder inputs tgt_in."""
        x = self.tgt_embed(tgt_in)
        for layer in self.dec_layers:
            x = layer(x, enc)
        if self.dec_final is not None:
            x = self.dec_final(x)
        if self.asm is not None:
            return self.asm.log_prob(x)
        COUNT.add(COUNT.rows(x.shape[0]) * self.out_w.numel())   # V * d
        return F.log_softmax(x @ self.out_w.t(), dim=-1)

    @torch.no_grad()
    def score(self, src, tgt):
        """Teacher-forced log-probs of tgt: decoder input [start, y_1..y_{T-1}].
        COUNT.total holds the MACs of this one sequence-mode pass."""
        COUNT.total, COUNT.step = 0, None
        return self.decode([self.start] + list(tgt[:-1]), self.encode(src))

    def step_logprobs(self, toks, enc, step, max_len, min_len):
        """fairseq's masked log-probs for the next token after toks at
        step `step`: pad never; eos banned while step < min_len; only eos
        at step max_len. Returns (raw row, masked row)."""
        lp = self.decode([self.start] + toks, enc)[-1]
        m = lp.clone()
        m[PAD] = float("-inf")
        if step < min_len:
            m[EOS] = float("-inf")
        if step >= max_len:
            keep = float(m[EOS])
            m[:] = float("-inf")
            m[EOS] = keep
        return lp, m

    @torch.no_grad()
    def greedy(self, src, max_len, min_len=1):
        """Greedy decoding as fairseq's beam 1: at step s (s tokens so far)
        the argmax of the masked log-probs (lowest id on ties), stopping at
        eos, which is forced at step max_len; re-runs the decoder on the
        whole prefix each step. Returns (tokens, per-step log-probs rows,
        sum of chosen log-probs); COUNT.total holds the incremental-mode
        MACs of the steps taken."""
        COUNT.total, COUNT.step = 0, None
        enc = self.encode(src)
        toks, rows, total = [], [], 0.0
        for step in range(max_len + 1):
            COUNT.step = step
            lp, m = self.step_logprobs(toks, enc, step, max_len, min_len)
            COUNT.step = None
            rows.append(lp)
            w = int(torch.argmax(m))
            total += float(lp[w])
            toks.append(w)
            if w == EOS:
                break
        return toks, rows, total

    @torch.no_grad()
    def beam_search(self, src, beam, max_len, min_len, lenpen):
        """fairseq's SequenceGenerator beam search, written from its rules
        with plain lists (no caches, no shared code with archex): at step s
        every live hypothesis (only the first at s = 0) extends by every
        token; the best min(2*beam, n-1) of the n candidates are kept,
        ordered by score, ties to the lower (hypothesis, token); an eos
        candidate among the first `beam` with a finite score is finished
        with score / (s+1)^lenpen; the first `beam` other candidates (a
        -inf eos counts as other, as fairseq's eos_mask) continue. Stops
        at `beam` finished or after step max_len. Returns (tokens, score)
        of the best finished (the first on ties), and counts: candidates
        pruned, finite eos candidates ranked below the first `beam` (not
        finished), steps."""
        enc = self.encode(src)
        live = [([], 0.0)]
        done, pruned, low_eos = [], 0, 0
        for step in range(max_len + 1):
            cands = []
            for h, (toks, sc) in enumerate(live if step else live[:1]):
                _, m = self.step_logprobs(toks, enc, step, max_len, min_len)
                V = m.shape[0]
                cands += [(sc + float(m[w]), h * V + w, toks, w) for w in range(V)]
            cands.sort(key=lambda c: (-c[0], c[1]))
            top = cands[:min(2 * beam, len(cands) - 1)]
            pruned += len(cands) - len(top)
            low_eos += sum(c[3] == EOS and math.isfinite(c[0]) for c in top[beam:])
            for sc, _, toks, w in top[:beam]:
                if w == EOS and math.isfinite(sc) and len(done) < beam:
                    done.append((sc / (step + 1) ** lenpen, toks + [EOS]))
            if len(done) == beam or step == max_len:
                break
            fin = [c[3] == EOS and math.isfinite(c[0]) for c in top]
            order = [c for c, f in zip(top, fin) if not f] + \
                [(float("-inf"),) + c[1:] for c, f in zip(top, fin) if f]
            live = [(toks + [w], sc) for sc, _, toks, w in order[:beam]]
        best = max(done, key=lambda d: d[0])   # the first on ties
        return best[1], best[0], (pruned, low_eos, step + 1)


# --------------------------------------------------------------------------
# Self-test of the building blocks against docs/models.md written as plain loops
# --------------------------------------------------------------------------

def check_primitives():
    """The PyTorch-module formulations above vs element-by-element loops of
    the docs/models.md equations, on random data. Raises Mismatch on a bug."""
    g = torch.Generator().manual_seed(0)

    def rnd(*shape):
        return torch.rand(*shape, generator=g, dtype=DTYPE) * 2 - 1

    def close(a, b, what):
        if not torch.allclose(a, b, rtol=1e-10, atol=1e-10):
            raise Mismatch(f"oracle bug in {what}: max diff {float((a - b).abs().max())}")

    # sinusoids: PE[p, i] = sin(p w_i), PE[p, d/2 + i] = cos(p w_i)
    for d, fair in ((10, True), (7, True), (8, False)):
        pos = torch.arange(2, 6)
        pe = sinusoids(pos, d, fair)
        half = d // 2
        den = (half - 1) if fair else max(half - 1, 1)
        for r, p in enumerate(pos.tolist()):
            for i in range(half):
                w = math.exp(-i * math.log(10000) / den)
                close(pe[r, i], torch.tensor(math.sin(p * w), dtype=DTYPE), "sinusoids")
                close(pe[r, half + i], torch.tensor(math.cos(p * w), dtype=DTYPE),
                      "sinusoids")
            if d % 2:
                close(pe[r, d - 1], torch.tensor(0.0, dtype=DTYPE), "sinusoids")

    # attention: per head h (contiguous channels), q scaled after the bias
    N, M, w, H = 5, 4, 12, 3
    P = ParamSource(None, 3)
    att = Attention(P, "a", w, H)
    W = {k: torch.from_numpy(v.astype(np.float64)) for k, v in P.made.items()}
    x, mem = rnd(N, w), rnd(M, w)
    for causal, m in ((False, mem), (True, x)):
        got = att(x, m, causal)
        q = (x @ W["a.q_proj.weight"].t() + W["a.q_proj.bias"]) * (w // H) ** -0.5
        k = m @ W["a.k_proj.weight"].t() + W["a.k_proj.bias"]
        v = m @ W["a.v_proj.weight"].t() + W["a.v_proj.bias"]
        a = torch.zeros(N, w, dtype=DTYPE)
        hs = w // H
        for h in range(H):
            sl = slice(h * hs, (h + 1) * hs)
            for i in range(N):
                sc = [float(q[i, sl] @ k[j, sl]) if not (causal and j > i) else -math.inf
                      for j in range(m.shape[0])]
                p = torch.softmax(torch.tensor(sc, dtype=DTYPE), 0)
                a[i, sl] = p @ v[:, sl]
        ref = a @ W["a.out_proj.weight"].t() + W["a.out_proj.bias"]
        close(got, ref, f"attention (causal={causal})")

    # light and dynamic conv: y[i,ch] = sum_k W~[head(ch), k] x[i+k-P, ch]
    N, c, H = 6, 8, 2
    for kind in ("lightweight", "dynamic"):
        for K, causal in ((3, False), (4, False), (9, False), (3, True), (9, True)):
            P = ParamSource(None, K)
            m = LightDynConv(P, "c", c, c, c, kind, H, K, False, causal)
            x = rnd(N, c)
            u = m.linear1(x)
            pad = conv_padding(K, causal)
            y = torch.zeros(N, c, dtype=DTYPE)
            for i in range(N):
                if kind == "dynamic":
                    kern = torch.softmax(m.weight_linear(u[i]).view(H, K), -1)
                else:
                    kern = torch.softmax(m.weight, -1)
                for ch in range(c):
                    for k in range(K):
                        j = i + k - pad
                        if 0 <= j < N:
                            y[i, ch] += kern[ch // (c // H), k] * u[j, ch]
            close(m(x), m.linear2(y), f"{kind} conv K={K} causal={causal}")

    # ET Conv1D: out[i] = sum_k x[i+k-P] W_k^T + b, W_k = W[:, k*in:(k+1)*in]
    P = ParamSource(None, 5)
    cv = Conv1d(P, "cv", 4, 3, 3, 1)
    Wc = torch.from_numpy(P.made["cv.weight"].astype(np.float64))
    bc = torch.from_numpy(P.made["cv.bias"].astype(np.float64))
    x = rnd(5, 4)
    ref = torch.zeros(5, 3, dtype=DTYPE) + bc
    for i in range(5):
        for k in range(3):
            j = i + k - 1
            if 0 <= j < 5:
                ref[i] += Wc[:, k * 4:(k + 1) * 4] @ x[j]
    close(cv(x), ref, "ET conv1d")

    # adaptive softmax: band 0 lsm(head)[w]; band b lsm(head)[c0+b-1] +
    # lsm(E_b (P_b^T h))[w - start_b]
    V, d, cut, fac = 30, 16, [10, 20], 4
    P = ParamSource(None, 7)
    ai = AdaptiveInput(P, "in", V, d, cut, fac)
    asm = adaptive_softmax(P, "out", ai, V, d, cut, fac, True, True)
    h = rnd(3, d)
    got = asm.log_prob(h)
    W_cls = torch.from_numpy(P.made["out.head.class_proj.weight"].astype(np.float64))
    head = F.log_softmax(torch.cat([h @ ai.tables[0].t(), h @ W_cls.t()], -1), -1)
    ref = torch.zeros(3, V, dtype=DTYPE)
    edges = [0] + cut + [V]
    ref[:, :10] = head[:, :10]
    for b in (1, 2):
        z = h @ ai.projs[b].weight              # P_b^T h, P_b stored (d, d_b)
        tail = F.log_softmax(z @ ai.tables[b].t(), -1)
        ref[:, edges[b]:edges[b + 1]] = head[:, 10 + b - 1:10 + b] + tail
    close(got, ref, "adaptive softmax")


# --------------------------------------------------------------------------
# Driving archex and comparing
# --------------------------------------------------------------------------

def rel_err(a, b):
    return np.abs(a - b) / (1.0 + np.abs(a))


def run_archex(archex, args, what, errors=None):
    """Runs archex; returns its stdout. A failure raises Mismatch, except
    that with an `errors` list a run which still printed its results (e.g.
    archex's own executed-vs-analytic MAC check failed) is recorded there
    and its output compared anyway."""
    cmd = [archex] + args
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        msg = (p.stderr.strip() or p.stdout.strip())
        if "does not run" in msg or "no builder" in msg:
            raise Unsupported(msg)
        failure = f"{what}: `{' '.join(cmd)}` exited {p.returncode}:\n{msg}"
        if errors is None or not p.stdout.strip():
            raise Mismatch(failure)
        errors.append(failure)
    return p.stdout


def parse_json_out(out, what):
    try:
        v = json.loads(out)
    except json.JSONDecodeError as e:
        raise Mismatch(f"{what}: archex printed no valid JSON ({e}):\n{out[:500]}")
    return v[0] if isinstance(v, list) else v


def check_macs(what, out, oracle_macs, errors):
    """archex's executed (kernel-counted) and analytic (cost-model) MACs vs
    the oracle's own count of the same computation; differences go to
    `errors`."""
    for key in ("executed_macs", "analytic_macs"):
        if key in out and int(out[key]) != oracle_macs:
            errors.append(f"{what}: archex {key} {out[key]}, oracle counts "
                          f"{oracle_macs} (diff {int(out[key]) - oracle_macs})")
    # executed = what the kernels performed + the zero-padding taps they
    # skipped (each kernel counts both itself)
    if "performed_macs" in out and "skipped_macs" in out and \
            int(out["performed_macs"]) + int(out["skipped_macs"]) != \
            int(out["executed_macs"]):
        errors.append(f"{what}: archex performed_macs {out['performed_macs']} "
                      f"+ skipped_macs {out['skipped_macs']} != executed_macs "
                      f"{out['executed_macs']}")


def ids(seq):
    return " ".join(str(t) for t in seq)


def sample_ids(rng, V, n):
    """n ordinary token ids (no specials)."""
    return [int(x) for x in rng.integers(4, V, size=n)]


# (beam, min_len, lenpen): beams far below V, so most candidates are
# pruned at every step, and a min_len that bans an early eos
BEAM_CASES = [(2, 0, 1.0), (3, 5, 0.6), (4, 2, 1.0)]
# Random weights rarely emit eos before max_len; the beam cases run again
# with the eos rows of the token tables scaled by the first of these
# factors whose beam 3 / min-len 5 search ends before max_len, so that
# eos competes, is banned by min_len, and ranks inside and outside the
# first `beam` candidates.
EOS_FACTORS = (2.0, 3.0, 4.0, 6.0)


def eos_boosted(cfg, weights, wpath, src, opts):
    """(model, weights path) with the eos rows scaled (EOS_FACTORS), or
    None for configs without token tables (adaptive)."""
    keys = [k for k in weights if k.endswith(("embed_tokens.weight", "embed_out.weight"))]
    if not keys:
        return None
    for f in EOS_FACTORS:
        w = {k: a.copy() for k, a in weights.items()}
        for k in keys:
            w[k][EOS] *= f
        model = Model(cfg, ParamSource(w)).eval()
        if len(model.beam_search(src, 3, opts.max_len, 5, 1.0)[0]) <= opts.max_len:
            break
    path = wpath + ".eos"
    write_weights(path, w)
    return model, path


def check_beam(model, opts, path, wpath, src, beam, min_len, lenpen, name, errors):
    """archex's beam search against the oracle's; a summary note."""
    toks, score, (pruned, low_eos, steps) = model.beam_search(
        src, beam, opts.max_len, min_len, lenpen)
    what = f"run --beam {beam} --min-len {min_len} --lenpen {lenpen:g}"
    if opts.self_test:
        return f"beam {beam}: {len(toks)} tokens"
    out = parse_json_out(run_archex(
        opts.archex, ["run", path, "--weights", wpath, "--src", ids(src[:-1]),
                      "--beam", str(beam), "--min-len", str(min_len),
                      "--lenpen", str(lenpen), "--max-len-b", str(opts.max_len),
                      "--format", "json"], what, errors), what)
    got = [int(x) for x in out["tokens"]]
    if got != toks:
        raise Mismatch(f"{name}: {what}: tokens differ:\n  oracle {toks} "
                       f"(score {score:.7g})\n  archex {got} (score {out['score']})")
    if rel_err(np.array(score), np.array(out["score"])) > opts.tol:
        raise Mismatch(f"{name}: {what}: score {out['score']} vs oracle {score}")
    if len(toks) - 1 < min_len:
        raise Mismatch(f"{name}: {what}: {len(toks) - 1} tokens before eos")
    return (f"beam {beam} min-len {min_len}: {len(toks)} tokens identical "
            f"({steps} steps, {pruned} pruned, {low_eos} eos below the beam)")


def check_config(path, opts, tmp):
    """Runs one config through archex and the oracle; returns a summary
    line or raises Mismatch / Unsupported."""
    with open(path) as f:
        cfg = yaml.safe_load(f)
    if opts.vocab or opts.layers or opts.cutoffs:
        cfg = shrink(cfg, os.path.splitext(os.path.basename(path))[0],
                     opts.vocab, opts.layers, opts.cutoffs)
        path = os.path.join(tmp, os.path.basename(path))
        dump_yaml(cfg, path)
    name = cfg.get("name", os.path.splitext(os.path.basename(path))[0])
    lm = cfg["task"] == "language_model"
    V = cfg["vocab"]["target"]
    Vs = cfg["vocab"].get("source", V)
    rng = np.random.default_rng(opts.seed)

    # archex appends eos to sources (fairseq's input): pass src[:-1]
    src = sample_ids(rng, Vs, opts.src_len - 1) + [EOS] if not lm else \
        sample_ids(rng, V, opts.tgt_len)
    tgt = sample_ids(rng, V, opts.tgt_len - 1) + [EOS] if not lm else src

    # archex's own parameter listing must name exactly the oracle's tensors
    listed = None
    if not opts.self_test:
        listed = graph_params(opts.archex, path)
        P0 = ParamSource({n: np.zeros(s, np.float32) for n, s in listed})
        Model(cfg, P0)
        P0.check()

    # Weights: archex writes them (the oracle invents them in --self-test).
    # Random weights with a tied table tend to predict eos at once; try a
    # few seeds so that greedy decoding emits at least 3 tokens before eos.
    # If none does (a shared table makes the eos input predict eos), damp
    # the eos rows of the first seed's tables and write the file back with
    # write_weights(), which also checks that archex reads our writer.
    tries = [(s, False) for s in range(opts.seed, opts.seed + 6)] + \
        [(opts.seed, True)]
    for seed, damp in (tries[:1] if lm else tries):
        wpath = os.path.join(tmp, f"{name}.{seed}{'.damped' if damp else ''}.axw")
        if opts.self_test:
            P0 = ParamSource(None, seed)
            Model(cfg, P0)
            weights = P0.made
        else:
            run_archex(opts.archex, ["init", path, "--seed", str(seed),
                                     "--out", wpath], "init")
            with open(wpath, "rb") as f:
                axwt = f.read(4) == WEIGHTS_MAGIC
            weights = read_weights(wpath) if axwt else \
                read_raw_weights(wpath, listed)
        if damp:
            for k, a in weights.items():
                if k.endswith(("embed_tokens.weight", "embed_out.weight")):
                    a[EOS] *= 0.25
        if damp or opts.self_test:
            if opts.self_test or axwt:
                write_weights(wpath, weights)
            else:   # the stub: raw floats in archex's order
                np.concatenate([weights[n].ravel() for n, _ in listed]
                               ).astype("<f4").tofile(wpath)
        P = ParamSource(read_weights(wpath) if opts.self_test or axwt else
                        read_raw_weights(wpath, listed))
        model = Model(cfg, P).eval()
        P.check()
        if lm:
            break
        toks, rows, total = model.greedy(src, opts.max_len)
        macs_greedy = COUNT.total
        if len(toks) > 3:
            break
    notes = [f"seed {seed}{' (eos rows damped)' if damp else ''}"]
    errors = []

    # (a) teacher-forced log-probabilities
    ref = model.score(None if lm else src, tgt).numpy()
    macs_tf = COUNT.total
    if opts.self_test:
        got = model.score(None if lm else src, tgt).float().numpy()
    else:
        dump = os.path.join(tmp, name + ".logits")
        args = ["run", path, "--weights", wpath, "--src", ids(src if lm else src[:-1]),
                "--dump-logits", dump, "--format", "json"]
        if not lm:
            args += ["--tgt", ids(tgt)]
        out = parse_json_out(run_archex(opts.archex, args, "run --tgt", errors),
                             "run --tgt")
        raw = np.fromfile(dump, dtype="<f4")
        if raw.size != ref.size:
            raise Mismatch(f"{name}: --dump-logits wrote {raw.size} floats, "
                           f"want T*V = {ref.shape[0]}*{ref.shape[1]}")
        got = raw.reshape(ref.shape).astype(np.float64)
        ll_ref = float(sum(ref[i, y] for i, y in enumerate(tgt)))
        if "loglik" in out and rel_err(np.array(ll_ref), np.array(out["loglik"])) > opts.tol:
            raise Mismatch(f"{name}: loglik {out['loglik']} vs oracle {ll_ref}")
        check_macs("teacher-forced", out, macs_tf, errors)
    err = rel_err(ref, got)
    t, v = np.unravel_index(int(np.argmax(err)), err.shape)
    worst = float(err[t, v])
    if not np.all(np.isfinite(got)) or worst > opts.tol:
        raise Mismatch(f"{name}: teacher-forced log-probs differ: worst rel err "
                       f"{worst:.3g} at position {t}, token {v}: oracle "
                       f"{ref[t, v]:.7g}, archex {got[t, v]:.7g} (tol {opts.tol:g})")
    notes.append(f"teacher-forced T={len(tgt)} V={V}: max rel err {worst:.2e}, "
                 f"{macs_tf} MACs")

    # (b) greedy decoding
    if not lm:
        # the oracle's own consistency: its step-by-step rows equal a
        # teacher-forced pass over its greedy output (no peeking ahead)
        tf = model.score(src, toks).numpy()
        inc = torch.stack(rows).numpy()
        if np.max(rel_err(tf, inc)) > 1e-9:
            raise Mismatch(f"{name}: oracle bug: greedy rows differ from a "
                           "teacher-forced pass over the same tokens")
        if not opts.self_test:
            out = parse_json_out(run_archex(
                opts.archex, ["run", path, "--weights", wpath, "--src", ids(src[:-1]),
                              "--beam", "1", "--max-len-b", str(opts.max_len),
                              "--format", "json"], "run --beam 1", errors),
                "run --beam 1")
            got_toks = [int(x) for x in out["tokens"]]
            if got_toks != toks:
                i = next((k for k in range(min(len(toks), len(got_toks)))
                          if toks[k] != got_toks[k]), min(len(toks), len(got_toks)))
                detail = ""
                if i < len(rows) and i < len(got_toks):
                    lp = rows[i]
                    detail = (f"; at step {i} oracle log p({toks[i]}) = "
                              f"{float(lp[toks[i]]):.7g}, log p({got_toks[i]}) = "
                              f"{float(lp[got_toks[i]]):.7g}")
                raise Mismatch(f"{name}: greedy tokens differ at step {i}:\n"
                               f"  oracle {toks}\n  archex {got_toks}{detail}")
            check_macs("greedy", out, macs_greedy, errors)
            score_ref = total / len(toks)   # lenpen 1: sum log p / len
            if "score" in out and rel_err(np.array(score_ref),
                                          np.array(out["score"])) > opts.tol:
                raise Mismatch(f"{name}: greedy score {out['score']} vs oracle "
                               f"{score_ref}")
        notes.append(f"greedy {len(toks)} tokens identical, {macs_greedy} MACs")
        boosted = eos_boosted(cfg, P.weights, wpath, src, opts)
        for m, wp in [(model, wpath)] + ([boosted] if boosted else []):
            for beam, min_len, lenpen in BEAM_CASES:
                notes.append(check_beam(m, opts, path, wp, src, beam, min_len,
                                        lenpen, name, errors))
    if errors:
        raise Mismatch("archex failed although its results match the oracle "
                       f"({'; '.join(notes)}):\n  " + "\n  ".join(errors))
    return f"{name}: OK ({'; '.join(notes)})"


# --------------------------------------------------------------------------
# Training: gradients and one AdamW step (--grad)
# --------------------------------------------------------------------------

def write_tokens(path, sents):
    """A token file (docs/data-format.md)."""
    off = [0]
    for x in sents:
        off.append(off[-1] + len(x))
    ids = [i for x in sents for i in x]
    with open(path, "wb") as f:
        f.write(b"AXTOKEN1" + struct.pack("<IIQQ", 1, 0, len(sents), len(ids)))
        f.write(struct.pack(f"<{len(off)}Q", *off))
        f.write(struct.pack(f"<{len(ids)}I", *ids))


def write_dataset(root, lm, Vs, V, rng):
    """Random sentences of 3..8 ids in train and valid; returns root."""
    import hashlib
    os.makedirs(root)
    files, splits = {}, {}
    for split, n in (("train", 12), ("valid", 4), ("test", 2)):
        tgt = [sample_ids(rng, V, int(rng.integers(3, 9))) for _ in range(n)]
        src = [sample_ids(rng, Vs, int(rng.integers(3, 9))) for _ in range(n)]
        sides = (("tgt", tgt),) if lm else (("src", src), ("tgt", tgt))
        for side, sents in sides:
            name = f"{split}.{side}.bin"
            write_tokens(os.path.join(root, name), sents)
            with open(os.path.join(root, name), "rb") as f:
                data = f.read()
            files[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        splits[split] = {"sentences": n, "target_tokens": sum(map(len, tgt))}
        if not lm:
            splits[split]["source_tokens"] = sum(map(len, src))
    vocab = {"target": V} if lm else {"source": Vs, "target": V}
    man = {"format": "archex-dataset", "version": 1, "name": "oracle",
           "task": "language_model" if lm else "translation", "vocab": vocab,
           "splits": splits, "files": files}
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump(man, f)
    return root


def check_grad(path, opts, tmp):
    """archex train's gradients of its first batch against autograd of the
    oracle model (fairseq's label-smoothed loss, eps 0.1, mean over target
    tokens), then one AdamW update against torch.optim.AdamW fed the same
    gradients."""
    with open(path) as f:
        cfg = yaml.safe_load(f)
    name = cfg.get("name", os.path.splitext(os.path.basename(path))[0])
    lm = cfg["task"] == "language_model"
    V = cfg["vocab"]["target"]
    Vs = cfg["vocab"].get("source", V)
    rng = np.random.default_rng(opts.seed)
    data = write_dataset(os.path.join(tmp, f"{name}.data"), lm, Vs, V, rng)
    common = ["--data", data, "--max-tokens", "40", "--dropout", "0",
              "--weight-dropout", "0",
              "--lr", "1e-3", "--warmup", "0", "--weight-decay", "0.01",
              "--seed", str(opts.seed)]
    gpath = os.path.join(tmp, f"{name}.grad")
    out = run_archex(opts.archex, ["train", path, "--out", os.path.join(tmp, f"{name}.g"),
                                   "--dump-grad", gpath] + common, "train --dump-grad")
    batch = json.loads(out)
    wpath = os.path.join(tmp, f"{name}.init")
    run_archex(opts.archex, ["init", path, "--out", wpath, "--seed", str(opts.seed)], "init")
    W0, G = read_weights(wpath), read_weights(gpath)

    P = ParamSource(W0)
    P.grad_mode = True
    model = Model(cfg, P)
    P.check()
    # fairseq's adaptive_loss (the adaptive LM's criterion) has no label
    # smoothing; archex trains adaptive models with it
    eps = 0.0 if cfg.get("adaptive") else 0.1
    eps_i = eps / (V - 1)
    total, ntok = 0, 0
    for snt in batch["sentences"]:
        tgt = snt["tgt"]
        lp = model.decode([model.start] + tgt[:-1], model.encode(snt["src"]))
        nll = -lp[torch.arange(len(tgt)), torch.tensor(tgt)]
        total = total + ((1 - eps - eps_i) * nll - eps_i * lp.sum(-1)).sum()
        ntok += len(tgt)
    loss = total / ntok
    loss.backward()
    if abs(float(loss) - batch["loss"]) > opts.tol * abs(float(loss)):
        raise Mismatch(f"{name}: loss {batch['loss']} vs oracle {float(loss)}")
    refs = {}
    for pname, g in G.items():
        ref = P.grad_of[pname]()
        refs[pname] = np.zeros(g.shape) if ref is None else \
            ref.detach().numpy().reshape(g.shape)
    gmax = max(float(np.max(np.abs(r))) for r in refs.values())
    worst, worst_name, zero = 0.0, "", 0
    for pname, g in sorted(G.items()):
        ref = refs[pname]
        rmax = float(np.max(np.abs(ref)))
        if rmax < 1e-10 * gmax:
            # a gradient that is zero in exact math (the key bias of
            # attention: softmax ignores a per-row constant): float32 noise
            zero += 1
            if float(np.max(np.abs(g))) > 1e-5 * gmax:
                raise Mismatch(f"{name}: gradient of {pname} should be 0, "
                               f"max |g| {float(np.max(np.abs(g))):.3g}")
            continue
        err = float(np.max(np.abs(g - ref)) / rmax)
        if err > worst:
            worst, worst_name = err, pname
        if err > opts.tol:
            raise Mismatch(f"{name}: gradient of {pname}: max rel err {err:.3g} > {opts.tol}")
    step_err = check_adamw(opts, path, common, name, tmp, W0, G)
    return (f"{name}: gradients match autograd ({len(G)} tensors, {zero} of them "
            f"zero in exact math; max rel err {worst:.2e} at {worst_name}); "
            f"one AdamW step matches "
            f"torch.optim.AdamW (max abs err {step_err:.2e})")


def check_adamw(opts, path, common, name, tmp, W0, G):
    """One `archex train --max-steps 1` update against torch.optim.AdamW
    (betas 0.9/0.98, eps 1e-8, decay on all but biases and LayerNorms)."""
    run = os.path.join(tmp, f"{name}.run")
    run_archex(opts.archex, ["train", path, "--out", run, "--max-steps", "1"] + common,
               "train --max-steps 1")
    W1 = read_weights(os.path.join(run, "weights"))
    decay, plain, names = [], [], sorted(W0)
    params = {n: torch.tensor(W0[n], dtype=torch.float32, requires_grad=True) for n in names}
    for n in names:
        params[n].grad = torch.tensor(G[n], dtype=torch.float32)
        (plain if n.endswith(".bias") or "layer_norm" in n else decay).append(params[n])
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                             {"params": plain, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.98), eps=1e-8)
    opt.step()
    err = max(float(np.max(np.abs(params[n].detach().numpy() - W1[n]))) for n in names)
    if err > 1e-6:
        raise Mismatch(f"{name}: one AdamW step differs from torch.optim.AdamW by {err:.3g}")
    return err


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("configs", nargs="+", help="model config YAML files")
    ap.add_argument("--archex", default=os.environ.get("ARCHEX"),
                    help="the archex CLI (default: $ARCHEX)")
    ap.add_argument("--self-test", action="store_true",
                    help="oracle only: invent weights, round-trip the file, no archex")
    ap.add_argument("--vocab", type=int, help="override vocab sizes (shrink)")
    ap.add_argument("--layers", type=int, help="keep at most this many layers per stack")
    ap.add_argument("--cutoffs", type=lambda s: [int(x) for x in s.split(",")],
                    help="override adaptive cutoffs, e.g. 20,40")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--src-len", type=int, default=9, help="source length, eos included")
    ap.add_argument("--tgt-len", type=int, default=7, help="target length, eos included")
    ap.add_argument("--max-len", type=int, default=12,
                    help="tokens before eos at most (fairseq's max_len_b)")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--grad", action="store_true",
                    help="check archex train's gradients and one AdamW step")
    ap.add_argument("--allow-unsupported", action="store_true",
                    help="report configs archex cannot run as skipped, not failed")
    opts = ap.parse_args(argv)
    if not opts.self_test and not opts.archex:
        ap.error("give --archex PATH (or set ARCHEX), or --self-test")
    if opts.archex and not opts.self_test:
        p = subprocess.run([opts.archex, "run", "--help"], capture_output=True)
        if p.returncode != 0:
            print(f"oracle.py: SKIP: {opts.archex} has no 'run' subcommand "
                  "(executor not merged?)", file=sys.stderr)
            return SKIP
    torch.set_num_threads(1)
    if opts.self_test:
        check_primitives()
        print("building blocks match docs/models.md loops")
    failed = 0
    with tempfile.TemporaryDirectory(prefix="ax-oracle-") as tmp:
        for path in opts.configs:
            try:
                print(check_grad(path, opts, tmp) if opts.grad else
                      check_config(path, opts, tmp))
            except Unsupported as e:
                print(f"{path}: {'SKIP' if opts.allow_unsupported else 'FAIL'}: "
                      f"archex cannot run it: {e}")
                failed += not opts.allow_unsupported
            except (Mismatch, ValueError, KeyError) as e:
                print(f"{path}: FAIL: {e}")
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
