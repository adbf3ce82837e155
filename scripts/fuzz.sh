#!/usr/bin/env bash
# fuzz.sh - build the libFuzzer targets with clang (ASan+UBSan) and run each
# for SECONDS (default 60) on a corpus seeded from configs/, sweeps/ and the
# committed regression inputs in tests/fuzz/regress-<target>/.
# A crash leaves its input in build-fuzz/artifacts/ and fails the script;
# copy it into tests/fuzz/regress-<target>/ once fixed.
# Usage: bash scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
CC=clang cmake -S . -B build-fuzz -DAX_FUZZ=ON -DBUILD_TESTING=OFF \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in build-fuzz/fuzz_*; do targets+=("${f#build-fuzz/fuzz_}"); done
fi
mkdir -p build-fuzz/artifacts
pids=()
for t in "${targets[@]}"; do
	work=build-fuzz/corpus-$t
	mkdir -p "$work" "tests/fuzz/regress-$t"
	seeds=("tests/fuzz/regress-$t")
	case $t in
	config) seeds+=(configs/paper) ;;
	sweep) [ -d sweeps ] && seeds+=(sweeps) ;;
	esac
	echo "fuzz: $t for ${secs}s" >&2
	ASAN_OPTIONS=detect_leaks=1 ./build-fuzz/fuzz_"$t" -max_total_time="$secs" \
		-max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix=build-fuzz/artifacts/"$t"- "$work" "${seeds[@]}" \
		>"build-fuzz/fuzz-$t.log" 2>&1 &
	pids+=($!)
done
status=0
for i in "${!pids[@]}"; do
	if ! wait "${pids[$i]}"; then
		echo "fuzz: ${targets[$i]} FAILED; see build-fuzz/fuzz-${targets[$i]}.log" >&2
		tail -40 "build-fuzz/fuzz-${targets[$i]}.log" >&2
		status=1
	else
		grep -E 'stat::number_of_executed_units' "build-fuzz/fuzz-${targets[$i]}.log" |
			sed "s/^/fuzz: ${targets[$i]}: /" >&2 || true
	fi
done
exit $status
