#!/usr/bin/env bash
# load_concurrent.sh - 1,000 concurrent TCP connections and 100,000
# request/answer exchanges between two programs under the intercept, each on
# its own netcon daemon (B's client -> A's server over the virtual network on
# loopback), with zero errors; afterwards both daemons are back to their
# baseline fd count (every connection's socketpair and pcb freed) and their
# RSS has not run away. Bounded: the client gives up after 150 s.
# LOAD_CONNS / LOAD_REQS override the sizes.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
source "$(dirname "$0")/fault_lib.bash"
L=$BIN/tools/load_tcp
need_bins "$SVC" "$CLI" "$IDTOOL" "$ICEPT" "$L" || exit 1
CONNS=${LOAD_CONNS:-1000} REQS=${LOAD_REQS:-100000}

HA=$NC_TMP/a HB=$NC_TMP/b
net_up "$HA" "$HB" || { fail "setup: two daemons on one network" "see $NC_TMP"; exit 1; }
PA=$(home_pid "$HA") PB=$(home_pid "$HB")

net_bg "$HA" "$NC_TMP/serve.out" "$L" serve 7000; SP=$BG_PID
wait_for grep -q listening "$NC_TMP/serve.out" || { fail "server starts" "$(cat "$NC_TMP/serve.out")"; exit 1; }
# warm-up (first connections size the daemons' pools), then the baseline
in_net "$HB" "$L" client "${NC_IP[$HA]}" 7000 10 100 30 >/dev/null 2>&1
sleep 1
fa0=$(pid_fds $PA) fb0=$(pid_fds $PB) ra0=$(pid_rss $PA) rb0=$(pid_rss $PB)

t0=$(date +%s)
out=$(in_net "$HB" "$L" client "${NC_IP[$HA]}" 7000 "$CONNS" "$REQS" 150 2>"$NC_TMP/client.err"); rc=$?
t1=$(date +%s)
echo "client: $out ($((t1 - t0)) s)"
if [ $rc = 0 ] && echo "$out" | grep -q "^conns $CONNS connected $CONNS open_max $CONNS requests $REQS errors 0 "; then
	pass "load: $CONNS concurrent connections, $REQS requests through two netcon daemons, zero errors ($((t1 - t0)) s)"
else
	fail "load: $CONNS connections / $REQS requests" "$out; $(sort "$NC_TMP/client.err" | uniq -c | head -5)"
fi
kill -0 $PA 2>/dev/null && kill -0 $PB 2>/dev/null && kill -0 $SP 2>/dev/null &&
	pass "load: both daemons and the server survive" || fail "load: survivors" "a process died"

# every connection is closed by the client: the daemons free all of it
back() { [ "$(pid_fds $PA)" -le "$fa0" ] && [ "$(pid_fds $PB)" -le "$fb0" ]; }
WAIT_S=60 wait_for back &&
	pass "load: fd counts back to baseline (A $fa0, B $fb0) after the connections closed" ||
	fail "load: fd leak" "A $fa0 -> $(pid_fds $PA), B $fb0 -> $(pid_fds $PB)"
ra1=$(pid_rss $PA) rb1=$(pid_rss $PB)
echo "rss kB: A $ra0 -> $ra1, B $rb0 -> $rb1"
# lwIP pools are static; the bridge's per-connection buffers are freed:
# allow the allocator some slack, not a per-connection residue
rss_check "load: RSS bounded after the load" "$ra0" "$ra1" "$rb0" "$rb1" 16384
m=$(metric "$HA" '^zt_stack_connections_total')
[ "$m" -ge "$CONNS" ] && pass "load: /metrics counts the connections ($m)" || fail "load: metrics" "zt_stack_connections_total $m"
# the stack threads sent frames themselves while a loop slept (the loop's
# lock, netcon_out_ready) and the loops drained the rest: the zero errors
# above were with both paths at work
da=$(metric "$HA" '^zt_netcon_direct_sends_total') db=$(metric "$HB" '^zt_netcon_direct_sends_total')
[ "${da:-0}" -gt 0 ] && [ "${db:-0}" -gt 0 ] &&
	pass "load: stack threads sent directly while the loop slept (A $da, B $db times)" ||
	fail "load: direct sends" "zt_netcon_direct_sends_total A ${da:-none} B ${db:-none}"

# a client that makes one blocking connect() after another (and one from
# each of 4 threads at a time) does not make an RPC connection per connect:
# the intercept keeps its spares
c0=$(metric "$HB" '^zt_rpc_clients_total')
out=$(in_net "$HB" timeout 120 python3 -c '
import socket, sys, threading
ip, n = sys.argv[1], int(sys.argv[2])
ok = 0
def run(k):
    global ok
    for i in range(k):
        s = socket.socket()
        s.connect((ip, 7000))
        s.close()
        ok += 1
run(n)
ts = [threading.Thread(target=run, args=(n // 4,)) for _ in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print("connected", ok)' "${NC_IP[$HA]}" 200 2>&1 | tail -n1)
c1=$(metric "$HB" '^zt_rpc_clients_total')
if [ "$out" = "connected 400" ] && [ $((c1 - c0)) -le 6 ]; then
	pass "load: 400 blocking connects (200 in a row, 4 threads x 50) used $((c1 - c0)) RPC connections"
else
	fail "load: blocking connects reuse RPC connections" "$out; zt_rpc_clients_total $c0 -> $c1"
fi
open_rpc() { api_body "$HB" GET /metrics | grep -q "^zt_rpc_clients{network=\"$NW\"} 0$"; }
WAIT_S=10 wait_for open_rpc && pass "load: no RPC client left open after the programs exited" ||
	fail "load: RPC clients after exit" "$(api_body "$HB" GET /metrics | grep '^zt_rpc_clients{')"
exit 0
