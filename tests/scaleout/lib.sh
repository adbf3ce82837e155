# shellcheck shell=bash
# lib.sh - what the scale-out tests share: failing, a private temporary
# directory removed on exit, and the comparison of a merged sweep with the
# unsharded run. Sourced by tests/scaleout/*.sh.

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# work_dir NAME: a fresh temporary directory of this run (so a second run,
# or ctest -j beside other tests, never shares it), in $work
work_dir() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/archex-$1.XXXXXX") || fail "mktemp"
}

# same_result REF DIR: DIR holds the unsharded run's result: pareto.csv,
# best.csv and points.csv byte for byte, points.jsonl as a set of lines
same_result() {
	local f
	for f in pareto.csv best.csv points.csv; do
		[ -s "$2/$f" ] || fail "$2/$f missing or empty"
		cmp -s "$1/$f" "$2/$f" || { diff "$1/$f" "$2/$f" | head -5 >&2; fail "$2/$f differs from the unsharded run"; }
	done
	sort "$1/points.jsonl" >"$work/ref.sorted"
	sort "$2/points.jsonl" >"$work/got.sorted"
	cmp -s "$work/ref.sorted" "$work/got.sorted" || fail "$2/points.jsonl: not the unsharded run's points"
	grep -q '"shard":"0/1","complete":true' "$2/sweep.json" || fail "$2/sweep.json: not a complete merge"
}

# same_trained REF DIR: DIR holds the unsharded trained run's result:
# pareto.csv, best.csv and plots/trained.csv byte for byte, points.jsonl
# as a set of lines without train_seconds (a wall time, the only figure
# that differs between runs)
same_trained() {
	local f
	for f in pareto.csv best.csv plots/trained.csv; do
		[ -s "$2/$f" ] || fail "$2/$f missing or empty"
		cmp -s "$1/$f" "$2/$f" || { diff "$1/$f" "$2/$f" | head -5 >&2; fail "$2/$f differs from the unsharded run"; }
	done
	local cut='s/"train_seconds(_std)?":(\[[^]]*\]|[^],}]*),?//g'
	sed -E "$cut" "$1/points.jsonl" | sort >"$work/ref.sorted"
	sed -E "$cut" "$2/points.jsonl" | sort >"$work/got.sorted"
	cmp -s "$work/ref.sorted" "$work/got.sorted" || fail "$2/points.jsonl: not the unsharded run's points"
	grep -q '"valid_loss":[0-9]' "$2/points.jsonl" || fail "$2/points.jsonl: no valid_loss measured"
	grep -q '"shard":"0/1","complete":true' "$2/sweep.json" || fail "$2/sweep.json: not a complete merge"
}

# have_bible: the Debian packages archex data bible-en-es needs (grep reads
# all of diatheke's output: under pipefail, a -q that stops early fails it)
have_bible() {
	command -v bible >/dev/null 2>&1 && command -v diatheke >/dev/null 2>&1 &&
		command -v spm_train >/dev/null 2>&1 && command -v spm_encode >/dev/null 2>&1 &&
		diatheke -b system -k modulelist 2>/dev/null | grep spaRV1909eb >/dev/null
}
