#!/usr/bin/env bash
# scripts/fuzz.sh SECONDS [TARGET...] - longer fuzzing runs (`make fuzz`,
# `make fuzz FUZZ_TARGETS="netconf packet"`): each built build/fuzz/fuzz_*
# (or the named ones), one at a time, for SECONDS on a working copy of its
# corpus (build/fuzz-corpus/<target>, seeded from tests/fuzz/corpus/<target>),
# logging executions per target to build/fuzz-logs/<target>.log. Record runs
# in tests/fuzz/FUZZ-LOG.md.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
B=${B:-build}
SECS=${1:-60}
shift || true
mkdir -p "$B/fuzz-logs" "$B/fuzz-artifacts"
status=0
for f in "$B"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f"); t=${name#fuzz_}
	if [ $# -gt 0 ]; then
		case " $* " in *" $t "*) ;; *) continue ;; esac
	fi
	corpus=$B/fuzz-corpus/$t
	mkdir -p "$corpus"
	[ -d "tests/fuzz/corpus/$t" ] && cp -n "tests/fuzz/corpus/$t"/* "$corpus/" 2>/dev/null
	log=$B/fuzz-logs/$t.log
	# fragment inputs are schedules of parts: 512 ops already overrun the
	# 64-slot table 8 times; longer inputs only repeat what these do, at a
	# cost in proportion to their length
	extra=
	[ "$t" = fragment ] && extra=-max_len=512
	# -timeout is wall-clock: 30 s, since these runs are meant for nice 19
	# beside other work, where an input may wait seconds for a CPU
	"$f" -max_total_time="$SECS" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 $extra \
		-artifact_prefix="$B/fuzz-artifacts/$t-" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
	if [ "$rc" -eq 0 ]; then
		echo "PASS: fuzz $t: ${execs:-?} executions in ${SECS}s, corpus $(ls "$corpus" | wc -l) inputs"
	else
		echo "FAIL: fuzz $t: exit $rc after ${execs:-?} executions (see $log, $B/fuzz-artifacts/)"
		status=1
	fi
done
exit $status
