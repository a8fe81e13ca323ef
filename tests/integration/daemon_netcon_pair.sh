#!/usr/bin/env bash
# daemon_netcon_pair.sh - two zerotier-netcon-service daemons on loopback, no
# planet: A hosts a private network on its embedded controller and is the only
# root of a moon (zerotier-idtool initmoon/genmoon); B knows A only from that
# moon file in moons.d (plus a local.conf static path). Both get their addresses, show the
# RPC socket as the port, and a TCP exchange runs between two intercepted
# programs. Then leave removes the stack, the socket and the file.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
need_bins "$SVC" "$CLI" "$IDTOOL" || exit 1

HA=$NC_TMP/a HB=$NC_TMP/b
daemon_start "$HA" || { fail "start A" "no port file"; exit 1; }
A=$(daddr "$HA"); PA=$(dport "$HA")
MOON=$(make_moon "$HA" "127.0.0.1/$PA")
[ -n "$MOON" ] && [ -s "$MOON" ] && pass "moon: made with zerotier-idtool, root A at 127.0.0.1/$PA" ||
	{ fail "moon: idtool initmoon/genmoon" "no .moon file"; exit 1; }
# the root holds its own moon too (as with ZeroTier One), so it can hand it
# out; a file dropped into moons.d of a running daemon is loaded at once
cp "$MOON" "$HA/moons.d/"
WAIT_S=2 wait_for grep -q "moon $(basename "$MOON" .moon) loaded" "$HA/stderr.log" &&
	pass "moons.d: a moon copied into a running daemon's moons.d is loaded" ||
	fail "moons.d: live load" "$(tail -n 3 "$HA/stderr.log")"
mkdir -p "$HB/moons.d"
cp "$MOON" "$HB/moons.d/"
cat >"$HB/local.conf" <<JSON
{ "settings": { "noPlanet": true }, "virtual": { "$A": { "try": [ "127.0.0.1/$PA" ] } } }
JSON
daemon_start "$HB" || { fail "start B" "no port file"; exit 1; }
B=$(daddr "$HB"); PB=$(dport "$HB")
MID=$(basename "$MOON" .moon)
grep -q "moon $MID loaded" "$HB/stderr.log" && api_body "$HB" GET /moon | jq -e --arg m "$MID" 'map(.id) | index($m) != null' >/dev/null &&
	pass "moon: B loaded moons.d/$MID.moon (GET /moon lists it)" || fail "moon: load" "$(api_body "$HB" GET /moon)"
NW=${A}000001

c=$(ctl_make_network "$HA" "$NW" ncpair 10.147.20)
[ "$c" = 200 ] && pass "controller: network $NW created on A" || fail "controller: create network" "code $c: $(api_body "$HA" GET /controller/network/$NW)"
ca=$(ctl_authorize "$HA" "$NW" "$A" 10.147.20.1); cb=$(ctl_authorize "$HA" "$NW" "$B" 10.147.20.2)
[ "$ca$cb" = 200200 ] && pass "controller: members A and B authorized" || fail "controller: authorize" "codes $ca $cb"

[ "$(cli "$HA" join "$NW")" = "200 join OK" ] && [ "$(cli "$HB" join "$NW")" = "200 join OK" ] &&
	pass "cli: both join" || fail "cli: join" ""

WAIT_S=20 wait_for net_ok "$HA" "$NW"; oka=$?
WAIT_S=20 wait_for net_ok "$HB" "$NW"; okb=$?
if [ $oka = 0 ] && [ $okb = 0 ]; then
	pass "network: both nodes OK with an assigned address"
else
	fail "network: config" "A: $(api_body "$HA" GET /network/$NW | jq -c '{status,assignedAddresses}') B: $(api_body "$HB" GET /network/$NW | jq -c '{status,assignedAddresses}')"
	grep -E "port|network|peer" "$HA/stderr.log" "$HB/stderr.log" | tail -n 20 | sed 's/^/    /'
fi
la=$(cli "$HA" listnetworks | grep "^200 listnetworks $NW ")
lb=$(cli "$HB" listnetworks | grep "^200 listnetworks $NW ")
echo "$la" | grep -q " ncpair .* OK PRIVATE $HA/nc_$NW 10.147.20.1/24$" &&
	echo "$lb" | grep -q " ncpair .* OK PRIVATE $HB/nc_$NW 10.147.20.2/24$" &&
	pass "cli: listnetworks shows name, OK, PRIVATE, the nc_ socket as device, the address" ||
	fail "cli: listnetworks" "A: $la | B: $lb"
[ -S "$HA/nc_$NW" ] && [ -S "$HB/nc_$NW" ] && [ "$(stat -c %a "$HB/nc_$NW")" = 600 ] &&
	pass "port: HOME/nc_NWID RPC sockets exist (0600)" || fail "port: sockets" "$(ls -l "$HA" "$HB" | grep nc_)"
grep -q "address assigned 10.147.20.2/24" "$HB/stderr.log" && grep -q "network $NW: joining" "$HB/stderr.log" &&
	pass "log: network joined and address assigned are logged" || fail "log" "$(tail -n 8 "$HB/stderr.log")"

api_body "$HB" GET "/peer/$A" | jq -e --arg p "127.0.0.1/$PA" '[.paths[].address] | index($p) != null' >/dev/null &&
	api_body "$HA" GET "/peer/$B" | jq -e '(.paths | length) > 0 and .versionMajor == 1' >/dev/null &&
	pass "api: each sees the other as a peer with a direct loopback path" ||
	fail "api: peers" "B->A: $(api_body "$HB" GET /peer/$A | jq -c .paths) A->B: $(api_body "$HA" GET /peer/$B | jq -c .paths)"

