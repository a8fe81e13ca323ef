#!/usr/bin/env bash
# t_idtool.sh - identities, signatures and moons cross-checked between our
# zerotier-idtool and the official one (no network): each validates the
# other's identities, verifies the other's signatures, derives the same public
# identity, and genmoon on the same JSON gives the same world bytes except
# for the timestamp and the signature.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
if [ -z "$OFF" ]; then skip interop_idtool "ZT_OFFICIAL_BIN not set"; exit 0; fi
OURS=$BIN/zerotier-idtool
[ -x "$OURS" ] || { fail interop_idtool "$OURS not built"; exit 1; }
cd "$NC_TMP" || exit 1

check() {	# check NAME CMD... : pass when CMD succeeds
	local name=$1; shift
	if "$@" >"$NC_TMP/$name.out" 2>&1; then pass "$name"; else cat "$NC_TMP/$name.out"; fail "$name" "$*"; fi
}

"$OURS" generate ours.secret ours.public >/dev/null
"$OFF" -i generate off.secret off.public >/dev/null
check interop_idtool_official_validates_ours "$OFF" -i validate ours.secret
check interop_idtool_official_validates_ours_public "$OFF" -i validate ours.public
check interop_idtool_ours_validates_official "$OURS" validate off.secret
T=interop_idtool_getpublic_same
if [ "$("$OURS" getpublic off.secret)" = "$("$OFF" -i getpublic off.secret)" ] &&
	[ "$("$OURS" getpublic ours.secret)" = "$("$OFF" -i getpublic ours.secret)" ]; then
	pass $T
else
	fail $T "getpublic differs"
fi

head -c 3000 /dev/urandom >msg
"$OURS" sign ours.secret msg >sig.ours
"$OFF" -i sign off.secret msg >sig.off
check interop_idtool_official_verifies_our_signature "$OFF" -i verify ours.public msg "$(cat sig.ours)"
check interop_idtool_ours_verifies_official_signature "$OURS" verify off.public msg "$(cat sig.off)"
T=interop_idtool_signatures_deterministic_and_equal
# Ed25519 is deterministic: both tools must produce the same 96 bytes
if [ "$("$OFF" -i sign ours.secret msg)" = "$(cat sig.ours)" ]; then pass $T; else
	echo "official: $("$OFF" -i sign ours.secret msg)"; echo "ours:     $(cat sig.ours)"
	fail $T "signatures of the same message with the same key differ"
fi
# a flipped message byte must fail on both sides
printf 'x' | dd of=msg bs=1 seek=100 conv=notrunc 2>/dev/null
T=interop_idtool_bad_signature_rejected
if ! "$OFF" -i verify ours.public msg "$(cat sig.ours)" >/dev/null 2>&1 &&
	! "$OURS" verify off.public msg "$(cat sig.off)" >/dev/null 2>&1; then
	pass $T
else
	fail $T "a signature over other bytes verified"
fi

T=interop_idtool_genmoon_same_bytes
"$OURS" initmoon ours.public >moon.json
python3 - moon.json <<'EOF2'
import json, sys
m = json.load(open(sys.argv[1]))
m["roots"][0]["stableEndpoints"] = ["10.99.0.2/9993", "192.168.77.1/9993"]
json.dump(m, open(sys.argv[1], "w"))
EOF2
mkdir -p o f
(cd o && "$OURS" genmoon ../moon.json >/dev/null) && (cd f && "$OFF" -i genmoon ../moon.json >/dev/null)
if python3 - o/*.moon f/*.moon <<'EOF2'
import sys
a = open(sys.argv[1], "rb").read(); b = open(sys.argv[2], "rb").read()
# type 1, id 8, timestamp 8, key 64, signature 96, roots...
strip = lambda d: d[:9] + d[17:81] + d[177:]
if strip(a) != strip(b):
    print("ours    ", a.hex()); print("official", b.hex()); sys.exit(1)
EOF2
then pass $T; else fail $T "world serialization differs (see hex)"; fi
exit 0
