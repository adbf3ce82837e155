#!/usr/bin/env bash
# slurm.sh - scripts/sweep-slurm.sh on a real single-node Slurm that the
# test starts as root: munged with its own key and socket, slurmctld and
# slurmd on this host with a slurm.conf in a temporary directory (free
# ports, every path private, so a second run or other tests beside it do
# not collide). Checks: a missing sweep fails at submission with nothing
# queued; the array job (one shard partly done, as a killed task leaves
# it) runs, resumes and merges to the unsharded run; a requeued task
# resumes and writes nothing new; a failing task cancels the merge; a
# tiny trained sweep as a 2-task array merges to its unsharded run. The
# daemons are stopped by the pids in their pid files on every exit.
# Exits 77 (skipped) when not root or the packages are missing.
# usage: slurm.sh ARCHEX SOURCE_DIR
set -euo pipefail
archex=$1 src=$2
. "$src/tests/scaleout/lib.sh"
[ "$(id -u)" = 0 ] || { echo "not root: skipped"; exit 77; }
for p in munged slurmctld slurmd sbatch squeue scontrol sinfo scancel runuser; do
	command -v $p >/dev/null 2>&1 ||
		{ echo "no $p (apt-get install slurm-wlm munge): skipped"; exit 77; }
done
id munge >/dev/null 2>&1 || { echo "no munge user: skipped"; exit 77; }

work_dir slurm
chmod 711 "$work"              # munged, run as munge, reaches its own directory
stop() {
	local f pid
	[ -e "$work/slurm.conf" ] && SLURM_CONF=$work/slurm.conf scancel --quiet -u root 2>/dev/null || true
	for f in slurmd slurmctld munge/munged; do
		pid=$(cat "$work/$f.pid" 2>/dev/null) || continue
		kill "$pid" 2>/dev/null || continue
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap stop EXIT

# free_port: a TCP port nobody listens on (a connect to it is refused)
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo $p; return; }
	done
}

# munge: its own key, socket, pid, log and seed
mkdir -m 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
chown -R munge: "$work/munge"
runuser -u munge -- munged --force --socket="$work/munge/munge.sock" \
	--key-file="$work/munge/munge.key" --pid-file="$work/munge/munged.pid" \
	--log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed" ||
	fail "munged did not start: $(cat "$work/munge/munged.log" 2>/dev/null)"

