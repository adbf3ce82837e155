#!/usr/bin/env bash
# sweep-slurm.sh - run a sweep as a Slurm array job, one shard per task
# (`archex sweep --shard $SLURM_ARRAY_TASK_ID/N --resume`, so a requeued
# task resumes), and merge the shards in a job that depends on the array
# (afterok). The sweep file is checked before anything is queued.
# docs/scale-out.md.
set -euo pipefail
prog='sweep-slurm.sh'
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/sweep-common.sh"

usage() {
	cat <<EOF
usage: scripts/sweep-slurm.sh [options] SWEEP.yaml [-- SWEEP_OPTION...]

Submit a Slurm array job of N tasks; task K runs
  archex sweep SWEEP.yaml --shard K/N --out WORK/shard-K --resume
and a merge job, queued with --dependency=afterok on the array, runs
  archex merge OUT WORK/shard-0 ... WORK/shard-(N-1)
The merged result equals an unsharded run. WORK and OUT must be on a
filesystem every node sees at the same path (docs/scale-out.md).

options:
  -n, --shards N        array tasks, one shard each (default 4)
  -a, --archex PATH     the archex binary (default build/archex of this source
                        tree), at the same path on the nodes
  -o, --out DIR         merged output (default results/sweeps/NAME)
  -w, --work DIR        shard directories, the job scripts and the tasks'
                        logs (default OUT.shards)
  -p, --partition P     the partition (default: the cluster's default)
  -t, --time T          time limit of each task (sbatch --time)
  -c, --cpus N          CPUs per task (sbatch --cpus-per-task; default 1;
                        pass -- --jobs N to use them)
      --max-running M   at most M tasks at once (--array=0-(N-1)%M)
      --sbatch ARG      one more sbatch option for both jobs (repeatable),
                        e.g. --sbatch=--account=proj --sbatch=--mem=2G
      --wait            wait for the merge job and exit with its result
                        (the tasks' and the merge's logs are printed on failure)
      --no-submit       write the job scripts into WORK and print the sbatch
                        commands, without submitting
      --no-plot         no plots in the merge
  -h, --help            this text

Arguments after -- go to every 'archex sweep', e.g. -- --jobs 4 --allow-empty.
The array's tasks are requeueable (sbatch --requeue): a task that is
requeued (node failure, preemption, 'scontrol requeue') starts again with
--resume and skips the points already written. Submitting the same command
again resumes the unfinished shards in the same way. The merge job is
cancelled if a task fails (--kill-on-invalid-dep=yes); fix the cause and
submit again.

Exit codes: 0 submitted (with --wait: merged), 1 a bad sweep file, a failed
submission or (with --wait) a failed task or merge, 2 usage error.
EOF
}

shards=4 out='' work='' archex='' partition='' time_limit='' cpus=1 max_running=''
wait=0 submit=1 plot=() sbopts=() extra=()
sweep=''
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	-n | --shards) need_value "$1" $#; positive_int "$1" "$2"; shards=$2; shift 2 ;;
	-a | --archex) need_value "$1" $#; archex=$2; shift 2 ;;
	-o | --out) need_value "$1" $#; out=$2; shift 2 ;;
	-w | --work) need_value "$1" $#; work=$2; shift 2 ;;
	-p | --partition) need_value "$1" $#; partition=$2; shift 2 ;;
	-t | --time) need_value "$1" $#; time_limit=$2; shift 2 ;;
	-c | --cpus) need_value "$1" $#; positive_int "$1" "$2"; cpus=$2; shift 2 ;;
	--max-running) need_value "$1" $#; positive_int "$1" "$2"; max_running=$2; shift 2 ;;
	--sbatch) need_value "$1" $#; sbopts+=("$2"); shift 2 ;;
	--sbatch=*) sbopts+=("${1#--sbatch=}"); shift ;;
	--wait) wait=1; shift ;;
	--no-submit) submit=0; shift ;;
	--no-plot) plot=(--no-plot); shift ;;
	--) shift; extra=("$@"); break ;;
	-*) usage_error "unknown option '$1'" ;;
	*) [ -z "$sweep" ] || usage_error "give one SWEEP.yaml (got '$sweep' and '$1')"
	   sweep=$1; shift ;;
	esac
done
[ -n "$sweep" ] || usage_error "no SWEEP.yaml given"
[ $submit = 1 ] || [ $wait = 0 ] || usage_error "--wait and --no-submit exclude each other"
if [ $submit = 1 ]; then
	command -v sbatch >/dev/null || die "sbatch not found: not on a Slurm cluster (apt-get install slurm-client), or use --no-submit"
fi

sweep=$(abspath "$sweep")
archex=$(abspath "${archex:-$(default_archex "$here")}")
name=$(check_sweep "$archex" "$sweep")
if [ -z "$out" ]; then
	[ -n "$name" ] || die "$sweep: cannot read the sweep's name; give --out"
	out=results/sweeps/$name
