#!/usr/bin/env bash
# idtool_basic.sh - zerotier-idtool against the official vectors and itself:
# validate/getpublic/sign/verify on tests/vectors, generate, initmoon ->
# genmoon -> a moon that parses/verifies, genmoon of the vector moon.json
# reproduces the official .moon byte for byte, usage and error exits.
source "$(dirname "$0")/../lib.sh"
T=$BIN/zerotier-idtool
if [ ! -x "$T" ]; then skip "idtool" "$T not built"; exit 0; fi
cd "$NC_TMP"

# validate: every official identity, public and secret; a tampered one fails
ok=1
while read -r line; do
	[ -n "$line" ] || continue
	"$T" validate "$line" >/dev/null 2>&1 || ok=0
done < "$VEC/identity/identities.secret.txt"
while read -r line; do
	[ -n "$line" ] || continue
	"$T" validate "$line" >/dev/null 2>&1 || ok=0
done < "$VEC/identity/identities.public.txt"
[ $ok = 1 ] && pass "idtool: validate accepts the 32 official identity strings" || fail "idtool: validate official" "one rejected"
bad=$(head -1 "$VEC/identity/identities.public.txt" | sed 's/:0:\(.\)/:0:f/; s/:0:ff/:0:0f/')
out=$("$T" validate "$bad" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "FAILED validation" && pass "idtool: validate rejects a tampered identity" || fail "idtool: tampered" "rc=$rc $out"
out=$("$T" validate "$VEC/moon/identity.secret"); [ "$out" = "$VEC/moon/identity.secret is a valid identity" ] \
	&& pass "idtool: validate <file> message" || fail "idtool: validate file" "$out"

# getpublic: exactly the public file, no newline
"$T" getpublic "$VEC/moon/identity.secret" > pub.txt
cmp -s pub.txt <(tr -d '\n' < "$VEC/moon/identity.public") && pass "idtool: getpublic matches identity.public" || fail "idtool: getpublic" "$(cat pub.txt)"

# sign: reproduces the official signatures; verify accepts them (hex or file)
ok=1
while read -r addr file sig; do
	id=$(grep "^$addr:" "$VEC/identity/identities.secret.txt")
	got=$("$T" sign "$id" "$VEC/sign/$file")
	[ "$got" = "$sig" ] || ok=0
	pubid=$(grep "^$addr:" "$VEC/identity/identities.public.txt")
	"$T" verify "$pubid" "$VEC/sign/$file" "$sig" | grep -q "signature valid" || ok=0
	echo "$sig" > sig.txt
	"$T" verify "$pubid" "$VEC/sign/$file" sig.txt | grep -q "signature valid" || ok=0
	"$T" verify "$pubid" "$VEC/sign/$file" "${sig:0:20}00${sig:22}" >/dev/null 2>&1 && ok=0
done < "$VEC/sign/signatures.txt"
[ $ok = 1 ] && pass "idtool: sign reproduces and verify accepts the 4 official signatures" || fail "idtool: sign/verify" ""
pubid=$(head -1 "$VEC/identity/identities.public.txt")
out=$("$T" sign "$pubid" "$VEC/sign/msg1.bin" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "does not contain a private key" && pass "idtool: sign refuses a public identity" || fail "idtool: sign public" "$out"

# generate: files written, valid, public is the public half
out=$("$T" generate id.secret id.public); rc=$?
[ $rc = 0 ] && [ "$out" = "$(printf 'id.secret written\nid.public written')" ] && "$T" validate id.secret >/dev/null \
	&& [ "$("$T" getpublic id.secret)" = "$(cat id.public)" ] \
	&& pass "idtool: generate writes a valid secret/public pair" || fail "idtool: generate" "$out"
[ "$(stat -c %a id.secret)" = 600 ] && [ "$(stat -c %a id.public)" = 644 ] \
	&& pass "idtool: generate writes the secret 0600 (the daemon refuses a readable one)" \
	|| fail "idtool: secret file mode" "$(stat -c '%a %n' id.secret id.public)"
s=$("$T" generate); "$T" validate "$s" >/dev/null && pass "idtool: generate to stdout" || fail "idtool: generate stdout" "$s"

# genmoon of the official moon.json at its timestamp: byte-identical
mkdir -p g && (cd g && ZT_IDTOOL_TIMESTAMP=1795908683585 "$T" genmoon "$VEC/moon/moon.json" > out.txt)
cmp -s g/0000000f860d3b14.moon "$VEC/moon/0000000f860d3b14.moon" \
	&& grep -q "^wrote 0000000f860d3b14.moon (signed world with timestamp 1795908683585)$" g/out.txt \
	&& pass "idtool: genmoon reproduces the official .moon byte for byte" || fail "idtool: genmoon vector" "$(cat g/out.txt)"

# initmoon -> add an endpoint -> genmoon: a moon our engine accepts
"$T" initmoon id.public > moon.json; rc=$?
addr=$(cut -c1-10 id.public)
python3 - "$addr" <<'PY' && pass "idtool: initmoon JSON has the official shape" || fail "idtool: initmoon" "$(cat moon.json)"
import json,sys
m=json.load(open("moon.json"))
assert m["id"]==sys.argv[1] and m["objtype"]=="world" and m["worldType"]=="moon"
assert m["signingKey"]==m["updatesMustBeSignedBy"] and len(m["signingKey"])==128 and len(m["signingKey_SECRET"])==128
assert m["roots"][0]["identity"]==open("id.public").read().strip() and m["roots"][0]["stableEndpoints"]==[]
assert list(m.keys())==sorted(m.keys())
m["roots"][0]["stableEndpoints"]=["fd00::1/9993","127.0.0.1/9993"]
json.dump(m,open("moon2.json","w"))
PY
mkdir -p m2 && (cd m2 && "$T" genmoon ../moon2.json >/dev/null)
f=m2/000000${addr}.moon
if [ -f "$f" ]; then
	# the endpoints are sorted IPv4 first, as the official tool does
	python3 - "$f" <<'PY' && pass "idtool: genmoon output is a moon with sorted endpoints" || fail "idtool: genmoon" "bad layout"
import sys
b=open(sys.argv[1],"rb").read()
assert b[0]==0x7f and b[177]==1
off=178+71
assert b[off]==2 and b[off+1]==4 and b[off+8]==6
assert b[-2:]==b"\0\0"
PY
else
	fail "idtool: genmoon" "no $f"
fi

# usage
"$T" -h | grep -q "Usage:" && pass "idtool: -h prints usage on stdout, exit 0" || fail "idtool: -h" ""
"$T" bogus >/dev/null 2>err.txt; rc=$?
[ $rc = 1 ] && grep -q "Usage:" err.txt && pass "idtool: unknown command: usage on stderr, exit 1" || fail "idtool: bogus" "rc=$rc"
"$T" sign >/dev/null 2>err.txt; rc=$?
[ $rc = 1 ] && grep -q "Usage:" err.txt && pass "idtool: missing arguments: usage on stderr, exit 1" || fail "idtool: missing args" "rc=$rc"
"$T" validate /nonexistent >/dev/null 2>&1; [ $? = 1 ] && pass "idtool: unreadable file exits 1" || fail "idtool: unreadable" ""
exit 0
