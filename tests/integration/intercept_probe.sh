#!/usr/bin/env bash
# intercept_probe.sh - build/tools/icept_probe (every intercepted call, in
# blocking and non-blocking modes, fork/exec/dup) against a peer on the other
# netcon stack; the same probe natively and under the preload with
# ZT_NC_NETWORK unset must behave identically; failing fast without a
# daemon; diagnostics under ZT_NC_DEBUG.
ICEPT_TEST=intercept_probe
source "$(dirname "$0")/intercept_lib.bash"
PROBE=$BIN/tools/icept_probe
icept_require "$PROBE"

# 1. natively on loopback, with and without the (idle) preload
P=$(free_port); C=$(free_port)
"$PROBE" server 127.0.0.1 "$P" ::1 >"$NC_TMP/nsrv.out" 2>&1 &
nc_track $!
WAIT_S=10 wait_for grep -q ready "$NC_TMP/nsrv.out"
"$PROBE" client 127.0.0.1 127.0.0.1 "$P" "$C" ::1 >"$NC_TMP/native.out" 2>&1
env $(icept_env "$PROBE") "$PROBE" client 127.0.0.1 127.0.0.1 "$P" "$C" ::1 >"$NC_TMP/idle.out" 2>&1
if ! grep -q '^FAIL' "$NC_TMP/native.out" && grep -q '^PASS' "$NC_TMP/native.out"; then
	pass "icept_probe passes natively ($(grep -c '^PASS' "$NC_TMP/native.out") checks)"
else
	fail "icept_probe passes natively" "$(grep '^FAIL' "$NC_TMP/native.out" | head -3)"
fi
if diff -q "$NC_TMP/native.out" "$NC_TMP/idle.out" >/dev/null; then
	pass "same program with and without the preload (ZT_NC_NETWORK unset) behaves identically"
else
	fail "preload without ZT_NC_NETWORK is transparent" "$(diff "$NC_TMP/native.out" "$NC_TMP/idle.out" | head -5)"
fi

# 2. on the netcon stacks: server on B, probe on A
icept_start_twostack
PORT=7100; CLOSED=7199
icept_bg b "$NC_TMP/psrv.out" "$PROBE" server "$IP_B" $PORT "$IP6_B"
if WAIT_S=20 wait_for grep -q ready "$NC_TMP/psrv.out"; then
	in_a "$PROBE" client "$IP_A" "$IP_B" $PORT $CLOSED "$IP6_B" >"$NC_TMP/netcon.out" 2>&1
	rc=$?
	sed -n 's/^\(PASS\|FAIL\|SKIP\): probe: /\1: netcon probe: /p' "$NC_TMP/netcon.out"
	grep -q '^FAIL' "$NC_TMP/netcon.out" && NC_FAILED=1
	[ $rc = 0 ] || fail "netcon probe exit status" "rc=$rc; $(tail -3 "$NC_TMP/netcon.out")"
	# every check that passes natively passes on netcon too
	missing=$(comm -23 <(grep '^PASS' "$NC_TMP/native.out" | sort) <(grep '^PASS' "$NC_TMP/netcon.out" | sort))
	[ -z "$missing" ] && pass "netcon passes every check the kernel passes" \
		|| fail "netcon passes every check the kernel passes" "$(echo "$missing" | head -3)"
else
	fail "probe server on B" "$(tail -3 "$NC_TMP/psrv.out")"
fi

