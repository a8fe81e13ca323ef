#!/usr/bin/env bash
# sanitizer_canary.sh - make asan's report collection can fail: a program
# with a heap overflow, one with a leak and one with a signed overflow, each
# run like a daemon whose output a test throws away, must each leave the
# report tests/run.sh turns into a FAIL (the reports are then taken away, so
# this test itself passes). Also: the daemon, the CLI and the preload library
# of this build are instrumented, and an unmodified program under the
# preload really runs the sanitized library next to the ASan runtime.
source "$(dirname "$0")/../lib.sh"

if [ "${NC_SAN:-0}" != 1 ] || [ -z "${NC_SAN_LOG:-}" ]; then
	skip sanitizer_canary "not a sanitizer build (make asan runs it)"
	exit 0
fi

for f in zerotier-netcon-service zerotier-one zerotier-cli libzerotierintercept.so; do
	if ldd "$BIN/$f" 2>/dev/null | grep -q libasan; then
		pass "sanitizer build: $f links the ASan runtime"
	else
		fail "sanitizer build: $f" "$BIN/$f is not instrumented"
	fi
done

cat >"$NC_TMP/bug.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
char *volatile keep;
int main(int argc, char **argv)
{
	volatile int big = 2147483647;
	char *p;
	if (strcmp(argv[1], "heap") == 0) {
		p = malloc(8);
		p[argc + 6] = 1;	/* one past the end */
		free(p);
	} else if (strcmp(argv[1], "leak") == 0) {
		keep = malloc(100);
		keep = NULL;
	} else {
		printf("%d\n", big + argc);
	}
	return 0;
}
EOF
if ! gcc -O0 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-o "$NC_TMP/bug" "$NC_TMP/bug.c" 2>"$NC_TMP/cc.err"; then
	fail sanitizer_canary "cannot build the canary: $(head -3 "$NC_TMP/cc.err")"
	exit 1
fi

# report_of KIND WANT - run the canary with output dropped; its report file
# (asan.PID in NC_SAN_LOG) must name WANT; moved away afterwards
report_of() {
	local kind=$1 want=$2 pid r
	"$NC_TMP/bug" "$kind" >/dev/null 2>&1 &
	pid=$!
	wait "$pid"
	r=$NC_SAN_LOG/asan.$pid
	if [ -s "$r" ] && grep -q "$want" "$r"; then
		pass "canary $kind: output dropped, report kept for tests/run.sh ($want)"
	else
		fail "canary $kind" "no report naming '$want' in $r ($(ls "$NC_SAN_LOG" | tr '\n' ' '))"
	fi
	mv -f "$r" "$NC_TMP/" 2>/dev/null
}
report_of heap heap-buffer-overflow
report_of leak 'detected memory leaks'

# UBSan prints on stderr only: a daemon's log in the test's work directory is
# what nc_san_scan finds (tests/lib.sh calls it on exit)
mkdir -p "$NC_TMP/scan/home"
"$NC_TMP/bug" ub >/dev/null 2>"$NC_TMP/scan/home/stderr.log"
rc=$?
before=$(ls "$NC_SAN_LOG" | grep -c '^ubsan\.scan\.')
nc_san_scan "$NC_TMP/scan"
after=$(ls "$NC_SAN_LOG" | grep -c '^ubsan\.scan\.')
if [ "$rc" -ne 0 ] && [ "$after" -gt "$before" ] &&
   grep -q 'signed integer overflow' "$NC_SAN_LOG"/ubsan.scan.$$.*; then
	pass "canary ub: fatal (exit $rc), the report in the kept log collected"
else
	fail "canary ub" "exit $rc, scan files $before -> $after"
fi
rm -f "$NC_SAN_LOG"/ubsan.scan.$$.*
rm -rf "$NC_TMP/scan"

# the preload: python3 under the sanitized library maps both
maps=$(env $(nc_preload_env "$BIN/libzerotierintercept.so" python3) python3 -c \
	'print(open("/proc/self/maps").read())' 2>&1)
if echo "$maps" | grep -q libasan && echo "$maps" | grep -q "$BIN/libzerotierintercept.so"; then
	pass "preload: python3 runs $B/libzerotierintercept.so next to the ASan runtime"
else
	fail "preload" "python3's maps lack libasan or $BIN/libzerotierintercept.so: $(echo "$maps" | tail -2)"
fi
exit 0
