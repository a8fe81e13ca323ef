# tests/interop/lib.sh - helpers for the tests against the official ZeroTier One.
# Source it after tests/lib.sh. Everything runs inside network namespaces this
# test creates, joined only by a veth pair: nothing can reach the Internet, and
# the official node's attempts to reach its public planet roots fail locally.
#
# The official binary comes from the environment: ZT_OFFICIAL_BIN=/path/to/zerotier-one
# (its CLI is the same binary with -q, its idtool with -i). See README.md here
# for how to build one from the public source.

OFF=${ZT_OFFICIAL_BIN:-}
# a temporary directory of our own name (tests/lib.sh made one already)
rmdir "$NC_TMP" 2>/dev/null
NC_TMP=$(mktemp -d /tmp/ncix.XXXXXX)
IX_ID=$$
IX_NS_N=0
IX_TIME0=$(date +%s)
IX_OFF_HOMES=()

# ix_cleanup - stop official daemons gracefully (they take a moment to take
# their taps down), then the generic cleanup of tests/lib.sh
ix_cleanup() {
	local h
	for h in "${IX_OFF_HOMES[@]:-}"; do [ -n "$h" ] && off_stop "$h"; done
	nc_cleanup
}
trap ix_cleanup EXIT

# interop_require NAME - print SKIP and exit 0 unless the official binary,
# root and the namespace tools are here.
interop_require() {
	local name=$1
	if [ -z "$OFF" ]; then skip "$name" "ZT_OFFICIAL_BIN not set"; exit 0; fi
	if [ ! -x "$OFF" ]; then skip "$name" "ZT_OFFICIAL_BIN=$OFF is not executable"; exit 0; fi
	if ! is_root; then skip "$name" "needs root (network namespaces)"; exit 0; fi
	if ! command -v ip >/dev/null; then skip "$name" "iproute2 missing"; exit 0; fi
	if [ ! -c /dev/net/tun ]; then skip "$name" "no /dev/net/tun"; exit 0; fi
}

# ix_log MSG - progress line with seconds since start (not a result line)
ix_log() { echo "[$(( $(date +%s) - IX_TIME0 ))s] $*"; }

# ix_ns VAR - create a namespace with only loopback up; its name goes to VAR
# (no command substitution: the cleanup list must be extended in this shell)
ix_ns() {
	IX_NS_N=$((IX_NS_N + 1))
	local ns="ncix${IX_ID}n${IX_NS_N}"
	ip netns add "$ns" || return 1
	NC_NETNS+=("$ns")
	ip -n "$ns" link set lo up
	printf -v "$1" '%s' "$ns"
}

# ix_link NS_A IP_A NS_B IP_B - veth pair between two namespaces, /24 each.
# Interface names must not start with zt, tun, tap or lo: the official node
# refuses to bind its UDP sockets on such interfaces.
ix_link() {
	IX_NS_N=$((IX_NS_N + 1))
	local a=$1 ipa=$2 b=$3 ipb=$4 va="vx${IX_ID}a${IX_NS_N}" vb="vx${IX_ID}b${IX_NS_N}"
	va=${va:0:15}; vb=${vb:0:15}
	ip link add "$va" type veth peer name "$vb" || return 1
	ip link set "$va" netns "$a" && ip link set "$vb" netns "$b" || return 1
	ip -n "$a" addr add "$ipa/24" dev "$va" && ip -n "$b" addr add "$ipb/24" dev "$vb"
	ip -n "$a" link set "$va" up && ip -n "$b" link set "$vb" up
}

# ix_two_ns - the usual topology: namespaces NSA (10.99.0.1) and NSB (10.99.0.2)
ix_two_ns() {
	ix_ns NSA && ix_ns NSB && ix_link "$NSA" 10.99.0.1 "$NSB" 10.99.0.2
}

