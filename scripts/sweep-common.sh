# shellcheck shell=bash
# sweep-common.sh - what scripts/sweep-parallel.sh and scripts/sweep-slurm.sh
# share: errors, number checks, absolute paths, and the check of a sweep
# file before any shard is started or queued. Sourced, not run.
# The caller sets `prog` (its name, for messages).

# die MESSAGE...: an error on stderr, exit 1 (bad input, a failed step)
die() {
	echo "$prog: error: $*" >&2
	exit 1
}

# usage_error MESSAGE...: a usage error on stderr, exit 2
usage_error() {
	echo "$prog: error: $*" >&2
	echo "(see $prog --help)" >&2
	exit 2
}

# need_value OPTION ARGC: an option's value is present
need_value() {
	[ "$2" -ge 2 ] || usage_error "option '$1' needs a value"
}

# positive_int NAME VALUE: VALUE is an integer in 1..1048576 (archex's
# largest shard count)
positive_int() {
	case $2 in
	'' | *[!0-9]* | 0*) usage_error "$1 wants a positive integer, not '$2'" ;;
	esac
	[ "${#2}" -le 7 ] && [ "$2" -le 1048576 ] || usage_error "$1 wants at most 1048576, not '$2'"
}

# abspath PATH: PATH made absolute (it need not exist), without resolving
# symbolic links, so that it means the same on every host that mounts the
# same filesystem at the same place
abspath() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$PWD" "${1#./}" ;;
	esac
}

# default_archex SCRIPT_DIR: build/archex of the source tree holding the
# scripts
default_archex() {
	printf '%s\n' "$(cd "$1/.." && pwd)/build/archex"
}

# check_sweep ARCHEX SWEEP: loads and validates SWEEP (the file, its base
# configs, axes, derived fields, constraints) with `archex sweep --check`,
# which writes nothing, before anything starts or is queued; prints the
# sweep's name (empty if it needs JSON escapes).
check_sweep() {
	local archex=$1 sweep=$2 out
	[ -e "$sweep" ] || die "$sweep: no such sweep file"
	[ -f "$sweep" ] || die "$sweep: not a regular file"
	[ -r "$sweep" ] || die "$sweep: cannot read it"
	[ -x "$archex" ] || die "$archex: no archex binary there (build it with cmake, or pass --archex PATH)"
	out=$("$archex" sweep --check "$sweep") ||
		die "$sweep: the sweep file does not load; nothing was started"
	printf '%s\n' "$out" | sed -n 's/^{"name":"\([^"\\]*\)".*/\1/p'
}
