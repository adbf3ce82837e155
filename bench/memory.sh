#!/usr/bin/env bash
# bench/memory.sh - `archex count`'s memory prediction against the peak RSS
# `archex run` reports (VmHWM of /proc/self/status), for a few configs,
# beams and precisions.
#
# run decodes with S capacity 1024 and T capacity --max-len, so the
# prediction is `count --mode incremental --src-len 1024 --tgt-len MAXLEN
# --beam K --precision P`. The process also holds the binary, its libraries and
# OpenBLAS's buffers: the constant, measured as the RSS of the smallest
# run (tests/configs/oracle/transformer-post.yaml) minus its prediction.
# Prints a Markdown table: predicted MiB, measured MiB, ratio, and whether
# measured <= 1.2 x predicted + constant.
# usage: bench/memory.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
src=$(cd "$(dirname "$0")/.." && pwd)
bin=$build/archex
maxlen=200
json_get() { python3 -c "import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print($1)"; }
predict() { "$bin" count --mode incremental --src-len 1024 --tgt-len $maxlen --beam "$2" \
	--precision "${3:-fp32}" --format json "$1" | json_get 'd["memory"]["total"]'; }
measure() { "$bin" run "$1" --src "5 6 7 8 9 10 11 12 13" --beam "$2" --max-len $maxlen \
	--precision "${3:-fp32}" --format json | json_get 'd["peak_rss_bytes"]'; }
base=$src/tests/configs/oracle/transformer-post.yaml
const=$(( $(measure "$base" 1) - $(predict "$base" 1) ))
echo "OpenBLAS kernel: $("$bin" cpu --coretype); constant (RSS of the smallest run minus its prediction): $((const / 1048576)) MiB"
echo
echo "| config | beam | precision | predicted MiB | peak RSS MiB | RSS / predicted | within 1.2x + const |"
echo "|---|---|---|---|---|---|---|"
for c in wmt-transformer-128 wmt-lite-200 wmt-lite-496 wmt-transformer-512 wmt-evolved-128 iwslt14-lite-160; do
	for beam in 1 4; do
		for prec in fp32 bf16 int8; do
			p=$(predict "$src/configs/paper/$c.yaml" $beam $prec)
			m=$(measure "$src/configs/paper/$c.yaml" $beam $prec)
			python3 -c "p,m,c=$p,$m,$const; print(f'| $c | $beam | $prec | {p/2**20:.1f} | {m/2**20:.1f} | {m/p:.2f} | {\"yes\" if m <= 1.2*p + c else \"NO\"} |')"
		done
	done
done
