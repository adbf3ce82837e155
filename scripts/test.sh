#!/usr/bin/env bash
# test.sh - the whole test suite: install what is missing, build Release
# and ASan+UBSan trees, run ctest in both (LeakSanitizer on), then a short
# fuzz smoke of every libFuzzer target (scripts/fuzz.sh, clang).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ax_deps "${AX_BUILD_DEPS[@]}" gnuplot-nox clang libclang-rt-14-dev python3-torch python3-numpy python3-yaml bible-kjv bible-kjv-text sword-text-sparv diatheke sentencepiece wordnet-base python3-nltk parallel slurm-wlm munge
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DAX_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
echo "== tests (Release) =="
ctest --test-dir build --output-on-failure -j "$jobs"
echo "== tests (ASan+UBSan) =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	ctest --test-dir build-asan --output-on-failure -j "$jobs"
echo "== fuzz smoke (20 s per target) =="
bash scripts/fuzz.sh 20
