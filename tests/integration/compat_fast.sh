#!/usr/bin/env bash
# compat_fast.sh - the fast subset of the application compatibility suite
# (docker-test/): python3 -m http.server, nginx and redis-server inside a
# netcon, checked from the monitor (our zerotier-one tap node in its own
# namespace as root; a second netcon daemon otherwise). One PASS:/FAIL: line
# per application, then a negative check: with NC_COMPAT_BREAK=md5 the
# expected md5 is wrong on purpose and the suite must report FAIL with an
# md5-mismatch reason (a check that cannot fail would pass there too).
source "$(dirname "$0")/../lib.sh"

DT=$ROOT/docker-test
RES=$NC_TMP/results
mkdir -p "$RES"

for f in zerotier-netcon-service zerotier-one zerotier-cli zerotier-idtool libzerotierintercept.so liblwip.so; do
	if [ ! -e "$BIN/$f" ]; then
		skip compat_fast "$BIN/$f not built"
		exit 0
	fi
done

if ! B=$B bash "$DT/build.sh" python3,nginx,redis >"$NC_TMP/build.log" 2>&1; then
	fail compat_build "docker-test/build.sh failed: $(tail -n 5 "$NC_TMP/build.log" | tr '\n' ' ')"
	exit 1
fi
pass compat_build

# run_apps FILTER - run the suite for FILTER into $RES; returns its status
run_apps() {
	NC_COMPAT_RESULTS=$RES NC_COMPAT_RESULTS_MD=$NC_TMP/RESULTS.md NC_COMPAT_TIMEOUT=${NC_COMPAT_TIMEOUT:-120} \
		bash "$DT/test.sh" "$1" >"$NC_TMP/test-$1.log" 2>&1
}

run_apps python3,nginx,redis_
for app in python3 nginx redis; do
	ok=$(ls "$RES"/OK."${app}"_*.txt 2>/dev/null | head -n1)
	bad=$(ls "$RES"/FAIL."${app}"_*.txt 2>/dev/null | head -n1)
	if [ -n "$ok" ] && [ -z "$bad" ]; then
		pass "compat_$app ($(head -n1 "$ok" | sed 's/^OK: //'))"
	elif [ -n "$bad" ]; then
		fail "compat_$app" "$(head -n1 "$bad")"
		sed -n '2,40p' "$bad" | sed 's/^/    /'
	else
		fail "compat_$app" "no result file; test.sh said: $(tail -n 5 "$NC_TMP/test-python3,nginx,redis_.log" | tr '\n' ' ')"
	fi
done

# negative check: a deliberately wrong expected md5 must FAIL, naming md5
rm -rf "$RES"; mkdir -p "$RES"
NC_COMPAT_BREAK=md5 run_apps python3
rc=$?
bad=$(ls "$RES"/FAIL.python3_*.txt 2>/dev/null | head -n1)
# the transfers themselves must work (greeting and sequential requests pass,
# the real md5 arrives): only the two md5 checks may fail
if [ "$rc" -ne 0 ] && [ -n "$bad" ] && head -n1 "$bad" | grep -q '2/4 checks passed.*md5 mismatch' &&
	! ls "$RES"/OK.python3_*.txt >/dev/null 2>&1; then
	pass "compat_negative_md5 (NC_COMPAT_BREAK=md5 -> $(head -n1 "$bad" | cut -c1-120))"
else
	fail compat_negative_md5 "NC_COMPAT_BREAK=md5 did not produce FAIL with an md5 mismatch (rc=$rc, file=${bad:-none})"
fi
exit 0
