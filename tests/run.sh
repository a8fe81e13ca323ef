#!/usr/bin/env bash
# tests/run.sh - run every unit test binary and integration script, count the
# PASS/FAIL/SKIP lines they print, and end with "N passed, N failed".
# Usage: tests/run.sh [FILTER]   (FILTER: substring of the test file name)
#        tests/run.sh -l "NAME..."  (exactly these tests: test_stack,
#                                    daemon_api, fuzz-short, ...)
#        tests/run.sh -x "NAME..." [FILTER]  (all but these; each one left
#                                    out prints a SKIP line saying so)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
B=${B:-build}
export B
LIST=""; EXCLUDE=""
if [ "${1:-}" = -l ]; then LIST=" ${2:-} "; shift 2; fi
if [ "${1:-}" = -x ]; then EXCLUDE=" ${2:-} "; shift 2; fi
FILTER=${1:-}
# selected NAME - by FILTER, or by the -l list; not if -x names it
selected() {
	if [ -n "$LIST" ]; then
		[[ "$LIST" == *" $1 "* ]] || return 1
	else
		case "$1" in *"$FILTER"*) ;; *) return 1 ;; esac
	fi
	if [ -n "$EXCLUDE" ] && [[ "$EXCLUDE" == *" $1 "* ]]; then
		echo "SKIP: $1: left out of this run (tests/run.sh -x)"
		skipped=$((skipped + 1))
		return 1
	fi
	return 0
}
LOG=$B/test-logs
mkdir -p "$LOG"
passed=0; failed=0; skipped=0

# A sanitizer build (make asan: B=build-asan): every report of every process
# the tests start (daemons whose stderr a test throws away included) goes to
# a file under $SANLOG; after each test any new file there is a FAIL of that
# test, printed in full. ASan, UBSan ("runtime error:") and LeakSanitizer
# alike; the build makes UBSan fatal too (-fno-sanitize-recover).
NC_SAN=0
ldd "$B/zerotier-netcon-service" 2>/dev/null | grep -q 'lib\(a\|ub\|t\)san' && NC_SAN=1
export NC_SAN
if [ "$NC_SAN" = 1 ]; then
	SANLOG=$ROOT/$LOG/sanitizer
	rm -rf "$SANLOG"; mkdir -p "$SANLOG"; chmod 1777 "$SANLOG"
	export ASAN_OPTIONS="log_path=$SANLOG/asan:detect_leaks=1:print_suppressions=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
	export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
	# GCC's UBSan runtime ignores log_path (stderr only): run_one greps each
	# test's output and nc_san_scan (scripts/preload.sh) the logs the
	# scripts keep, into $NC_SAN_LOG as ubsan.* files
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
	# make tsan: ThreadSanitizer's reports (data races) likewise
	export TSAN_OPTIONS="log_path=$SANLOG/tsan${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
	export NC_SAN_LOG=$SANLOG
	# processes get time to exit (and LeakSanitizer to scan) before kill -9
	export NC_TERM_WAIT=${NC_TERM_WAIT:-10}
	echo "# sanitizer build ($B): reports collected in $SANLOG"
fi

# san_reports NAME - FAIL NAME once per sanitizer report file that appeared
# while it ran (the file is renamed NAME.* so the next test starts clean)
san_reports() {
	local name=$1 r n=0
	[ "$NC_SAN" = 1 ] || return 0
	for r in "$SANLOG"/asan.* "$SANLOG"/ubsan.* "$SANLOG"/tsan.*; do
		[ -s "$r" ] || { rm -f "$r"; continue; }
		n=$((n + 1))
		mv "$r" "$SANLOG/$name.${r##*/}"; r=$SANLOG/$name.${r##*/}
		echo "FAIL: $name: sanitizer report: $(grep -m1 -E 'ERROR: |runtime error:|WARNING: ThreadSanitizer' "$r" | sed 's/^==[0-9]*==//' | cut -c1-160) ($r)"
		sed -n 1,60p "$r" | sed 's/^/    /'
	done
	return $n
}

run_one() {   # run_one NAME TIMEOUT CMD...
	local name=$1 to=$2; shift 2
	local out=$LOG/$name.log rc
	echo "== $name"
	local t0=$SECONDS
	timeout -k 5 "$to" "$@" >"$out" 2>&1; rc=$?
	echo "   ($((SECONDS - t0)) s)"
	grep -E '^(PASS|FAIL|SKIP): ' "$out"
	local p f s
	p=$(grep -c '^PASS: ' "$out"); f=$(grep -c '^FAIL: ' "$out"); s=$(grep -c '^SKIP: ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $name: exited with status $rc (see $out)"; f=1
		tail -n 20 "$out" | sed 's/^/    /'
	elif [ "$f" -gt 0 ]; then
		grep -v -E '^(PASS|SKIP): ' "$out" | tail -n 30 | sed 's/^/    /'
	fi
	# (PASS/FAIL/SKIP lines are the tests' own words, not reports)
	if [ "$NC_SAN" = 1 ] && grep -a -v -E '^(PASS|FAIL|SKIP): ' "$out" | grep -q -a ': runtime error: '; then
		grep -a -v -E '^(PASS|FAIL|SKIP): ' "$out" | grep -a -A25 ': runtime error: ' | head -n 60 >"$SANLOG/ubsan.out.$name"
	fi
	san_reports "$name" || f=$((f + $?))
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	selected "$n" || continue
	run_one "$n" 600 "$t"
done
for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	n=$(basename "$t" .sh)
	selected "$n" || continue
	run_one "$n" 900 bash "$t"
done
if [ -x tests/fuzz/run-short.sh ] && { if [ -n "$LIST" ]; then selected fuzz-short; else [ -z "$FILTER" ] || [ "$FILTER" = fuzz ]; fi; }; then
	run_one fuzz-short 600 bash tests/fuzz/run-short.sh
fi
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
