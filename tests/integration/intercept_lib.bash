# tests/integration/intercept_lib.bash - helpers for the intercept_*.sh tests
# (sourced, never run: tests/run.sh picks up *.sh only).
#
# Two netcon stacks run back to back in build/tools/nc_twostack, each with
# its RPC server: A (10.147.17.1, fd00::1) at $NC_A, B (10.147.17.2,
# fd00::2) at $NC_B. in_a / in_b run a real, unmodified program with
# LD_PRELOAD=libzerotierintercept.so on that stack.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

ICEPT_SO=${NC_ICEPT_SO:-$BIN/libzerotierintercept.so}
# icept_env PROGRAM - the preload environment for PROGRAM (scripts/preload.sh:
# a sanitizer build of the library gets the ASan runtime first; programs that
# cannot start under it get the regular build's library)
# (PROGRAM may come after "timeout N" and "env VAR=...": the first other word)
icept_env() {
	local a
	for a in "$@"; do
		case "$a" in timeout | env | -* | [0-9]* | *=*) ;; *) break ;; esac
	done
	nc_preload_env "$ICEPT_SO" "$a" || echo "LD_PRELOAD=$ICEPT_SO"
}
TWOSTACK=${NC_TWOSTACK:-$BIN/tools/nc_twostack}
NC_A=$NC_TMP/nc_a
NC_B=$NC_TMP/nc_b
IP_A=10.147.17.1
IP_B=10.147.17.2
IP6_A=fd00::1
IP6_B=fd00::2

# icept_require - skip the whole test when the pieces are not built
icept_require() {
	local f
	if nc_preload_sanitized "$ICEPT_SO" && ! nc_preload_env "$ICEPT_SO" curl >/dev/null; then
		skip "${ICEPT_TEST:-intercept}" "sanitizer build: curl cannot start under the ASan runtime (scripts/preload.sh) and build/libzerotierintercept.so is missing; run 'make all' too"
		exit 0
	fi
	for f in "$ICEPT_SO" "$TWOSTACK" "$@"; do
		if [ ! -e "$f" ]; then
			skip "${ICEPT_TEST:-intercept}" "$f not built"
			exit 0
		fi
	done
}

# icept_start_twostack - start the two stacks, wait for both RPC sockets
icept_start_twostack() {
	mkdir -p "$NC_TMP/lwip"
	"$TWOSTACK" -t "$NC_TMP/lwip" "$NC_A" "$NC_B" >"$NC_TMP/twostack.out" 2>"$NC_TMP/twostack.err" &
	TWOSTACK_PID=$!
	nc_track "$TWOSTACK_PID"
	if ! WAIT_S=20 wait_for grep -q ready "$NC_TMP/twostack.out"; then
		fail "nc_twostack starts" "$(tail -5 "$NC_TMP/twostack.err")"
		exit 1
	fi
}

# in_a CMD... / in_b CMD... - run CMD under the preload on stack A / B
in_a() { env $(icept_env "$@") ZT_NC_NETWORK="$NC_A" "$@"; }
in_b() { env $(icept_env "$@") ZT_NC_NETWORK="$NC_B" "$@"; }

# icept_bigfile PATH - 10 MB of random bytes; prints its md5
icept_bigfile() {
	mkdir -p "$(dirname "$1")"
	head -c $((10 * 1024 * 1024)) /dev/urandom >"$1"
	md5sum <"$1" | cut -d' ' -f1
}

# icept_fetch_md5 A|B URL - curl URL under the preload; prints the body's md5
icept_fetch_md5() {
	local side=$1 url=$2
	"in_$side" curl -sS -g --max-time 60 -o - "$url" 2>>"$NC_TMP/curl.err" | md5sum | cut -d' ' -f1
}

# icept_alive PID - is the process still running
icept_alive() { kill -0 "$1" 2>/dev/null; }

# icept_bg A|B LOG CMD... - start CMD in the background under the preload on
# that stack, output to LOG; BG_PID is CMD's own pid (tracked for cleanup)
icept_bg() {
	local sock=$NC_A log=$2
	[ "$1" = b ] && sock=$NC_B
	shift 2
	env $(icept_env "$@") ZT_NC_NETWORK="$sock" "$@" >"$log" 2>&1 &
	BG_PID=$!
	nc_track "$BG_PID"
}
