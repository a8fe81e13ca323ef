#!/usr/bin/env bash
# bench/lwip_tput.sh [SECONDS] - one single-stream iperf3 run netcon <->
# netcon (two daemons on loopback, the build in $B; its liblwip.so or $LWIP_LIB) and
# the daemons' CPU per MB (utime+stime of both from /proc/PID/stat around
# the run, divided by the bytes received), as bench/PROFILE.md measures it.
# Prints one line. For A/B comparisons run it alternately for two libraries:
#   for i in 1 2 3; do bench/lwip_tput.sh; LWIP_LIB=/usr/lib/x86_64-linux-gnu/liblwip.so.0 bench/lwip_tput.sh; done
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/lib.sh"
source "$ROOT/tests/integration/daemon_lib.bash"
source "$ROOT/tests/integration/fault_lib.bash"
SECS=${1:-5}
command -v iperf3 >/dev/null || { echo "lwip_tput: no iperf3"; exit 1; }
need_bins "$SVC" "$CLI" "$IDTOOL" "$ICEPT" || exit 1
HA=$NC_TMP/a HB=$NC_TMP/b
# LWIP_LIB=FILE: both daemons load FILE (as HOME/liblwip.so) instead
if [ -n "${LWIP_LIB:-}" ]; then mkdir -p "$HA" "$HB"; cp "$LWIP_LIB" "$HA/liblwip.so"; cp "$LWIP_LIB" "$HB/liblwip.so"; fi
net_up "$HA" "$HB" || { echo "lwip_tput: setup failed ($NC_TMP)"; exit 1; }
PA=$(home_pid "$HA") PB=$(home_pid "$HB")
lib=$(grep -h ' lwIP ' "$HA/stderr.log" | head -n 1 | sed 's/.* lwIP [^ ]* (//; s/:.*//; s/).*//')
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
net_bg "$HA" "$NC_TMP/srv" iperf3 -s -1 -J
sleep 1
c0=$(($(cpu "$PA") + $(cpu "$PB")))
in_net "$HB" iperf3 -c "${NC_IP[$HA]}" -t "$SECS" -J >"$NC_TMP/cli.json" 2>&1
c1=$(($(cpu "$PA") + $(cpu "$PB")))
read -r bytes bps < <(python3 -c 'import json,sys
j = json.load(open(sys.argv[1])); s = j["end"]["sum_received"]
print(int(s["bytes"]), s["bits_per_second"])' "$NC_TMP/cli.json" 2>/dev/null) || { echo "lwip_tput: iperf3 failed: $(head -c 300 "$NC_TMP/cli.json")"; exit 1; }
tck=$(getconf CLK_TCK)
awk -v b="$bytes" -v bps="$bps" -v c=$((c1 - c0)) -v t="$tck" -v lib="$lib" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
	'BEGIN {printf "%s: %.0f Mbit/s, daemons %.1f ms CPU/MB (load %s)\n", lib, bps / 1e6, c * 1000 / t / (b / 1048576), l}'
