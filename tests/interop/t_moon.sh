#!/usr/bin/env bash
# t_moon.sh - moons made by OUR idtool, served by OUR daemon, judged by an
# official node:
#  1. the official node loads our moon v1 from moons.d/ and keeps our tap
#     daemon as its MOON root (HELLO both ways, a path);
#  2. our daemon holds v2 of the same moon (newer timestamp, signed by our
#     genmoon with the same key); the official node advertises v1 in its
#     HELLO, our OK(HELLO) attaches v2, and the official node verifies our
#     signature and replaces v1: listmoons shows v2's timestamp and its
#     moons.d/ file becomes byte-identical to ours;
#  3. control: a v3 whose signature is damaged is refused (v1 stays), so 2
#     really tested the signature. (Official nodes do not check signatures of
#     worlds they load from moons.d/ into an empty slot; updates they do.)
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
interop_require interop_moon_ours_is_root
for f in zerotier-one zerotier-idtool; do
	[ -x "$BIN/$f" ] || { fail interop_moon_ours_is_root "$BIN/$f not built"; exit 1; }
done
ix_two_ns || { fail interop_moon_ours_is_root "namespaces"; exit 1; }
IDT=$BIN/zerotier-idtool

# world_ts FILE - a world's timestamp (bytes 9..16)
world_ts() { python3 -c 'import sys;print(int.from_bytes(open(sys.argv[1],"rb").read()[9:17],"big"))' "$1"; }

HB=$NC_TMP/ours
our_home "$HB"
"$IDT" generate "$HB/identity.secret" "$HB/identity.public" >/dev/null
chmod 600 "$HB/identity.secret"	# our daemon refuses a secret readable by others
OB=$(cut -c1-10 "$HB/identity.public")
MID=$(printf '000000%s' "$OB")
"$IDT" initmoon "$HB/identity.public" >"$NC_TMP/moon.json"
python3 - "$NC_TMP/moon.json" <<'EOF2'
import json, sys
m = json.load(open(sys.argv[1]))
m["roots"][0]["stableEndpoints"] = ["10.99.0.2/9993"]
json.dump(m, open(sys.argv[1], "w"))
EOF2
mkdir -p "$NC_TMP/v1" "$NC_TMP/v2"
(cd "$NC_TMP/v1" && "$IDT" genmoon ../moon.json >/dev/null)
sleep 0.05
(cd "$NC_TMP/v2" && "$IDT" genmoon ../moon.json >/dev/null)
V1=$NC_TMP/v1/$MID.moon V2=$NC_TMP/v2/$MID.moon
[ -f "$V1" ] && [ -f "$V2" ] || { fail interop_moon_ours_is_root "our genmoon wrote no $MID.moon"; exit 1; }
T1=$(world_ts "$V1") T2=$(world_ts "$V2")
ix_log "moon $MID v1 ts $T1, v2 ts $T2"

# run_case HOME_OFF MOON_FOR_OURS - our daemon holds MOON_FOR_OURS, the official v1
run_case() {
	local ha=$1 mine=$2
	mkdir -p "$HB/moons.d" && rm -f "$HB/moons.d/"* && cp "$mine" "$HB/moons.d/$MID.moon"
	our_start "$NSB" "$HB" "$BIN/zerotier-one" 9993 || return 1
	off_home "$ha"
	mkdir -p "$ha/moons.d" && cp "$V1" "$ha/moons.d/"
	off_start "$NSA" "$ha" 9993 || return 1
}
stop_ours() { our_stop "$HB"; }

HA=$NC_TMP/off1
run_case "$HA" "$V2" || { fail interop_moon_ours_is_root "daemons did not start"; ix_dump_logs "$NC_TMP"; exit 1; }
T=interop_moon_ours_is_root
isroot() { off_cli "$NSA" "$HA" listpeers | grep -qE "^200 listpeers $OB 10\.99\.0\.2/9993;.* MOON"; }
if WAIT_S=30 wait_for isroot; then pass $T; else off_cli "$NSA" "$HA" listpeers; fail $T "official node does not use our node as MOON root"; fi
T=interop_moon_update_signed_by_us_accepted
updated() { off_cli "$NSA" "$HA" listmoons | grep -q "\"timestamp\": $T2"; }
if WAIT_S=30 wait_for updated; then pass $T; else
	off_cli "$NSA" "$HA" listmoons | grep -E '"(id|timestamp)"'
	fail $T "official node kept v1 ($T1), expected our v2 ($T2)"
fi
T=interop_moon_update_stored_byte_identical
if WAIT_S=10 wait_for cmp -s "$HA/moons.d/$MID.moon" "$V2"; then pass $T; else
	xxd "$HA/moons.d/$MID.moon" | head; fail $T "official moons.d file differs from our v2"
fi
off_stop "$HA"; stop_ours

# 3. damaged signature in the update: must be refused
V3=$NC_TMP/v3.moon
sleep 0.05
mkdir -p "$NC_TMP/v3" && (cd "$NC_TMP/v3" && "$IDT" genmoon ../moon.json >/dev/null)
python3 - "$NC_TMP/v3/$MID.moon" "$V3" <<'EOF2'
import sys
d = bytearray(open(sys.argv[1], "rb").read()); d[120] ^= 0x01
open(sys.argv[2], "wb").write(d)
EOF2
T3=$(world_ts "$V3")
HA=$NC_TMP/off3
run_case "$HA" "$V3" || { fail interop_moon_bad_signature_refused "daemons did not start"; exit 1; }
T=interop_moon_bad_signature_refused
WAIT_S=30 wait_for isroot
sleep 8	# several HELLO/OK rounds
if off_cli "$NSA" "$HA" listmoons | grep -q "\"timestamp\": $T1"; then pass $T; else
	off_cli "$NSA" "$HA" listmoons | grep -E '"(id|timestamp)"'
	fail $T "official node accepted a moon update with a damaged signature (ts $T3)?"
fi
if [ "$NC_FAILED" != 0 ]; then ix_dump_logs "$NC_TMP"; fi
exit 0
