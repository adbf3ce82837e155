#!/usr/bin/python3
"""fairseq_import.py - fairseq checkpoints and lite-transformer config files
to archex configs and weights files (run by `archex import`; docs/fairseq.md).

  fairseq_import.py checkpoint CKPT.pt --out DIR --archex ARCHEX
      DIR/config.yaml and DIR/weights (AXWT, docs/weights-format.md) from a
      fairseq checkpoint of arch transformer*, lightconv* or lite-
      transformer's transformer_multibranch_v2*.
  fairseq_import.py lite-yaml FILE.yml [--out CONFIG.yaml] [--vocab S,T]
      an archex config from an upstream lite-transformer config file
      (fairseq argument names in YAML), on stdout or into CONFIG.yaml.

Both read the same fairseq arguments: a checkpoint's `args` (an argparse
Namespace) or `cfg` (a plain dict, or an omegaconf DictConfig, unpickled
here without omegaconf), or the YAML file's keys with '-' read as '_'.
Missing arguments take the arch's defaults (ARCHS), as fairseq's arch
functions fill them. Every parameter archex expects (`archex graph
--params`) must come from exactly one state_dict entry of the same shape,
and every entry must be used or be a known buffer (BUFFERS); otherwise the
import is refused with the offending keys. Outputs are written to a
temporary name and renamed. Exit codes: 0 ok, 1 refused or bad input,
2 usage, 3 python3-torch or python3-yaml missing.
"""

import argparse
import io
import os
import pickle
import re
import struct
import subprocess
import sys
import tempfile
import types
import zlib

ALIGN = 64

# Per arch: (family, defaults). The defaults are those of the arch
# functions (fairseq transformer.py / lightconv.py, lite-transformer
# transformer_multibranch_v2.py) for the arguments archex needs.
_T_BASE = dict(encoder_embed_dim=512, encoder_ffn_embed_dim=2048, encoder_layers=6,
               encoder_attention_heads=8, decoder_layers=6,
               encoder_normalize_before=False, decoder_normalize_before=False,
               share_all_embeddings=False, share_decoder_input_output_embed=False,
               activation_fn="relu")
_T_IWSLT = dict(_T_BASE, encoder_ffn_embed_dim=1024, encoder_attention_heads=4,
                decoder_ffn_embed_dim=1024, decoder_attention_heads=4)
_T_BIG = dict(_T_BASE, encoder_embed_dim=1024, encoder_ffn_embed_dim=4096,
              encoder_attention_heads=16, decoder_embed_dim=1024,
              decoder_ffn_embed_dim=4096, decoder_attention_heads=16)
_LC_BASE = dict(_T_BASE, encoder_layers=7, encoder_conv_type="dynamic",
                decoder_conv_type="dynamic", encoder_glu=True, decoder_glu=True,
                encoder_kernel_size_list=[3, 7, 15, 31, 31, 31, 31],
                decoder_kernel_size_list=[3, 7, 15, 31, 31, 31])
_MB_BASE = dict(_T_BASE, encoder_glu=True, decoder_glu=True, conv_linear=False,
                encoder_kernel_size_list=[3, 7, 15, 31, 31, 31, 31],
                decoder_kernel_size_list=[3, 7, 15, 31, 31, 31, 31])