host=$(hostname -s)
ctld_port=$(free_port)
slurmd_port=$(free_port)
[ "$slurmd_port" != "$ctld_port" ] || slurmd_port=$((ctld_port + 1))
mem=$(awk '/^MemTotal:/ { m = int($2 / 1024) - 1024; print m < 100 ? 100 : m }' /proc/meminfo)
mkdir "$work/state" "$work/spool"
cat >"$work/slurm.conf" <<EOF
# a single-node Slurm for tests/scaleout/slurm.sh
ClusterName=ax$(printf '%05d' $((RANDOM % 100000)))
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.sock
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SchedulerParameters=sched_interval=1,bf_interval=1
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
NodeName=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$work/slurm.conf
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start: $(tail -5 "$work/slurmctld.log")"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start: $(tail -5 "$work/slurmd.log")"
for _ in $(seq 300); do
	[ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && break
	sleep 0.1
done
[ "$(sinfo -h -o %T 2>/dev/null)" = idle ] ||
	fail "the node is not idle: $(sinfo 2>&1); $(tail -5 "$work/slurmctld.log" "$work/slurmd.log")"

run=$src/scripts/sweep-slurm.sh
sweep=$src/tests/scaleout/small.yaml
# queued: the jobs the controller knows (pending, running or finished)
queued() {
	scontrol -o show jobs 2>/dev/null | grep -c JobId= || true
}

echo "slurm.sh: munged, slurmctld and slurmd up, node idle after ${SECONDS}s"
# 1. a missing sweep fails at submission; nothing is queued
rc=0
bash "$run" -a "$archex" -o "$work/none" "$work/missing.yaml" 2>"$work/err" || rc=$?
[ $rc = 1 ] || fail "missing sweep: exit $rc"
grep -q 'missing.yaml: no such sweep file' "$work/err" || fail "missing sweep message: $(cat "$work/err")"
[ "$(queued)" = 0 ] || fail "a missing sweep queued a job"

# 2. the array job, shard 1 half done, merges to the unsharded run
"$archex" sweep "$sweep" --out "$work/ref" --no-plot --quiet 2>/dev/null || fail "unsharded run"
"$archex" sweep "$sweep" --shard 1/4 --limit 5 --out "$work/m.shards/shard-1" --no-plot --quiet 2>/dev/null
bash "$run" -a "$archex" -n 4 -o "$work/m" --no-plot --wait "$sweep" >"$work/out" 2>&1 ||
	{ cat "$work/out"; fail "the array job"; }
same_result "$work/ref" "$work/m"
grep -q 'best design' "$work/out" || fail "no merge summary: $(cat "$work/out")"
grep -q '5 already there' "$work/m.shards/logs/shard-1.out" || fail "shard 1 did not resume"
[ "$(cat "$work"/m.shards/logs/shard-*.out | grep -c ' written, ')" = 4 ] || fail "not 4 tasks"
jobid=$(sed -n 's/.*array job \([0-9]*\) .*/\1/p' "$work/out")

echo "slurm.sh: array job and merge done after ${SECONDS}s"
# 3. a requeued task runs again and resumes: nothing new, the same merge
# (Slurm holds a requeued batch job back for the credential lifetime;
# start it now, as an operator can)
scontrol requeue "${jobid}_2" || fail "scontrol requeue"
scontrol update JobId="${jobid}_2" StartTime=now || fail "scontrol update StartTime"
for _ in $(seq 300); do
	grep -q 'restart 1' "$work/m.shards/logs/shard-2.out" &&
		grep -q '24 already there' "$work/m.shards/logs/shard-2.out" && break
	sleep 0.1
done
grep -q '0 written, 24 already there' "$work/m.shards/logs/shard-2.out" ||
	fail "the requeued task did not resume: $(cat "$work/m.shards/logs/shard-2.out")"

echo "slurm.sh: requeued task resumed after ${SECONDS}s"
# 4. a failing task (its directory holds another shard) cancels the merge
"$archex" sweep "$sweep" --shard 3/4 --out "$work/bad.shards/shard-2" --no-plot --quiet 2>/dev/null
rc=0
bash "$run" -a "$archex" -n 4 -o "$work/bad" --no-plot --wait "$sweep" >"$work/out" 2>&1 || rc=$?
[ $rc = 1 ] || fail "a failing task: exit $rc, not 1"
grep -q 'holds shard 3/4, not 2/4' "$work/out" || fail "the task's error not shown: $(cat "$work/out")"
grep -q 'merge job [0-9]* ended CANCELLED' "$work/out" || fail "the merge not cancelled: $(cat "$work/out")"
[ ! -e "$work/bad" ] || fail "merged despite a failed task"

# 5. a trained sweep (four tiny Transformers, 4 updates each on a Bible
# subset with a 300-piece vocabulary) as an array job of 2 tasks merges to
# the unsharded run: the same points, valid losses and tables (all but
# train_seconds, a wall time). Skipped without the corpus's packages.
if have_bible; then
	"$archex" data bible-en-es --out "$work/ds" --books Philemon,Ruth,Jonah --vocab 300 \
		2>"$work/err" || fail "archex data: $(cat "$work/err")"
	printf '%s\n' 'name: tiny' 'family: transformer' 'task: translation' 'embed_dim: 32' \
		'norm: pre' 'final_norm: true' 'vocab: {source: 300, target: 300, share: all}' \
		'encoder: {layers: 1, ffn_dim: 64, attention_heads: 4}' \
		'decoder: {layers: 1, ffn_dim: 64, attention_heads: 4}' >"$work/tiny.yaml"
	printf '%s\n' 'name: trained' 'train: {data: ds, max_steps: 4, seeds: [1], save_every: 2}' \
		'families:' '  - name: t' '    base: tiny.yaml' '    axes:' \
		'      ffn_dim: [32, 64]' '      train.lr: [1e-3, 3e-3]' \
		'      train.max_tokens: [256]' >"$work/trained.yaml"
	"$archex" sweep "$work/trained.yaml" --out "$work/tref" --no-plot --quiet 2>/dev/null ||
		fail "unsharded trained run"
	bash "$run" -a "$archex" -n 2 -o "$work/t" --no-plot --wait "$work/trained.yaml" \
		>"$work/out" 2>&1 || { cat "$work/out"; fail "the trained array job"; }
	same_trained "$work/tref" "$work/t"
	grep -q 'trained points, by min valid_loss' "$work/out" ||
		fail "no trained table in the merge summary: $(cat "$work/out")"
	echo "slurm.sh: trained array job and merge done after ${SECONDS}s"
else
	echo "slurm.sh: no bible, diatheke, spaRV1909eb or spm_train: trained sweep skipped"
fi
echo "ok"