miss=$(api_body "$HA" GET "/peer/$B" | jq -r --slurpfile v "$VEC/trace1/nodeA/peers.json" \
	'(($v[0][0] | keys) - keys) + (($v[0][0].paths[0] | keys) - (.paths[0] // {} | keys)) | .[]')
[ -z "$miss" ] && pass "api: a peer and its path have every field of the official peers.json" || fail "api: peer fields" "missing: $miss"

# ---- data path: a TCP exchange between intercepted programs ----
IC=$BIN/libzerotierintercept.so
if [ ! -f "$IC" ]; then
	fail "tcp: intercept" "$IC missing"
else
	cat >"$NC_TMP/srv.py" <<'PY'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 4444)); s.listen(1)
print("listening", flush=True)
c, a = s.accept(); d = b""
while not d.endswith(b"\n"):
    x = c.recv(100)
    if not x: break
    d += x
c.sendall(b"echo:" + d); c.close()
PY
	cat >"$NC_TMP/cli.py" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 4444), timeout=10)
s.sendall(b"hello netcon\n"); d = b""
while True:
    x = s.recv(100)
    if not x: break
    d += x
print(d.decode().strip())
PY
	# sanitizer builds: the ASan runtime first (scripts/preload.sh)
	PRE=$(nc_preload_env "$IC" python3)
	env $PRE ZT_NC_NETWORK=$HB/nc_$NW timeout 30 python3 "$NC_TMP/srv.py" >"$NC_TMP/srv.out" 2>&1 &
	SP=$!; nc_track $SP
	WAIT_S=10 wait_for grep -q listening "$NC_TMP/srv.out"
	out=$(env $PRE ZT_NC_NETWORK=$HA/nc_$NW timeout 20 python3 "$NC_TMP/cli.py" 10.147.20.2 2>&1)
	[ "$out" = "echo:hello netcon" ] && pass "tcp: A's program talks to B's program over the netcon network" ||
		fail "tcp: exchange" "client said '$out', server: $(cat "$NC_TMP/srv.out")"
	kill $SP 2>/dev/null
fi
api_body "$HB" GET /metrics | grep -q "^zt_stack_connections_total{network=\"$NW\"}" &&
	pass "metrics: per-network stack counters" || fail "metrics: stack" "$(api_body "$HB" GET /metrics | grep stack)"

# ---- restart: B comes back by itself (identity, moon, networks.d) ----
daemon_stop "$HB"
[ ! -e "$HB/nc_$NW" ] && pass "restart: B's nc_ socket removed on SIGTERM" || fail "restart: socket left" "$(ls "$HB")"
daemon_start "$HB" "$PB" || fail "restart B" "no port file"
WAIT_S=20 wait_for net_ok "$HB" "$NW" && [ -S "$HB/nc_$NW" ] && [ "$(daddr "$HB")" = "$B" ] &&
	pass "restart: B rejoins from networks.d with the same identity and address" ||
	fail "restart: rejoin" "$(api_body "$HB" GET /network/$NW | jq -c '{status,assignedAddresses}')"
r=$(api "$HA" GET "/unstable/controller/network/$NW")
c=$(echo "$r" | tail -n1)
{ [ "$c" = 200 ] || [ "$c" = 404 ]; } && ! echo "$r" | grep -q "no such route" &&
	pass "api: /unstable/controller is routed to the controller ($c)" ||
	fail "api: /unstable/controller" "$r"

# ---- deorbit / orbit ----
out=$(cli "$HB" deorbit "$MID")
[ "$out" = "200 deorbit OK" ] && [ ! -e "$HB/moons.d/$MID.moon" ] &&
	[ "$(api_body "$HB" GET /moon | jq --arg m "$MID" 'map(select(.id == $m)) | length')" = 0 ] &&
	pass "cli: deorbit removes the moon and its file" || fail "cli: deorbit" "$out; $(api_body "$HB" GET /moon | jq -c .)"
out=$(cli "$HB" orbit "$MID" "$A")
[ "$out" = "200 orbit OK" ] &&
	WAIT_S=15 wait_for bash -c "[ -s '$HB/moons.d/$MID.moon' ]" &&
	api_body "$HB" GET /moon | jq -e --arg m "$MID" 'map(.id) | index($m) != null' >/dev/null &&
	pass "cli: orbit WORLDID SEED fetches the moon from the seed again (moons.d file back)" ||
	fail "cli: orbit" "$out; $(api_body "$HB" GET /moon | jq -c .); $(ls "$HB/moons.d")"

# ---- leave ----
out=$(cli "$HB" leave "$NW")
[ "$out" = "200 leave OK" ] && [ ! -e "$HB/nc_$NW" ] && [ ! -e "$HB/networks.d/$NW.conf" ] &&
	[ "$(api_code "$HB" GET /network/$NW)" = 404 ] &&
	pass "leave: stack and nc_ socket removed, networks.d file removed" || fail "leave" "$out; $(ls "$HB")"
# ---- shutdown removes the sockets ----
daemon_stop "$HA"
[ ! -e "$HA/nc_$NW" ] && [ ! -e "$HA/zerotier-one.pid" ] && pass "shutdown: SIGTERM removes nc_ socket and pid file" ||
	fail "shutdown" "$(ls "$HA")"
daemon_stop "$HB"
exit 0
