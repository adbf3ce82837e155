#!/usr/bin/env bash
# study.sh - the proxy study (docs/study.md) in one command: the Bible
# corpus if missing, the three trained sweeps of sweeps/study/ as shards
# through GNU parallel (scripts/sweep-parallel.sh), their merges, and the
# report `archex study` into results/study/. Every shard runs with
# --resume, so running the same command again after an interruption
# (or a reboot) continues where each shard stopped; finished sweeps only
# rewrite their tables.
#
# Runtime on one 2-core machine (2 shards at once, 1 OpenBLAS thread each,
# SkylakeX kernel): about an hour. The committed run's 47 trainings sum to
# 2.5 h of single-core wall time (matched 71 min, large 65, 2x 14, 0.5x
# 2.5), part of it on cores shared with other jobs.
set -euo pipefail
prog='study.sh'
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/sweep-common.sh"

usage() {
	cat <<EOF
usage: scripts/study.sh [options]

Run the proxy study (docs/study.md) from the source tree's root:
  1. data/bible (archex data bible-en-es), unless it is there;
  2. the trained sweeps of sweeps/study/, in priority order, each as shards
     through GNU parallel into RUNS/NAME.shards/shard-K, merged into RUNS/NAME:
       study-matched      (a), (b): the designs near 90M and 350M MACs, 3 seeds
       study-large        (a), (b): near 530M, and wmt-transformer-512; 3 seeds
       study-budget-0.5x  (c): the 90M designs at 0.5x the training tokens
       study-budget-2x    (c): the same designs at 2x
  3. archex study RUNS/study-matched RUNS/study-large RUNS/study-budget-0.5x
     RUNS/study-budget-2x --out OUT: the correlations, the table per MAC
     budget, the rankings per training budget; CSV, JSON, PNG and SVG.
Run it again after an interruption: every shard resumes (--resume), down to
the last checkpoint of the run it was in. A shard count is part of where the
shards live: resume with the counts you started with.

options:
  -n, --shards N     shards of every sweep (default 8, 5, 4 and 4: about one
                     design per shard, so that 2 cores stay busy to the end)
  -j, --jobs J       shards running at once (default 2: one per core, with
                     the sweeps' train.threads 1)
      --only WHAT    designs: only study-matched and study-large (then the
                     report of (a) and (b)); budget: only the two budget
                     sweeps (then the report of all four, if the others are
                     merged)
  -r, --runs DIR     sweep directories (default runs/study of the source tree)
  -o, --out DIR      the report (default results/study of the source tree)
  -a, --archex PATH  the archex binary (default build/archex)
  -h, --help         this text

Runtime on one 2-core machine: about an hour (47 trainings; the committed
run's sum to 2.5 h of single-core time); the report takes about a second.
Exit codes: 0 success, 1 a failed step (named), 2 usage error.
EOF
}

shards='' jobs=2 only='' runs='' out='' archex=''
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	-n | --shards) need_value "$1" $#; positive_int "$1" "$2"; shards=$2; shift 2 ;;
	-j | --jobs) need_value "$1" $#; positive_int "$1" "$2"; jobs=$2; shift 2 ;;
	--only) need_value "$1" $#
		case $2 in designs | budget) only=$2 ;;
		*) usage_error "--only is designs or budget, not '$2'" ;; esac
		shift 2 ;;
	-r | --runs) need_value "$1" $#; runs=$2; shift 2 ;;
	-o | --out) need_value "$1" $#; out=$2; shift 2 ;;
	-a | --archex) need_value "$1" $#; archex=$2; shift 2 ;;
	*) usage_error "unknown argument '$1'" ;;
	esac
done

root=$(cd "$here/.." && pwd)
[ -n "$archex" ] || archex=$(default_archex "$here")
archex=$(abspath "$archex")
# given paths are the caller's; the defaults are the source tree's
runs=$(abspath "${runs:-$root/runs/study}")
out=$(abspath "${out:-$root/results/study}")
cd "$root"
[ -x "$archex" ] || die "$archex: no archex binary there (build it with cmake, or pass --archex PATH)"

start=$SECONDS
# elapsed: the time since the start, for the step lines
elapsed() { printf '%dm%02ds' $(((SECONDS - start) / 60)) $(((SECONDS - start) % 60)); }

# 1. the corpus the sweeps train on (sweeps/study/*.yaml: ../../data/bible)
if [ ! -e data/bible/manifest.json ]; then
	echo "$prog: building data/bible (archex data bible-en-es)" >&2
	"$archex" data bible-en-es --out data/bible || die "building data/bible failed"
fi

# 2. the sweeps, in priority order (NAME:SHARDS): each resumes its
# shards, then merges
plan=()
[ "$only" = budget ] || plan+=(study-matched:8 study-large:5)
[ "$only" = designs ] || plan+=(study-budget-0.5x:4 study-budget-2x:4)
for item in "${plan[@]}"; do
	name=${item%%:*} n=${shards:-${item##*:}}
	echo "$prog: [$(elapsed)] sweep $name: $n shards, $jobs at once, into $runs/$name" >&2
	"$here/sweep-parallel.sh" -n "$n" -j "$jobs" -a "$archex" --no-plot \
		-o "$runs/$name" "sweeps/study/$name.yaml" ||
		die "sweep $name failed; run the same command again to resume"
done

# 3. the report, over the merged sweeps
dirs=()
for name in study-matched study-large study-budget-0.5x study-budget-2x; do
	[ "$only" = designs ] && [ "${name#study-budget}" != "$name" ] && continue
	if [ -e "$runs/$name/sweep.json" ]; then
		dirs+=("$runs/$name")
	else
		echo "$prog: $runs/$name is not merged yet: left out of the report" >&2
	fi
done
[ -e "$runs/study-matched/sweep.json" ] ||
	die "$runs/study-matched is not merged: no report (run without --only)"
echo "$prog: [$(elapsed)] report: archex study ${dirs[*]} --out $out" >&2
"$archex" study "${dirs[@]}" --out "$out" || die "the report failed"
echo "$prog: [$(elapsed)] done in $(elapsed): $out" >&2
