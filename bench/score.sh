#!/usr/bin/env bash
# bench/score.sh - batched teacher-forced scoring (32 sentences x 30
# tokens) of wmt-transformer-512 and wmt-lite-496 at fp32, bf16 and int8,
# on 1 and 2 threads, each as a fraction of the sgemm peak bench_score
# measures in the same process, interleaved with the scoring runs
# (bench/bench_score.c: ROUNDS rounds, medians and spreads).
# Prints the machine line of each run and one Markdown table.
# usage: bench/score.sh [BUILD_DIR=build] [ROUNDS=7]
set -euo pipefail
build=${1:-build}
rounds=${2:-7}
src=$(cd "$(dirname "$0")/.." && pwd)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
rows=()
for c in wmt-transformer-512 wmt-lite-496; do
	for t in 1 2; do
		err=$("$build/bench_score" --rounds "$rounds" "$src/configs/paper/$c.yaml" 32 30 "$t" \
			fp32,bf16,int8 2>&1 >/dev/null)
		grep '^bench_score:' <<<"$err"
		while IFS= read -r r; do rows+=("$r"); done < <(grep '^| wmt' <<<"$err")
	done
done
echo
echo "| model | threads | precision | ms (median) | spread | GMAC/s | sgemm GFLOP/s | of sgemm peak | spread |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
