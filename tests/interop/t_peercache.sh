#!/usr/bin/env bash
# t_peercache.sh - the other ways to teach an official node our identity
# without a root (see README.md):
#  * a hand-made peer cache entry HOME/peers.d/<addr>.peer (u8 2, binary
#    identity, u16 proto/major/minor/revision, u16 path count, InetAddresses)
#    works, but only once the official node needs that peer: here it joins a
#    network whose controller is our engine, HELLOs the cached path and sends
#    its NETWORK_CONFIG_REQUEST (our tool, not a controller, answers ERROR
#    UNSUPPORTED_OPERATION);
#  * local.conf "virtual" alone does not: it gives a path, not the identity.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
interop_require interop_peercache_hello
TOOLS=${IX_TOOLS:-$BIN/tools}
[ -x "$TOOLS/interop_hello" ] || { fail interop_peercache_hello "$TOOLS/interop_hello not built"; exit 1; }
ix_two_ns || { fail interop_peercache_hello "namespaces"; exit 1; }

# mkpeer IDENTITY_PUBLIC_FILE IP/PORT OUT - an official peers.d entry
mkpeer() {
	python3 - "$@" <<-'EOF2'
	import socket, struct, sys
	a, t, pub = open(sys.argv[1]).read().strip().split(":")[:3]
	ip, port = sys.argv[2].split("/")
	d = bytes([2]) + bytes.fromhex(a) + b"\0" + bytes.fromhex(pub) + b"\0"
	d += struct.pack(">HHHHH", 11, 1, 14, 1, 1) + b"\4" + socket.inet_aton(ip) + struct.pack(">H", int(port))
	open(sys.argv[3], "wb").write(d)
	EOF2
}

ip netns exec "$NSB" "$TOOLS/interop_hello" -I "$NC_TMP/ours.id" -g >/dev/null || { fail interop_peercache_hello "identity"; exit 1; }
OB=$(cut -c1-10 "$NC_TMP/ours.id.public")

# run_case NAME HOME SECONDS [-W VERB] - our engine listens; the official
# node starts and joins a network of ours; the engine's trace goes to
# $NC_TMP/NAME.log
run_case() {
	local name=$1 h=$2 secs=$3
	shift 3
	off_idtool generate "$h/identity.secret" "$h/identity.public" >/dev/null
	local oa
	oa=$(off_address "$h")
	ip netns exec "$NSB" "$TOOLS/interop_hello" -I "$NC_TMP/ours.id" -b 10.99.0.2/9994 \
		-P "$h/identity.public" -s "$oa@10.99.0.1/9993" -t "$secs" "$@" >"$NC_TMP/$name.log" 2>&1 &
	local hp=$!
	nc_track $hp
	sleep 0.3
	off_start "$NSA" "$h" 9993 || return 1
	off_cli "$NSA" "$h" join "${OB}000001" >/dev/null
	wait $hp
	off_stop "$h"
}

T=interop_peercache_hello
H=$NC_TMP/off1
off_home "$H"
mkdir -p "$H/peers.d" && mkpeer "$NC_TMP/ours.id.public" 10.99.0.2/9994 "$H/peers.d/$OB.peer"
run_case peers "$H" 25 -W 0x0b
if grep -q "CHECK hello ok" "$NC_TMP/peers.log" && grep -q "CHECK verb ok" "$NC_TMP/peers.log"; then
	pass $T
else
	cat "$NC_TMP/peers.log"; fail $T "the official node did not use its peers.d entry"
fi
grep -E '^ *[0-9]+ (IN|OUT)' "$NC_TMP/peers.log" | head -n 8

T=interop_peercache_virtual_alone_is_not_enough
H=$NC_TMP/off2
off_home "$H"
cat >"$H/local.conf" <<EOF2
{"settings":{"portMappingEnabled":false,"allowSecondaryPort":false,"allowTcpFallbackRelay":false},
 "virtual":{"$OB":{"try":["10.99.0.2/9994"]}}}
EOF2
run_case virtual "$H" 15
# documents official behaviour: a path without the identity teaches nothing
if grep -qE "IN  (HELLO|NETWORK_CONFIG_REQUEST)" "$NC_TMP/virtual.log"; then
	echo "NOTE: the official node used local.conf virtual without knowing our identity"
	grep -E '^ *[0-9]+ (IN|OUT)' "$NC_TMP/virtual.log" | head -n 8
	fail $T "official behaviour differs from README.md: update it"
else
	pass $T
fi
exit 0
