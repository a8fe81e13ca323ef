#!/usr/bin/env bash
# t_probe.sh - (a0) packets built by hand from our identity and armor
# primitives (tests/tools/interop_probe.c) are accepted by an official node:
# it answers our HELLO with OK(HELLO) and our ECHO (cipher 1) with OK(ECHO)
# carrying the same bytes, and its replies pass our MAC check.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
T=interop_probe_hello_echo
interop_require $T
TOOLS=${IX_TOOLS:-$BIN/tools}
[ -x "$TOOLS/interop_probe" ] || { fail $T "$TOOLS/interop_probe not built"; exit 1; }

ix_two_ns || { fail $T "namespaces"; exit 1; }
H=$NC_TMP/off
off_home "$H"
off_start "$NSA" "$H" 9993 || { fail $T "official node did not start"; ix_dump_logs "$NC_TMP"; exit 1; }
ix_log "official node $(off_address "$H") up in $NSA"

if ip netns exec "$NSB" "$TOOLS/interop_probe" -v -t 15 "$H/identity.public" 10.99.0.1 9993 \
	>"$NC_TMP/probe.log" 2>&1; then
	pass $T
else
	cat "$NC_TMP/probe.log"
	fail $T "no OK(HELLO)+OK(ECHO) from the official node"
fi
grep -E '^(sent|recv|  OK|RESULT)' "$NC_TMP/probe.log"
# The official node lists us as a LEAF with our version and a path.
if off_cli "$NSA" "$H" listpeers | grep -E "^200 listpeers [0-9a-f]{10} 10\.99\.0\.2/[0-9]+;.* 1\.14\.1 LEAF" >/dev/null; then
	pass interop_probe_listed_by_official
else
	off_cli "$NSA" "$H" listpeers
	fail interop_probe_listed_by_official "official listpeers does not show us with a path"
fi
exit 0
