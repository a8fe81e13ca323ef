# scripts/preload.sh - the preload environment for an unmodified program under
# libzerotierintercept.so, for regular and sanitizer (make asan) builds alike.
# Sourced by tests/lib.sh, scripts/demo.sh, bench/run.sh and
# docker-test/lib/common.sh.
#
# A sanitizer build of the library needs the ASan runtime first in the
# program's initial library list (the runtime refuses to start otherwise), so
# the list becomes "libasan.so LIB". The program's own leaks at exit are not
# ours, so LeakSanitizer is off for it (detect_leaks=0 appended: the last
# setting wins). One exception: programs linked with libp11-kit (curl, wget)
# hang at start under any preloaded ASan runtime, with or without our
# library (p11-kit's constructor calls newlocale() before the runtime is up;
# glibc's setlocale lock is then never released): they get the uninstrumented
# library of the regular build ($NC_PRELOAD_PLAIN, default build/ of this
# checkout) when it exists.

NC_PRELOAD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# nc_preload_env LIB [PROGRAM] - print the environment assignments
# ("LD_PRELOAD=... [ASAN_OPTIONS=...]", no spaces inside a value) that run
# PROGRAM under LIB; for `env $(nc_preload_env LIB prog) prog ...`.
# Return: 1 (nothing printed) when PROGRAM cannot run under this LIB.
nc_preload_env() {
	local lib=$1 prog=${2:-} asan plain path
	asan=$(ldd "$lib" 2>/dev/null | awk '/libasan/ {print $3}')
	if [ -z "$asan" ]; then
		echo "LD_PRELOAD=$lib"
		return 0
	fi
	path=$(command -v "$prog" 2>/dev/null)
	if [ -n "$path" ] && ldd "$path" 2>/dev/null | grep -q libp11-kit; then
		plain=${NC_PRELOAD_PLAIN:-$NC_PRELOAD_ROOT/build/libzerotierintercept.so}
		if [ -e "$plain" ] && ! ldd "$plain" 2>/dev/null | grep -q libasan; then
			echo "LD_PRELOAD=$plain"
			return 0
		fi
		return 1
	fi
	echo "LD_PRELOAD=$asan:$lib ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
}

# nc_preload_sanitized LIB - is LIB a sanitizer build
nc_preload_sanitized() { ldd "$1" 2>/dev/null | grep -q 'lib\(a\|ub\)san'; }

# nc_san_scan DIR - for sanitizer runs (tests/run.sh exports NC_SAN_LOG):
# copy every file under DIR that holds a UBSan report ("runtime error:") into
# $NC_SAN_LOG, where tests/run.sh fails the test that made it. ASan and
# LeakSanitizer write there themselves (log_path); UBSan, a separate runtime
# in GCC's build, ignores log_path and prints on stderr, which the scripts
# keep in their work directories.
nc_san_scan() {
	local f n=0
	[ -n "${NC_SAN_LOG:-}" ] && [ -d "$1" ] || return 0
	while IFS= read -r f; do
		n=$((n + 1))
		{ echo "UBSan report found in $f:"; grep -a -B2 -A25 'runtime error:' "$f" | head -n 60; } \
			>"$NC_SAN_LOG/ubsan.scan.$$.$n"
	done < <(grep -r -l -a 'runtime error:' "$1" 2>/dev/null)
}
