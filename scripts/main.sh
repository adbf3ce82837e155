#!/usr/bin/env bash
# main.sh - the main job on the shipped defaults: install what is missing,
# build, count the paper's models under both conventions.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ax_deps "${AX_BUILD_DEPS[@]}" gnuplot-nox
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"
mkdir -p results
for conv in exact paper; do
	./build/archex count --convention "$conv" --format json configs/paper/*.yaml \
		>"results/paper-counts-$conv.json.tmp"
	mv "results/paper-counts-$conv.json.tmp" "results/paper-counts-$conv.json"
done
./build/archex count --convention paper configs/paper/*.yaml
echo "archex: wrote results/paper-counts-{exact,paper}.json" >&2
