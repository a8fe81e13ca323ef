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
# nc_preload_env LIB [PROGRAM]: the LD_PRELOAD (and, for sanitizer builds,
# ASAN_OPTIONS) an unmodified program gets under the intercept library
source "$ROOT/scripts/preload.sh"

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: ${2:-}"; NC_FAILED=1; }
skip() { echo "SKIP: $1: ${2:-}"; }

nc_track() { NC_PIDS+=("$1"); }

# nc_alive PID - PID runs (a zombie counts as gone)
nc_alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z ' "/proc/$1/stat" 2>/dev/null; }

# nc_cleanup - SIGTERM what this test started, give it up to NC_TERM_WAIT
# seconds (0.2 by default; tests/run.sh sets 10 for sanitizer builds, whose
# LeakSanitizer scan runs at exit), then SIGKILL what is left
nc_cleanup() {
	local p t
	for p in "${NC_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	sleep 0.2
	t=$(awk -v w="${NC_TERM_WAIT:-0.2}" 'BEGIN {printf "%d", w * 10 - 2}')
	for p in "${NC_PIDS[@]:-}"; do
		while [ -n "$p" ] && [ "$t" -gt 0 ] && nc_alive "$p"; do sleep 0.1; t=$((t - 1)); done
	done
	for p in "${NC_PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
	for n in "${NC_NETNS[@]:-}"; do [ -n "$n" ] && ip netns del "$n" 2>/dev/null; done
	nc_san_scan "$NC_TMP"
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