# ix_wire_datagrams NS - no UDP segmentation offload on NS's links: our
# daemons send runs of datagrams as one UDP_SEGMENT message, and a veth
# passes such a message on whole, so a capture in the other namespace saw
# one 9999-byte "datagram" where a real wire carries several. With the
# offload off the kernel cuts them before the device (the daemon's send
# path is the same).
ix_wire_datagrams() {
	local d
	for d in $(ip -n "$1" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
		[ "$d" = lo ] || ip netns exec "$1" ethtool -K "$d" tx-udp-segmentation off >/dev/null 2>&1
	done
}

# ix_hub - a namespace HUB holding a bridge; attach others with ix_hub_attach
ix_hub() {
	ix_ns HUB || return 1
	ip -n "$HUB" link add br0 type bridge && ip -n "$HUB" link set br0 up
}

# ix_hub_attach NS IP - veth from NS (IP/24) to the hub's bridge
ix_hub_attach() {
	local ns=$1 ipa=$2
	IX_NS_N=$((IX_NS_N + 1))
	local va="vx${IX_ID}h${IX_NS_N}" vb="vx${IX_ID}p${IX_NS_N}"
	va=${va:0:15}; vb=${vb:0:15}
	ip link add "$va" type veth peer name "$vb" || return 1
	ip link set "$va" netns "$ns" && ip link set "$vb" netns "$HUB" || return 1
	ip -n "$ns" addr add "$ipa/24" dev "$va" && ip -n "$ns" link set "$va" up
	ip -n "$HUB" link set "$vb" master br0 && ip -n "$HUB" link set "$vb" up
}

# ---- the official node ----

# off_home DIR - a fresh home with a local.conf that keeps the node quiet:
# no UPnP/NAT-PMP, no secondary port, no TCP fallback relay.
off_home() {
	mkdir -p "$1"
	cat >"$1/local.conf" <<-EOF
	{"settings":{"portMappingEnabled":false,"allowSecondaryPort":false,"allowTcpFallbackRelay":false}}
	EOF
}

# off_start NS HOME [PORT] - start the official daemon; waits for its API
off_start() {
	local ns=$1 home=$2 port=${3:-9993}
	ip netns exec "$ns" "$OFF" -U "-p$port" "$home" >>"$home/daemon.log" 2>&1 &
	nc_track $!
	IX_OFF_HOMES+=("$home")
	WAIT_S=20 wait_for off_cli "$ns" "$home" info
}

# off_stop HOME - stop the official daemon whose home is HOME (pid file)
off_stop() {
	local pid
	pid=$(cat "$1/zerotier-one.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	local t=150	# it can take several seconds to take its taps down
	while [ $t -gt 0 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; t=$((t - 1)); done
	kill -9 "$pid" 2>/dev/null
	return 0
}

# off_cli NS HOME ARGS... - the official zerotier-cli
off_cli() { local ns=$1 home=$2; shift 2; ip netns exec "$ns" "$OFF" -q "-D$home" "$@"; }

# off_idtool ARGS... - the official zerotier-idtool
off_idtool() { "$OFF" -i "$@"; }

# off_address HOME - its 10-hex address
off_address() { cut -c1-10 "$1/identity.public"; }

# off_metric NS HOME NAME_AND_LABELS - one counter from the official node's
# /metrics (e.g. 'zt_packet_error{direction="tx",error_type="need_membership_certificate"}');
# prints 0 when absent
off_metric() {
	local port
	port=$(cat "$2/zerotier-one.port" 2>/dev/null || echo 9993)
	ip netns exec "$1" curl -s -m 5 -H "X-ZT1-Auth: $(cat "$2/metricstoken.secret")" "http://127.0.0.1:$port/metrics" |
		awk -v k="$3" '$1 == k { v = $2 } END { print v + 0 }'
}

# ix_api NS HOME METHOD PATH [BODY] - the local JSON API of a daemon (official
# or ours) whose home holds authtoken.secret and zerotier-one.port
ix_api() {
	local ns=$1 home=$2 m=$3 p=$4 body=${5:-}
	local port tok
	port=$(cat "$home/zerotier-one.port" 2>/dev/null || echo 9993)
	tok=$(cat "$home/authtoken.secret")
	if [ -n "$body" ]; then
		# JSON content type: the official server caps form-encoded bodies at 8 KiB
		ip netns exec "$ns" curl -sf -m 10 -X "$m" -H "X-ZT1-Auth: $tok" -H "Content-Type: application/json" \
			--data-binary "$body" "http://127.0.0.1:$port$p"
	else
		ip netns exec "$ns" curl -sf -m 5 -X "$m" -H "X-ZT1-Auth: $tok" "http://127.0.0.1:$port$p"
	fi
}

# ix_make_moon IDENTITY_PUBLIC_FILE ENDPOINT OUTDIR - a moon with one root
# (that identity, at IP/PORT), made and signed by the official idtool. Prints
# the path of the .moon file (named 000000<addr>.moon, the world id).
ix_make_moon() {
	local idf=$1 ep=$2 out=$3
	mkdir -p "$out"
	off_idtool initmoon "$idf" >"$out/moon.json" || return 1
	python3 - "$out/moon.json" "$ep" <<-'EOF' || return 1
	import json, sys
	m = json.load(open(sys.argv[1]))
	m["roots"][0]["stableEndpoints"] = [sys.argv[2]]
	json.dump(m, open(sys.argv[1], "w"))
	EOF
	(cd "$out" && off_idtool genmoon moon.json >/dev/null) || return 1
	ls "$out"/*.moon | head -n 1
}

# ---- our daemon ----

# our_home DIR [LOCAL_CONF_JSON] - a home for build/zerotier-one (tap) or
# build/zerotier-netcon-service; noPlanet keeps the engine from trying the
# public roots.
our_home() {
	mkdir -p "$1"
	if [ -n "${2:-}" ]; then
		echo "$2" >"$1/local.conf"
	else
		echo '{"settings":{"noPlanet":true}}' >"$1/local.conf"
	fi
}

# our_start NS HOME BINARY [PORT] - start one of our daemons in NS; waits for
# its API
our_start() {
	local ns=$1 home=$2 bin=$3 port=${4:-9993}
	ip netns exec "$ns" "$bin" "-p$port" "$home" >>"$home/daemon.log" 2>&1 &
	nc_track $!
	WAIT_S=20 wait_for ix_api "$ns" "$home" GET /status
}

# our_stop HOME - stop our daemon whose home is HOME and wait for it to exit
our_stop() {
	local pid t=100
	pid=$(cat "$1/zerotier-one.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	while [ $t -gt 0 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; t=$((t - 1)); done
	kill -9 "$pid" 2>/dev/null
	return 0
}

# our_cli NS HOME ARGS... - our zerotier-cli
our_cli() { local ns=$1 home=$2; shift 2; ip netns exec "$ns" "$BIN/zerotier-cli" "-D$home" "$@"; }

# ix_dump_logs DIR... - show the tail of every daemon.log below the dirs (on failure)
ix_dump_logs() {
	local f
	for f in $(find "$@" -name daemon.log 2>/dev/null); do
		echo "---- $f"
		tail -n 40 "$f"
	done
}