ARCHS = {
    "transformer": ("transformer", _T_BASE),
    "transformer_wmt_en_de": ("transformer", _T_BASE),
    "transformer_iwslt_de_en": ("transformer", _T_IWSLT),
    "transformer_vaswani_wmt_en_de_big": ("transformer", _T_BIG),
    "transformer_vaswani_wmt_en_fr_big": ("transformer", _T_BIG),
    "transformer_wmt_en_de_big": ("transformer", _T_BIG),
    "transformer_wmt_en_de_big_t2t": ("transformer", dict(
        _T_BIG, encoder_normalize_before=True, decoder_normalize_before=True)),
    "lightconv": ("lightconv", _LC_BASE),
    "lightconv_wmt_en_de": ("lightconv", _LC_BASE),
    "lightconv_iwslt_de_en": ("lightconv", dict(
        _LC_BASE, encoder_ffn_embed_dim=1024, encoder_attention_heads=4,
        decoder_ffn_embed_dim=1024, decoder_attention_heads=4,
        encoder_glu=False, decoder_glu=False)),
    "lightconv_wmt_en_de_big": ("lightconv", dict(
        _LC_BASE, encoder_embed_dim=1024, encoder_ffn_embed_dim=4096,
        encoder_attention_heads=16, decoder_embed_dim=1024,
        decoder_ffn_embed_dim=4096, decoder_attention_heads=16)),
    "transformer_multibranch_v2": ("lite", _MB_BASE),
    "transformer_multibranch_v2_wmt_en_de": ("lite", _MB_BASE),
    "transformer_multibranch_v2_iwslt_de_en": ("lite", dict(
        _MB_BASE, encoder_ffn_embed_dim=1024, encoder_attention_heads=4,
        decoder_ffn_embed_dim=1024, decoder_attention_heads=4)),
}
ARCHS["lightconv_wmt_en_fr_big"] = ARCHS["lightconv_wmt_en_de_big"]

# state_dict entries that are not parameters: the sinusoidal positions'
# placeholder and the stacks' format versions
BUFFERS = re.compile(r"^(encoder|decoder)\.(embed_positions\._float_tensor|version)$")


class Refused(Exception):
    """An input archex cannot represent, or a broken one."""


# ---- reading fairseq arguments ------------------------------------------

def resolve(raw, source):
    """fairseq arguments (a dict with '_' names) -> (family, args) with the
    arch's defaults filled in, as fairseq's arch function does."""
    args = {k.replace("-", "_"): v for k, v in raw.items()}
    arch = args.get("arch") or args.get("_name")
    if arch not in ARCHS:
        raise Refused(f"{source}: error: unknown arch {arch!r}; archex imports: "
                      + ", ".join(sorted(ARCHS)))
    family, defaults = ARCHS[arch]
    for k, v in defaults.items():
        if args.get(k) is None:
            args[k] = v
    # the decoder defaults derive from the encoder's (base_architecture)
    for k in ("embed_dim", "ffn_embed_dim", "attention_heads"):
        if args.get("decoder_" + k) is None:
            args["decoder_" + k] = args["encoder_" + k]
    for side in ("encoder", "decoder"):
        if args.get(side + "_conv_dim") is None:
            args[side + "_conv_dim"] = args[side + "_embed_dim"]
        ks = args.get(side + "_kernel_size_list")
        if ks is not None:
            ks = [int(k) for k in (ks if isinstance(ks, list) else [ks])]
            n = int(args[side + "_layers"])
            args[side + "_kernel_size_list"] = ks * n if len(ks) == 1 else ks[:n]
    args["arch"] = arch
    return family, args


def as_bool(v):
    """fairseq's eval_bool and store_true values: 0/1, true/false, strings."""
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes")
    return bool(v)


def check_common(args, source):
    """Settings archex's families do not have: refused, never ignored."""
    bad = []
    if args.get("activation_fn", "relu") != "relu":
        bad.append(f"activation_fn {args['activation_fn']!r} (archex: relu)")
    for k in ("encoder_learned_pos", "decoder_learned_pos", "no_token_positional_embeddings",
              "no_scale_embedding", "layernorm_embedding", "adaptive_input",
              "cross_self_attention", "no_decoder_final_norm"):
        if as_bool(args.get(k, False)):
            bad.append(f"{k} (archex: sinusoidal positions, scaled embeddings, "
                       "a final norm with pre-norm)")
    if args.get("adaptive_softmax_cutoff"):
        bad.append("adaptive_softmax_cutoff (translation with adaptive softmax)")
    if args["encoder_embed_dim"] != args["decoder_embed_dim"]:
        bad.append("encoder_embed_dim != decoder_embed_dim")
    if as_bool(args["encoder_normalize_before"]) != as_bool(args["decoder_normalize_before"]):
        bad.append("encoder and decoder normalize_before differ")
    if bad:
        raise Refused(f"{source}: error: unsupported settings: " + "; ".join(bad))


