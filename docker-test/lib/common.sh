# docker-test/lib/common.sh - helpers for the netcon/monitor entry-point
# scripts. An image copies this file next to its entry point; the namespace
# harness (docker-test/test.sh) runs the entry points in place. Everything a
# container would get from its Dockerfile comes in through these variables:
#
#   ZT_HOME      ZeroTier home of this node        [/var/lib/zerotier-one]
#   ZT_BINDIR    zerotier-* binaries, libzerotierintercept.so, liblwip.so
#                                                   [/var/lib/zerotier-one]
#   ZT_PORT      the daemon's UDP/API port          [9993]
#   ZT_SEED      directory with identity.secret/public, moons.d/, local.conf
#                to install into ZT_HOME before the first start  [/opt/zt-seed]
#   NWID         network to join                    [contents of /opt/nwid]
#   TEST         test name (names the result files) [unnamed]
#   RESULTS      shared volume: verdicts OK.TEST.txt / FAIL.TEST.txt
#                                                   [/opt/results]
#   XCHG         shared volume for addresses and sums  [$RESULTS/TEST]
#   DATA         where served files live            [/opt/data]
#   APPDIR       the application's config, logs, pid files  [/opt/app]
#   MONITOR_MODE tap (zerotier-one) or netcon (fallback: a second netcon
#                daemon with clients under the preload)  [tap]
#   NC_COMPAT_BREAK  "md5": make every expected md5 wrong (negative check)
#   NC_DRY_ADDR  dry run (harness self-check): no ZeroTier at all, the
#                application runs on the plain underlay at this address
#   MONITOR_BIN  the tap daemon of the monitor, e.g. an official
#                zerotier-one (interop run)         [$ZT_BINDIR/zerotier-one]
#   NC_WAIT_S    how long to wait for anything      [60]

ZT_HOME=${ZT_HOME:-/var/lib/zerotier-one}
ZT_BINDIR=${ZT_BINDIR:-/var/lib/zerotier-one}
ZT_PORT=${ZT_PORT:-9993}
ZT_SEED=${ZT_SEED:-/opt/zt-seed}
NWID=${NWID:-$(cat /opt/nwid 2>/dev/null)}
TEST=${TEST:-unnamed}
RESULTS=${RESULTS:-/opt/results}
XCHG=${XCHG:-$RESULTS/$TEST}
DATA=${DATA:-/opt/data}
APPDIR=${APPDIR:-/opt/app}
MONITOR_MODE=${MONITOR_MODE:-tap}
NC_WAIT_S=${NC_WAIT_S:-60}
ZT_CLI="$ZT_BINDIR/zerotier-cli -D$ZT_HOME"
NC_PRELOAD="$ZT_BINDIR/libzerotierintercept.so"
export ZT_HOME ZT_BINDIR ZT_PORT NWID TEST RESULTS XCHG DATA APPDIR MONITOR_MODE
mkdir -p "$XCHG" "$RESULTS" "$DATA" "$APPDIR"

# log MSG... - a timestamped line on stderr (the harness keeps it per role)
log() { echo "[$(date +%H:%M:%S.%N | cut -c1-12) ${ROLE:-?}] $*" >&2; }

# nc_result OK|FAIL TEXT - write the verdict file for this test, with the raw
# output that decided it (TEXT, then the file named by $NC_RAW if set).
nc_result() {
	local verdict=$1 text=$2 f="$RESULTS/$1.$TEST.txt"
	{
		echo "$verdict: $TEST: $text"
		echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  role: ${ROLE:-?}  monitor: $MONITOR_MODE"
		if [ -n "${NC_RAW:-}" ] && [ -f "$NC_RAW" ]; then
			echo "---- raw output ----"
			cat "$NC_RAW"
		fi
	} >"$f.tmp"
	mv -f "$f.tmp" "$f"
	log "verdict $verdict: $text"
}

# nc_wait_file PATH [SECONDS] - wait until PATH exists and is not empty
nc_wait_file() {
	local t=$(( ${2:-$NC_WAIT_S} * 10 ))
	while [ $t -gt 0 ]; do
		[ -s "$1" ] && return 0
		sleep 0.1; t=$((t - 1))
	done
	return 1
}

# nc_wait_socket PATH [SECONDS] - wait until PATH is a Unix socket
nc_wait_socket() {
	local t=$(( ${2:-$NC_WAIT_S} * 10 ))
	while [ $t -gt 0 ]; do
		[ -S "$1" ] && return 0
		sleep 0.1; t=$((t - 1))
	done
	return 1
}

# nc_expected_md5 FILE - the md5 a check must see for FILE: what the serving
# side published, or a wrong one when NC_COMPAT_BREAK=md5.
nc_expected_md5() {
	local m
	m=$(cat "$1" 2>/dev/null)
	if [ "${NC_COMPAT_BREAK:-}" = md5 ]; then
		log "NC_COMPAT_BREAK=md5: expecting a wrong md5 on purpose"
		m=$(printf '%s-broken' "$m" | md5sum | cut -d' ' -f1)
	fi
	echo "$m"
}

