#!/usr/bin/python3
"""fairseq_import_test.py - `archex import` against fairseq-format inputs.

  fairseq_import_test.py --archex build/archex checkpoints
      For each case (fairseq transformer, lightconv lightweight and dynamic,
      lite-transformer transformer_multibranch_v2 lightweight and dynamic;
      post- and pre-norm; untied, decoder-tied and all-shared embeddings;
      args as an argparse Namespace or cfg as a dict; separate q/k/v or the
      older in_proj_weight): `archex init` writes random weights for the
      equivalent archex config, this script renames them to fairseq's
      state_dict keys (fairseq_key(), written from fairseq's module
      attribute names, not from the importer), adds fairseq's buffers and
      saves a torch checkpoint; `archex import fairseq` converts it back.
      The imported config must cost exactly the original, the imported
      weights must equal the originals bit for bit, and `archex run` on the
      import must decode exactly as tests/oracle.py's PyTorch model (beam 1
      and beam 4). Broken checkpoints (unknown arch, an extra key, learned
      positions, a tied table that differs) must be refused, exit 1,
      naming the problem, and leave --out without a config.
  fairseq_import_test.py --archex build/archex lite-yaml
      Each tests/configs/lite-yaml/*.yml (upstream lite-transformer and
      fairseq argument names) must import to a config whose `archex count`
      equals the shipped configs/paper/ config it names.

Exit codes: 0 pass, 1 fail, 77 torch/numpy/yaml missing (ctest skip).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
try:
    import numpy as np
    import torch
    import yaml
    import oracle
except ImportError as e:
    print(f"fairseq_import_test.py: SKIP: {e}", file=sys.stderr)
    sys.exit(77)


def run(args, check=True):
    p = subprocess.run(args, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"`{' '.join(args)}` exited {p.returncode}:\n{p.stderr}")
    return p


def fairseq_key(name, family):
    """archex parameter name -> fairseq state_dict key, from fairseq's
    modules: TransformerEncoder/DecoderLayer (self_attn, self_attn_layer_norm,
    encoder_attn, encoder_attn_layer_norm, fc1, fc2, final_layer_norm),
    LightConvEncoderLayer (linear1, conv, linear2, layer_norms.0/1),
    LightConvDecoderLayer (conv_layer_norm), lite-transformer's MultiBranch
    (self_attn.branches.0 = attention, .1 = conv with linear1/linear2)."""
    fixed = {"embed.src.embed_tokens.weight": "encoder.embed_tokens.weight",
             "embed.tgt.embed_tokens.weight": "decoder.embed_tokens.weight",
             "out.embed_out.weight": "decoder.embed_out"}
    if name in fixed:
        return fixed[name]
    m = re.match(r"(enc|dec)\.(?:(\d+)\.)?(.*)$", name)
    side = "encoder" if m.group(1) == "enc" else "decoder"
    if m.group(2) is None:                       # enc.layer_norm, dec.layer_norm
        return f"{side}.{m.group(3)}"
    layer, rest = f"{side}.layers.{m.group(2)}", m.group(3)
    subs = [(r"ffn\.(fc1|fc2)\.", r"\1."),
            (r"self_attn\.self_attn_layer_norm\.", "self_attn_layer_norm."),
            (r"encoder_attn\.encoder_attn_layer_norm\.", "encoder_attn_layer_norm."),
            (r"lsra\.self_attn_layer_norm\.", "self_attn_layer_norm."),
            (r"lsra\.attn\.", "self_attn.branches.0."),
            (r"lsra\.conv\.lightconv\.weight", "self_attn.branches.1.weight"),
            (r"lsra\.conv\.", "self_attn.branches.1."),
            (r"conv\.lightconv\.weight", "conv.weight"),
            (r"conv\.weight_linear\.", "conv.weight_linear."),
            (r"conv\.(linear1|linear2)\.", r"\1.")]
    if family == "lightconv" and side == "encoder":
        subs = [(r"conv\.conv_layer_norm\.", "layer_norms.0."),
                (r"ffn\.final_layer_norm\.", "layer_norms.1.")] + subs
    subs.append((r"ffn\.final_layer_norm\.", "final_layer_norm."))
    subs.append((r"conv\.conv_layer_norm\.", "conv_layer_norm."))
    for a, b in subs:
        new, n = re.subn("^" + a, b, rest)
        if n:
            return f"{layer}.{new}"
    return f"{layer}.{rest}"


# (name, archex config, fairseq arguments, options)
CASES = [
    ("transformer-iwslt", None,
     dict(arch="transformer_iwslt_de_en", encoder_embed_dim=32, decoder_embed_dim=32,
          encoder_ffn_embed_dim=64, decoder_ffn_embed_dim=64, encoder_layers=2,
          decoder_layers=2), {"vocab": (53, 47)}),
    ("transformer-t2t-inproj", "transformer-pre.yaml",
     dict(arch="transformer_wmt_en_de_big_t2t", encoder_embed_dim=24, decoder_embed_dim=24,
          encoder_ffn_embed_dim=48, decoder_ffn_embed_dim=48, encoder_attention_heads=3,
          decoder_attention_heads=3, encoder_layers=2, decoder_layers=2,
          share_all_embeddings=True), {"in_proj": True, "cfg": True}),
    ("lightconv-dynamic", "lightconv-dynamic-glu.yaml",
     dict(arch="lightconv_wmt_en_de", encoder_embed_dim=32, encoder_ffn_embed_dim=64,
          encoder_layers=3, decoder_layers=2, encoder_attention_heads=8,
          decoder_attention_heads=8, share_all_embeddings=True,
          encoder_kernel_size_list=[3, 7, 15], decoder_kernel_size_list=[3, 7]), {}),
    ("lightconv-lightweight", None,
     dict(arch="lightconv_iwslt_de_en", encoder_embed_dim=32, decoder_embed_dim=32,
          encoder_ffn_embed_dim=48, decoder_ffn_embed_dim=48, encoder_layers=2,
          decoder_layers=2, encoder_conv_type="lightweight", decoder_conv_type="lightweight",
          encoder_glu=True, decoder_glu=False, share_decoder_input_output_embed=True,
          encoder_kernel_size_list=[3, 5], decoder_kernel_size_list=[2, 4]),
     {"vocab": (43, 41), "output_projection": True}),
    ("lite-lightweight", "lite-lightweight.yaml",
     dict(arch="transformer_multibranch_v2_iwslt_de_en", encoder_embed_dim=32,
          decoder_embed_dim=32, encoder_ffn_embed_dim=32, decoder_ffn_embed_dim=32,
          encoder_layers=2, decoder_layers=2, encoder_glu=False, decoder_glu=False,
          encoder_branch_type=["attn:1:16:4", "lightweight:default:16:4"],
          decoder_branch_type=["attn:1:16:4", "lightweight:default:16:4"],
          conv_linear=True, encoder_kernel_size_list=[4, 7],
          decoder_kernel_size_list=[3, 7]), {}),
    ("lite-dynamic", "lite-dynamic-glu.yaml",
     dict(arch="transformer_multibranch_v2_wmt_en_de", share_all_embeddings=True,
          conv_linear=True, encoder_glu=True, decoder_glu=True), {"from_yaml": True}),
]


def case_config(tmp, cfgname, args, opts):
    """The archex config of a case: a tests/configs/oracle file, or one
    imported from the args with lite-yaml (then checked by its own count)."""
    if cfgname:
        return os.path.join(HERE, "configs", "oracle", cfgname)
    path = os.path.join(tmp, "case.yaml")
    with open(path + ".yml", "w") as f:
        yaml.safe_dump({k.replace("_", "-"): v for k, v in args.items()}, f)
    v = opts["vocab"]
    run([ARCHEX, "import", "lite-yaml", path + ".yml", "--vocab", f"{v[0]},{v[1]}",
         "--out", path])
    return path


def lite_args_from(cfg, args):
    """Fill a lite case's dims and branches from its archex config."""
    e, d = cfg["encoder"], cfg["decoder"]
    ab, cb = e["attention_branch"], e["conv_branch"]
    args = dict(args, encoder_embed_dim=cfg["embed_dim"], decoder_embed_dim=cfg["embed_dim"],
                encoder_ffn_embed_dim=e["ffn_dim"], decoder_ffn_embed_dim=d["ffn_dim"],
                encoder_layers=e["layers"], decoder_layers=d["layers"],
                decoder_attention_heads=d["attention_heads"],
                encoder_kernel_size_list=cb["kernel_size"],
                decoder_kernel_size_list=d["conv_branch"]["kernel_size"])
    args["encoder_branch_type"] = [f"attn:1:{ab['dim']}:{ab['heads']}",
                                   f"{cb['type']}:default:{cb['dim']}:{cb['heads']}"]
    db, dc = d["attention_branch"], d["conv_branch"]
    args["decoder_branch_type"] = [f"attn:1:{db['dim']}:{db['heads']}",
                                   f"{dc['type']}:default:{dc['dim']}:{dc['heads']}"]
    return args


