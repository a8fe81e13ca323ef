#!/usr/bin/env bash
# daemon_api.sh - the netcon daemon in a temporary home: files it creates,
# every local API route (auth, errors, limits, concurrency), networks.d
# auto-join, restart, refusal of unsafe secrets, signals, -d.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
need_bins "$SVC" "$CLI" || exit 1

H=$NC_TMP/a
NW=8056c2e21c000001

if ! daemon_start "$H"; then fail "start" "daemon did not write its port file"; exit 1; fi
PID=$DPID

# ---- files ----
mode() { stat -c %a "$1" 2>/dev/null; }
if [ "$(mode "$H/identity.secret")" = 600 ] && [ -s "$H/identity.public" ] &&
   [ "$(mode "$H/authtoken.secret")" = 600 ] && [ "$(wc -c <"$H/authtoken.secret")" -eq 24 ]; then
	pass "home: identity.secret and authtoken.secret created 0600, token 24 chars"
else
	fail "home: secrets" "modes $(mode "$H/identity.secret") $(mode "$H/authtoken.secret")"
fi
if [ "$(cat "$H/zerotier-one.pid")" = "$PID" ] && [ "$(dport "$H")" -gt 0 ]; then
	pass "home: pid file holds the daemon pid, port file its port"
else
	fail "home: pid/port" "pid=$(cat "$H/zerotier-one.pid") expected $PID"
fi
grep -q "identity created" "$H/stderr.log" && grep -q "port $(dport "$H") bound" "$H/stderr.log" &&
	pass "log: identity created and port bound are logged" ||
	fail "log" "$(cat "$H/stderr.log")"

P=$(dport "$H"); T=$(dtoken "$H"); URL=http://127.0.0.1:$P
ADDR=$(daddr "$H")

# ---- auth ----
c1=$(curl -s -o /dev/null -w '%{http_code}' "$URL/status")
c2=$(curl -s -o /dev/null -w '%{http_code}' -H "X-ZT1-Auth: wrong$T" "$URL/status")
b2=$(curl -s -H "X-ZT1-Auth: x" "$URL/network")
c3=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $T" "$URL/status")
c4=$(curl -s -o /dev/null -w '%{http_code}' "$URL/status?auth=$T")
c5=$(curl -s -o /dev/null -w '%{http_code}' -H "X-ZT1-Auth: $T" "$URL/status")
[ "$c1$c2$c3$c4$c5" = 401401200200200 ] && [ "$b2" = "{}" ] &&
	pass "api: missing/wrong token 401 {}, X-ZT1-Auth / Bearer / ?auth= accepted" ||
	fail "api: auth" "codes $c1 $c2 $c3 $c4 $c5 body '$b2'"

# ---- /status ----
st=$(api_body "$H" GET /status)
if echo "$st" | jq -e --arg a "$ADDR" --argjson p "$P" '.address == $a and .version == "1.14.1" and
	.versionMajor == 1 and (.online | type) == "boolean" and .config.settings.primaryPort == $p and
	(.publicIdentity | startswith($a + ":0:"))' >/dev/null; then
	pass "api: GET /status has the official fields"
else
	fail "api: /status" "$st"
fi

# every field the official 1.14 service returns (tests/vectors/trace1/nodeA) is there
miss=$(echo "$st" | jq -r --slurpfile v "$VEC/trace1/nodeA/info.json" \
	'($v[0] | keys) - keys, ($v[0].config.settings | keys) - (.config.settings | keys) | .[]')
[ -z "$miss" ] && pass "api: /status has every field of the official info.json" || fail "api: /status fields" "missing: $miss"

# ---- networks ----
[ "$(api_body "$H" GET /network | jq -c .)" = "[]" ] && pass "api: GET /network empty at first" ||
	fail "api: GET /network" "$(api_body "$H" GET /network)"
r=$(api "$H" POST "/network/$NW" '{}')
if [ "$(echo "$r" | tail -n1)" = 200 ] && echo "$r" | sed '$d' | jq -e --arg n $NW '.id == $n and .nwid == $n and
	(.status | type) == "string" and (.mac | test("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")) and .allowManaged == true' >/dev/null &&
	[ -f "$H/networks.d/$NW.conf" ]; then
	pass "api: POST /network/NWID joins and creates networks.d/NWID.conf"
else
	fail "api: join" "$r"
