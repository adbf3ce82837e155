#!/usr/bin/env bash
# same_moment.sh - shards finishing at the same moment lose nothing: 8
# shards of one sweep, each a separate process into its own directory
# under one parent (as array tasks on a shared filesystem), are released
# together by a barrier, three rounds; each round's merge equals the
# unsharded run and no temporary file is left behind. docs/scale-out.md
# says why this holds. usage: same_moment.sh ARCHEX SOURCE_DIR
set -euo pipefail
archex=$1 src=$2
. "$src/tests/scaleout/lib.sh"
work_dir same-moment
trap 'rm -rf "$work"' EXIT
sweep=$src/tests/scaleout/small.yaml
n=8

"$archex" sweep "$sweep" --out "$work/ref" --no-plot --quiet 2>/dev/null || fail "unsharded run"
for round in 1 2 3; do
	dir=$work/round$round
	mkdir -p "$dir"
	pids=()
	for ((k = 0; k < n; k++)); do
		( while [ ! -e "$dir/go" ]; do sleep 0.01; done
		  exec "$archex" sweep "$sweep" --shard "$k/$n" --out "$dir/shard-$k" \
			--resume --no-plot --quiet 2>"$dir/log-$k" ) &
		pids+=($!)
	done
	sleep 0.2
	touch "$dir/go"
	for p in "${pids[@]}"; do
		wait "$p" || fail "round $round: a shard failed: $(cat "$dir"/log-*)"
	done
	dirs=()
	for ((k = 0; k < n; k++)); do
		dirs+=("$dir/shard-$k")
	done
	"$archex" merge --no-plot --quiet "$dir/merged" "${dirs[@]}" 2>/dev/null || fail "round $round: merge"
	same_result "$work/ref" "$dir/merged"
	left=$(find "$dir" -name '*.tmp.*' | head -1)
	[ -z "$left" ] || fail "round $round: a temporary file is left: $left"
done
echo "ok"
