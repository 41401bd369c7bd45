#!/usr/bin/env bash
# Install what building and testing mscli needs, when it is missing (Debian/Ubuntu).
# Usage: deps.sh [build|test|lint|check]   (default: test = build + what the test suite
# uses; lint = the static checks: cppcheck, clang-tidy, clang-format; check = test + lint
# + valgrind and clang for the fuzzers: what make check runs)
set -euo pipefail
what=${1:-test}
pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
have_pc() { have pkg-config && pkg-config --exists "$1" 2>/dev/null; }

have cc || have gcc || pkgs+=(gcc)
have make || pkgs+=(make)
have pkg-config || pkgs+=(pkg-config)
have_pc libcurl || pkgs+=(libcurl4-openssl-dev)
have_pc libcjson || pkgs+=(libcjson-dev)
have_pc libcrypto || pkgs+=(libssl-dev)
have_pc libzstd || pkgs+=(libzstd-dev)
have_pc libarchive || pkgs+=(libarchive-dev)
have python3 || pkgs+=(python3)
if [ "$what" = test ] || [ "$what" = check ]; then
	# nginx plays the CDN in the TLS/HTTP2 tests; openssl makes their certificate
	have nginx || [ -x /usr/sbin/nginx ] || pkgs+=(nginx)
	have openssl || pkgs+=(openssl)
	# strace puts the crash battery's kills on exact system calls (the rename, the index write)
	have strace || pkgs+=(strace)
	# tinyproxy is the forward proxy of the proxy tests
	have tinyproxy || [ -x /usr/bin/tinyproxy ] || [ -x /usr/sbin/tinyproxy ] || pkgs+=(tinyproxy)
	# the completions are checked in every shell they are written for
	have zsh || pkgs+=(zsh)
	have fish || pkgs+=(fish)
	# the bash completion is checked with shellcheck
	have shellcheck || pkgs+=(shellcheck)
fi
if [ "$what" = lint ] || [ "$what" = check ]; then
	have cppcheck || pkgs+=(cppcheck)
	have clang-tidy || pkgs+=(clang-tidy)
	have clang-format || pkgs+=(clang-format)
fi
if [ "$what" = check ]; then
	have valgrind || pkgs+=(valgrind)
	have clang || pkgs+=(clang)
fi
[ ${#pkgs[@]} -eq 0 ] && exit 0

if ! have apt-get; then
	echo "deps: missing ${pkgs[*]}; install them with your package manager" >&2
	exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	have sudo || { echo "deps: need root (or sudo) to install ${pkgs[*]}" >&2; exit 1; }
	SUDO=sudo
fi
echo "deps: installing ${pkgs[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has empty package lists: update only when an install fails.
$SUDO apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1 || {
	$SUDO apt-get update -q >/dev/null
	$SUDO apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null
}
