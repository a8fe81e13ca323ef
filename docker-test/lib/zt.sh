# docker-test/lib/zt.sh - harness-side helpers around our daemons: identities,
# the self-hosted controller, the moon, seeds for each node. Source it after
# topo.sh. Needs ZT_BINDIR (where zerotier-* live).

# zt_log MSG - progress line on stderr
zt_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# zt_wait_file PATH SECONDS
zt_wait_file() {
	local t=$(( $2 * 10 ))
	while [ $t -gt 0 ]; do [ -s "$1" ] && return 0; sleep 0.1; t=$((t - 1)); done
	return 1
}

# zt_no_planet_conf FILE [EXTRA_JSON_MEMBERS] - a local.conf that keeps the
# daemon off the public planet (NC_NO_PLANET=1 is set in the environment too)
zt_no_planet_conf() {
	printf '{\n  "settings": {"noPlanet": true}%s\n}\n' "${2:+,
  $2}" >"$1"
}

# zt_gen_identity DIR - identity.secret/public in DIR (kept if present):
# `zerotier-idtool generate`, or the seed's way (start a daemon, wait for the
# identity, stop it).
zt_gen_identity() {
	local d=$1
	mkdir -p "$d"
	[ -s "$d/identity.secret" ] && [ -s "$d/identity.public" ] && return 0
	if "$ZT_BINDIR/zerotier-idtool" generate "$d/identity.secret" "$d/identity.public" >/dev/null 2>&1 &&
		[ -s "$d/identity.secret" ]; then
		chmod 600 "$d/identity.secret"
		return 0
	fi
	local h
	h=$(mktemp -d /tmp/nc-idgen.XXXXXX)
	zt_no_planet_conf "$h/local.conf"
	NC_NO_PLANET=1 "$ZT_BINDIR/zerotier-netcon-service" -d -p"$(topo_free_port)" "$h" || { rm -rf "$h"; return 1; }
	zt_wait_file "$h/identity.secret" 30 && zt_wait_file "$h/identity.public" 5
	zt_wait_file "$h/zerotier-one.pid" 5
	topo_kill_pidfile "$h/zerotier-one.pid"
	cp -f "$h/identity.secret" "$h/identity.public" "$d/" 2>/dev/null
	rm -rf "$h"
	[ -s "$d/identity.secret" ]
}

# zt_addr DIR - the 10-hex address of the identity in DIR
zt_addr() { cut -d: -f1 "$1/identity.public"; }

# zt_api NODE HOME METHOD PATH [BODY] - call a daemon's local API (inside
# NODE's namespace); prints the body, returns non-zero unless HTTP 2xx
zt_api() {
	local node=$1 home=$2 method=$3 path=$4 body=${5:-} port code out
	port=$(cat "$home/zerotier-one.port" 2>/dev/null || echo "${TOPO_PORT[$node]}")
	out=$(mktemp /tmp/nc-api.XXXXXX)
	code=$(topo_run "$node" curl -s -o "$out" -w '%{http_code}' -X "$method" \
		-H "X-ZT1-Auth: $(cat "$home/authtoken.secret" 2>/dev/null)" \
		${body:+-H 'Content-Type: application/json' --data-binary "$body"} \
		"http://127.0.0.1:$port$path")
	cat "$out"; rm -f "$out"
	case "$code" in 2*) return 0 ;; *) echo " (HTTP $code)" >&2; return 1 ;; esac
}

# zt_start NODE BINARY HOME [PORT] - start a daemon with -d inside NODE;
# waits for identity, pid file and the API. Returns 0 or 1.
zt_start() {
	local node=$1 bin=$2 home=$3 port=${4:-${TOPO_PORT[$1]}}
	[ -f "$ZT_BINDIR/liblwip.so" ] && cp -f "$ZT_BINDIR/liblwip.so" "$home/"
	topo_run "$node" env NC_NO_PLANET=1 "$ZT_BINDIR/$bin" -d -p"$port" "$home" || return 1
	zt_wait_file "$home/identity.secret" 30 || return 1
	zt_wait_file "$home/zerotier-one.pid" 10 || return 1
	local t=100
	while [ $t -gt 0 ]; do
		zt_api "$node" "$home" GET /status >/dev/null 2>&1 && return 0
		sleep 0.1; t=$((t - 1))
	done
	return 1
}

# zt_json_get KEY - read a top-level string field from JSON on stdin
zt_json_get() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1],""))' "$1"; }

# zt_create_network NODE HOME NAME - create a private network with a
# 10.147.17.0/24 pool on the controller at HOME; prints the nwid
zt_create_network() {
	local node=$1 home=$2 name=$3 addr body
	addr=$(zt_addr "$home")
	body='{"name":"'"$name"'","private":true,"v4AssignMode":{"zt":true},"ipAssignmentPools":[{"ipRangeStart":"10.147.17.1","ipRangeEnd":"10.147.17.254"}],"routes":[{"target":"10.147.17.0/24"}]}'
	zt_api "$node" "$home" POST "/controller/network/${addr}______" "$body" | zt_json_get id
}

# zt_authorize NODE HOME NWID ADDR - authorize a member
zt_authorize() {
	zt_api "$1" "$2" POST "/controller/network/$3/member/$4" '{"authorized":true}' >/dev/null
}

# zt_make_moon CTLDIR ENDPOINT OUTDIR - sign a moon whose only root is the
# controller (CTLDIR holds identity.* and moon.json from initmoon) with the
# given stable endpoint "IP/PORT"; the .moon file lands in OUTDIR
zt_make_moon() {
	local ctl=$1 ep=$2 out=$3 tmp
	tmp=$(mktemp -d /tmp/nc-moon.XXXXXX)
	python3 - "$ctl/moon.json" "$ep" >"$tmp/moon.json" <<'EOF' || { rm -rf "$tmp"; return 1; }
import json, sys
m = json.load(open(sys.argv[1]))
for r in m["roots"]:
    r["stableEndpoints"] = [sys.argv[2]]
print(json.dumps(m, indent=2))
EOF
	(cd "$tmp" && "$ZT_BINDIR/zerotier-idtool" genmoon moon.json >/dev/null) || { rm -rf "$tmp"; return 1; }
	mkdir -p "$out"
	cp -f "$tmp"/*.moon "$out/" 2>/dev/null
	rm -rf "$tmp"
	ls "$out"/*.moon >/dev/null 2>&1
}
