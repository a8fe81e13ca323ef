#!/usr/bin/env bash
# bench/lwip_idle.sh [SECONDS] - wake-ups of an idle netcon daemon's threads
# (not part of make test). Two daemons on one network on loopback (the
# build in $B, default build/, with whichever liblwip.so it has); for
# SECONDS (default 10) each, daemon A is sampled
#   1. with no TCP connection,
#   2. with one established, idle connection (an intercepted client on B
#      connected to an intercepted server on A, neither sending),
#   3. right after that connection closed, A first (A's pcb in TIME_WAIT),
# counting context switches per thread id (/proc/PID/task/*/status) and
# the daemon's CPU time, then, with strace if installed, its futex and
# epoll_wait calls per second (a second SECONDS: strace itself adds switches).
# Prints one line per phase.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/lib.sh"
source "$ROOT/tests/integration/daemon_lib.bash"
source "$ROOT/tests/integration/fault_lib.bash"
SECS=${1:-10}
need_bins "$SVC" "$CLI" "$IDTOOL" "$ICEPT" || exit 1
HA=$NC_TMP/a HB=$NC_TMP/b
# LWIP_LIB=FILE: both daemons load FILE (as HOME/liblwip.so) instead
if [ -n "${LWIP_LIB:-}" ]; then mkdir -p "$HA" "$HB"; cp "$LWIP_LIB" "$HA/liblwip.so"; cp "$LWIP_LIB" "$HB/liblwip.so"; fi
net_up "$HA" "$HB" || { echo "lwip_idle: setup failed ($NC_TMP)"; exit 1; }
PA=$(home_pid "$HA")
grep -h ' lwIP ' "$HA/stderr.log" | head -n 1 | sed 's/^[^ ]* /A: /'

# switches PID - "TID:NAME:SWITCHES" per thread (voluntary + involuntary)
switches() {
	local t
	for t in /proc/$1/task/*; do
		echo "${t##*/}:$(cat "$t/comm"):$(awk '/ctxt_switches/ {s += $2} END {print s}' "$t/status")"
	done
}
# phase NAME - sample A for SECS seconds untraced (context switches per
# thread, CPU), then SECS seconds under strace -c (wait calls per second)
phase() {
	local a b c0 c1 sc=""
	a=$(switches "$PA") c0=$(awk '{print $14 + $15}' "/proc/$PA/stat")
	sleep "$SECS"
	b=$(switches "$PA") c1=$(awk '{print $14 + $15}' "/proc/$PA/stat")
	if command -v strace >/dev/null; then
		timeout -s INT "$SECS" strace -f -c -e trace=futex,epoll_wait,epoll_pwait,poll,ppoll,nanosleep,clock_nanosleep \
			-p "$PA" 2>"$NC_TMP/strace.$1" >/dev/null
		sc=$(awk '$NF ~ /^(futex|epoll_wait|epoll_pwait|poll|ppoll|clock_nanosleep|nanosleep)$/ {printf "%s %.1f/s, ", $NF, $4 / '"$SECS"'}' "$NC_TMP/strace.$1")
	fi
	echo "$1: $(join -t: <(echo "$a" | sort) <(echo "$b" | sort) |
		awk -F: -v s="$SECS" '{d = $5 - $3; if (d > 0) printf "%s %.1f/s, ", $1, d / s; tot += d}
			END {printf "all threads %.1f switches/s", tot / s}'), CPU $(( (c1 - c0) * 1000 / $(getconf CLK_TCK) )) ms in ${SECS} s${sc:+; strace: $sc}"
}

phase "no connection"
PY='import socket,sys,time
if sys.argv[1] == "serve":
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(("0.0.0.0", 7100)); l.listen(1)
    print("listening", flush=True); c, _ = l.accept(); c.recv(1); time.sleep(3600)
else:
    s = socket.create_connection((sys.argv[2], 7100)); print("connected", flush=True); s.recv(1); s.close(); sys.stdin.read()'
net_bg "$HA" "$NC_TMP/srv" python3 -c "$PY" serve; SRV=$BG_PID
wait_for grep -q listening "$NC_TMP/srv"
mkfifo "$NC_TMP/hold"
( exec 3<>"$NC_TMP/hold"; in_net "$HB" python3 -c "$PY" client "${NC_IP[$HA]}" <&3 >"$NC_TMP/cli" 2>&1 ) &
CLI_PID=$!; nc_track $CLI_PID
wait_for grep -q connected "$NC_TMP/cli" || { echo "lwip_idle: client did not connect: $(cat "$NC_TMP/cli")"; exit 1; }
sleep 1
phase "idle connection"
kill "$SRV" 2>/dev/null	# the server's end closes first, the client follows: A's pcb goes to TIME_WAIT
sleep 0.5
phase "after close (TIME_WAIT)"
