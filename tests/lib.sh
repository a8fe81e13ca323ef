# tests/lib.sh - shared helpers for the shell integration tests.
# Source it; it defines pass/fail/skip (the same line format as tests/check.h),
# a cleanup trap that ends only the processes this test started, by PID, and
# helpers to start daemons in temporary homes.

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${B:-build}
BIN=$ROOT/$B
VEC=$ROOT/tests/vectors
NC_PIDS=()
NC_NETNS=()
NC_TMP=$(mktemp -d /tmp/netcon-test.XXXXXX)
NC_FAILED=0

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: ${2:-}"; NC_FAILED=1; }
skip() { echo "SKIP: $1: ${2:-}"; }

nc_track() { NC_PIDS+=("$1"); }

nc_cleanup() {
	local p
	for p in "${NC_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in "${NC_PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
	for n in "${NC_NETNS[@]:-}"; do [ -n "$n" ] && ip netns del "$n" 2>/dev/null; done
	[ -n "${NC_KEEP:-}" ] || rm -rf "$NC_TMP"
}
trap nc_cleanup EXIT

# wait_for CMD... - retry a command for up to $WAIT_S seconds (default 10)
wait_for() {
	local t=$(( ${WAIT_S:-10} * 10 ))
	while [ $t -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; t=$((t - 1)); done
	return 1
}

# free_port - an unused UDP/TCP port on loopback
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

is_root() { [ "$(id -u)" = 0 ]; }