fi
miss=$(api_body "$H" GET "/network/$NW" | jq -r --slurpfile v "$VEC/trace1/nodeA/listnetworks.json" '($v[0][0] | keys) - keys | .[]')
[ -z "$miss" ] && pass "api: a network has every field of the official listnetworks.json" || fail "api: network fields" "missing: $miss"
[ "$(api_code "$H" GET "/network/$NW")" = 200 ] && [ "$(api_body "$H" GET /network | jq length)" = 1 ] &&
	pass "api: GET /network/NWID and /network list the joined network" ||
	fail "api: GET network" "$(api "$H" GET "/network/$NW")"
[ "$(api_code "$H" GET /network/1111222233334444)" = 404 ] && pass "api: unknown network 404" ||
	fail "api: unknown network" "$(api "$H" GET /network/1111222233334444)"
[ "$(api_code "$H" GET /network/xyz)" = 404 ] && pass "api: malformed network id 404" ||
	fail "api: malformed network id" "$(api "$H" GET /network/xyz)"
r=$(api "$H" POST "/network/$NW" '{"allowManaged": tru')
[ "$(echo "$r" | tail -n1)" = 400 ] && echo "$r" | sed '$d' | jq -e '.error | length > 0' >/dev/null &&
	pass "api: bad JSON 400 {\"error\":...}" || fail "api: bad JSON" "$r"
r=$(api "$H" POST "/network/$NW" '{"allowManaged": false, "allowDNS": true}')
if echo "$r" | sed '$d' | jq -e '.allowManaged == false and .allowDNS == true' >/dev/null &&
   grep -q '^allowManaged=0' "$H/networks.d/$NW.local.conf" 2>/dev/null; then
	pass "api: POST settings stored in networks.d/NWID.local.conf"
else
	fail "api: settings" "$r"
fi
api_code "$H" POST "/network/$NW" '{"allowManaged": true, "allowDNS": false}' >/dev/null

# ---- other routes ----
[ "$(api_code "$H" GET /nonexistent)" = 404 ] && [ "$(api_code "$H" GET /networkx)" = 404 ] &&
	pass "api: unknown route 404" || fail "api: unknown route" "$(api "$H" GET /nonexistent)"
api_body "$H" GET /peer | jq -e 'type == "array"' >/dev/null && [ "$(api_code "$H" GET /peer/0000000001)" = 404 ] &&
	[ "$(api_code "$H" GET /peer/zz)" = 404 ] &&
	pass "api: GET /peer array, unknown/malformed peer 404" || fail "api: /peer" "$(api "$H" GET /peer)"
api_body "$H" GET /moon | jq -e 'type == "array"' >/dev/null && [ "$(api_code "$H" GET /moon/00000000deadbeef)" = 404 ] &&
	pass "api: GET /moon array, unknown moon 404" || fail "api: /moon" "$(api "$H" GET /moon)"
m=$(api "$H" GET /metrics)
echo "$m" | grep -q '^zt_packets_in_total [0-9]' && echo "$m" | grep -q '^zt_networks 1$' &&
	echo "$m" | grep -q 'zt_packets_dropped_total{reason="malformed"}' && [ "$(echo "$m" | tail -n1)" = 200 ] &&
	pass "api: GET /metrics Prometheus text (packets, drops by reason, networks)" ||
	fail "api: /metrics" "$(echo "$m" | head -5)"
c=$(api_code "$H" GET /controller)
[ -n "$c" ] && [ "$c" != 000 ] && [ "$c" != 401 ] && pass "api: /controller reaches the controller ($c)" ||
	fail "api: /controller" "code $c"

# ---- limits ----
head -c 2000000 /dev/zero | tr '\0' 'a' >"$NC_TMP/big"
c=$(curl -s -o /dev/null -w '%{http_code}' -H "X-ZT1-Auth: $T" --data-binary @"$NC_TMP/big" "$URL/network/$NW")
[ "$c" = 413 ] && pass "api: 2 MB body refused with 413" || fail "api: big body" "code $c"
c=$(curl -s -o /dev/null -w '%{http_code}' -H "X-ZT1-Auth: $T" -H "X-Junk: $(head -c 20000 /dev/zero | tr '\0' b)" "$URL/status")
[ "$c" = 400 ] && pass "api: 20 KB of headers refused with 400" || fail "api: big headers" "code $c"
printf 'GARBAGE\r\n\r\n' | timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$P; cat >&3; head -c 12 <&3" | grep -q '400' &&
	pass "api: malformed HTTP answered 400" || fail "api: malformed HTTP" "no 400"

# ---- concurrency: a stalled client does not block others; 40 parallel clients ----
exec 7<>/dev/tcp/127.0.0.1/$P
printf 'GET /status HTTP/1.1\r\nX-ZT1-' >&7
cpids=()
for i in $(seq 40); do
	( [ "$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H "X-ZT1-Auth: $T" "$URL/status")" = 200 ] && echo ok ) >"$NC_TMP/par.$i" 2>&1 &
	cpids+=($!)