# nc_make_file PATH MB - a file of MB MiB of random bytes (kept if present)
nc_make_file() {
	[ -s "$1" ] && return 0
	mkdir -p "$(dirname "$1")"
	head -c $(( $2 * 1048576 )) /dev/urandom >"$1.tmp" && mv -f "$1.tmp" "$1"
}

# nc_md5 FILE - md5 of FILE (or of stdin with -)
nc_md5() { md5sum "$1" | cut -d' ' -f1; }

# nc_install_seed - put identity, moons and local.conf in place, and the
# network to join (networks.d/NWID.conf, touched as the seed's README says).
nc_install_seed() {
	mkdir -p "$ZT_HOME/networks.d" "$ZT_HOME/moons.d"
	if [ -d "$ZT_SEED" ]; then
		for f in identity.secret identity.public local.conf planet; do
			[ -f "$ZT_SEED/$f" ] && cp -f "$ZT_SEED/$f" "$ZT_HOME/$f"
		done
		[ -f "$ZT_HOME/identity.secret" ] && chmod 600 "$ZT_HOME/identity.secret"
		cp -f "$ZT_SEED"/moons.d/*.moon "$ZT_HOME/moons.d/" 2>/dev/null
	fi
	[ -f "$ZT_BINDIR/liblwip.so" ] && cp -f "$ZT_BINDIR/liblwip.so" "$ZT_HOME/liblwip.so"
	touch "$ZT_HOME/networks.d/$NWID.conf"
}

# nc_start_daemon BINARY - start zerotier-netcon-service or zerotier-one with
# -d on ZT_HOME, join NWID, wait for identity.secret. Return 0 or 1.
nc_start_daemon() {
	local bin=$1 path
	nc_install_seed
	path=$ZT_BINDIR/$bin
	[ "$bin" = zerotier-one ] && [ -n "${MONITOR_BIN:-}" ] && path=$MONITOR_BIN
	log "starting $path -d -p$ZT_PORT $ZT_HOME (network $NWID)"
	NC_NO_PLANET=1 "$path" -d -p"$ZT_PORT" "$ZT_HOME" || { log "$bin failed to start"; return 1; }
	local t=$(( NC_WAIT_S * 10 ))
	while [ ! -f "$ZT_HOME/identity.secret" ]; do
		sleep 0.1; t=$((t - 1))
		[ $t -gt 0 ] || { log "no identity.secret after ${NC_WAIT_S}s"; return 1; }
	done
	nc_wait_file "$ZT_HOME/zerotier-one.pid" 10 || log "warning: no zerotier-one.pid"
	# The daemon joins networks.d/*.conf at start-up; join is a no-op then,
	# and catches a daemon that only scans networks.d once.
	$ZT_CLI join "$NWID" >/dev/null 2>&1 || true
	return 0
}

# nc_my_addr - our IPv4 address on NWID (no prefix), empty if none yet
nc_my_addr() {
	$ZT_CLI listnetworks 2>/dev/null | grep -i "$NWID" |
		grep -oE '([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]+' | head -n1 | cut -d/ -f1
}

# nc_wait_addr - wait until NWID is OK and we have an IPv4 address; print it
nc_wait_addr() {
	local t=$(( NC_WAIT_S * 10 )) a
	while [ $t -gt 0 ]; do
		a=$(nc_my_addr)
		if [ -n "$a" ]; then echo "$a"; return 0; fi
		sleep 0.1; t=$((t - 1))
	done
	log "no address on $NWID after ${NC_WAIT_S}s; listnetworks says:"
	$ZT_CLI listnetworks >&2 2>&1 || true
	return 1
}

# nc_wait_tap ADDR - (tap mode) wait until the kernel has ADDR on an interface
nc_wait_tap() {
	local t=$(( NC_WAIT_S * 10 ))
	while [ $t -gt 0 ]; do
		ip -4 -o addr show 2>/dev/null | grep -q " $1/" && return 0
		sleep 0.1; t=$((t - 1))
	done
	log "address $1 never appeared on a kernel interface"
	return 1
}

# nc_preload_env (scripts/preload.sh) handles sanitizer builds of the library
# when the harness runs in place; an image has only the plain preload
if [ -f "$(dirname "${BASH_SOURCE[0]}")/../../scripts/preload.sh" ]; then
	. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/preload.sh"
else
	nc_preload_env() { echo "LD_PRELOAD=$1"; }
fi

# nc_netcon_env [PROGRAM] - the environment an application (PROGRAM, when
# named) gets inside the netcon: LD_PRELOAD and ZT_NC_NETWORK, nothing else
# changed (for a sanitizer build also the ASan runtime, see scripts/preload.sh)
nc_netcon_env() {
	[ -n "${NC_DRY_ADDR:-}" ] && return 0
	local pre
	pre=$(nc_preload_env "$NC_PRELOAD" "${1:-}") || { log "${1:-program} cannot run under a sanitizer build of the library"; pre="LD_PRELOAD=$NC_PRELOAD"; }
	echo "$pre ZT_NC_NETWORK=$ZT_HOME/nc_$NWID"
}

# nc_netcon_up - start the netcon daemon, wait for our address and the RPC
# socket, publish the address as $XCHG/netcon_addr. Exits on failure.
nc_netcon_up() {
	if [ -n "${NC_DRY_ADDR:-}" ]; then
		NETCON_ADDR=$NC_DRY_ADDR
		echo "$NETCON_ADDR" >"$XCHG/netcon_addr"
		return 0
	fi
	nc_start_daemon zerotier-netcon-service || { nc_result FAIL "netcon daemon did not start"; exit 1; }
	NETCON_ADDR=$(nc_wait_addr) || { nc_result FAIL "netcon got no address on $NWID"; exit 1; }
	nc_wait_socket "$ZT_HOME/nc_$NWID" || { nc_result FAIL "no RPC socket $ZT_HOME/nc_$NWID"; exit 1; }
	log "netcon address $NETCON_ADDR, RPC socket $ZT_HOME/nc_$NWID"
	echo "$NETCON_ADDR" >"$XCHG/netcon_addr"
}

# nc_monitor_up - start the monitor node: zerotier-one with a tap (tap mode)
# or a second netcon daemon (netcon mode). Sets MONITOR_ADDR and RUN (the
# prefix that puts a client command on the virtual network). Exits on failure.
nc_monitor_up() {
	if [ -n "${NC_DRY_ADDR:-}" ]; then
		MONITOR_ADDR=$NC_DRY_ADDR RUN=""
		echo "$MONITOR_ADDR" >"$XCHG/monitor_addr"
		return 0
	fi
	if [ "$MONITOR_MODE" = tap ]; then
		nc_start_daemon zerotier-one || { nc_result FAIL "monitor zerotier-one did not start"; exit 1; }
		MONITOR_ADDR=$(nc_wait_addr) || { nc_result FAIL "monitor got no address on $NWID"; exit 1; }
		nc_wait_tap "$MONITOR_ADDR" || { nc_result FAIL "monitor tap has no $MONITOR_ADDR"; exit 1; }
		RUN=""
	else
		nc_start_daemon zerotier-netcon-service || { nc_result FAIL "monitor netcon daemon did not start"; exit 1; }
		MONITOR_ADDR=$(nc_wait_addr) || { nc_result FAIL "monitor got no address on $NWID"; exit 1; }
		nc_wait_socket "$ZT_HOME/nc_$NWID" || { nc_result FAIL "no RPC socket on the monitor"; exit 1; }
		RUN="env $(nc_netcon_env curl)"
	fi
	log "monitor address $MONITOR_ADDR ($MONITOR_MODE)"
	echo "$MONITOR_ADDR" >"$XCHG/monitor_addr"
}

# nc_wait_ready WHO - wait for the other side's "ready" mark (netcon or
# monitor); print its address. Exits with a FAIL verdict on time-out.
nc_wait_ready() {
	local who=$1 t=$(( NC_WAIT_S * 10 ))
	while [ ! -e "$XCHG/${who}_ready" ]; do
		sleep 0.1; t=$((t - 1))
		[ $t -gt 0 ] || { nc_result FAIL "$who side never became ready"; exit 1; }
	done
	cat "$XCHG/${who}_addr"
}

# nc_wait_tcp HOST PORT [SECONDS] - (monitor) wait until HOST:PORT accepts a
# TCP connection, using $RUN so it goes over the virtual network
nc_wait_tcp() {
	local t=$(( ${3:-$NC_WAIT_S} * 2 ))
	while [ $t -gt 0 ]; do
		$RUN timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null && return 0
		sleep 0.5; t=$((t - 1))
	done
	return 1
}

# nc_check_md5 WHAT GOT EXPECTED - record one md5 comparison in $NC_RAW;
# return 0 when equal.
nc_check_md5() {
	echo "check $1: got md5 '$2' expected '$3'" >>"$NC_RAW"
	if [ -n "$2" ] && [ "$2" = "$3" ]; then return 0; fi
	NC_WHY="${NC_WHY:+$NC_WHY; }$1: md5 mismatch (got '${2:-none}' expected '$3')"
	return 1
}

# nc_check_eq WHAT GOT EXPECTED - record one comparison in $NC_RAW
nc_check_eq() {
	echo "check $1: got '$2' expected '$3'" >>"$NC_RAW"
	if [ "$2" = "$3" ]; then return 0; fi
	NC_WHY="${NC_WHY:+$NC_WHY; }$1: got '$2' expected '$3'"
	return 1
}

# nc_verdict CHECKS_PASSED CHECKS_TOTAL - write OK if all passed, else FAIL
nc_verdict() {
	echo "$1/$2" >"$XCHG/checks"	# before the verdict: the harness stops us on it
	if [ "$1" -eq "$2" ] && [ "$2" -gt 0 ]; then
		nc_result OK "$1/$2 checks passed"
	else
		nc_result FAIL "$1/$2 checks passed: ${NC_WHY:-no check ran}"
	fi
}