def parse_branches(spec, side, source):
    """encoder/decoder_branch_type (e.g. ['attn:1:80:4',
    'lightweight:default:80:4']) -> (attention (dim, heads), conv (type,
    kernel or None, dim, heads)). archex's LSRA is one attention branch
    followed by one conv branch (docs/models.md §5.1)."""
    if isinstance(spec, str):
        spec = spec.strip("[] ").replace(",", " ").split()
    parts = [str(s).strip().split(":") for s in spec]
    if len(parts) != 2 or any(len(p) != 4 for p in parts) or parts[0][0] != "attn" \
            or not any(t in parts[1][0] for t in ("lightweight", "dynamic")):
        raise Refused(f"{source}: error: {side}_branch_type {spec}: archex needs "
                      "[attn:K:DIM:HEADS, lightweight|dynamic:K:DIM:HEADS]")
    if side == "decoder" and parts[1][0] not in ("lightweight", "dynamic"):
        raise Refused(f"{source}: error: decoder branch type {parts[1][0]!r} (fairseq "
                      "matches the decoder's exactly)")
    ctype = "lightweight" if "lightweight" in parts[1][0] else "dynamic"
    kernel = None if parts[1][1] == "default" else int(parts[1][1])
    return (int(parts[0][2]), int(parts[0][3])), (ctype, kernel, int(parts[1][2]),
                                                  int(parts[1][3]))


def stack(args, family, side, source):
    """The archex encoder/decoder mapping of one side."""
    s = {"layers": int(args[side + "_layers"]),
         "ffn_dim": int(args[side + "_ffn_embed_dim"])}
    if side == "decoder" or family == "transformer":
        s["attention_heads"] = int(args[side + "_attention_heads"])
    n = s["layers"]
    if family == "lightconv":
        s["conv"] = {"type": args[side + "_conv_type"],
                     "dim": int(args[side + "_conv_dim"]),
                     "heads": int(args[side + "_attention_heads"]),
                     "glu": as_bool(args[side + "_glu"]),
                     "kernel_size": args[side + "_kernel_size_list"]}
    elif family == "lite":
        (adim, aheads), (ctype, kernel, cdim, cheads) = parse_branches(
            args[side + "_branch_type"], side, source)
        s["attention_branch"] = {"dim": adim, "heads": aheads}
        s["conv_branch"] = {"type": ctype, "dim": cdim, "heads": cheads,
                            # the lightweight branch ignores the GLU flag
                            "glu": ctype == "dynamic" and as_bool(args[side + "_glu"]),
                            "kernel_size": [kernel] * n if kernel else
                            args[side + "_kernel_size_list"]}
    for block in ("conv", "conv_branch"):
        if block in s and len(s[block]["kernel_size"]) != n:
            raise Refused(f"{source}: error: {side}_kernel_size_list has "
                          f"{len(s[block]['kernel_size'])} entries for {n} layers")
    return s


def make_config(args, family, vocab, name, source):
    """The archex config (a dict, in schema order) for resolved args."""
    check_common(args, source)
    if family == "lite":
        if args.get("encoder_branch_type") is None and args.get("decoder_branch_type") is None:
            family = "transformer"   # no branches: MultiheadAttention layers
        elif not as_bool(args.get("conv_linear", False)):
            raise Refused(f"{source}: error: conv_linear false (archex's LSRA conv branch "
                          "has linear1 and linear2; every upstream config sets it)")
    pre = as_bool(args["encoder_normalize_before"])
    share = "all" if as_bool(args["share_all_embeddings"]) else \
        "decoder" if as_bool(args["share_decoder_input_output_embed"]) else "none"
    cfg = {"name": name, "family": family, "task": "translation",
           "embed_dim": int(args["encoder_embed_dim"]), "norm": "pre" if pre else "post"}
    if pre:
        cfg["final_norm"] = True
    cfg["vocab"] = {"source": vocab[0], "target": vocab[1], "share": share}
    cfg["encoder"] = stack(args, family, "encoder", source)
    cfg["decoder"] = stack(args, family, "decoder", source)
    return cfg


