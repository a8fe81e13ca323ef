#!/usr/bin/env bash
# tests/fuzz/run-short.sh - run every built fuzz target (build/fuzz/fuzz_*,
# from `make fuzz-build`) on its seed corpus, sharing a fixed time budget
# (so a new target does not lengthen `make test`); PASS:/FAIL: per target.
# Usage: tests/fuzz/run-short.sh [TOTAL_SECONDS]   (default 80, >= 5 s each)
# TOTAL_SECONDS 0 (or NC_FUZZ_SECONDS=0): replay each corpus input once, no
# fuzzing - what make asan does. The targets are taken from $NC_FUZZ_B/fuzz
# (default $B/fuzz).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
B=${NC_FUZZ_B:-${B:-build}}
TOTAL=${1:-${NC_FUZZ_SECONDS:-80}}
ntargets=$(ls "$B"/fuzz/fuzz_* 2>/dev/null | wc -l)
SECS=$((TOTAL / (ntargets > 0 ? ntargets : 1)))
[ "$SECS" -ge 5 ] || SECS=5
[ "$TOTAL" = 0 ] && SECS=0
found=0
for f in "$B"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	found=1
	name=$(basename "$f"); t=${name#fuzz_}
	seeds=tests/fuzz/corpus/$t
	work=$(mktemp -d); log=$work/log
	mkdir -p "$work/corpus"; [ -d "$seeds" ] && cp "$seeds"/* "$work/corpus/" 2>/dev/null
	if [ "$SECS" = 0 ]; then run=(-runs=0); else run=(-max_total_time="$SECS"); fi
	"$f" "${run[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/" "$work/corpus" >"$log" 2>&1
	rc=$?
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
	if [ "$rc" -eq 0 ] && [ "$SECS" = 0 ]; then
		echo "PASS: fuzz $t replay ($(ls "$work/corpus" | wc -l) corpus inputs, no report)"
	elif [ "$rc" -eq 0 ]; then
		echo "PASS: fuzz $t (${execs:-?} executions in ${SECS}s)"
	else
		echo "FAIL: fuzz $t: exit $rc"
		# enough of the log to name the cause from a CI transcript alone:
		# harness and assertion messages, the sanitizer's report, the stack
		grep -E 'ERROR|SUMMARY|artifact|Assertion|fuzz_[a-z]+: |^ *#[0-9]+ ' "$log" | head -30 | sed 's/^/    /'
		for a in "$work"/crash-* "$work"/timeout-*; do
			[ -f "$a" ] || continue
			echo "    input $(basename "$a") ($(stat -c %s "$a") bytes), base64:"
			head -c 4096 "$a" | base64 -w 76 | sed 's/^/      /'
		done
		mkdir -p "$B/fuzz-artifacts" && cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$B/fuzz-artifacts/" 2>/dev/null
	fi
	rm -rf "$work"
done
[ "$found" -eq 1 ] || echo "SKIP: fuzz: no targets built (run make fuzz-build)"
