#!/usr/bin/python3
"""bench/latency.py - the latency model's held-out error: `archex count
--latency DEVICE` against measured `archex run`, batch-1 greedy decoding.

For each config (none of them used by `archex calibrate`, which only times
kernels at fixed shapes): the prediction of `count --latency DEVICE
--src-len 31 --tgt-len 31` (30 source tokens plus eos; 30 output tokens
plus eos = 31 decoder steps), and the measured `archex run --min-len 30
--max-len 30` on random weights: the JSON `seconds` of the second of two
identical sentences (so process start, weight setup and the first touch of
the weights are excluded), the fastest of --rounds interleaved rounds
(every config once per round): on a shared machine the least disturbed
run, as `archex calibrate` times its kernels; the median is printed
beside it. --precision takes a comma list (fp32,bf16,int8): every
config runs at each, interleaved in every round, and is predicted at
each (`count --precision`). Prints a table (config, precision, predicted
ms with its encoder/decoder split and mean step, measured ms, error %),
the median and max |error| per precision and over all rows, with the CPU,
the OpenBLAS kernel of the runs and the load average before and after.
Measure on a quiet machine, with the threads the device file was
calibrated with.

usage: bench/latency.py DEVICE [CONFIG ...] [--build build] [--rounds 5]
                        [--threads 1] [--precision fp32,bf16,int8]
                        [--markdown]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HELD_OUT = [
    "configs/paper/wmt-transformer-512.yaml",
    "configs/paper/wmt-transformer-256.yaml",
    "configs/paper/wmt-transformer-128.yaml",
    "configs/paper/wmt-lite-496.yaml",
    "configs/paper/wmt-lite-200.yaml",
    "configs/paper/wmt-evolved-128.yaml",
    "configs/paper/wmt-dynamicconv.yaml",
    "configs/paper/iwslt14-transformer-128.yaml",
    "configs/paper/iwslt14-lite-160.yaml",
    "configs/paper/iwslt14-lightconv.yaml",
    "tests/configs/oracle/transformer-post.yaml",
]
SRC = " ".join(str(i) for i in range(4, 34))   # 30 tokens; eos appended


def predict(archex, device, cfg, precision):
    out = subprocess.run([archex, "count", "--format", "json", "--latency", device,
                          "--precision", precision, "--src-len", "31",
                          "--tgt-len", "31", cfg],
                         check=True, capture_output=True, text=True).stdout
    lat = json.loads(out)[0]["latency"]
    assert abs(lat["encoder_ms"] + lat["decoder_ms"] - lat["ms"]) <= 1e-9 * lat["ms"]
    return lat["ms"], lat["encoder_ms"], lat["decoder_ms"], lat["step_ms"]


def measure(archex, cfg, src_file, threads, precision):
    out = subprocess.run([archex, "run", cfg, "--src-file", src_file,
                          "--min-len", "30", "--max-len", "30", "--format", "json",
                          "--threads", str(threads), "--precision", precision],
                         check=True, capture_output=True, text=True).stdout
    recs = json.loads(out)
    assert recs[1]["steps"] == 31, recs[1]["steps"]
    return 1e3 * recs[1]["seconds"], recs[1]


def table(rows, markdown):
    head = ("config", "precision", "predicted ms", "enc", "dec", "step", "measured ms",
            "median", "max", "error %")
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print(f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.1f} | {r[4]:.1f} | {r[5]:.2f} | "
                  f"{r[6]:.1f} | {r[7]:.1f} | {r[8]:.1f} | {r[9]:+.1f} |")
        return
    print(f"{head[0]:26s} {head[1]:>9s} {head[2]:>12s} {head[3]:>7s} {head[4]:>8s} "
          f"{head[5]:>7s} {head[6]:>12s} {head[7]:>8s} {head[8]:>8s} {head[9]:>8s}")
    for r in rows:
        print(f"{r[0]:26s} {r[1]:>9s} {r[2]:12.2f} {r[3]:7.2f} {r[4]:8.2f} {r[5]:7.3f} "
              f"{r[6]:12.2f} {r[7]:8.2f} {r[8]:8.2f} {r[9]:+8.1f}")


def load():
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("device")
    ap.add_argument("configs", nargs="*")
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--precision", default="fp32",
                    help="a comma list of fp32, bf16, int8")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    archex = os.path.join(a.build, "archex")
    configs = a.configs or HELD_OUT
    precs = a.precision.split(",")
    cases = [(c, p) for c in configs for p in precs]
    load0 = load()
    pred = {k: predict(archex, a.device, k[0], k[1]) for k in cases}
    meas = {k: [] for k in cases}
    rec = None
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
        f.write(SRC + "\n" + SRC + "\n")
        f.flush()
        for r in range(a.rounds):
            for k in cases:
                ms, rec = measure(archex, k[0], f.name, a.threads, k[1])
                meas[k].append(ms)
            print(f"round {r + 1}/{a.rounds}", file=sys.stderr)
    rows, errs = [], {p: [] for p in precs}
    for k in cases:
        m = min(meas[k])
        p = pred[k][0]
        e = 100.0 * (p - m) / m
        errs[k[1]].append(abs(e))
        rows.append((os.path.basename(k[0]).removesuffix(".yaml"), k[1], p, pred[k][1],
                     pred[k][2], pred[k][3], m, statistics.median(meas[k]), max(meas[k]), e))
    print(f"device {a.device}; runs: OpenBLAS {rec['blas_core']} ({rec['blas_core_source']}), "
          f"{rec['cpu']}, {a.threads} thread(s), best of {a.rounds} rounds; "
          f"load average {load0} before, {load()} after")
    table(rows, a.markdown)
    every = [e for p in precs for e in errs[p]]
    for p in precs + (["all"] if len(precs) > 1 else []):
        v = every if p == "all" else errs[p]
        print(f"{p}: median |error| {statistics.median(v):.1f}%, max |error| {max(v):.1f}% "
              f"over {len(v)} held-out runs")


if __name__ == "__main__":
    main()
