#!/usr/bin/env bash
# bench_quick.sh - smoke check that `bench/run.sh --quick` runs end to end and
# measures something in every section it can run here (not a timed test:
# no number is compared with a threshold).
source "$(dirname "$0")/../lib.sh"

for f in zerotier-netcon-service zerotier-one zerotier-cli libzerotierintercept.so liblwip.so libztnode.a; do
	if [ ! -e "$BIN/$f" ]; then
		skip bench_quick "$BIN/$f not built"
		exit 0
	fi
done

out=$NC_TMP/RESULTS.md
if ! NC_BENCH_OUT=$out timeout 170 bash "$ROOT/bench/run.sh" --quick >"$NC_TMP/bench.log" 2>&1; then
	fail bench_quick "bench/run.sh --quick failed: $(tail -n 8 "$NC_TMP/bench.log" | tr '\n' ' ')"
	exit 1
fi
pass bench_quick_runs

# sections every layout has: engine, netcon<->netcon throughput, TCP RR
# through netcon, memory
for want in "armor+dearmor 1400 B" "netcon <-> netcon" "TCP RR p50, netcon -> netcon" "netcon daemon idle" "per joined network"; do
	if grep -q -- "| $want" "$out"; then
		pass "bench_quick: $want measured"
	else
		fail "bench_quick: $want" "missing from the table: $(grep -c '^|' "$out") rows; log tail: $(grep -i 'fail\|not\|no ' "$NC_TMP/bench.log" | tail -n 5 | tr '\n' ' ')"
	fi
done
# with tap nodes (root), the round trips are also paired round by round
if grep -q -- "| TCP RR p50, tap -> tap " "$out"; then
	if grep -qE -- "^\| netcon -> netcon / tap -> tap \| [0-9.]+ \| x " "$out"; then
		pass "bench_quick: paired round-trip ratio"
	else
		fail "bench_quick: paired round-trip ratio" "no 'netcon -> netcon / tap -> tap' row in section 2d"
	fi
fi
exit 0
