#!/usr/bin/env bash
# t_hello.sh - (a) our engine (libztnode.a through include/zt_node.h, in
# tests/tools/interop_hello.c) and an official node greet each other:
#  1. engine-initiated: the engine orbits a moon whose root is the official
#     node (made by the official idtool). It HELLOs it, gets OK(HELLO), shows
#     the peer's version/latency/path, and after 14 s of silence sends its
#     keepalive ECHO, which the official node answers with OK(ECHO).
#  2. official-initiated: the official node has a moon whose root is OUR
#     engine (our identity, our endpoint) in moons.d/. It learns our identity
#     from the moon, HELLOs us; the engine answers and learns the official
#     node from that HELLO; the engine's static path to it
#     (zt_node_add_static_path) then gets its OK(HELLO).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
interop_require interop_hello_engine_initiated
TOOLS=${IX_TOOLS:-$BIN/tools}
[ -x "$TOOLS/interop_hello" ] || { fail interop_hello "$TOOLS/interop_hello not built"; exit 1; }

ix_two_ns || { fail interop_hello "namespaces"; exit 1; }

# --- 1. engine-initiated
T=interop_hello_engine_initiated
H=$NC_TMP/off1
off_home "$H"
off_start "$NSA" "$H" 9993 || { fail $T "official node did not start"; ix_dump_logs "$NC_TMP"; exit 1; }
OA=$(off_address "$H")
MOON=$(ix_make_moon "$H/identity.public" 10.99.0.1/9993 "$NC_TMP/moon1") || { fail $T "genmoon"; exit 1; }
ix_log "official $OA, moon $MOON"
if ip netns exec "$NSB" "$TOOLS/interop_hello" -I "$NC_TMP/ours1.id" -m "$MOON" \
	-P "$H/identity.public" -t 40 -e >"$NC_TMP/hello1.log" 2>&1; then
	pass $T
else
	cat "$NC_TMP/hello1.log"; fail $T "see the trace above"
fi
grep -E '^( *[0-9]+ (IN|OUT)|PEER|CHECK)' "$NC_TMP/hello1.log"
off_stop "$H"

# --- 2. official-initiated: our engine is a moon root of the official node
T=interop_hello_official_initiated
H=$NC_TMP/off2
off_home "$H"
ip netns exec "$NSB" "$TOOLS/interop_hello" -I "$NC_TMP/ours2.id" -g >/dev/null ||
	{ fail $T "identity"; exit 1; }
OURMOON=$(ix_make_moon "$NC_TMP/ours2.id.public" 10.99.0.2/9994 "$NC_TMP/moon2") || { fail $T "genmoon"; exit 1; }
mkdir -p "$H/moons.d" && cp "$OURMOON" "$H/moons.d/"
# the official identity is made beforehand (official idtool), so the engine
# can be given its static path and the engine listens before the official
# node sends its first HELLO
off_idtool generate "$H/identity.secret" "$H/identity.public" >/dev/null || { fail $T "idtool generate"; exit 1; }
OA=$(off_address "$H")
ip netns exec "$NSB" "$TOOLS/interop_hello" -I "$NC_TMP/ours2.id" -b 10.99.0.2/9994 \
	-P "$H/identity.public" -s "$OA@10.99.0.1/9993" -t 40 >"$NC_TMP/hello2.log" 2>&1 &
HP=$!
nc_track $HP
sleep 0.5
off_start "$NSA" "$H" 9993 || { fail $T "official node did not start"; ix_dump_logs "$NC_TMP"; exit 1; }
ix_log "official $OA with our moon $(basename "$OURMOON")"
if wait $HP; then
	pass $T
else
	cat "$NC_TMP/hello2.log"; fail $T "see the trace above"
fi
grep -E '^( *[0-9]+ (IN|OUT)|PEER|CHECK)' "$NC_TMP/hello2.log" | head -n 30
# the official node lists our engine as its MOON root, with a path
if off_cli "$NSA" "$H" listpeers | grep -E "^200 listpeers $(cut -c1-10 "$NC_TMP/ours2.id.public") 10\.99\.0\.2/9994;.* MOON" >/dev/null; then
	pass interop_hello_official_lists_our_moon
else
	off_cli "$NSA" "$H" listpeers; off_cli "$NSA" "$H" listmoons
	fail interop_hello_official_lists_our_moon "official listpeers does not show our engine as MOON with a path"
fi
exit 0