done
for j in "${cpids[@]}"; do wait "$j" 2>/dev/null; done
ok=$(cat "$NC_TMP"/par.* | grep -c ok)
printf 'Auth: %s\r\n\r\n' "$T" >&7
r=$(timeout 5 head -c 15 <&7)
exec 7>&-
[ "$ok" = 40 ] && [ "$r" = "HTTP/1.1 200 OK" ] && pass "api: 40 concurrent clients + one stalled client all answered" ||
	fail "api: concurrency" "$ok/40 ok, stalled client got '$r'"
# keep-alive: two requests on one connection
n=$(curl -s -H "X-ZT1-Auth: $T" "$URL/status" "$URL/network" -w '%{num_connects}\n' -o /dev/null | awk '{s+=$1} END {print s}')
[ "$n" = 1 ] && pass "api: keep-alive (two requests, one connection)" || fail "api: keep-alive" "connects=$n"

# ---- hostile input: random bytes on the API port and the UDP port ----
python3 - "$P" <<'PY'
import os, random, socket, sys
port = int(sys.argv[1]); random.seed(7)
for i in range(200):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    blob = os.urandom(random.randint(1, 4000))
    if i % 3 == 0:
        blob = b"POST /network/" + blob[:40] + b" HTTP/1.1\r\nContent-Length: " + str(random.randint(-5, 99999999999)).encode() + b"\r\n\r\n" + blob
    try:
        s.sendall(blob); s.shutdown(socket.SHUT_WR); s.recv(100)
    except OSError:
        pass
    s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(2000):
    u.sendto(os.urandom(random.randint(0, 1600)), ("127.0.0.1", port))
PY
sleep 0.5
m=$(api_body "$H" GET /metrics)
drops=$(echo "$m" | awk '/^zt_packets_dropped_total/ {s+=$2} END {print s+0}')
kill -0 "$PID" && [ "$(api_code "$H" GET /status)" = 200 ] && [ "$drops" -gt 0 ] &&
	pass "hostile input: 200 garbage HTTP requests + 2000 random datagrams, daemon fine, drops counted ($drops)" ||
	fail "hostile input" "alive=$(kill -0 "$PID" && echo yes) drops=$drops"

# pipelined requests on one connection are answered in order; chunked bodies work
r=$(printf 'GET /status HTTP/1.1\r\nX-ZT1-Auth: %s\r\n\r\nGET /nope HTTP/1.1\r\nX-ZT1-Auth: %s\r\n\r\nGET /network HTTP/1.1\r\nX-ZT1-Auth: %s\r\nConnection: close\r\n\r\n' "$T" "$T" "$T" |
	timeout 5 python3 -c '
import re, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.sendall(sys.stdin.buffer.read()); d = b""
while True:
    x = s.recv(65536)
    if not x: break
    d += x
print(" ".join(m.decode() for m in re.findall(rb"HTTP/1.1 (\d+)", d)))' "$P")
c=$(curl -s -o /dev/null -w '%{http_code}' -H "X-ZT1-Auth: $T" -H "Transfer-Encoding: chunked" -d '{"allowDNS":false}' "$URL/network/$NW")
[ "$r" = "200 404 200" ] && [ "$c" = 200 ] && pass "api: pipelined requests answered in order; chunked body accepted" ||
	fail "api: pipelining/chunked" "pipelined '$r', chunked $c"

# ---- networks.d watcher ----
NW2=1122334455667788
touch "$H/networks.d/$NW2.conf"
WAIT_S=1 wait_for bash -c "curl -sf -H 'X-ZT1-Auth: $T' $URL/network/$NW2 >/dev/null" &&
	pass "networks.d: touching NWID.conf joins within a second" || fail "networks.d: touch" "not joined after 1 s"
rm -f "$H/networks.d/$NW2.conf"
WAIT_S=2 wait_for bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'X-ZT1-Auth: $T' $URL/network/$NW2)\" = 404 ]" &&
	pass "networks.d: removing NWID.conf leaves" || fail "networks.d: rm" "still joined"
r=$(api "$H" DELETE "/network/$NW")
[ "$(echo "$r" | tail -n1)" = 200 ] && [ ! -f "$H/networks.d/$NW.conf" ] && [ "$(api_code "$H" GET "/network/$NW")" = 404 ] &&
	pass "api: DELETE /network/NWID leaves and removes the file" || fail "api: leave" "$r"
