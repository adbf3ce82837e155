#!/usr/bin/env bash
# bench/compare.sh - old against new, side by side in one run.
#
# usage: bench/compare.sh [--old-build DIR] [--new-build DIR] [--rounds N] [OLD_REV]
#
# Builds OLD_REV (default 7e51c83, the commit before the layered refactor)
# in a temporary git worktree (Release, -DBUILD_TESTING=OFF) unless
# --old-build names a build of it already made, and this checkout in
# build-compare/ (same flags) unless --new-build names one. Then runs
# bench_count, bench_sweep and bench_score from the two trees in turn,
# N rounds (default 5; the order flips every round so neither side always
# runs on a warmer machine), and prints per figure the median of each side,
# the ratio new/old and which direction is better. The sgemm GFLOP/s that
# bench_score measures is a control: it runs no archex code, so its ratio
# shows the noise of the run. Each bench reads the configs of its own tree.
# On a busy machine timings drift by 10-30%; if valgrind is installed the
# sweep's instructions per point (callgrind, two runs of `bench_sweep 0
# count N` differenced) are added: they do not depend on load.
# Figures are this machine's; quote the ratios. About 1.5 minutes with
# both builds given; building the old tree adds a minute or two.
set -euo pipefail

OLD_REV=7e51c83
OLD_BUILD=
NEW_BUILD=
ROUNDS=5
JOBS=${JOBS:-2}
SWEEP_SECS=0.25                         # per measurement of bench_sweep
SCORE_CONFIG=configs/paper/wmt-lite-200.yaml
SCORE_ARGS=(8 30 1)                     # batch, length, threads

usage() {
	sed -n '4p' "$0" | sed 's/^# //' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--old-build) OLD_BUILD=$(cd "${2:?--old-build needs a DIR}" && pwd); shift 2 ;;
	--new-build) NEW_BUILD=$(cd "${2:?--new-build needs a DIR}" && pwd); shift 2 ;;
	--rounds) ROUNDS=${2:?--rounds needs N}; shift 2 ;;
	-h|--help) usage ;;
	-*) echo "compare.sh: unknown option '$1'" >&2; usage ;;
	*) OLD_REV=$1; shift ;;
	esac
done
case $ROUNDS in ''|*[!0-9]*|0) echo "compare.sh: --rounds must be a positive integer" >&2; exit 2 ;; esac