def make_checkpoint(path, weights, family, args, opts, cfg):
    """A fairseq checkpoint of the archex-named weights."""
    sd = {}
    for name, a in weights.items():
        key = fairseq_key(name, family)
        t = torch.from_numpy(a.copy())
        if key.endswith("conv.weight") or key.endswith("branches.1.weight"):
            t = t.reshape(t.shape[0], 1, t.shape[1])          # (H, 1, K)
        sd[key] = t
    share = cfg["vocab"]["share"]
    if share == "all":
        sd["decoder.embed_tokens.weight"] = sd["encoder.embed_tokens.weight"]
    if share != "none" and opts.get("output_projection"):
        sd["decoder.output_projection.weight"] = sd["decoder.embed_tokens.weight"]
    if opts.get("in_proj"):
        for k in [k for k in sd if k.endswith("q_proj.weight") or k.endswith("q_proj.bias")]:
            base, what = k.rsplit(".q_proj.", 1)
            parts = [sd.pop(f"{base}.{p}.{what}") for p in ("q_proj", "k_proj", "v_proj")]
            sd[f"{base}.in_proj_{what}"] = torch.cat(parts, 0)
    for side in ("encoder", "decoder"):
        sd[f"{side}.embed_positions._float_tensor"] = torch.zeros(1)
        sd[f"{side}.version"] = torch.tensor([3.0])
    ck = {"model": sd, "optimizer_history": [], "extra_state": {}}
    if opts.get("cfg"):
        ck["args"] = None
        ck["cfg"] = {"model": dict(args, _name=args["arch"]), "task": {"_name": "translation"}}
    else:
        ck["args"] = argparse.Namespace(**args, dropout=0.1, lr=[0.0005])
    torch.save(ck, path)
    return sd