[ "$(api_code "$H" DELETE "/network/$NW")" = 404 ] && pass "api: DELETE of a network not joined 404" ||
	fail "api: double leave" "$(api "$H" DELETE "/network/$NW")"

# ---- restart keeps identity, rejoins networks.d ----
api_code "$H" POST "/network/$NW" >/dev/null
ID1=$(cat "$H/identity.secret")
kill "$PID"
WAIT_S=10 wait_for bash -c "! kill -0 $PID 2>/dev/null"
rc=0; wait "$PID" 2>/dev/null || rc=$?
[ $rc = 0 ] && [ ! -e "$H/zerotier-one.pid" ] && [ ! -e "$H/zerotier-one.port" ] &&
	pass "signal: SIGTERM exits 0 and removes pid and port files" || fail "signal: SIGTERM" "rc=$rc, files: $(ls "$H")"
touch "$H/networks.d/$NW2.conf"
if daemon_start "$H" && [ "$(cat "$H/identity.secret")" = "$ID1" ] &&
   WAIT_S=3 wait_for bash -c "[ \"\$(curl -s -H 'X-ZT1-Auth: $T' http://127.0.0.1:\$(cat $H/zerotier-one.port)/network | jq length)\" = 2 ]"; then
	pass "restart: same identity, both networks.d networks rejoined"
else
	fail "restart" "networks: $(api_body "$H" GET /network | jq -c '[.[].id]')"
fi
! grep -q "identity created" <(tail -n 5 "$H/stderr.log") && pass "restart: identity not re-created" ||
	fail "restart: identity" "created again"
daemon_stop "$H"

# ---- refusals ----
chmod 644 "$H/identity.secret"
out=$("$SVC" -p0 "$H" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "identity.secret is accessible by group or others" &&
	pass "refuse: group/world-readable identity.secret (clear message, exit 1)" || fail "refuse: identity" "rc=$rc $out"
chmod 600 "$H/identity.secret"; chmod 640 "$H/authtoken.secret"
out=$("$SVC" -p0 "$H" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "authtoken.secret is accessible" &&
	pass "refuse: group-readable authtoken.secret" || fail "refuse: authtoken" "rc=$rc $out"
chmod 600 "$H/authtoken.secret"
echo '{"settings": {"primaryPort": ' >"$H/local.conf"
out=$("$SVC" -p0 "$H" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "local.conf" && pass "refuse: malformed local.conf named in the error" ||
	fail "refuse: local.conf" "rc=$rc $out"
FP=$(free_port)
echo "{\"settings\": {\"primaryPort\": $FP, \"noPlanet\": true}}" >"$H/local.conf"
"$SVC" "$H" >>"$H/stderr.log" 2>&1 &
nc_track $!
WAIT_S=10 wait_for test -s "$H/zerotier-one.port"
[ "$(cat "$H/zerotier-one.port" 2>/dev/null)" = "$FP" ] && pass "local.conf: settings.primaryPort used without -p" ||
	fail "local.conf: primaryPort" "port file '$(cat "$H/zerotier-one.port" 2>/dev/null)' want $FP"
daemon_stop "$H"
rm -f "$H/local.conf"

# ---- -d ----
"$SVC" -d -p0 "$H"; rc=$?
WAIT_S=10 wait_for test -s "$H/zerotier-one.port"
DP=$(cat "$H/zerotier-one.pid" 2>/dev/null)
[ -n "$DP" ] && nc_track "$DP"
if [ $rc = 0 ] && [ -n "$DP" ] && kill -0 "$DP" 2>/dev/null && [ "$(ps -o ppid= -p "$DP" | tr -d ' ')" = 1 -o "$(ps -o sid= -p "$DP" | tr -d ' ')" != "$(ps -o sid= -p $$ | tr -d ' ')" ] &&
   [ -s "$H/node.log" ] && [ "$(api_code "$H" GET /status)" = 200 ]; then
	pass "-d: returns 0, daemon detached (own session), logs to node.log, API up"
else
	fail "-d" "rc=$rc pid=$DP"
fi
out=$("$SVC" -d -p0 "$H" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "already running" && [ "$(cat "$H/zerotier-one.pid")" = "$DP" ] &&
	pass "-d: a second daemon on the same home is refused by the parent (exit 1), pid file kept" ||
	fail "-d: second daemon" "rc=$rc $out"
H2=$NC_TMP/second
out=$("$SVC" -d -p"$(dport "$H")" "$H2" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -qi "address already in use" && pass "-d: port in use reported by the parent (exit 1)" ||
	fail "-d: port in use" "rc=$rc $out"
daemon_stop "$H"
exit 0
