#!/usr/bin/env bash
# intercept_python.sh - unmodified python3 -m http.server (default dual-stack
# bind) and curl (non-blocking connect) on two netcon stacks: a 10 MB file
# in both directions, md5 checked; the server is not reachable natively.
ICEPT_TEST=intercept_python
source "$(dirname "$0")/intercept_lib.bash"
icept_require
command -v curl >/dev/null || { skip "$ICEPT_TEST" "curl missing"; exit 0; }

icept_start_twostack
WWW=$NC_TMP/www
SUM=$(icept_bigfile "$WWW/big.bin")
PORT=8080

serve() {	# serve a|b NAME [ARGS] - python http.server on that stack, in $WWW
	local side=$1 name=$2; shift 2
	icept_bg "$side" "$NC_TMP/py_$name.log" python3 -m http.server -d "$WWW" "$@" $PORT
	PY_PID=$BG_PID
}

# A serves, B fetches
serve a a
if WAIT_S=20 wait_for in_b curl -sf --max-time 2 -o /dev/null "http://$IP_A:$PORT/"; then
	got=$(icept_fetch_md5 b "http://$IP_A:$PORT/big.bin")
	[ "$got" = "$SUM" ] && pass "python http.server on A, curl on B: 10 MB md5 matches" \
		|| fail "python http.server on A, curl on B: 10 MB md5" "got $got want $SUM; $(tail -3 "$NC_TMP/curl.err")"
	# several at once (ThreadingHTTPServer, one RPC connection shared by threads)
	pids=()
	for i in 1 2 3 4; do icept_fetch_md5 b "http://$IP_A:$PORT/big.bin" >"$NC_TMP/par.$i" & pids+=($!); done
	wait "${pids[@]}"
	wait_ok=1
	for i in 1 2 3 4; do [ "$(cat "$NC_TMP/par.$i")" = "$SUM" ] || wait_ok=0; done
	[ $wait_ok = 1 ] && pass "python http.server: 4 parallel 10 MB downloads" \
		|| fail "python http.server: 4 parallel 10 MB downloads" "$(cat "$NC_TMP"/par.*)"
	# the server exists only on the virtual network
	if ss -ltn | grep -q "[:.]$PORT "; then
		skip "python http.server is not on the host network" "port $PORT in use on the host"
	elif curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$PORT/big.bin"; then
		fail "python http.server is not on the host network" "reachable on 127.0.0.1:$PORT"
	else
		pass "python http.server is not on the host network"
	fi
else
	fail "python http.server on A answers curl on B" "$(tail -5 "$NC_TMP/py_a.log")"
fi
kill "$PY_PID" 2>/dev/null; wait "$PY_PID" 2>/dev/null

# the reverse: B serves, A fetches
serve b b
if WAIT_S=20 wait_for in_a curl -sf --max-time 2 -o /dev/null "http://$IP_B:$PORT/"; then
	got=$(icept_fetch_md5 a "http://$IP_B:$PORT/big.bin")
	[ "$got" = "$SUM" ] && pass "python http.server on B, curl on A: 10 MB md5 matches" \
		|| fail "python http.server on B, curl on A: 10 MB md5" "got $got want $SUM"
else
	fail "python http.server on B answers curl on A" "$(tail -5 "$NC_TMP/py_b.log")"
fi
kill "$PY_PID" 2>/dev/null; wait "$PY_PID" 2>/dev/null

# explicitly dual-stack: --bind :: (AF_INET6, IPV6_V6ONLY off) takes IPv4 and
# IPv6 clients (python urllib for IPv6: curl gives up on IPv6 when its UDP
# probe socket is refused, the documented TCP-only beta behaviour)
serve a a6 --bind ::
if WAIT_S=20 wait_for in_b curl -sf --max-time 2 -o /dev/null "http://$IP_A:$PORT/"; then
	got=$(icept_fetch_md5 b "http://$IP_A:$PORT/big.bin")
	[ "$got" = "$SUM" ] && pass "python http.server --bind :: on A: IPv4 client, 10 MB md5" \
		|| fail "python http.server --bind ::, IPv4 client" "got $got want $SUM"
	got=$(in_b python3 -c "
import urllib.request,hashlib
print(hashlib.md5(urllib.request.urlopen('http://[$IP6_A]:$PORT/big.bin',timeout=60).read()).hexdigest())" 2>>"$NC_TMP/curl.err")
	[ "$got" = "$SUM" ] && pass "python http.server --bind :: on A: IPv6 client, 10 MB md5" \
		|| fail "python http.server --bind ::, IPv6 client" "got '$got'; $(tail -3 "$NC_TMP/curl.err")"
	grep -q "10.147.17.2" "$NC_TMP/py_a6.log" && grep -q "fd00::2" "$NC_TMP/py_a6.log" \
		&& pass "python http.server logs both client addresses" \
		|| fail "python http.server client addresses" "$(tail -3 "$NC_TMP/py_a6.log")"
else
	fail "python http.server --bind :: answers" "$(tail -5 "$NC_TMP/py_a6.log")"
fi
icept_alive "$TWOSTACK_PID" && pass "nc_twostack survived" || fail "nc_twostack survived" "$(tail -5 "$NC_TMP/twostack.err")"
exit 0
