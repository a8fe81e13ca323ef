#!/usr/bin/env bash
# bench/soak.sh [SECONDS] - soak test (not part of make test): two netcon
# daemons on one network on loopback; for SECONDS (default 600) an
# intercepted client keeps opening waves of SOAK_WAVE (default 200)
# connections x 2,000 requests to an intercepted server (one wave every
# ~5 s: about 40 new connections a second, which ran Debian's lwIP out of
# ephemeral ports after ~16,000 before the stack chose its ports itself and
# recycled TIME_WAIT pcbs), and an 8 MB bulk transfer runs alongside each
# wave. Every 10 s the fd count and RSS of both daemons are sampled; the
# table and a verdict (fds back to the start value, RSS growth) are written
# to bench/SOAK.md (SOAK_OUT). SOAK_LWIP=PATH makes both daemons load that
# liblwip.so (e.g. Debian's /usr/lib/x86_64-linux-gnu/liblwip.so.0, 120 s
# TIME_WAIT) instead of the one they find. Needs `make all`.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/lib.sh"
source "$ROOT/tests/integration/daemon_lib.bash"
source "$ROOT/tests/integration/fault_lib.bash"
SECS=${1:-600}
OUT=${SOAK_OUT:-$ROOT/bench/SOAK.md}
L=$BIN/tools/load_tcp X=$BIN/tools/fault_xfer
need_bins "$SVC" "$CLI" "$IDTOOL" "$ICEPT" "$L" "$X" || exit 1
HA=$NC_TMP/a HB=$NC_TMP/b
WAVE=${SOAK_WAVE:-200}
if [ -n "${SOAK_LWIP:-}" ]; then
	mkdir -p "$HA" "$HB"
	cp "$SOAK_LWIP" "$HA/liblwip.so" && cp "$SOAK_LWIP" "$HB/liblwip.so" || exit 1
fi
net_up "$HA" "$HB" || { echo "soak: setup failed ($NC_TMP)"; exit 1; }
PA=$(home_pid "$HA") PB=$(home_pid "$HB")
net_bg "$HA" "$NC_TMP/serve.out" "$L" serve 7000
wait_for grep -q listening "$NC_TMP/serve.out" || { echo "soak: server did not start"; exit 1; }
start=$(date +%s)
fa0=$(pid_fds $PA) fb0=$(pid_fds $PB) ra0=$(pid_rss $PA) rb0=$(pid_rss $PB)
rows=$NC_TMP/rows; : >"$rows"
# load loop in the background: waves until the time is up
(
	w=0
	while [ $(($(date +%s) - start)) -lt "$SECS" ]; do
		w=$((w + 1))
		p=$((8000 + w % 1000))
		env "${APP_ENV[@]}" LD_PRELOAD="$PRELOAD" ZT_NC_NETWORK="${NC_SOCK[$HA]}" timeout 90 "$X" sink $p >"$NC_TMP/sink.out" 2>&1 &
		sp=$!
		sleep 0.3
		env "${APP_ENV[@]}" LD_PRELOAD="$PRELOAD" ZT_NC_NETWORK="${NC_SOCK[$HB]}" timeout 60 "$X" source "${NC_IP[$HA]}" $p $((8 * 1024 * 1024)) >"$NC_TMP/src.out" 2>&1 &
		xp=$!
		if env "${APP_ENV[@]}" LD_PRELOAD="$PRELOAD" ZT_NC_NETWORK="${NC_SOCK[$HB]}" "$L" client "${NC_IP[$HA]}" 7000 "$WAVE" 2000 60 >>"$NC_TMP/waves" 2>>"$NC_TMP/waves.err"; then
			echo ok >>"$NC_TMP/wave-status"
		else
			echo bad >>"$NC_TMP/wave-status"
		fi
		wait $xp
		wait $sp
		sleep 3
		s=$(awk '/^sent/ {print $3}' "$NC_TMP/src.out"); r=$(awk '/^done/ {print $3}' "$NC_TMP/sink.out")
		[ -n "$s" ] && [ "$s" = "$r" ] && echo ok >>"$NC_TMP/xfer-status" || echo bad >>"$NC_TMP/xfer-status"
	done
) &
LOADP=$!
nc_track $LOADP
while [ $(($(date +%s) - start)) -lt "$SECS" ]; do
	t=$(($(date +%s) - start))
	echo "| $t | $(pid_fds $PA) | $(pid_rss $PA) | $(pid_fds $PB) | $(pid_rss $PB) |" >>"$rows"
	sleep 10
done
wait $LOADP
sleep 3
fa1=$(pid_fds $PA) fb1=$(pid_fds $PB) ra1=$(pid_rss $PA) rb1=$(pid_rss $PB)
echo "| end+3 s | $fa1 | $ra1 | $fb1 | $rb1 |" >>"$rows"
wok=$(grep -c ok "$NC_TMP/wave-status" 2>/dev/null); wbad=$(grep -c bad "$NC_TMP/wave-status" 2>/dev/null)
xok=$(grep -c ok "$NC_TMP/xfer-status" 2>/dev/null); xbad=$(grep -c bad "$NC_TMP/xfer-status" 2>/dev/null)
reqs=$(awk '{s += $8} END {print s + 0}' "$NC_TMP/waves")
conns=$(awk '{s += $4} END {print s + 0}' "$NC_TMP/waves")
lib=$(grep -m1 ': lwIP ' "$HB/stderr.log" | sed 's/.*: lwIP //')
alive=yes; kill -0 $PA 2>/dev/null && kill -0 $PB 2>/dev/null || alive=NO
{
	echo "# Soak run"
	echo
	echo "\`bench/soak.sh $SECS\` on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end."
	echo "Two zerotier-netcon-service daemons on one network over loopback; an intercepted"
	echo "load_tcp client on B runs waves of $WAVE concurrent connections x 2,000 requests"
	echo "against an intercepted load_tcp server on A, each wave alongside an 8 MB"
	echo "fault_xfer bulk transfer B -> A (sha256 checked). Samples every 10 s."
	echo "lwIP: $lib."
	echo
	echo "Result: $wok waves clean, $wbad with errors ($conns connections, $reqs requests answered);"
	echo "$xok bulk transfers matching sha256, $xbad not; daemons alive: $alive."
	echo "fds: A $fa0 -> $fa1, B $fb0 -> $fb1 (start -> 3 s after the end)."
	echo "RSS kB: A $ra0 -> $ra1, B $rb0 -> $rb1."
	echo
	echo "Earlier runs used 100-connection waves: with 200, Debian's lwIP ran out of"
	echo "local ports after ~16,000 connections (ENOBUFS, then hung connects) until"
	echo "the stack chose its ports itself and recycled TIME_WAIT pcbs (stack/sock_port.c)."
	echo
	echo "| t (s) | A fds | A RSS kB | B fds | B RSS kB |"
	echo "|---|---|---|---|---|"
	cat "$rows"
} >"$OUT"
cat "$OUT" | sed -n 1,14p
[ "$wbad" = 0 ] && [ "$xbad" = 0 ] && [ "$alive" = yes ] && [ "$fa1" -le "$fa0" ] && [ "$fb1" -le "$fb0" ]
