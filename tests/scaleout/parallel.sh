#!/usr/bin/env bash
# parallel.sh - scripts/sweep-parallel.sh: 4 shards through GNU parallel
# merge to the unsharded run (pareto.csv, best.csv, points.csv identical,
# points.jsonl as a set); the same over two ssh "hosts" (a stand-in ssh
# that runs the remote command here, so GNU parallel's remote quoting is
# exercised); a resumed partial shard; a failing shard named; the bad
# inputs (a missing or broken sweep file fails before anything starts).
# Exits 77 (skipped) without GNU parallel.
# usage: parallel.sh ARCHEX SOURCE_DIR
set -euo pipefail
archex=$1 src=$2
. "$src/tests/scaleout/lib.sh"
command -v parallel >/dev/null || { echo "no GNU parallel (apt-get install parallel): skipped"; exit 77; }
work_dir parallel
trap 'rm -rf "$work"' EXIT
run=$src/scripts/sweep-parallel.sh
sweep=$src/tests/scaleout/small.yaml

"$archex" sweep "$sweep" --out "$work/ref" --no-plot --quiet 2>/dev/null || fail "unsharded run"

# 1. four shards at once on this machine
bash "$run" -a "$archex" -n 4 -o "$work/local" --no-plot "$sweep" >"$work/out" 2>"$work/err" ||
	{ cat "$work/err"; fail "4 local shards"; }
same_result "$work/ref" "$work/local"
[ "$(ls -d "$work/local.shards"/shard-* | wc -l)" = 4 ] || fail "not 4 shard directories"
grep -q 'best design' "$work/out" || fail "no summary on stdout"

# 2. over two ssh logins (2 shards at once on each) through a stand-in ssh
cat >"$work/ssh" <<'EOF'
#!/bin/bash
# ssh HOST [--] COMMAND...: note the host, run the command here as sshd would
# (sshd gives the login a SHELL and a HOME; GNU parallel's remote wrapper
# runs the command through $SHELL and does nothing, with exit 0, without one)
export SHELL=/bin/bash HOME=${HOME:-/tmp}
while [ $# -gt 0 ]; do case $1 in -[olpi]) shift 2 ;; -*) shift ;; *) break ;; esac; done
echo "$1" >>"${0%/*}/hosts"; shift
[ "${1:-}" = "--" ] && shift
exec bash -c "$*"
EOF
chmod +x "$work/ssh"
bash "$run" -a "$archex" -n 4 -S 2/hostA,2/hostB --ssh "$work/ssh" -o "$work/remote" --no-plot \
	"$sweep" >/dev/null 2>"$work/err" || { cat "$work/err"; fail "4 shards over ssh"; }
same_result "$work/ref" "$work/remote"
grep -qx hostA "$work/hosts" && grep -qx hostB "$work/hosts" || fail "the shards did not run on both hosts"

# 3. a partial shard (as a killed run leaves it) resumes
"$archex" sweep "$sweep" --shard 1/4 --limit 5 --out "$work/resumed.shards/shard-1" --no-plot --quiet 2>/dev/null
bash "$run" -a "$archex" -n 4 -o "$work/resumed" --no-plot "$sweep" >/dev/null 2>"$work/err" ||
	{ cat "$work/err"; fail "resume"; }
grep -q 'shard 1/4.*5 already there' "$work/err" || { cat "$work/err"; fail "shard 1 did not resume"; }
same_result "$work/ref" "$work/resumed"
# a second run resumes every finished shard: nothing new, the same result
bash "$run" -a "$archex" -n 4 -o "$work/resumed" --no-plot "$sweep" >/dev/null 2>"$work/err" || fail "second run"
[ "$(grep -c ' 0 written' "$work/err")" = 4 ] || { cat "$work/err"; fail "a second run wrote points"; }
same_result "$work/ref" "$work/resumed"

# 4. a shard that fails (its directory holds another shard) is named; no merge
"$archex" sweep "$sweep" --shard 3/4 --out "$work/bad.shards/shard-2" --no-plot --quiet 2>/dev/null
rc=0
bash "$run" -a "$archex" -n 4 -o "$work/bad" --no-plot "$sweep" >/dev/null 2>"$work/err" || rc=$?
[ $rc = 1 ] || fail "a failed shard: exit $rc, not 1"
grep -q 'holds shard 3/4, not 2/4' "$work/err" || { cat "$work/err"; fail "archex's reason not shown"; }
grep -q 'shard(s) 2 failed' "$work/err" || { cat "$work/err"; fail "the failed shard not named"; }
[ ! -e "$work/bad" ] || fail "merged despite a failed shard"

# 5. bad inputs: nothing starts
rc=0
bash "$run" -a "$archex" -o "$work/none" "$work/missing.yaml" 2>"$work/err" || rc=$?
[ $rc = 1 ] || fail "missing sweep: exit $rc"
grep -q 'missing.yaml: no such sweep file' "$work/err" || fail "missing sweep message: $(cat "$work/err")"
[ ! -e "$work/none.shards" ] || fail "a missing sweep created shard directories"
printf 'name: broken\nfamilies:\n  - base: nowhere.yaml\n' >"$work/broken.yaml"
rc=0
bash "$run" -a "$archex" -o "$work/none" "$work/broken.yaml" 2>"$work/err" || rc=$?
[ $rc = 1 ] || fail "broken sweep: exit $rc"
grep -q 'broken.yaml:.*error' "$work/err" && grep -q 'does not load; nothing was started' "$work/err" ||
	fail "broken sweep message: $(cat "$work/err")"
[ ! -e "$work/none.shards" ] || fail "a broken sweep created shard directories"
rc=0
bash "$run" -n 0 "$sweep" 2>"$work/err" || rc=$?
[ $rc = 2 ] && grep -q -- '-n wants a positive integer' "$work/err" || fail "-n 0: exit $rc"
rc=0
bash "$run" --bogus "$sweep" 2>"$work/err" || rc=$?
[ $rc = 2 ] && grep -q "unknown option '--bogus'" "$work/err" || fail "--bogus: exit $rc"
bash "$run" --help | grep -q 'sshlogin' || fail "--help"
echo "ok"
