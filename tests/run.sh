#!/usr/bin/env bash
# tests/run.sh - run every unit test binary and integration script, count the
# PASS/FAIL/SKIP lines they print, and end with "N passed, N failed".
# Usage: tests/run.sh [FILTER]   (FILTER: substring of the test file name)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
B=${B:-build}
export B
FILTER=${1:-}
LOG=$B/test-logs
mkdir -p "$LOG"
passed=0; failed=0; skipped=0

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
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	case "$n" in *"$FILTER"*) ;; *) continue ;; esac
	run_one "$n" 600 "$t"
done
for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	n=$(basename "$t" .sh)
	case "$n" in *"$FILTER"*) ;; *) continue ;; esac
	run_one "$n" 900 bash "$t"
done
if [ -x tests/fuzz/run-short.sh ] && [ -z "$FILTER" -o "$FILTER" = fuzz ]; then
	run_one fuzz-short 600 bash tests/fuzz/run-short.sh
fi
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
