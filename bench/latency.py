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
beside it. Prints a table (config, predicted ms, measured ms, error %)
and the median and max |error|, with the CPU and the OpenBLAS kernel of
the runs. Measure on a quiet machine, with the threads the device file
was calibrated with.

usage: bench/latency.py DEVICE [--build build] [--rounds 5] [--threads 1]
                        [--precision fp32] [--markdown] [CONFIG ...]
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
    return lat["ms"], lat["encoder_ms"], lat["decoder_ms"]


def measure(archex, cfg, src_file, threads, precision):
    out = subprocess.run([archex, "run", cfg, "--src-file", src_file,
                          "--min-len", "30", "--max-len", "30", "--format", "json",
                          "--threads", str(threads), "--precision", precision],
                         check=True, capture_output=True, text=True).stdout
    recs = json.loads(out)
    assert recs[1]["steps"] == 31, recs[1]["steps"]
    return 1e3 * recs[1]["seconds"], recs[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("device")
    ap.add_argument("configs", nargs="*")
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    archex = os.path.join(a.build, "archex")
    configs = a.configs or HELD_OUT
    pred = {c: predict(archex, a.device, c, a.precision) for c in configs}
    meas = {c: [] for c in configs}
    rec = None
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
        f.write(SRC + "\n" + SRC + "\n")
        f.flush()
        for r in range(a.rounds):
            for c in configs:
                ms, rec = measure(archex, c, f.name, a.threads, a.precision)
                meas[c].append(ms)
            print(f"round {r + 1}/{a.rounds}", file=sys.stderr)
    rows, errs = [], []
    for c in configs:
        m = min(meas[c])
        p = pred[c][0]
        e = 100.0 * (p - m) / m
        errs.append(abs(e))
        rows.append((os.path.basename(c).removesuffix(".yaml"), p, pred[c][1],
                     pred[c][2], m, statistics.median(meas[c]), max(meas[c]), e))
    head = ("config", "predicted ms", "enc", "dec", "measured ms", "median", "max",
            "error %")
    print(f"device {a.device}; runs: OpenBLAS {rec['blas_core']} ({rec['blas_core_source']}), "
          f"{rec['cpu']}, {a.threads} thread(s), {a.precision}, best of {a.rounds} rounds")
    if a.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print(f"| {r[0]} | {r[1]:.1f} | {r[2]:.1f} | {r[3]:.1f} | {r[4]:.1f} | "
                  f"{r[5]:.1f} | {r[6]:.1f} | {r[7]:+.1f} |")
    else:
        print(f"{head[0]:28s} {head[1]:>12s} {head[2]:>7s} {head[3]:>8s} {head[4]:>12s} "
              f"{head[5]:>8s} {head[6]:>8s} {head[7]:>8s}")
        for r in rows:
            print(f"{r[0]:28s} {r[1]:12.1f} {r[2]:7.1f} {r[3]:8.1f} {r[4]:12.1f} "
                  f"{r[5]:8.1f} {r[6]:8.1f} {r[7]:+8.1f}")
    print(f"median |error| {statistics.median(errs):.1f}%, max |error| {max(errs):.1f}% "
          f"over {len(errs)} held-out configs")


if __name__ == "__main__":
    main()