def count(cfg):
    out = json.loads(run([ARCHEX, "count", "--format", "json", cfg]).stdout)
    for rec in out:
        rec.pop("name", None)
    return out


def decode(cfg, weights, src, beam):
    out = json.loads(run([ARCHEX, "run", cfg, "--weights", weights, "--src",
                          " ".join(map(str, src)), "--beam", str(beam),
                          "--max-len-b", "12", "--format", "json"]).stdout)[0]
    return [int(t) for t in out["tokens"]], out["score"]


def check_case(tmp, name, cfgname, args, opts):
    cfgpath = case_config(tmp, cfgname, args, opts)
    with open(cfgpath) as f:
        cfg = yaml.safe_load(f)
    family = cfg["family"]
    if family == "lite":
        args = lite_args_from(cfg, args)
    wpath = os.path.join(tmp, name + ".axw")
    run([ARCHEX, "init", cfgpath, "--seed", "3", "--out", wpath])
    weights = oracle.read_weights(wpath)
    ckpt = os.path.join(tmp, name + ".pt")
    sd = make_checkpoint(ckpt, weights, family, args, opts, cfg)
    out = os.path.join(tmp, name + ".imported")
    run([ARCHEX, "import", "fairseq", ckpt, "--out", out])
    icfg, iw = os.path.join(out, "config.yaml"), os.path.join(out, "weights")
    if count(icfg) != count(cfgpath):
        raise AssertionError(f"{name}: the imported config costs differently from {cfgpath}")
    got = oracle.read_weights(iw)
    if set(got) != set(weights):
        raise AssertionError(f"{name}: imported tensors {sorted(set(got) ^ set(weights))} differ")
    for k, a in weights.items():
        if got[k].shape != a.shape or not np.array_equal(got[k], a):
            raise AssertionError(f"{name}: tensor {k} differs after the import")
    # decoding: archex on the import against the oracle on the originals
    model = oracle.Model(cfg, oracle.ParamSource(weights)).eval()
    rng = np.random.default_rng(7)
    src = oracle.sample_ids(rng, cfg["vocab"]["source"], 8)
    notes = []
    for beam in (1, 4):
        toks, score, _ = model.beam_search(src + [oracle.EOS], beam, 12, 1, 1.0)
        got_toks, got_score = decode(icfg, iw, src, beam)
        if got_toks != toks or abs(got_score - score) > 1e-4 * (1 + abs(score)):
            raise AssertionError(f"{name}: beam {beam}: archex {got_toks} ({got_score}) "
                                 f"vs oracle {toks} ({score})")
        notes.append(f"beam {beam} {len(toks)} tokens")
    return f"{name}: OK ({family}, {len(sd)} state_dict entries; {', '.join(notes)} as the oracle)"


