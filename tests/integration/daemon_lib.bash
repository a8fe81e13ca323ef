# daemon_lib.bash - helpers for the daemon/cli/tap integration tests.
# Source after tests/lib.sh. Every daemon runs with NC_NO_PLANET=1, so no
# test ever addresses the public roots: only loopback and namespaces we make.

export NC_NO_PLANET=1
SVC=$BIN/zerotier-netcon-service
ONE=$BIN/zerotier-one
CLI=$BIN/zerotier-cli
IDTOOL=$BIN/zerotier-idtool

# need_bins BIN... - fail (not skip) when a binary is missing: the feature is broken
need_bins() {
	local b ok=0
	for b in "$@"; do
		if [ ! -x "$b" ]; then fail "build" "$b is missing (make all)"; ok=1; fi
	done
	return $ok
}

# daemon_start HOME [PORT] [BINARY] [NETNS] - start a daemon in the foreground
# (tracked), wait for its port file; sets DPID. PORT defaults to 0 (any).
daemon_start() {
	local home=$1 port=${2:-0} bin=${3:-$SVC} ns=${4:-}
	mkdir -p "$home"
	rm -f "$home/zerotier-one.port"
	if [ -n "$ns" ]; then
		HOME_NS[$home]=$ns
		ip netns exec "$ns" env NC_NO_PLANET=1 "$bin" -p"$port" "$home" >>"$home/stderr.log" 2>&1 &
	else
		"$bin" -p"$port" "$home" >>"$home/stderr.log" 2>&1 &
	fi
	DPID=$!
	nc_track $DPID
	WAIT_S=40 wait_for test -s "$home/zerotier-one.port" || {
		echo "daemon in $home did not start:"; sed 's/^/    /' "$home/stderr.log"; return 1; }
	return 0
}

# daemon_stop HOME - SIGTERM the daemon of HOME (by its pid file) and wait
daemon_stop() {
	local home=$1 pid
	pid=$(cat "$home/zerotier-one.pid" 2>/dev/null) || return 1
	kill "$pid" 2>/dev/null
	WAIT_S=10 wait_for bash -c "! kill -0 $pid 2>/dev/null"
}

dport() { cat "$1/zerotier-one.port"; }
dtoken() { cat "$1/authtoken.secret"; }
daddr() { cut -c1-10 "$1/identity.public"; }

# Daemons started in a network namespace are reached from inside it:
# HOME_NS[HOME]=NETNS (set by daemon_start) makes api/cli run there.
declare -A HOME_NS=()
in_ns() { local home=$1; shift; if [ -n "${HOME_NS[$home]:-}" ]; then ip netns exec "${HOME_NS[$home]}" "$@"; else "$@"; fi; }

# api HOME METHOD PATH [BODY] - prints the body, then the status on the last line
api() {
	local home=$1 m=$2 p=$3 body=${4:-}
	if [ -n "$body" ]; then
		in_ns "$home" curl -s -m 10 -X "$m" -H "X-ZT1-Auth: $(dtoken "$home")" -d "$body" \
			-w '\n%{http_code}' "http://127.0.0.1:$(dport "$home")$p"
	else
		in_ns "$home" curl -s -m 10 -X "$m" -H "X-ZT1-Auth: $(dtoken "$home")" \
			-w '\n%{http_code}' "http://127.0.0.1:$(dport "$home")$p"
	fi
}
# api_code HOME METHOD PATH [BODY] - just the status
api_code() { api "$@" | tail -n1; }
# api_body HOME METHOD PATH [BODY] - just the body
api_body() { api "$@" | sed '$d'; }

cli() { local home=$1; shift; in_ns "$home" "$CLI" -D"$home" "$@"; }

# net_ok HOME NWID - the network is OK and has an address
net_ok() {
	api_body "$1" GET "/network/$2" | jq -e '.status == "OK" and (.assignedAddresses | length) > 0' >/dev/null
}

# ctl_make_network HOME NWID NAME SUBNET_PREFIX - create a private network on HOME's
# controller with pool PREFIX.100-200 and an on-link route PREFIX.0/24
ctl_make_network() {
	local home=$1 nwid=$2 name=$3 pfx=$4
	api_code "$home" POST "/controller/network/$nwid" "{\"name\":\"$name\",\"private\":true,
		\"v4AssignMode\":{\"zt\":true},
		\"ipAssignmentPools\":[{\"ipRangeStart\":\"$pfx.100\",\"ipRangeEnd\":\"$pfx.200\"}],
		\"routes\":[{\"target\":\"$pfx.0/24\",\"via\":null}]}"
}

# ctl_authorize HOME NWID ADDR IP - authorize a member with a fixed address
ctl_authorize() {
	api_code "$1" POST "/controller/network/$2/member/$3" \
		"{\"authorized\":true,\"ipAssignments\":[\"$4\"]}"
}

# make_moon ROOT_HOME ENDPOINT... - a moon whose only root is ROOT_HOME's node,
# reachable at ENDPOINT(s) ("IP/PORT"), made with zerotier-idtool initmoon +
# genmoon. Prints the path of the .moon file (in ROOT_HOME/moon-work/).
make_moon() {
	local home=$1; shift
	local w=$home/moon-work eps
	mkdir -p "$w"
	eps=$(printf '"%s",' "$@"); eps="[${eps%,}]"
	"$IDTOOL" initmoon "$home/identity.public" >"$w/moon.json.in" 2>"$w/err" || { cat "$w/err" >&2; return 1; }
	jq --argjson e "$eps" '.roots[0].stableEndpoints = $e' "$w/moon.json.in" >"$w/moon.json" || return 1
	(cd "$w" && "$IDTOOL" genmoon moon.json >"$w/genmoon.out" 2>&1) || { cat "$w/genmoon.out" >&2; return 1; }
	ls "$w"/*.moon 2>/dev/null | head -n1
}