ROOT=$(cd "$(dirname "$0")/.." && git rev-parse --show-toplevel)
cd "$ROOT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/archex-compare.XXXXXX")
OLD_TREE=
cleanup() {
	if [ -n "$OLD_TREE" ]; then
		git -C "$ROOT" worktree remove --force "$OLD_TREE" 2>/dev/null || true
		git -C "$ROOT" worktree prune 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

BENCHES=(archex bench_count bench_sweep bench_score)

# build SRC DIR: a Release build of the benches, log in $TMP.
build() {
	local log
	log=$TMP/build.$(basename "$2").log
	if ! { cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF &&
	       cmake --build "$2" -j"$JOBS" --target "${BENCHES[@]}"; } >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		echo "compare.sh: building $1 failed" >&2
		exit 1
	fi
}

# source_of DIR: the source tree a build dir was configured from.
source_of() {
	sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$1/CMakeCache.txt"
}

if [ -z "$OLD_BUILD" ]; then
	echo "building $OLD_REV in a temporary worktree ..." >&2
	OLD_TREE=$TMP/old-src
	git worktree add --detach -q "$OLD_TREE" "$OLD_REV"
	OLD_BUILD=$TMP/old-build
	build "$OLD_TREE" "$OLD_BUILD"
fi
if [ -z "$NEW_BUILD" ]; then
	echo "building this checkout in build-compare/ ..." >&2
	NEW_BUILD=$ROOT/build-compare
	build "$ROOT" "$NEW_BUILD"
fi
for side in OLD NEW; do
	dir=${side}_BUILD
	dir=${!dir}
	for b in "${BENCHES[@]}"; do
		[ -x "$dir/$b" ] || { echo "compare.sh: $dir/$b is missing" >&2; exit 1; }
	done
	btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$dir/CMakeCache.txt")
	[ "$btype" = Release ] || echo "warning: $dir is a '$btype' build, not Release" >&2
done
OLD_SRC=$(source_of "$OLD_BUILD")
NEW_SRC=$(source_of "$NEW_BUILD")

# put SIDE KEY VALUE: one sample of a figure (nothing if VALUE is empty).
put() {
	[ -n "$3" ] && echo "$3" >>"$TMP/$1.$2"
	return 0
}

# bench SIDE PROGRAM ARGS...: its stdout; exits the script if it fails.
bench() {
	local side=$1
	shift
	"$@" || { echo "compare.sh: $side $* failed" >&2; exit 1; }
}

# run_side SIDE BUILD SRC: one round of the three benches, samples to $TMP.
run_side() {
	local side=$1 bin=$2 src=$3 out
	out=$(bench "$side" "$bin/bench_count")
	put "$side" count_cli "$(sed -n 's/^archex count, .*: \([0-9.]*\) ms wall.*/\1/p' <<<"$out")"
	put "$side" count_load "$(sed -n 's/^per config: load+validate+build+cost \([0-9.]*\) us.*/\1/p' <<<"$out")"
	put "$side" count_build "$(sed -n 's/^per config: .*, build+cost \([0-9.]*\) us.*/\1/p' <<<"$out")"
	out=$(bench "$side" "$bin/bench_sweep" "$SWEEP_SECS")
	put "$side" sweep_hot "$(sed -n 's/^ *hot path: .* \([0-9]*\) points\/s.*/\1/p' <<<"$out")"
	put "$side" sweep_cold "$(sed -n 's/^ *cold layer cache .* \([0-9]*\) points\/s.*/\1/p' <<<"$out")"
	put "$side" sweep_ref "$(sed -n 's/^ *baseline: reference .* \([0-9]*\) points\/s.*/\1/p' <<<"$out")"
	out=$(bench "$side" env -u OPENBLAS_CORETYPE "$bin/bench_score" "$src/$SCORE_CONFIG" \
		"${SCORE_ARGS[@]}")
	put "$side" score_s "$(sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' <<<"$out")"
	put "$side" score_gemm "$(sed -n 's/.*"sgemm_gflops":\([0-9.]*\).*/\1/p' <<<"$out")"
	sed -n 's/.*"core":"\([^"]*\)".*/\1/p' <<<"$out" >"$TMP/$side.core"
}

echo "old: $OLD_REV ($OLD_BUILD)" >&2
echo "new: $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+dirty') ($NEW_BUILD)" >&2
for ((r = 1; r <= ROUNDS; r++)); do
	echo "round $r of $ROUNDS ..." >&2
	if ((r % 2)); then
		run_side old "$OLD_BUILD" "$OLD_SRC"
		run_side new "$NEW_BUILD" "$NEW_SRC"
	else
		run_side new "$NEW_BUILD" "$NEW_SRC"
		run_side old "$OLD_BUILD" "$OLD_SRC"
	fi
done

# instructions SIDE BUILD: Ir per hot-path sweep point, from two point counts.
instructions() {
	local n ir=()
	for n in 2000 6000; do
		ir+=("$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
			"$2/bench_sweep" 0 count "$n" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')")
	done
	[ -n "${ir[0]}" ] && [ -n "${ir[1]}" ] && put "$1" sweep_ir $(((ir[1] - ir[0]) / 4000))
	return 0
}
if command -v valgrind >/dev/null; then
	echo "callgrind ..." >&2
	instructions old "$OLD_BUILD"
	instructions new "$NEW_BUILD"
fi

# median SIDE KEY: the median sample (mean of the middle two if even).
median() {
	[ -s "$TMP/$1.$2" ] || { echo; return; }
	sort -g "$TMP/$1.$2" | awk '{ v[NR] = $1 } END {
		print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# row KEY BETTER LABEL: medians, new/old and a verdict (within 3%: same).
row() {
	local o n
	o=$(median old "$1")
	n=$(median new "$1")
	awk -v o="$o" -v n="$n" -v better="$2" -v label="$3" '
	function fmt(v) { return sprintf(v >= 1000 ? "%.0f" : "%.4g", v) }
	BEGIN {
		if (o == "" || n == "" || o + 0 == 0) {
			printf "%-46s %12s %12s %8s  %s\n", label, o == "" ? "n/a" : o,
			       n == "" ? "n/a" : n, "-", "(missing)"
			exit
		}
		q = n / o
		gain = better == "lower" ? 1 / q : q
		verdict = gain > 1.03 ? "new faster" : gain < 1 / 1.03 ? "new slower" : "same"
		printf "%-46s %12s %12s %8.3f  %-6s %s\n", label, fmt(o), fmt(n), q, better, verdict
	}'
}

echo
echo "archex benchmarks, old $OLD_REV vs new $(git rev-parse --short HEAD), medians of $ROUNDS rounds"
echo "OpenBLAS core: old $(cat "$TMP/old.core" 2>/dev/null || echo '?'), new $(cat "$TMP/new.core" 2>/dev/null || echo '?')" \
     "(OPENBLAS_CORETYPE ${OPENBLAS_CORETYPE:+was $OPENBLAS_CORETYPE, }unset for bench_score)"
printf "%-46s %12s %12s %8s  %-6s %s\n" "figure" "old" "new" "new/old" "better" "verdict"
row count_cli lower "count: CLI, paper configs, json (ms)"
row count_load lower "count: load+validate+build+cost (us/config)"
row count_build lower "count: build+cost (us/config)"
row sweep_hot higher "sweep: hot path (points/s)"
row sweep_cold higher "sweep: cold layer cache (points/s)"
row sweep_ref higher "sweep: reference path (points/s)"
[ -s "$TMP/old.sweep_ir" ] && row sweep_ir lower "sweep: hot path, instructions/point (callgrind)"
row score_s lower "score: ${SCORE_ARGS[0]}x${SCORE_ARGS[1]} $(basename "$SCORE_CONFIG" .yaml), ${SCORE_ARGS[2]} thr (s/batch)"
row score_gemm higher "control: sgemm 2048^3 (GFLOP/s, no archex code)"