def expect_refused(tmp, what, ckpt, fragment):
    out = os.path.join(tmp, "refused")
    p = run([ARCHEX, "import", "fairseq", ckpt, "--out", out], check=False)
    if p.returncode != 1 or fragment not in p.stderr or \
            os.path.exists(os.path.join(out, "config.yaml")):
        raise AssertionError(f"{what}: exit {p.returncode}, want 1 and '{fragment}' "
                             f"and no config; stderr:\n{p.stderr}")
    return f"{what}: refused ({p.stderr.strip().splitlines()[0]})"


def refusals(tmp):
    base = os.path.join(tmp, "transformer-iwslt.pt")
    ck = torch.load(base)
    notes = []

    def variant(tag, edit, fragment):
        c = {**ck, "model": dict(ck["model"]), "args": argparse.Namespace(**vars(ck["args"]))}
        edit(c)
        path = os.path.join(tmp, tag + ".pt")
        torch.save(c, path)
        notes.append(expect_refused(tmp, tag, path, fragment))

    variant("unknown-arch", lambda c: setattr(c["args"], "arch", "bart_large"),
            "unknown arch 'bart_large'")
    variant("extra-key", lambda c: c["model"].update(
        {"encoder.layers.0.adapter.weight": torch.zeros(2, 2)}),
        "encoder.layers.0.adapter.weight")
    variant("learned-pos", lambda c: (setattr(c["args"], "encoder_learned_pos", True),
                                      c["model"].update({"encoder.embed_positions.weight":
                                                         torch.zeros(4, 32)})),
            "encoder_learned_pos")
    variant("missing-key", lambda c: c["model"].pop("decoder.layers.1.fc2.bias"),
            "dec.1.ffn.fc2.bias: missing")
    bad = os.path.join(tmp, "garbage.pt")
    with open(bad, "wb") as f:
        f.write(b"PK\x03\x04 not a checkpoint")
    notes.append(expect_refused(tmp, "garbage", bad, "not a readable torch checkpoint"))
    return notes


def lite_yaml():
    """Every tests/configs/lite-yaml file imports to its paper config."""
    notes, d = [], os.path.join(HERE, "configs", "lite-yaml")
    for fn in sorted(os.listdir(d)):
        if not fn.endswith(".yml"):
            continue
        path = os.path.join(d, fn)
        text = open(path).read()
        target = re.search(r"imports to\s+(?:#\s*)?(configs/paper/\S+\.yaml)", text).group(1)
        with open(os.path.join(ROOT, target)) as f:
            v = yaml.safe_load(f)["vocab"]
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "c.yaml")
            run([ARCHEX, "import", "lite-yaml", path, "--vocab",
                 f"{v['source']},{v['target']}", "--out", out])
            if count(out) != count(os.path.join(ROOT, target)):
                raise AssertionError(f"{fn}: archex count differs from {target}")
        notes.append(f"{fn} -> {target}: count identical")
    return notes


def main(argv):
    global ARCHEX
    ap = argparse.ArgumentParser()
    ap.add_argument("--archex", required=True)
    ap.add_argument("what", choices=["checkpoints", "lite-yaml"])
    o = ap.parse_args(argv)
    ARCHEX = o.archex
    torch.set_num_threads(1)
    try:
        if o.what == "lite-yaml":
            notes = lite_yaml()
        else:
            with tempfile.TemporaryDirectory(prefix="ax-import-") as tmp:
                notes = [check_case(tmp, *c) for c in CASES] + refusals(tmp)
    except AssertionError as e:
        print(f"FAIL: {e}")
        return 1
    print("\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
