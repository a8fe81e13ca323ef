#!/usr/bin/env bash
# access_rpc.sh - the RPC socket HOME/nc_NWID only serves its own uid (and
# root). A daemon (running as root here) hosts and joins its own network.
#  1. as-is (socket 0600 in a 0700 home) `nobody` cannot even connect;
#  2. with the socket and its directories opened to everyone, the kernel
#     lets `nobody` connect, and the daemon's SO_PEERCRED check hangs up on it
#     at once, while the owner's connection stays open; an intercepted
#     program run as `nobody` gets an error, never a socket.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
source "$(dirname "$0")/fault_lib.bash"
need_bins "$SVC" "$CLI" "$IDTOOL" "$ICEPT" || exit 1
is_root || { skip "access_rpc" "needs root to run a client as nobody"; exit 0; }
command -v setpriv >/dev/null || { skip "access_rpc" "setpriv not installed"; exit 0; }
AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

HA=$NC_TMP/a
net_up "$HA" || { fail "setup: daemon on its own network" "see $NC_TMP"; exit 1; }
S=${NC_SOCK[$HA]}
[ "$(stat -c %a "$S")" = 600 ] && pass "rpc: $S is mode 0600" || fail "rpc: socket mode" "$(stat -c %a "$S")"

# probe SOCKET - connect, wait 1.5 s for the server to hang up; prints
# "refused:ERR", "closed" (server hung up) or "open" (still connected)
cat >"$NC_TMP/probe.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("refused:%s" % (e.strerror or type(e).__name__)); sys.exit(0)
s.settimeout(1.5)
try:
    d = s.recv(1)
    print("closed" if d == b"" else "data")
except socket.timeout:
    print("open")
except OSError as e:
    print("closed")
PY
r=$("${AS_NOBODY[@]}" /usr/bin/python3 - "$S" <"$NC_TMP/probe.py")
[ "${r%%:*}" = refused ] && pass "rpc: nobody cannot connect to the 0600 socket ($r)" || fail "rpc: nobody connects" "$r"

# open the path and the socket to everyone: now only SO_PEERCRED stands
chmod 755 "$NC_TMP" "$HA"; chmod 777 "$S"
r=$("${AS_NOBODY[@]}" /usr/bin/python3 - "$S" <"$NC_TMP/probe.py")
o=$(/usr/bin/python3 - "$S" <"$NC_TMP/probe.py")
[ "$r" = closed ] && [ "$o" = open ] &&
	pass "rpc: with the socket opened (0777), nobody's connection is hung up by SO_PEERCRED; root's stays open" ||
	fail "rpc: PEERCRED" "nobody: $r, owner: $o"
cat >"$NC_TMP/tcp.py" <<'PY'
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], 9), timeout=5)
    print("connected")
except OSError as e:
    print("error:%s" % (e.strerror or type(e).__name__))
PY
r=$("${AS_NOBODY[@]}" env "${APP_ENV[@]}" LD_PRELOAD="$PRELOAD" ZT_NC_NETWORK="$S" timeout 20 /usr/bin/python3 - "${NC_IP[$HA]}" <"$NC_TMP/tcp.py" 2>&1 | tail -n1)
case "$r" in error:*) pass "rpc: an intercepted program run as nobody gets an error ($r), no socket" ;;
	*) fail "rpc: intercepted nobody" "$r" ;; esac
kill -0 "$(home_pid "$HA")" && pass "rpc: daemon alive after refused clients" || fail "rpc: daemon died" ""
# the refusals are counted (the probe's connection, and the intercepted
# program's), the owner's connections are not among them
m=$(api_body "$HA" GET /metrics | grep "^zt_rpc_clients_refused_total{network=\"$NW\"}" | awk '{print $2}')
[ -n "$m" ] && [ "$m" -ge 2 ] && pass "rpc: /metrics counts the refused connections ($m)" ||
	fail "rpc: refused connections in /metrics" "zt_rpc_clients_refused_total '$m'"
chmod 600 "$S"; chmod 700 "$NC_TMP" "$HA"
exit 0
