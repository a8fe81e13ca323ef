#!/usr/bin/env bash
# tests/interop/run.sh - run the interop tests against the official ZeroTier
# One (tests/interop/t_*.sh), print their PASS/FAIL/SKIP lines and end with
# "N passed, N failed". Without ZT_OFFICIAL_BIN every test prints SKIP.
# Usage: tests/interop/run.sh [FILTER]   (FILTER: substring of the test name)
# IX_JOBS (default 2) tests run at once: each has its own namespaces, so
# they do not see each other; most of their time is spent waiting.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
B=${B:-build}
export B
FILTER=${1:-}
JOBS=${IX_JOBS:-2}
LOG=$B/test-logs/interop
mkdir -p "$LOG"
passed=0; failed=0; skipped=0

# one TEST - run it, leave its log and its exit status and duration beside it
one() {
	local t=$1 n out t0 rc
	n=$(basename "$t" .sh)
	out=$LOG/$n.log
	t0=$SECONDS
	timeout -k 5 "${IX_TIMEOUT:-300}" bash "$t" >"$out" 2>&1; rc=$?
	echo "$rc $((SECONDS - t0))" >"$out.rc"
}

# report TEST - print a finished test's lines and add up its counts
report() {
	local n out rc secs p f s
	n=$(basename "$1" .sh)
	out=$LOG/$n.log
	[ -f "$out.rc" ] || echo "1 0" >"$out.rc"
	read -r rc secs <"$out.rc"
	echo "== interop/$n ($secs s)"
	grep -E '^(PASS|FAIL|SKIP): ' "$out"
	p=$(grep -c '^PASS: ' "$out"); f=$(grep -c '^FAIL: ' "$out"); s=$(grep -c '^SKIP: ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: interop/$n: exited with status $rc (see $out)"; f=1
	fi
	if [ "$f" -gt 0 ]; then
		grep -v -E '^(PASS|SKIP): ' "$out" | tail -n 40 | sed 's/^/    /'
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

tests=()
for t in "$HERE"/t_*.sh; do
	n=$(basename "$t" .sh)
	case "$n" in *"$FILTER"*) tests+=("$t") ;; esac
done
# the longest first, so the two lanes finish together
order=()
for n in t_multicast t_member t_bigconfig t_relay t_netcon t_rules t_moon t_peercache t_hello t_controller t_planet t_ipv6wire; do
	for t in "${tests[@]}"; do [ "$(basename "$t" .sh)" = "$n" ] && order+=("$t"); done
done
for t in "${tests[@]}"; do
	case " ${order[*]} " in *" $t "*) ;; *) order+=("$t") ;; esac
done

running=0
for t in "${order[@]}"; do
	rm -f "$LOG/$(basename "$t" .sh).log.rc"
	one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
done
wait
for t in "${order[@]}"; do report "$t"; done
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
