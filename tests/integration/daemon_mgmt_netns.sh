#!/usr/bin/env bash
# daemon_mgmt_netns.sh - local.conf settings.allowManagementFrom: the API is
# reachable from another namespace only from the listed networks (and still
# needs the token); without the setting it listens on loopback only.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
if ! is_root; then skip "mgmt" "needs root for network namespaces"; exit 0; fi
need_bins "$SVC" || exit 1

S=$$
N1=ncm1$S N2=ncm2$S
ip netns add $N1 && NC_NETNS+=($N1)
ip netns add $N2 && NC_NETNS+=($N2)
ip link add "m1$S" netns $N1 type veth peer name "m2$S" netns $N2
ip -n $N1 link set lo up; ip -n $N2 link set lo up
ip -n $N1 addr add 10.78.0.1/24 dev "m1$S"; ip -n $N1 link set "m1$S" up
ip -n $N2 addr add 10.78.0.2/24 dev "m2$S"; ip -n $N2 link set "m2$S" up

H=$NC_TMP/m
remote() {	# remote [TOKEN] - status of GET /status from the other namespace
	ip netns exec $N2 curl -s -m 3 -o /dev/null -w '%{http_code}' ${1:+-H "X-ZT1-Auth: $1"} "http://10.78.0.1:9993/status"
}

daemon_start "$H" 9993 "$SVC" $N1 || { fail "start" ""; exit 1; }
T=$(dtoken "$H")
[ "$(remote "$T")" = 000 ] && [ "$(api_code "$H" GET /status)" = 200 ] &&
	pass "mgmt: default listens on loopback only (remote refused, local 200)" || fail "mgmt: default" "remote $(remote "$T")"
daemon_stop "$H"

echo '{"settings": {"allowManagementFrom": ["10.78.0.2/32"]}}' >"$H/local.conf"
daemon_start "$H" 9993 "$SVC" $N1 || { fail "start 2" ""; exit 1; }
[ "$(remote "$T")" = 200 ] && [ "$(remote)" = 401 ] && [ "$(api_code "$H" GET /status)" = 200 ] &&
	pass "mgmt: allowManagementFrom 10.78.0.2/32 admits that host (token still required)" ||
	fail "mgmt: allowed" "with token $(remote "$T"), without $(remote)"
daemon_stop "$H"

echo '{"settings": {"allowManagementFrom": ["10.99.0.0/16"]}}' >"$H/local.conf"
daemon_start "$H" 9993 "$SVC" $N1 || { fail "start 3" ""; exit 1; }
[ "$(remote "$T")" = 000 ] && [ "$(api_code "$H" GET /status)" = 200 ] &&
	pass "mgmt: a host outside allowManagementFrom is turned away" || fail "mgmt: not allowed" "got $(remote "$T")"
daemon_stop "$H"
exit 0