# 3. diagnostics: UDP refused with one line under ZT_NC_DEBUG; curl to an IP
# literal is unaffected by the UDP refusal
out=$(in_a env ZT_NC_DEBUG=1 python3 -c '
import socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
except OSError as e:
    print("errno", e.errno)' 2>&1)
if echo "$out" | grep -q "errno 93" && echo "$out" | grep -q "netcon.*only TCP"; then
	pass "UDP socket: EPROTONOSUPPORT and a ZT_NC_DEBUG diagnostic"
else
	fail "UDP socket: EPROTONOSUPPORT and a diagnostic" "$out"
fi
out=$(in_a python3 -c '
import socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
except OSError as e:
    print("errno", e.errno)' 2>&1)
[ "$out" = "errno 93" ] && pass "no diagnostic without ZT_NC_DEBUG" || fail "no diagnostic without ZT_NC_DEBUG" "$out"

# 4. no daemon / not joined / stale socket: fail fast, never hang
t0=$(date +%s%N)
env $(icept_env curl) ZT_NC_NETWORK="$NC_TMP/nc_nosuchnetwork" curl -s --max-time 20 http://10.147.17.1:1/ >/dev/null 2>&1
rc=$?
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
[ $rc = 7 ] && [ $ms -lt 3000 ] && pass "not joined: curl fails at once ($ms ms, exit 7)" \
	|| fail "not joined: curl fails fast" "rc=$rc after $ms ms"
out=$(env $(icept_env python3) ZT_NC_NETWORK="$NC_TMP/nc_nosuchnetwork" ZT_NC_DEBUG=1 python3 -c '
import socket
try:
    socket.socket()
except OSError as e:
    print("errno", e.errno)' 2>&1)
echo "$out" | grep -q "errno 101" && echo "$out" | grep -q "not joined" \
	&& pass "not joined: socket() fails with ENETUNREACH and a diagnostic" \
	|| fail "not joined: ENETUNREACH" "$out"
python3 -c "import socket; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind('$NC_TMP/nc_stale')"
out=$(env $(icept_env python3) ZT_NC_NETWORK="$NC_TMP/nc_stale" timeout 10 python3 -c '
import socket
try:
    socket.socket()
except OSError as e:
    print("errno", e.errno)' 2>&1)
[ "$out" = "errno 111" ] && pass "daemon not running (stale socket): ECONNREFUSED at once" \
	|| fail "daemon not running: ECONNREFUSED" "$out"

# 5. a server that answers nonsense (bad version, wrong id, garbage): the
# intercept rejects the reply and fails the call; nothing hangs or crashes
cat >"$NC_TMP/badsrv.py" <<'PY'
import socket, struct, sys, os
path, mode = sys.argv[1], sys.argv[2]
l = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
l.bind(path); l.listen(4)
print("ready", flush=True)
while True:
    c, _ = l.accept()
    while True:
        m = c.recv(512)
        if not m:
            break
        t, mid = m[3], struct.unpack(">I", m[12:16])[0]
        if mode == "version":
            c.send(struct.pack(">HBBHHII", 0x6e63, 2, t | 0x80, 0, 0, 4, mid) + bytes(4))
        elif mode == "id":
            c.send(struct.pack(">HBBHHII", 0x6e63, 1, t | 0x80, 0, 0, 4, mid + 1) + struct.pack(">I", 22))
        else:
            c.send(b"garbage!" * 3)
    c.close()
PY
for mode in version id garbage; do
	rm -f "$NC_TMP/nc_bad"
	python3 "$NC_TMP/badsrv.py" "$NC_TMP/nc_bad" $mode >"$NC_TMP/badsrv.out" 2>&1 &
	BPID=$!
	nc_track $BPID
	# python's start takes seconds on a loaded machine: a client started
	# before the bind finds no socket (ENETUNREACH, errno 101)
	WAIT_S=60 wait_for grep -q ready "$NC_TMP/badsrv.out" ||
		{ fail "bad server ($mode): the fake server starts" "$(head -c 300 "$NC_TMP/badsrv.out")"; continue; }
	out=$(env $(icept_env python3) ZT_NC_NETWORK="$NC_TMP/nc_bad" timeout 10 python3 -c '
import socket
try:
    socket.socket()
    print("accepted")
except OSError as e:
    print("errno", e.errno)' 2>&1)
	case "$out" in "errno 71") pass "bad server ($mode): the reply is rejected ($out)" ;;
		*) fail "bad server ($mode) rejected" "$out" ;; esac
	kill $BPID 2>/dev/null; wait $BPID 2>/dev/null
done

# 6. the daemon goes away under a running program: calls fail, nothing hangs
if icept_alive "$TWOSTACK_PID"; then
	pass "nc_twostack survived the probe"
	kill "$TWOSTACK_PID"; wait "$TWOSTACK_PID" 2>/dev/null
	out=$(in_a timeout 10 python3 -c '
import socket
try:
    socket.socket()
except OSError as e:
    print("errno", e.errno)' 2>&1)
	case "$out" in "errno 101"|"errno 111") pass "after the daemon stopped: socket() fails fast ($out)" ;;
		*) fail "after the daemon stopped" "$out" ;; esac
else
	fail "nc_twostack survived the probe" "$(tail -5 "$NC_TMP/twostack.err")"
fi
exit 0