def dump_yaml(cfg, header):
    """The config as block YAML (scalars and flat lists only)."""
    out = [f"# {line}" if line else "#" for line in header]

    def scalar(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)

    def emit(d, indent):
        for k, v in d.items():
            if isinstance(v, dict):
                out.append(" " * indent + f"{k}:")
                emit(v, indent + 2)
            elif isinstance(v, list):
                out.append(" " * indent + f"{k}: [" + ", ".join(scalar(x) for x in v) + "]")
            else:
                out.append(" " * indent + f"{k}: {scalar(v)}")
    emit(cfg, 0)
    return "\n".join(out) + "\n"


def write_atomic(path, data):
    """data to path through a unique temporary in the same directory."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp.", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# ---- checkpoints ----------------------------------------------------------

class _Stub:
    """Stands in for omegaconf's classes (not packaged by Debian): keeps the
    pickled state so that to_plain() can read the values back."""

    def __init__(self, *a, **k):
        self._args = a

    def __setstate__(self, state):
        if isinstance(state, dict):
            self.__dict__.update(state)
        else:
            self._state = state


def to_plain(v):
    """An unpickled config value (Namespace, dict, list, omegaconf stub) as
    plain dicts, lists and scalars."""
    if isinstance(v, argparse.Namespace):
        return {k: to_plain(x) for k, x in vars(v).items()}
    if isinstance(v, dict):
        return {k: to_plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_plain(x) for x in v]
    if isinstance(v, _Stub):
        if "_content" in v.__dict__:
            return to_plain(v._content)
        if "_val" in v.__dict__:
            return to_plain(v._val)
        return None
    return v


def _pickle_module():
    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if module.split(".")[0] in ("omegaconf", "fairseq"):
                return _Stub
            return super().find_class(module, name)
    mod = types.ModuleType("ax_pickle")
    mod.Unpickler = Unpickler
    mod.load = lambda f, **kw: Unpickler(f, **kw).load()
    mod.__name__ = "pickle"
    return mod


def load_checkpoint(path):
    """(raw args dict, {key: float32 ndarray}) of a fairseq checkpoint."""
    import torch
    if not os.path.isfile(path):
        raise Refused(f"{path}: error: not a regular file")
    try:
        state = torch.load(path, map_location="cpu", pickle_module=_pickle_module())
    except Exception as e:   # a torch zip/pickle error of any kind
        raise Refused(f"{path}: error: not a readable torch checkpoint: {e}")
    if not isinstance(state, dict) or "model" not in state:
        raise Refused(f"{path}: error: no 'model' state_dict (not a fairseq checkpoint)")
    raw = None
    if state.get("args") is not None:
        raw = to_plain(state["args"])
    elif state.get("cfg") is not None:
        cfg = to_plain(state["cfg"])
        raw = to_plain(cfg.get("model")) if isinstance(cfg, dict) else None
    if not isinstance(raw, dict):
        raise Refused(f"{path}: error: neither 'args' nor 'cfg.model' holds the model's arguments")
    sd = {}
    for k, t in state["model"].items():
        if not hasattr(t, "detach"):
            raise Refused(f"{path}: error: state_dict entry {k!r} is not a tensor")
        sd[k] = t.detach().to(torch.float32).cpu().numpy()
    return raw, sd


def _attn_rules(src, dst):
    return [(rf"{src}\.(q_proj|k_proj|v_proj|out_proj)\.(weight|bias)", rf"{dst}.\1.\2")]


def rename_rules(family):
    """[(fairseq key regex, archex name template)] for a family; layer
    indices carry over as \\1."""
    e, d = r"encoder\.layers\.(\d+)", r"decoder\.layers\.(\d+)"
    ffn = lambda s, t: [(rf"{s}\.(fc1|fc2)\.(weight|bias)", rf"{t}.ffn.\2.\3"),
                        (rf"{s}\.final_layer_norm\.(weight|bias)", rf"{t}.ffn.final_layer_norm.\2")]
    rules = [(r"encoder\.layer_norm\.(weight|bias)", r"enc.layer_norm.\1"),
             (r"decoder\.layer_norm\.(weight|bias)", r"dec.layer_norm.\1")]
    rules += ffn(e, r"enc.\1") + ffn(d, r"dec.\1")
    rules += [(rf"{d}\.encoder_attn\.(q_proj|k_proj|v_proj|out_proj)\.(weight|bias)",
               r"dec.\1.encoder_attn.\2.\3"),
              (rf"{d}\.encoder_attn_layer_norm\.(weight|bias)",
               r"dec.\1.encoder_attn.encoder_attn_layer_norm.\2")]
    conv = lambda s, t: [(rf"{s}\.(linear1|linear2)\.(weight|bias)", rf"{t}.\2.\3"),
                         (rf"{s}\.weight_linear\.weight", rf"{t}.weight_linear.weight"),
                         (rf"{s}\.weight", rf"{t}.lightconv.weight")]
    if family == "transformer":
        for s, t in ((e, "enc"), (d, "dec")):
            rules += [(rf"{s}\.self_attn\.(q_proj|k_proj|v_proj|out_proj)\.(weight|bias)",
                       rf"{t}.\1.self_attn.\2.\3"),
                      (rf"{s}\.self_attn_layer_norm\.(weight|bias)",
                       rf"{t}.\1.self_attn.self_attn_layer_norm.\2")]
    elif family == "lightconv":
        rules += conv(rf"{e}\.conv", r"enc.\1.conv") + conv(rf"{d}\.conv", r"dec.\1.conv")
        rules += [(rf"{e}\.(linear1|linear2)\.(weight|bias)", r"enc.\1.conv.\2.\3"),
                  (rf"{d}\.(linear1|linear2)\.(weight|bias)", r"dec.\1.conv.\2.\3"),
                  (rf"{e}\.layer_norms\.0\.(weight|bias)", r"enc.\1.conv.conv_layer_norm.\2"),
                  (rf"{e}\.layer_norms\.1\.(weight|bias)", r"enc.\1.ffn.final_layer_norm.\2"),
                  (rf"{d}\.conv_layer_norm\.(weight|bias)", r"dec.\1.conv.conv_layer_norm.\2")]
    else:   # lite: branch 0 attention, branch 1 conv (parse_branches)
        for s, t in ((e, "enc"), (d, "dec")):
            rules += [(rf"{s}\.self_attn\.branches\.0\.(q_proj|k_proj|v_proj|out_proj)"
                       r"\.(weight|bias)", rf"{t}.\1.lsra.attn.\2.\3"),
                      (rf"{s}\.self_attn_layer_norm\.(weight|bias)",
                       rf"{t}.\1.lsra.self_attn_layer_norm.\2")]
            rules += conv(rf"{s}\.self_attn\.branches\.1", rf"{t}.\1.lsra.conv")
    return [(re.compile("^" + a + "$"), b) for a, b in rules]


def split_in_proj(sd):
    """Older fairseq attention keeps q, k, v in one in_proj_weight/bias
    (3w rows): split into q_proj, k_proj, v_proj."""
    for k in [k for k in sd if k.endswith((".in_proj_weight", ".in_proj_bias"))]:
        a = sd.pop(k)
        base, what = k.rsplit(".", 1)
        suffix = "weight" if what == "in_proj_weight" else "bias"
        w = a.shape[0] // 3
        for i, p in enumerate(("q_proj", "k_proj", "v_proj")):
            sd[f"{base}.{p}.{suffix}"] = a[i * w:(i + 1) * w]


def map_state(sd, family, cfg, source):
    """{archex name: array} from the state_dict; refuses unmapped keys."""
    import numpy as np
    split_in_proj(sd)
    share = cfg["vocab"]["share"]
    out, unmapped = {}, []
    src_tab = sd.get("encoder.embed_tokens.weight")
    rules = rename_rules(cfg["family"])
    for k, a in sd.items():
        if BUFFERS.match(k):
            continue
        if k == "encoder.embed_tokens.weight":
            out["embed.src.embed_tokens.weight"] = a
            continue
        if k == "decoder.embed_tokens.weight":
            if share == "all":
                if src_tab is None or not np.array_equal(a, src_tab):
                    unmapped.append(k + " (share_all_embeddings, but it differs "
                                    "from encoder.embed_tokens.weight)")
            else:
                out["embed.tgt.embed_tokens.weight"] = a
            continue
        if k in ("decoder.embed_out", "decoder.output_projection.weight"):
            if share == "none":
                out["out.embed_out.weight"] = a
            elif not np.array_equal(a, sd.get("decoder.embed_tokens.weight")):
                unmapped.append(k + " (tied output, but it differs from the "
                                "decoder's embed_tokens)")
            continue
        for rx, tmpl in rules:
            m = rx.match(k)
            if m:
                name = m.expand(tmpl)
                if name.endswith("lightconv.weight") and a.ndim == 3:
                    a = a.reshape(a.shape[0], a.shape[2])   # (H, 1, K) -> (H, K)
                out[name] = a
                break
        else:
            unmapped.append(k)
    if unmapped:
        raise Refused(f"{source}: error: {len(unmapped)} state_dict keys archex cannot "
                      "map:\n  " + "\n  ".join(unmapped))
    return out


def archex_params(archex, config):
    """[(name, shape)] from `archex graph --params CONFIG`."""
    p = subprocess.run([archex, "graph", "--params", config], capture_output=True,
                       text=True)
    if p.returncode != 0:
        raise Refused(f"archex import: error: the imported config is not valid "
                      f"for archex:\n{p.stderr.strip()}")
    params = []
    for line in p.stdout.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[1].startswith("("):
            params.append((parts[0], tuple(int(x) for x in parts[1].strip("()").split(","))))
    return params


def axwt(tensors):
    """The AXWT bytes (docs/weights-format.md) of [(name, float32 array)]."""
    import numpy as np
    header = bytearray(b"AXWT" + struct.pack("<II", 1, len(tensors)))
    size = len(header) + 4 + sum(2 + len(n.encode()) + 2 + 8 * a.ndim + 20
                                 for n, a in tensors)
    off = (size + ALIGN - 1) // ALIGN * ALIGN
    chunks = []
    for name, a in tensors:
        data = np.ascontiguousarray(a, dtype="<f4").tobytes()
        nb = name.encode()
        header += struct.pack("<H", len(nb)) + nb + struct.pack("<BB", 0, a.ndim)
        header += struct.pack(f"<{a.ndim}q", *a.shape)
        header += struct.pack("<QQI", off, len(data), zlib.crc32(data))
        chunks.append((off, data))
        off = (off + len(data) + ALIGN - 1) // ALIGN * ALIGN
    header += struct.pack("<I", zlib.crc32(bytes(header)))
    buf = io.BytesIO()
    buf.write(header)
    for o, data in chunks:
        buf.write(b"\0" * (o - buf.tell()))
        buf.write(data)
    return buf.getvalue()


def import_checkpoint(path, out_dir, archex):
    raw, sd = load_checkpoint(path)
    family, args = resolve(raw, path)
    try:
        vs = sd["encoder.embed_tokens.weight"].shape[0]
        vt = sd["decoder.embed_tokens.weight"].shape[0]
    except KeyError as e:
        raise Refused(f"{path}: error: no {e.args[0]} in the state_dict")
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", os.path.splitext(os.path.basename(path))[0])
    cfg = make_config(args, family, (vs, vt), name[:60] or "fairseq", path)
    text = dump_yaml(cfg, [f"Imported by `archex import fairseq` from {os.path.basename(path)}",
                           f"(fairseq arch {args['arch']}; docs/fairseq.md)."])
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".import.") as tmp:
        probe = os.path.join(tmp, "config.yaml")
        with open(probe, "w") as f:
            f.write(text)
        expected = archex_params(archex, probe)
    got = map_state(sd, family, cfg, path)
    problems = [f"{n}: missing" for n, _ in expected if n not in got]
    problems += [f"{n}: shape {tuple(got[n].shape)} in the checkpoint, archex expects {s}"
                 for n, s in expected if n in got and tuple(got[n].shape) != s]
    extra = sorted(set(got) - {n for n, _ in expected})
    problems += [f"{n}: not a parameter of the archex model" for n in extra]
    if problems:
        raise Refused(f"{path}: error: the state_dict does not fit the archex config:\n  "
                      + "\n  ".join(problems))
    write_atomic(os.path.join(out_dir, "weights"), axwt([(n, got[n]) for n, _ in expected]))
    write_atomic(os.path.join(out_dir, "config.yaml"), text.encode())
    print(f"{out_dir}/config.yaml: {family}, {len(expected)} tensors from {len(sd)} "
          f"state_dict entries; {out_dir}/weights")


# ---- lite-transformer config files ----------------------------------------

def import_lite_yaml(path, out, vocab):
    import yaml
    try:
        with open(path) as f:
            raw = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        raise Refused(f"{path}: error: {e}")
    if not isinstance(raw, dict):
        raise Refused(f"{path}: error: not a mapping of fairseq arguments")
    family, args = resolve(raw, path)
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", os.path.splitext(os.path.basename(path))[0])
    cfg = make_config(args, family, vocab, name[:60], path)
    text = dump_yaml(cfg, [f"Imported by `archex import lite-yaml` from {os.path.basename(path)}",
                           f"(arch {args['arch']}; vocab {vocab[0]}/{vocab[1]}; docs/fairseq.md)."])
    if out:
        write_atomic(out, text.encode())
    else:
        sys.stdout.write(text)


def main(argv):
    ap = argparse.ArgumentParser(prog="fairseq_import.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("checkpoint")
    c.add_argument("checkpoint")
    c.add_argument("--out", required=True)
    c.add_argument("--archex", required=True)
    y = sub.add_parser("lite-yaml")
    y.add_argument("file")
    y.add_argument("--out")
    y.add_argument("--vocab", default=None)
    o = ap.parse_args(argv)
    try:
        if o.cmd == "checkpoint":
            try:
                import numpy  # noqa: F401
                import torch  # noqa: F401
            except ImportError as e:
                print(f"archex import: error: {e}; install python3-torch and "
                      "python3-numpy (apt-get)", file=sys.stderr)
                return 3
            import_checkpoint(o.checkpoint, o.out, o.archex)
        else:
            try:
                import yaml  # noqa: F401
            except ImportError:
                print("archex import: error: install python3-yaml (apt-get)", file=sys.stderr)
                return 3
            return lite_yaml_main(o)
    except Refused as e:
        print(e, file=sys.stderr)
        return 1
    return 0


def lite_yaml_main(o):
    vocab = (None, None)
    if o.vocab:
        m = re.fullmatch(r"(\d+)(?:,(\d+))?", o.vocab)
        if not m:
            print(f"archex import: error: --vocab wants S or S,T, not {o.vocab!r}",
                  file=sys.stderr)
            return 2
        vocab = (int(m.group(1)), int(m.group(2) or m.group(1)))
    else:
        print("archex import: error: lite-yaml needs --vocab S[,T]: a config file "
              "does not record the dictionary sizes", file=sys.stderr)
        return 2
    import_lite_yaml(o.file, o.out, vocab)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
