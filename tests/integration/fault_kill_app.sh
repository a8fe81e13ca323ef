#!/usr/bin/env bash
# fault_kill_app.sh - kill -9 of an application in the middle of a transfer.
# Two netcon daemons on one network; an intercepted sender on B streams to an
# intercepted receiver on A. The sender (then, in other rounds, the receiver)
# is killed with SIGKILL mid-stream, 8 rounds each way. The daemons must free
# everything the dead program held: their fd counts (/proc/PID/fd) return to
# the baseline and their RSS does not grow round after round; the surviving
# side sees EOF or ECONNRESET promptly, and a new transfer still works.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
source "$(dirname "$0")/fault_lib.bash"
X=$BIN/tools/fault_xfer
need_bins "$SVC" "$CLI" "$IDTOOL" "$ICEPT" "$X" || exit 1
ROUNDS=${FAULT_ROUNDS:-8}

HA=$NC_TMP/a HB=$NC_TMP/b
net_up "$HA" "$HB" || { fail "setup: two daemons on one network" "see $NC_TMP"; exit 1; }
PA=$(home_pid "$HA") PB=$(home_pid "$HB") IPA=${NC_IP[$HA]}

# xfer_start PORT BYTES [KBPS] - receiver on A, sender on B; sets RP SP
xfer_start() {
	net_bg "$HA" "$NC_TMP/sink.$1" "$X" sink "$1"; RP=$BG_PID
	wait_for grep -q listening "$NC_TMP/sink.$1" || return 1
	net_bg "$HB" "$NC_TMP/src.$1" "$X" source "$IPA" "$1" "$2" ${3:-}; SP=$BG_PID
	wait_for grep -q accepted "$NC_TMP/sink.$1"
}
# one full transfer (warms the daemons' pools up; proves the path works)
xfer_start 6000 $((8 * 1024 * 1024)) || { fail "first transfer starts" "$(cat "$NC_TMP/sink.6000")"; exit 1; }
wait $SP; wait $RP
s=$(awk '/^sent/ {print $3}' "$NC_TMP/src.6000"); r=$(awk '/^done/ {print $3}' "$NC_TMP/sink.6000")
[ -n "$s" ] && [ "$s" = "$r" ] && pass "transfer: 8 MB B -> A, sha256 matches" || fail "transfer" "$(cat "$NC_TMP/src.6000" "$NC_TMP/sink.6000")"
sleep 1
fa0=$(pid_fds $PA) fb0=$(pid_fds $PB) ra0=$(pid_rss $PA) rb0=$(pid_rss $PB)
echo "baseline: fds A $fa0 B $fb0, rss A $ra0 B $rb0 kB"

back() { [ "$(pid_fds $PA)" -le "$fa0" ] && [ "$(pid_fds $PB)" -le "$fb0" ]; }
bad_surv=0 bad_fd=0 port=6100 maxdt=0
for victim in sender receiver; do
	for i in $(seq 1 "$ROUNDS"); do
		port=$((port + 1))
		# paced at 20 MB/s: still streaming when the kill lands
		xfer_start $port $((400 * 1024 * 1024)) 20000 || { bad_surv=$((bad_surv + 1)); continue; }
		sleep 0.$((3 + RANDOM % 5))
		if [ $victim = sender ]; then
			kill -9 $SP; surv=$RP out=$NC_TMP/sink.$port
		else
			kill -9 $RP; surv=$SP out=$NC_TMP/src.$port
		fi
		t0=$(date +%s%N)
		WAIT_S=5 wait_for bash -c "! kill -0 $surv 2>/dev/null"
		dt=$((($(date +%s%N) - t0) / 1000000))
		[ $dt -gt $maxdt ] && maxdt=$dt
		if kill -0 $surv 2>/dev/null || ! grep -qE '^(done|error) ' "$out"; then
			echo "round $victim $i: survivor still running after ${dt} ms: $(cat "$out")"
			kill -9 $surv 2>/dev/null; bad_surv=$((bad_surv + 1))
		fi
		# the receiver of a killed sender sees EOF (its stream is short) or a reset
		[ $victim = sender ] && ! grep -qE '^(done|error (EOF|ECONNRESET)) ' "$out" && {
			echo "round $i: receiver said $(cat "$out")"; bad_surv=$((bad_surv + 1)); }
		WAIT_S=20 wait_for back || { echo "round $victim $i: fds A $(pid_fds $PA) B $(pid_fds $PB)"; bad_fd=$((bad_fd + 1)); }
	done
done
[ $bad_surv = 0 ] && pass "kill -9: the other end of $((2 * ROUNDS)) killed transfers saw EOF/ECONNRESET (slowest ${maxdt} ms)" ||
	fail "kill -9: survivors" "$bad_surv rounds without a prompt EOF/reset"
[ $bad_fd = 0 ] && pass "kill -9: daemons' fd counts back to baseline (A $fa0, B $fb0) after every round" ||
	fail "kill -9: fd leak" "$bad_fd rounds; now A $(pid_fds $PA) B $(pid_fds $PB)"
sleep 1
ra1=$(pid_rss $PA) rb1=$(pid_rss $PB)
rss_check "kill -9: RSS back near baseline" "$ra0" "$ra1" "$rb0" "$rb1" 8192
kill -0 $PA && kill -0 $PB && pass "kill -9: both daemons alive" || fail "kill -9: daemon died" ""
xfer_start 6999 $((4 * 1024 * 1024)) && wait $SP && wait $RP
s=$(awk '/^sent/ {print $3}' "$NC_TMP/src.6999"); r=$(awk '/^done/ {print $3}' "$NC_TMP/sink.6999")
[ -n "$s" ] && [ "$s" = "$r" ] && pass "kill -9: a new transfer afterwards matches sha256" || fail "kill -9: transfer after" "$(cat "$NC_TMP/src.6999" "$NC_TMP/sink.6999")"
exit 0