fi
out=$(abspath "$out")
work=$(abspath "${work:-$out.shards}")
[ "$work" != "$out" ] || usage_error "--work and --out must differ"
# sbatch reads #SBATCH --output=PATH without shell quoting, and % there
# names a pattern
case $work in
*[[:space:]%]*) usage_error "the work directory '$work' holds a blank or '%'; give another --work" ;;
esac
mkdir -p "$work/logs" || die "$work: cannot create it"

# q WORD...: the words quoted for a shell script (nothing for none)
q() {
	[ $# -eq 0 ] || printf '%q ' "$@"
}

# The two job scripts. Everything is absolute and quoted, so the jobs do
# not depend on the directory or the environment they start in.
jobname=archex-${name:-sweep}
array=0-$((shards - 1))${max_running:+%$max_running}
# options of both jobs; the tasks' CPU count is in shard.sbatch (a
# command-line option would override it)
common=(--job-name="$jobname")
[ -z "$partition" ] || common+=(--partition="$partition")
[ -z "$time_limit" ] || common+=(--time="$time_limit")
common+=("${sbopts[@]}")
dirs=()
for ((k = 0; k < shards; k++)); do
	dirs+=("$work/shard-$k")
done
cat >"$work/shard.sbatch" <<EOF || die "$work/shard.sbatch: cannot write it"
#!/bin/bash
# One shard of sweep $name per array task, written by $prog.
# A requeued task starts again and --resume skips the points written.
#SBATCH --array=$array
#SBATCH --cpus-per-task=$cpus
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=$work/logs/shard-%a.out
set -euo pipefail
echo "shard \$SLURM_ARRAY_TASK_ID/$shards on \$(hostname) (job \$SLURM_JOB_ID, restart \${SLURM_RESTART_COUNT:-0})" >&2
exec $(q "$archex") sweep $(q "$sweep") --shard "\$SLURM_ARRAY_TASK_ID/$shards" \\
	--out $(printf %q "$work")/shard-"\$SLURM_ARRAY_TASK_ID" --resume --no-plot --quiet $(q "${extra[@]}")
EOF
cat >"$work/merge.sbatch" <<EOF || die "$work/merge.sbatch: cannot write it"
#!/bin/bash
# The merge of sweep $name's $shards shards, written by $prog; queued
# with --dependency=afterok on the array job.
#SBATCH --kill-on-invalid-dep=yes
#SBATCH --output=$work/logs/merge.out
set -euo pipefail
exec $(q "$archex") merge ${plot[*]} $(q "$out" "${dirs[@]}")
EOF

if [ $submit = 0 ]; then
	echo "$prog: wrote $work/shard.sbatch and $work/merge.sbatch; submit them with:"
	echo "  jobid=\$(sbatch --parsable $(q "${common[@]}" "$work/shard.sbatch"))"
	echo "  sbatch --dependency=afterok:\${jobid%%;*} $(q "${common[@]}" "$work/merge.sbatch")"
	exit 0
fi

jobid=$(sbatch --parsable "${common[@]}" "$work/shard.sbatch") ||
	die "sbatch of the array job failed (see above)"
jobid=${jobid%%;*}
mergeid=$(sbatch --parsable "${common[@]}" --dependency="afterok:$jobid" "$work/merge.sbatch") || {
	scancel "$jobid" 2>/dev/null || true
	die "sbatch of the merge job failed (see above); cancelled array job $jobid"
}
mergeid=${mergeid%%;*}
echo "$prog: array job $jobid ($shards tasks, logs in $work/logs), merge job $mergeid into $out"
[ $wait = 1 ] || { echo "  watch: squeue -j $jobid,$mergeid"; exit 0; }

# Wait for the merge job to leave the queue (sacct needs accounting,
# which a cluster may lack; scontrol knows a finished job for MinJobAge).
state='' unknown=0
while :; do
	state=$(scontrol -o show job "$mergeid" 2>/dev/null |
		sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p') || true
	case $state in
	'') unknown=$((unknown + 1))
	    [ $unknown -lt 30 ] || die "scontrol no longer knows merge job $mergeid (array job $jobid; logs in $work/logs)"
	    sleep 1 ;;
	PENDING | RUNNING | CONFIGURING | COMPLETING | REQUEUED | RESIZING | SUSPENDED) unknown=0; sleep 1 ;;
	*) break ;;
	esac
done
if [ "$state" != COMPLETED ]; then
	for f in "$work"/logs/*.out; do
		[ -e "$f" ] && { echo "== $f"; tail -n 20 "$f"; } >&2
	done
	die "merge job $mergeid ended $state (array job $jobid; logs in $work/logs)"
fi
cat "$work/logs/merge.out"
