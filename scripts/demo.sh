#!/usr/bin/env bash
# scripts/demo.sh - the seed's walkthrough on one machine, with no Internet.
#
#  1. node C: a zerotier-netcon-service that hosts a private network on its
#     embedded controller and is the moon root the other nodes know it by;
#  2. node S: a zerotier-netcon-service in a temporary home, joined with
#     `zerotier-cli -D... join`; an unmodified `python3 -m http.server` runs
#     under LD_PRELOAD inside its network container;
#  3. node K: a second netcon daemon; an unmodified `curl` under the preload
#     fetches a file from S over the virtual network;
#  4. as root only: a conventional tap node (our zerotier-one) in a network
#     namespace pings S's virtual address and curls the same page, as the
#     seed's user does from "another Linux system".
# As root, C, S and K run inside a namespace of their own joined to the tap
# node's namespace by a veth pair; otherwise everything is on loopback.
# Every process started here is ended by PID on exit. Exit status is non-zero,
# with the failing step named, if anything fails.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
BIN=$ROOT/$B
CLI=$BIN/zerotier-cli
ICEPT=$BIN/libzerotierintercept.so
. "$ROOT/scripts/preload.sh"   # sanitizer builds: the ASan runtime first
TMP=$(mktemp -d /tmp/netcon-demo.XXXXXX)
PIDFILES=()
PIDS=()
NETNS=()
STEP="start"
AS_ROOT=0
[ "$(id -u)" = 0 ] && [ -z "${NC_DEMO_NOROOT:-}" ] && AS_ROOT=1

