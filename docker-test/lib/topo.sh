# docker-test/lib/topo.sh - test topologies for the compatibility suite and
# the benchmarks. Source it (bash). Two modes:
#
#   netns     (root): every node is its own network namespace, like a
#             container; all are plugged into one bridge that lives in a
#             "hub" namespace. Underlay addresses 172.31.250.0/24 (private:
#             the daemons' noPlanet guard only sends to private scopes), UDP
#             port 9993 everywhere. Nothing is added to the host's namespace.
#   loopback  (no root, or NC_TOPO=loopback): every node is a process on
#             127.0.0.1 with its own port.
#
# Nodes:   topo_node NAME          -> TOPO_IP[NAME], TOPO_PORT[NAME]
# Run:     topo_run NAME CMD...    (in the node's namespace, if any)
# Cleanup: topo_teardown           (ends processes in our namespaces by PID,
#                                   then deletes the namespaces)

declare -A TOPO_IP TOPO_PORT TOPO_NS
TOPO_NODES=()
TOPO_MODE=""
TOPO_TAG=""
TOPO_NEXT=2

# topo_can_netns - root, iproute2 with netns, and /dev/net/tun
topo_can_netns() {
	[ "$(id -u)" = 0 ] || return 1
	[ -c /dev/net/tun ] || return 1
	command -v ip >/dev/null || return 1
	local t="nctry$$"
	ip netns add "$t" 2>/dev/null || return 1
	ip netns del "$t"
	return 0
}

# topo_setup [MODE] - choose the mode (netns if possible) and create the hub
topo_setup() {
	TOPO_MODE=${1:-${NC_TOPO:-}}
	if [ -z "$TOPO_MODE" ]; then
		if topo_can_netns; then TOPO_MODE=netns; else TOPO_MODE=loopback; fi
	fi
	TOPO_TAG=$(printf '%04x' $(( ($$ + RANDOM) % 65536 )))
	if [ "$TOPO_MODE" = netns ]; then
		ip netns add "nc$TOPO_TAG-hub" || return 1
		ip -n "nc$TOPO_TAG-hub" link add br0 type bridge || return 1
		ip -n "nc$TOPO_TAG-hub" link set br0 up
		ip -n "nc$TOPO_TAG-hub" link set lo up
	fi
	return 0
}

# topo_free_port - an unused TCP+UDP port on 127.0.0.1
topo_free_port() {
	python3 - <<'EOF'
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        u.close(); t.close()
EOF
}

# topo_node NAME - add a node
topo_node() {
	local n=$1
	TOPO_NODES+=("$n")
	if [ "$TOPO_MODE" = netns ]; then
		local ns="nc$TOPO_TAG-$n" hub="nc$TOPO_TAG-hub" ip="172.31.250.$TOPO_NEXT"
		local v="v$TOPO_TAG$TOPO_NEXT"
		TOPO_NEXT=$((TOPO_NEXT + 1))
		ip netns add "$ns" || return 1
		ip -n "$hub" link add "$v" type veth peer name eth0 netns "$ns" || return 1
		ip -n "$hub" link set "$v" master br0 up
		ip -n "$ns" link set lo up
		ip -n "$ns" addr add "$ip/24" dev eth0
		ip -n "$ns" link set eth0 up
		TOPO_NS[$n]=$ns
		TOPO_IP[$n]=$ip
		TOPO_PORT[$n]=9993
	else
		TOPO_NS[$n]=""
		TOPO_IP[$n]=127.0.0.1
		TOPO_PORT[$n]=$(topo_free_port)
	fi
}

# topo_run NAME CMD... - run CMD inside node NAME
topo_run() {
	local n=$1; shift
	if [ -n "${TOPO_NS[$n]:-}" ]; then
		ip netns exec "${TOPO_NS[$n]}" "$@"
	else
		"$@"
	fi
}

# topo_spawn NAME OUT CMD... - start CMD in node NAME in the background, in
# a new session (so its process group id is its PID), output appended to OUT;
# TOPO_PID gets that PID. Call it directly, never in a subshell or a pipe:
# `cmd &` of a simple command forks once and execs, so $! is CMD itself.
topo_spawn() {
	local n=$1 out=$2
	shift 2
	if [ -n "${TOPO_NS[$n]:-}" ]; then
		ip netns exec "${TOPO_NS[$n]}" setsid "$@" >>"$out" 2>&1 &
	else
		setsid "$@" >>"$out" 2>&1 &
	fi
	TOPO_PID=$!
}

# topo_kill_ns NAME - end every process inside node NAME's namespace (only
# processes we started live there), by PID
topo_kill_ns() {
	local ns=${TOPO_NS[$1]:-} p pids
	[ -n "$ns" ] || return 0
	pids=$(ip netns pids "$ns" 2>/dev/null)
	[ -n "$pids" ] || return 0
	for p in $pids; do kill "$p" 2>/dev/null; done
	local t=20
	while [ $t -gt 0 ] && [ -n "$(ip netns pids "$ns" 2>/dev/null)" ]; do sleep 0.1; t=$((t - 1)); done
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
}

# topo_kill_pidfile FILE - end the process whose PID FILE holds
topo_kill_pidfile() {
	local p
	[ -f "$1" ] || return 0
	p=$(cat "$1" 2>/dev/null)
	case "$p" in ''|*[!0-9]*) return 0 ;; esac
	kill "$p" 2>/dev/null || return 0
	local t=30
	while [ $t -gt 0 ] && kill -0 "$p" 2>/dev/null; do sleep 0.1; t=$((t - 1)); done
	kill -9 "$p" 2>/dev/null
	return 0
}

# topo_teardown - end everything and delete the namespaces
topo_teardown() {
	local n
	if [ "$TOPO_MODE" = netns ]; then
		for n in "${TOPO_NODES[@]:-}"; do [ -n "$n" ] && topo_kill_ns "$n"; done
		for n in "${TOPO_NODES[@]:-}"; do [ -n "$n" ] && ip netns del "${TOPO_NS[$n]}" 2>/dev/null; done
		ip netns del "nc$TOPO_TAG-hub" 2>/dev/null
	fi
	TOPO_NODES=()
}
