#!/usr/bin/env bash
# sweep-parallel.sh - run a sweep as N shards with GNU parallel, on this
# machine or over ssh hosts, then join them with `archex merge`. Every
# shard runs with --resume, so running the same command again after an
# interruption continues where each shard stopped. docs/scale-out.md.
set -euo pipefail
prog='sweep-parallel.sh'
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/sweep-common.sh"

usage() {
	cat <<EOF
usage: scripts/sweep-parallel.sh [options] SWEEP.yaml [-- SWEEP_OPTION...]

Run 'archex sweep SWEEP.yaml --shard K/N --resume' for K = 0..N-1 with GNU
parallel (Debian package 'parallel'), on this machine or on ssh hosts, each
shard into its own directory WORK/shard-K, then 'archex merge OUT WORK/shard-*'.
The merged result equals an unsharded run (docs/scale-out.md).

options:
  -n, --shards N        number of shards (default 4)
  -j, --jobs J          shards running at once on each host (default N)
  -S, --sshlogin LOGIN  run the shards on ssh hosts: GNU parallel's --sshlogin,
                        comma-separated or repeated, e.g. 8/node1,8/node2
                        (8 shards at once on each; ':' is this machine). The
                        paths below must mean the same on every host: a shared
                        filesystem mounted at the same place
      --ssh CMD         the ssh command GNU parallel uses (default ssh)
  -a, --archex PATH     the archex binary (default build/archex of this source
                        tree); with -S, its path on the hosts
  -o, --out DIR         merged output (default results/sweeps/NAME)
  -w, --work DIR        shard directories (default OUT.shards)
      --no-plot         no plots in the merge
  -h, --help            this text

Arguments after -- go to every 'archex sweep', e.g. -- --jobs 2 --allow-empty.
The sweep file is loaded and checked before any shard starts. Running the
same command again resumes unfinished shards (finished ones only rewrite
their tables); remove WORK to start over. A shard directory of another sweep
is refused by archex, with the difference named.

Exit codes: 0 success, 1 a bad sweep file or a failed shard or merge (the
failed shards are named), 2 usage error.
EOF
}

shards=4 jobs='' out='' work='' ssh='' archex='' plot=()
logins=() extra=()
sweep=''
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	-n | --shards) need_value "$1" $#; positive_int "$1" "$2"; shards=$2; shift 2 ;;
	-j | --jobs) need_value "$1" $#; positive_int "$1" "$2"; jobs=$2; shift 2 ;;
	-S | --sshlogin) need_value "$1" $#; logins+=(--sshlogin "$2"); shift 2 ;;
	--ssh) need_value "$1" $#; ssh=$2; shift 2 ;;
	-a | --archex) need_value "$1" $#; archex=$2; shift 2 ;;
	-o | --out) need_value "$1" $#; out=$2; shift 2 ;;
	-w | --work) need_value "$1" $#; work=$2; shift 2 ;;
	--no-plot) plot=(--no-plot); shift ;;
	--) shift; extra=("$@"); break ;;
	-*) usage_error "unknown option '$1'" ;;
	*) [ -z "$sweep" ] || usage_error "give one SWEEP.yaml (got '$sweep' and '$1')"
	   sweep=$1; shift ;;
	esac
done
[ -n "$sweep" ] || usage_error "no SWEEP.yaml given"
[ -n "$ssh" ] && [ ${#logins[@]} -eq 0 ] && usage_error "--ssh needs --sshlogin"
command -v parallel >/dev/null || die "GNU parallel is not installed (apt-get install parallel)"

sweep=$(abspath "$sweep")
[ -n "$archex" ] || archex=$(default_archex "$here")
archex=$(abspath "$archex")
# The check and the merge run here; with -S the binary may live
# elsewhere on the hosts, so fall back to this tree's build.
local_archex=$archex
[ -x "$local_archex" ] || [ ${#logins[@]} -eq 0 ] || local_archex=$(default_archex "$here")
name=$(check_sweep "$local_archex" "$sweep")
if [ -z "$out" ]; then
	[ -n "$name" ] || die "$sweep: cannot read the sweep's name; give --out"
	out=results/sweeps/$name
fi
out=$(abspath "$out")
work=$(abspath "${work:-$out.shards}")
[ "$work" != "$out" ] || usage_error "--work and --out must differ"
mkdir -p "$work" || die "$work: cannot create it"

par=(parallel --will-cite --halt 'soon,fail=1' --joblog "$work/parallel.log"
     --line-buffer --tagstring "shard {}/$shards" -j "${jobs:-$shards}")
[ ${#logins[@]} -eq 0 ] || par+=("${logins[@]}")
[ -z "$ssh" ] || par+=(--ssh "$ssh")
echo "$prog: $shards shards of $sweep into $work" >&2
# -q quotes every word, so paths with spaces survive the shell (and ssh)
if ! "${par[@]}" -q "$archex" sweep "$sweep" --shard "{}/$shards" \
	--out "$work/shard-{}" --resume --no-plot --quiet "${extra[@]}" \
	::: $(seq 0 $((shards - 1))); then
	# the joblog's job K+1 is shard K (the inputs are in order)
	failed=$(awk 'NR > 1 && ($7 != 0 || $8 != 0) { printf " %d", $1 - 1 }' "$work/parallel.log")
	die "shard(s)${failed:- (unknown)} failed (see above and $work/parallel.log);" \
		"run the same command again to resume"
fi
dirs=()
for ((k = 0; k < shards; k++)); do
	# GNU parallel reports success when a remote login had no $SHELL to run
	# the command with; name that case instead of a missing file in merge
	[ -e "$work/shard-$k/sweep.json" ] ||
		die "shard $k/$shards left nothing in $work/shard-$k although GNU parallel" \
			"reported success (does the ssh login have a SHELL?)"
	dirs+=("$work/shard-$k")
done
"$local_archex" merge "${plot[@]}" "$out" "${dirs[@]}" || die "the merge into $out failed"