step() { STEP="$*"; echo; echo "==> $*"; }
say() { echo "    $*"; }
die() {
	echo >&2
	echo "demo FAILED at step: $STEP" >&2
	[ -n "${1:-}" ] && echo "    $1" >&2
	for h in "$TMP"/*/; do
		[ -f "$h/node.log" ] && { echo "--- $(basename "$h") log (tail):" >&2; tail -n 15 "$h/node.log" >&2; }
	done
	exit 1
}
cleanup() {
	local f p
	for f in "${PIDFILES[@]:-}"; do
		[ -n "$f" ] && [ -f "$f" ] && PIDS+=("$(cat "$f")")
	done
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	sleep 0.3
	# sanitizer runs (NC_TERM_WAIT, tests/run.sh): time for the exit-time leak scan
	local t=$(( ${NC_TERM_WAIT:-0} * 10 ))
	for p in "${PIDS[@]:-}"; do
		while [ -n "$p" ] && [ "$t" -gt 0 ] && kill -0 "$p" 2>/dev/null &&
			! grep -q '^[0-9]* (.*) Z ' "/proc/$p/stat" 2>/dev/null; do sleep 0.1; t=$((t - 1)); done
	done
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
	for n in "${NETNS[@]:-}"; do [ -n "$n" ] && ip netns del "$n" 2>/dev/null; done
	nc_san_scan "$TMP"
	[ -n "${NC_DEMO_KEEP:-}" ] && echo "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# retry CMD for up to N seconds
retry() { local n=$(( $1 * 10 )); shift; while [ $n -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; n=$((n - 1)); done; return 1; }

for f in zerotier-netcon-service zerotier-one zerotier-cli zerotier-idtool libzerotierintercept.so liblwip.so; do
	[ -e "$BIN/$f" ] || die "$BIN/$f is missing: run 'make' first"
done

NS_NC=""    # command prefix that runs a command in the netcon namespace
HOST_IP=127.0.0.1
if [ $AS_ROOT = 1 ]; then
	step "root: creating namespaces ncdemo-nc (netcon nodes) and ncdemo-tap (tap node), joined by a veth pair"
	sfx=$$
	ip netns add ncdemo-nc-$sfx && NETNS+=(ncdemo-nc-$sfx) || die "ip netns add failed"
	ip netns add ncdemo-tap-$sfx && NETNS+=(ncdemo-tap-$sfx) || die "ip netns add failed"
	ip link add ncd0-$sfx type veth peer name ncd1-$sfx || die "veth creation failed"
	ip link set ncd0-$sfx netns ncdemo-nc-$sfx && ip link set ncd1-$sfx netns ncdemo-tap-$sfx || die "moving veth failed"
	ip -n ncdemo-nc-$sfx addr add 10.99.0.1/24 dev ncd0-$sfx && ip -n ncdemo-nc-$sfx link set ncd0-$sfx up && ip -n ncdemo-nc-$sfx link set lo up
	ip -n ncdemo-tap-$sfx addr add 10.99.0.2/24 dev ncd1-$sfx && ip -n ncdemo-tap-$sfx link set ncd1-$sfx up && ip -n ncdemo-tap-$sfx link set lo up
	NS_NC="ip netns exec ncdemo-nc-$sfx"
	NS_TAP="ip netns exec ncdemo-tap-$sfx"
	HOST_IP=10.99.0.1
	say "netcon side 10.99.0.1, tap side 10.99.0.2 (no route anywhere else)"
fi

api() { # api HOME METHOD PATH [BODY]
	local h=$1 m=$2 p=$3 body=${4:-}
	$NS_NC curl -sf -X "$m" -H "X-ZT1-Auth: $(cat "$h/authtoken.secret")" \
		${body:+-d "$body"} "http://127.0.0.1:$(cat "$h/zerotier-one.port")$p"
}

# no_planet HOME - keep the node off the public Internet roots
no_planet() { mkdir -p "$1"; printf '{"settings":{"noPlanet":true}}\n' > "$1/local.conf"; }

start_netcon() { # start_netcon HOME PORT
	local h=$1 p=$2
	$NS_NC "$BIN/zerotier-netcon-service" -d -p"$p" "$h" >"$h/stdout.log" 2>&1 || die "zerotier-netcon-service -d failed: $(cat "$h/stdout.log")"
	PIDFILES+=("$h/zerotier-one.pid")
	retry 20 test -s "$h/identity.secret" || die "no identity.secret in $h"
	retry 10 test -s "$h/zerotier-one.pid" || die "no pid file in $h"
	retry 10 $NS_NC "$CLI" -D"$h" info || die "daemon in $h does not answer zerotier-cli info"
}

step "node C: zerotier-netcon-service -d -p9441 $TMP/C (controller and moon root)"
C=$TMP/C; no_planet "$C"
start_netcon "$C" 9441
CADDR=$($NS_NC "$CLI" -D"$C" info | awk '{print $3}')
say "$($NS_NC "$CLI" -D"$C" info)"

step "node C: creating a private network on its embedded controller (POST /controller/network/${CADDR}______)"
NET_JSON=$(api "$C" POST "/controller/network/${CADDR}______" \
	'{"name":"demo","private":true,"v4AssignMode":{"zt":true},"ipAssignmentPools":[{"ipRangeStart":"10.147.17.10","ipRangeEnd":"10.147.17.250"}],"routes":[{"target":"10.147.17.0/24"}]}') \
	|| die "controller did not create the network"
NWID=$(printf '%s' "$NET_JSON" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || die "no network id in: $NET_JSON"
say "network $NWID"

step "node C: making a moon with C as its only root (zerotier-idtool initmoon / genmoon)"
( cd "$TMP" && "$BIN/zerotier-idtool" initmoon "$C/identity.public" > moon.json ) || die "initmoon failed"
python3 - "$TMP/moon.json" "$HOST_IP/9441" <<'EOF' || die "could not set the moon's stable endpoint"
import json, sys
m = json.load(open(sys.argv[1]))
m["roots"][0]["stableEndpoints"] = [sys.argv[2]]
json.dump(m, open(sys.argv[1], "w"), indent=2)
EOF
( cd "$TMP" && "$BIN/zerotier-idtool" genmoon moon.json >/dev/null ) || die "genmoon failed"
MOON=$(ls "$TMP"/*.moon 2>/dev/null | head -n1)
[ -n "$MOON" ] || die "genmoon wrote no .moon file"
say "$(basename "$MOON"), stable endpoint $HOST_IP/9441"

for n in S K; do
	h=$TMP/$n; no_planet "$h"; mkdir -p "$h/moons.d"; cp "$MOON" "$h/moons.d/"
	cp "$BIN/liblwip.so" "$h/"
done

step "node S: zerotier-netcon-service -d -p9442 $TMP/S"
S=$TMP/S; start_netcon "$S" 9442
SADDR=$($NS_NC "$CLI" -D"$S" info | awk '{print $3}'); say "$($NS_NC "$CLI" -D"$S" info)"
step "node K: zerotier-netcon-service -d -p9443 $TMP/K"
K=$TMP/K; start_netcon "$K" 9443
KADDR=$($NS_NC "$CLI" -D"$K" info | awk '{print $3}'); say "$($NS_NC "$CLI" -D"$K" info)"

step "node C: authorizing S ($SADDR) and K ($KADDR) on $NWID"
for a in "$SADDR" "$KADDR"; do
	api "$C" POST "/controller/network/$NWID/member/$a" '{"authorized":true}' >/dev/null || die "could not authorize $a"
done

step "zerotier-cli -D$S join $NWID ; zerotier-cli -D$K join $NWID"
say "$($NS_NC "$CLI" -D"$S" join "$NWID")"
say "$($NS_NC "$CLI" -D"$K" join "$NWID")"

ip_of() { $NS_NC "$CLI" -D"$1" listnetworks | awk -v n="$NWID" '$3==n {print $NF}' | tr ',' '\n' | grep -E '^[0-9.]+/' | head -n1 | cut -d/ -f1; }
step "zerotier-cli -D$S listnetworks (waiting for an address)"
has_ip() { test -n "$(ip_of "$1")"; }
retry 30 has_ip "$S" || die "S got no address: $($NS_NC "$CLI" -D"$S" listnetworks)"
retry 30 has_ip "$K" || die "K got no address: $($NS_NC "$CLI" -D"$K" listnetworks)"
$NS_NC "$CLI" -D"$S" listnetworks | sed 's/^/    /'
SIP=$(ip_of "$S"); KIP=$(ip_of "$K")
[ -S "$S/nc_$NWID" ] || die "no RPC socket $S/nc_$NWID"
say "S is $SIP, K is $KIP; S's network container is $S/nc_$NWID (unknown to the kernel: no device, no address)"

step "node S: python3 -m http.server 8080 under LD_PRELOAD=$ICEPT ZT_NC_NETWORK=$S/nc_$NWID"
WWW=$TMP/www; mkdir -p "$WWW"
echo "Hello from a network container on ZeroTier network $NWID" > "$WWW/hello.txt"
head -c 1048576 /dev/urandom > "$WWW/random.bin"
( cd "$WWW" && exec env $(nc_preload_env "$ICEPT" python3) ZT_NC_NETWORK=$S/nc_$NWID python3 -m http.server 8080 ) >"$TMP/http.log" 2>&1 &
PIDS+=($!)

fetch_k() { env $(nc_preload_env "$ICEPT" curl) ZT_NC_NETWORK=$K/nc_$NWID curl -sf --max-time 5 "$@"; }
step "node K: curl http://$SIP:8080/hello.txt under the preload (ZT_NC_NETWORK=$K/nc_$NWID)"
retry 20 fetch_k -o "$TMP/got.txt" "http://$SIP:8080/hello.txt" || die "curl through K could not fetch from S"
cmp -s "$TMP/got.txt" "$WWW/hello.txt" || die "fetched hello.txt differs"
say "got: $(cat "$TMP/got.txt")"
fetch_k -o "$TMP/got.bin" "http://$SIP:8080/random.bin" || die "curl of random.bin failed"
cmp -s "$TMP/got.bin" "$WWW/random.bin" || die "random.bin differs"
say "1 MiB random.bin: md5 $(md5sum < "$TMP/got.bin" | cut -c1-32) matches"
if ip -o addr show 2>/dev/null | grep -q " $SIP/"; then die "$SIP is on a kernel interface: it should not be"; fi
say "no kernel interface has $SIP: ip addr lists nothing for it (the stack is inside the daemon)"

if [ $AS_ROOT = 1 ]; then
	step "root: node T, a tap node (zerotier-one) in namespace ncdemo-tap, joins the same network"
	T=$TMP/T; no_planet "$T"; mkdir -p "$T/moons.d"; cp "$MOON" "$T/moons.d/"
	$NS_TAP "$BIN/zerotier-one" -d -p9444 "$T" >"$T/stdout.log" 2>&1 || die "zerotier-one -d failed"
	PIDFILES+=("$T/zerotier-one.pid")
	retry 20 test -s "$T/identity.secret" || die "no identity for T"
	retry 10 $NS_TAP "$CLI" -D"$T" info || die "T does not answer"
	TADDR=$($NS_TAP "$CLI" -D"$T" info | awk '{print $3}')
	api "$C" POST "/controller/network/$NWID/member/$TADDR" '{"authorized":true}' >/dev/null || die "could not authorize T"
	say "$($NS_TAP "$CLI" -D"$T" join "$NWID")"
	tip() { $NS_TAP "$CLI" -D"$T" listnetworks | awk -v n="$NWID" '$3==n {print $NF}' | tr ',' '\n' | grep -E '^[0-9.]+/' | head -n1; }
	t_has_ip() { test -n "$(tip)"; }
	retry 30 t_has_ip || die "T got no address"
	$NS_TAP "$CLI" -D"$T" listnetworks | sed 's/^/    /'
	DEV=$($NS_TAP "$CLI" -D"$T" listnetworks | awk -v n="$NWID" '$3==n {print $(NF-1)}')
	retry 10 $NS_TAP ip -4 addr show dev "$DEV" || die "tap device $DEV has no address"
	say "$($NS_TAP ip -br addr show dev "$DEV")"
	step "root: node T: ping -c 3 $SIP (the netcon address, answered by S's user-space stack)"
	retry 15 $NS_TAP ping -c 1 -W 1 "$SIP" || die "T cannot ping $SIP"
	$NS_TAP ping -c 3 -i 0.2 "$SIP" | sed 's/^/    /'
	step "root: node T: curl http://$SIP:8080/hello.txt (kernel TCP over the tap to lwIP in S)"
	$NS_TAP curl -sf --max-time 5 -o "$TMP/got-t.txt" "http://$SIP:8080/hello.txt" || die "T cannot curl S"
	cmp -s "$TMP/got-t.txt" "$WWW/hello.txt" || die "T fetched different content"
	say "got: $(cat "$TMP/got-t.txt")"
else
	step "(not root: skipping the tap node in a network namespace; run 'sudo make demo' for that part)"
fi

step "done: the walkthrough worked; stopping everything this demo started"
exit 0
