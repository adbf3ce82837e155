#!/usr/bin/env bash
# study.sh - the proxy study (docs/study.md) in one command: the Bible
# corpus if missing, the three trained sweeps of sweeps/study/ as shards
# through GNU parallel (scripts/sweep-parallel.sh), their merges, and the
# report `archex study` into results/study/. Every shard runs with
# --resume, so running the same command again after an interruption
# (or a reboot) continues where each shard stopped; finished sweeps only
# rewrite their tables.
#
# Runtime: TODO-LEAD: the measured wall time of the whole study on one
# 2-core machine (2 shards), and of each sweep.
set -euo pipefail
prog='study.sh'
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/sweep-common.sh"

usage() {
	cat <<EOF
usage: scripts/study.sh [options]

Run the proxy study (docs/study.md) from the source tree's root:
  1. data/bible (archex data bible-en-es), unless it is there;
  2. the trained sweeps, in priority order, each as N shards through GNU
     parallel into RUNS/NAME.shards/shard-K, merged into RUNS/NAME:
       study-designs      parts (a) and (b): 13 designs, 3 seeds, 1x budget
       study-budget-0.5x  part (c): 8 designs at 0.5x the training tokens
       study-budget-2x    part (c): the same 8 designs at 2x
  3. archex study RUNS/study-designs RUNS/study-budget-0.5x RUNS/study-budget-2x
     --out OUT: the correlations, the table per MAC budget, the rankings
     per training budget, CSV, JSON, PNG and SVG.
Run it again after an interruption: every shard resumes (--resume), down to
the last checkpoint of the run it was in.

options:
  -n, --shards N     shards per sweep (default 2: one per core, with the
                     sweeps' train.threads 1)
  -j, --jobs J       shards running at once (default N)
      --only WHAT    designs: only study-designs (then the report of (a) and
                     (b)); budget: only the two budget sweeps (then the report
                     of all three if study-designs is merged)
  -r, --runs DIR     sweep directories (default runs/study of the source tree)
  -o, --out DIR      the report (default results/study of the source tree)
  -a, --archex PATH  the archex binary (default build/archex)
  -h, --help         this text

Runtime on one 2-core machine: TODO-LEAD (measured: designs ..., 0.5x ...,
2x ..., report a second).
Exit codes: 0 success, 1 a failed step (named), 2 usage error.
EOF
}

shards=2 jobs='' only='' runs='' out='' archex=''
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

# 2. the sweeps, designs first: each resumes its shards, then merges
sweeps=()
[ "$only" = budget ] || sweeps+=(study-designs)
[ "$only" = designs ] || sweeps+=(study-budget-0.5x study-budget-2x)
par=(-n "$shards" -a "$archex" --no-plot)
[ -z "$jobs" ] || par+=(-j "$jobs")
for name in "${sweeps[@]}"; do
	echo "$prog: [$(elapsed)] sweep $name: $shards shards into $runs/$name" >&2
	"$here/sweep-parallel.sh" "${par[@]}" -o "$runs/$name" "sweeps/study/$name.yaml" ||
		die "sweep $name failed; run the same command again to resume"
done

# 3. the report, over what is merged
if [ ! -e "$runs/study-designs/sweep.json" ]; then
	echo "$prog: $runs/study-designs is not merged yet: no report (run without --only)" >&2
	exit 0
fi
dirs=("$runs/study-designs")
[ "$only" = designs ] || dirs+=("$runs/study-budget-0.5x" "$runs/study-budget-2x")
echo "$prog: [$(elapsed)] report: archex study ${dirs[*]} --out $out" >&2
"$archex" study "${dirs[@]}" --out "$out" || die "the report failed"
echo "$prog: [$(elapsed)] done in $(elapsed): $out" >&2
