#!/usr/bin/python3
"""bleu_nltk.py - `archex bleu` against python3-nltk's corpus_bleu.

Both get the same 13a tokens (the tokenizer below is written from the
mteval-v13a rules, independently of archex's C code) and an equivalent
smoothing: nltk's method3 is NIST's geometric smoothing, which sacreBLEU
calls "exp". Prints the agreement table; exits 1 if any case differs by
more than 1e-9 BLEU points, 77 (skipped) without nltk.

Every hypothesis has at least four tokens: for a line shorter than n,
nltk's modified_precision counts a denominator of max(1, 0) = 1 n-gram
where sacreBLEU (and archex) count none, so such lines make the two
differ by design, not by error.

usage: bleu_nltk.py ARCHEX WORKDIR
"""
import json
import os
import random
import re
import subprocess
import sys

try:
    from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu
except ImportError:
    print("python3-nltk is not installed: skipped")
    sys.exit(77)

RULES = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),
]


def tok13a(line):
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        for a, b in (("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">")):
            line = line.replace(a, b)
    line = f" {line} "
    for rx, rep in RULES:
        line = rx.sub(rep, line)
    return line.split()


WORDS = ("the a of and to in he said unto God LORD king people land "
         "él dijo á los que señor tierra día año 3.5 1,000 2000-2010 "
         "don't (see) \"yes\" ¿qué? ¡ay! niño, mañana.").split()


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def corrupt(rng, ref, p, drop):
    words = ref.split()
    out = [w if rng.random() > p else rng.choice(WORDS) for w in words]
    if drop and len(out) > 2:
        out = out[: max(4, int(len(out) * (1 - drop)))]
    return " ".join(out)


def cases():
    rng = random.Random(11)
    for name, p, drop, lines in (
        ("near copy", 0.05, 0.0, 200),
        ("noisy", 0.4, 0.0, 200),
        ("very noisy", 0.8, 0.0, 200),
        ("short hyp", 0.2, 0.3, 200),
        ("long refs", 0.3, 0.0, 50),
        ("few lines", 0.5, 0.1, 5),
    ):
        refs = [sentence(rng, rng.randint(4, 40 if name == "long refs" else 20))
                for _ in range(lines)]
        hyps = [corrupt(rng, r, p, drop) for r in refs]
        yield name, hyps, refs


def main():
    archex, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    rows, bad = [], 0
    for name, hyps, refs in cases():
        rpath = os.path.join(work, "ref.txt")
        with open(rpath, "w", encoding="utf-8") as f:
            f.write("\n".join(refs) + "\n")
        out = subprocess.run([archex, "bleu", "--ref", rpath],
                             input=("\n".join(hyps) + "\n").encode(),
                             capture_output=True, check=True)
        got = json.loads(out.stdout)
        ht = [tok13a(h) for h in hyps]
        rt = [[tok13a(r)] for r in refs]
        want = 100 * corpus_bleu(rt, ht, smoothing_function=SmoothingFunction().method3)
        diff = abs(got["score"] - want)
        bad += diff > 1e-9
        nz = all(p > 0 for p in got["precisions"])
        rows.append((name, len(hyps), got["score"], want, diff, got["bp"], nz))
    print(f"{'case':<12} {'lines':>5} {'archex':>12} {'nltk':>12} {'|diff|':>9} {'bp':>7}")
    for name, n, g, w, diff, bp, nz in rows:
        print(f"{name:<12} {n:>5} {g:>12.8f} {w:>12.8f} {diff:>9.1e} {bp:>7.4f}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
