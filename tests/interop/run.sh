#!/usr/bin/env bash
# tests/interop/run.sh - run the interop tests against the official ZeroTier
# One (tests/interop/t_*.sh), print their PASS/FAIL/SKIP lines and end with
# "N passed, N failed". Without ZT_OFFICIAL_BIN every test prints SKIP.
# Usage: tests/interop/run.sh [FILTER]   (FILTER: substring of the test name)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
B=${B:-build}
export B
FILTER=${1:-}
LOG=$B/test-logs/interop
mkdir -p "$LOG"
passed=0; failed=0; skipped=0
for t in "$HERE"/t_*.sh; do
	n=$(basename "$t" .sh)
	case "$n" in *"$FILTER"*) ;; *) continue ;; esac
	out=$LOG/$n.log
	t0=$SECONDS
	timeout -k 5 "${IX_TIMEOUT:-300}" bash "$t" >"$out" 2>&1; rc=$?
	echo "== interop/$n ($((SECONDS - t0)) s)"
	grep -E '^(PASS|FAIL|SKIP): ' "$out"
	p=$(grep -c '^PASS: ' "$out"); f=$(grep -c '^FAIL: ' "$out"); s=$(grep -c '^SKIP: ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: interop/$n: exited with status $rc (see $out)"; f=1
	fi
	if [ "$f" -gt 0 ]; then
		grep -v -E '^(PASS|SKIP): ' "$out" | tail -n 40 | sed 's/^/    /'
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
