#!/usr/bin/env bash
# deps.sh - install the Debian packages archex needs, only those missing.
# Sourced by main.sh and test.sh. Usage: ax_deps PKG...
ax_deps() {
	local missing=()
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "archex: installing ${missing[*]}" >&2
	local sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

AX_BUILD_DEPS=(build-essential cmake pkg-config libopenblas-dev libyaml-dev libjansson-dev nettle-dev libcmocka-dev)
