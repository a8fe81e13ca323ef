#!/usr/bin/env bash
# load_churn.sh - connection churn: 20 waves of 1,000 short connections
# (20,000 in about a minute) from an intercepted client on B to a server on
# A, every wave must be clean. This exceeds lwIP's own 16,384 ephemeral
# ports while closed connections still sit in TIME_WAIT (120 s), which made
# connect() fail with ENOBUFS before the stack chose ports itself and
# recycled TIME_WAIT pcbs (stack/sock_port.c). It takes a few minutes on a
# loaded machine, so it runs only with LOAD_CHURN=1; load_ports.sh proves
# the same in make test on a 100-port range. LOAD_LWIP=PATH makes both
# daemons load that liblwip.so (e.g. Debian's packaged one, 120 s TIME_WAIT).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
source "$(dirname "$0")/fault_lib.bash"
L=$BIN/tools/load_tcp
if [ -z "${LOAD_CHURN:-}" ]; then
	skip "load: churn of 20,000 connections" "long; run with LOAD_CHURN=1 (load_ports covers port reuse quickly)"
	exit 0
fi
need_bins "$SVC" "$CLI" "$IDTOOL" "$ICEPT" "$L" || exit 1
HA=$NC_TMP/a HB=$NC_TMP/b
if [ -n "${LOAD_LWIP:-}" ]; then
	mkdir -p "$HA" "$HB" && cp "$LOAD_LWIP" "$HA/liblwip.so" && cp "$LOAD_LWIP" "$HB/liblwip.so" || exit 1
fi
net_up "$HA" "$HB" || { fail "setup: two daemons on one network" "see $NC_TMP"; exit 1; }
net_bg "$HA" "$NC_TMP/serve.out" "$L" serve 7000
wait_for grep -q listening "$NC_TMP/serve.out" || { fail "server starts" ""; exit 1; }
bad=0
for w in $(seq 1 20); do
	out=$(timeout 90 env "${APP_ENV[@]}" LD_PRELOAD="$PRELOAD" ZT_NC_NETWORK="${NC_SOCK[$HB]}" \
		"$L" client "${NC_IP[$HA]}" 7000 1000 1000 60 2>"$NC_TMP/err.$w"); rc=$?
	[ $rc = 0 ] || { bad=$((bad + 1)); echo "wave $w: rc $rc: $out; $(sort "$NC_TMP/err.$w" | sed 's/ [0-9]*:/:/' | uniq -c | head -3)"; }
done
[ $bad = 0 ] && pass "load: 20 waves x 1,000 connections, all clean" || fail "load: churn" "$bad of 20 waves had errors"
exit 0
