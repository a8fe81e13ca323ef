#!/usr/bin/env bash
# docker-test/test.sh [FILTER] - run the application compatibility tests.
#
# Every docker-test/<dir>/ with a test.conf is one test, named
# APP_VERSION_ARCH (nginx_1.22_x86_64). FILTER selects the tests whose name
# or directory contains it (several words: comma-separated).
#
# Each test plays the seed's two containers without a container engine:
#   netcon   a network namespace (as root) running <dir>/netcon_entrypoint.sh:
#            zerotier-netcon-service -d, the network joined by touching
#            networks.d/NWID.conf, then the application with LD_PRELOAD and
#            ZT_NC_NETWORK and nothing else changed;
#   monitor  another namespace running <dir>/monitor_entrypoint.sh: our
#            zerotier-one with a kernel tap on the same network, which runs
#            the checks (or the server, for client tests).
# A third namespace holds the controller, which is also the moon root. Without
# root everything runs on loopback and the monitor is a second netcon daemon
# whose clients run under the preload.
#
# Results: docker-test/_results/OK.<test>.txt or FAIL.<test>.txt (verdict and
# the raw output that decided it), docker-test/_results/<test>/ (logs and
# exchanged files), a summary table on stdout and in docker-test/RESULTS.md.
# Exit status: 0 if every selected test passed.
#
# Environment: NC_COMPAT_RESULTS (results dir), NC_COMPAT_RESULTS_MD (table
# file; "-" for none), NC_COMPAT_TIMEOUT (seconds per test, 180),
# NC_TOPO=loopback (force the no-root layout), NC_COMPAT_BREAK=md5 (make the
# expected md5 wrong: every md5 check must FAIL), NC_KEEP=1 (keep work dir),
# ZT_OFFICIAL_BIN=/path/to/zerotier-one (the monitor runs that official
# binary instead of ours: an interoperability run), NC_COMPAT_DRY=1 (harness self-check: the same entry points and checks with
# no ZeroTier at all, applications on the plain underlay; needs root).
set -u
DT=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$DT/.." && pwd)
BUILD=$DT/_build
FILTER=${1:-}
RESULTS=${NC_COMPAT_RESULTS:-$DT/_results}
RESULTS_MD=${NC_COMPAT_RESULTS_MD:-$DT/RESULTS.md}
TIMEOUT=${NC_COMPAT_TIMEOUT:-180}
ZT_BINDIR=$BUILD/bin
ARCH=$(uname -m)
. "$DT/lib/topo.sh"
. "$DT/lib/zt.sh"
. "$ROOT/scripts/preload.sh"   # nc_san_scan for sanitizer runs

die() { echo "test.sh: $*" >&2; exit 1; }
[ -s "$BUILD/ready" ] || die "run docker-test/build.sh first"
NWID=$(cat "$BUILD/nwid")
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)

# deb_ver PKG - major.minor of an installed Debian package, or "missing"
deb_ver() {
	local v
	v=$(dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null | grep '^install ok installed' | awk '{print $4}')
	[ -n "$v" ] || { echo missing; return; }
	echo "$v" | sed -E 's/^[0-9]+://; s/^([0-9]+)\.([0-9]+).*/\1.\2/'
}

# match NAME DIR - selected by FILTER?
match() {
	local f
	[ -z "$FILTER" ] && return 0
	for f in ${FILTER//,/ }; do
		case "$1" in *"$f"*) return 0 ;; esac
		case "$2" in *"$f"*) return 0 ;; esac
	done
	return 1
}

# ---- the test list -------------------------------------------------------
T_NAMES=(); T_DIRS=(); T_APPS=(); T_VERS=(); T_CHECKS=(); T_MISSING=()
for conf in "$DT"/*/test.conf; do
	d=$(dirname "$conf")
	APP=""; PKGS=""; CHECKS=""
	unset -f app_version
	. "$conf"
	ver=$(app_version 2>/dev/null)
	[ -n "$ver" ] || ver=missing
	name="${APP}_${ver}_${ARCH}"
	match "$name" "$(basename "$d")" || continue
	miss=""
	for p in $PKGS; do [ "$(deb_ver "$p")" = missing ] && miss="$miss $p"; done
	[ "$ver" = missing ] && miss="${miss:- $APP}"
	T_NAMES+=("$name"); T_DIRS+=("$d"); T_APPS+=("$APP"); T_VERS+=("$ver")
	T_CHECKS+=("$CHECKS"); T_MISSING+=("$miss")
done
[ ${#T_NAMES[@]} -gt 0 ] || die "no test matches '$FILTER'"

# ---- the topology: controller, netcon, monitor --------------------------
WORK=$(mktemp -d /tmp/nc-compat.XXXXXX)
chmod 755 "$WORK"
RPIDS=()
cleanup() {
	local p
	for p in "${RPIDS[@]:-}"; do [ -n "$p" ] && kill -- "-$p" 2>/dev/null; done
	for f in "$WORK"/*/*/home/zerotier-one.pid "$WORK"/ctl/zerotier-one.pid; do
		[ -f "$f" ] && topo_kill_pidfile "$f"
	done
	topo_teardown
	nc_san_scan "$WORK"
	[ -n "${NC_KEEP:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

topo_setup || die "could not create the topology"
topo_node ctl && topo_node netcon && topo_node monitor || die "could not create the nodes"
if [ "$TOPO_MODE" = netns ]; then MONITOR_MODE=tap; else MONITOR_MODE=netcon; fi
MONITOR_BIN=""
if [ -n "${ZT_OFFICIAL_BIN:-}" ]; then
	[ "$MONITOR_MODE" = tap ] || die "ZT_OFFICIAL_BIN needs the netns topology (root)"
	[ -x "$ZT_OFFICIAL_BIN" ] || die "ZT_OFFICIAL_BIN=$ZT_OFFICIAL_BIN is not executable"
	MONITOR_BIN=$ZT_OFFICIAL_BIN
fi
zt_log "topology: $TOPO_MODE (controller ${TOPO_IP[ctl]}/${TOPO_PORT[ctl]}, netcon ${TOPO_IP[netcon]}/${TOPO_PORT[netcon]}, monitor ${TOPO_IP[monitor]}/${TOPO_PORT[monitor]} as $MONITOR_MODE), network $NWID"

DRY=${NC_COMPAT_DRY:-}
[ -n "$DRY" ] && [ "$TOPO_MODE" != netns ] && die "NC_COMPAT_DRY needs the netns topology (root)"
cp -a "$BUILD/ctl" "$WORK/ctl"
zt_no_planet_conf "$WORK/ctl/local.conf"
[ -n "$DRY" ] || zt_start ctl zerotier-netcon-service "$WORK/ctl" "${TOPO_PORT[ctl]}" || die "the controller did not start"
[ -n "$DRY" ] || zt_make_moon "$BUILD/ctl" "${TOPO_IP[ctl]}/${TOPO_PORT[ctl]}" "$WORK/moons.d" || die "could not sign the moon"
for r in netcon monitor; do
	mkdir -p "$WORK/seed-$r"
	cp -a "$BUILD/seed/$r/." "$WORK/seed-$r/"
	cp -f "$WORK"/moons.d/*.moon "$WORK/seed-$r/moons.d/" 2>/dev/null
done

# ---- one test ------------------------------------------------------------
# run_test INDEX - run both entry points, wait for a verdict (-> VERDICT),
# stop them
run_test() {
	local i=$1 name=${T_NAMES[$1]} d=${T_DIRS[$1]} xchg r pid start verdict=""
	xchg=$RESULTS/$name
	rm -rf "$xchg"; mkdir -p "$xchg"
	rm -f "$RESULTS/OK.$name.txt" "$RESULTS/FAIL.$name.txt"
	RPIDS=()
	for r in netcon monitor; do
		local w=$WORK/$name/$r
		mkdir -p "$w/home" "$w/data" "$w/app"
		chmod 755 "$WORK/$name" "$w" "$w/data"
		topo_spawn "$r" "$xchg/$r.log" env ZT_HOME="$w/home" ZT_BINDIR="$ZT_BINDIR" ZT_PORT="${TOPO_PORT[$r]}" \
			ZT_SEED="$WORK/seed-$r" NWID="$NWID" TEST="$name" RESULTS="$RESULTS" XCHG="$xchg" \
			DATA="$w/data" APPDIR="$w/app" MONITOR_MODE="$MONITOR_MODE" SSH_KEYDIR="$BUILD/ssh" \
			NC_WAIT_S="${NC_WAIT_S:-60}" NC_COMPAT_BREAK="${NC_COMPAT_BREAK:-}" NC_NO_PLANET=1 \
			NC_DRY_ADDR="${DRY:+${TOPO_IP[$r]}}" MONITOR_BIN="$MONITOR_BIN" \
			bash "$d/${r}_entrypoint.sh"
		RPIDS+=("$TOPO_PID")
	done
	start=$(date +%s)
	while :; do
		[ -e "$RESULTS/OK.$name.txt" ] && { verdict=OK; break; }
		[ -e "$RESULTS/FAIL.$name.txt" ] && { verdict=FAIL; break; }
		if ! kill -0 "${RPIDS[0]}" 2>/dev/null && ! kill -0 "${RPIDS[1]}" 2>/dev/null; then
			sleep 0.5
			[ -e "$RESULTS/OK.$name.txt" ] && { verdict=OK; break; }
			[ -e "$RESULTS/FAIL.$name.txt" ] && { verdict=FAIL; break; }
			nc_harness_fail "$name" "both entry points exited without a verdict"
			verdict=FAIL; break
		fi
		if [ $(( $(date +%s) - start )) -ge "$TIMEOUT" ]; then
			nc_harness_fail "$name" "no verdict after ${TIMEOUT}s"
			verdict=FAIL; break
		fi
		sleep 0.2
	done
	# stop everything this test started: entry points (process groups),
	# daemons (pid files), whatever else lives in the two namespaces
	for pid in "${RPIDS[@]}"; do kill -- "-$pid" 2>/dev/null; done
	for r in netcon monitor; do
		topo_kill_pidfile "$WORK/$name/$r/home/zerotier-one.pid"
		topo_kill_ns "$r"
	done
	for pid in "${RPIDS[@]}"; do kill -9 -- "-$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
	RPIDS=()
	rm -rf "$xchg"/dl.* "$xchg"/ssh.*
	for r in netcon monitor; do
		find "$WORK/$name/$r/app" "$WORK/$name/$r/home" -maxdepth 2 -name '*.log' 2>/dev/null |
			while read -r f; do tail -n 400 "$f" >"$xchg/$r.$(basename "$(dirname "$f")").$(basename "$f")"; done
	done
	# the logs of both sides go into the verdict file, after the raw output;
	# a failure also gets the tails of the applications' own logs
	{
		for r in netcon monitor; do
			echo "---- $r entry point log ($xchg/$r.log) ----"
			tail -n 60 "$xchg/$r.log" 2>/dev/null
		done
		if [ "$verdict" = FAIL ]; then
			for f in "$xchg"/netcon.*.log "$xchg"/monitor.*.log; do
				[ -s "$f" ] || continue
				echo "---- $(basename "$f") (last 15 distinct lines) ----"
				tail -n 400 "$f" | awk '!seen[$0]++' | tail -n 15
			done
		fi
	} >>"$RESULTS/$verdict.$name.txt"
	VERDICT=$verdict
}

# nc_harness_fail NAME WHY - a verdict from the harness itself
nc_harness_fail() {
	{
		echo "FAIL: $1: $2"
		echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  role: harness  monitor: $MONITOR_MODE"
		for f in "$RESULTS/$1"/*_raw.txt; do
			[ -f "$f" ] && { echo "---- $(basename "$f") ----"; cat "$f"; }
		done
	} >"$RESULTS/FAIL.$1.txt"
}

# ---- run them -------------------------------------------------------------
ROWS=(); nfail=0; nok=0; nskip=0
for i in "${!T_NAMES[@]}"; do
	name=${T_NAMES[$i]}
	if [ -n "${T_MISSING[$i]}" ]; then
		zt_log "SKIP $name: not installed:${T_MISSING[$i]} (run build.sh as root)"
		ROWS+=("| ${T_APPS[$i]} | ${T_VERS[$i]} | \`$name\` | ${T_CHECKS[$i]} | SKIP (not installed:${T_MISSING[$i]}) |")
		nskip=$((nskip + 1))
		continue
	fi
	zt_log "RUN  $name"
	t0=$(date +%s)
	run_test "$i"
	v=$VERDICT
	dt=$(( $(date +%s) - t0 ))
	counts=$(cat "$RESULTS/$name/checks" 2>/dev/null || echo "-")
	why=""
	if [ "$v" = OK ]; then
		nok=$((nok + 1))
	else
		nfail=$((nfail + 1))
		why=$(head -n1 "$RESULTS/FAIL.$name.txt" | sed "s/^FAIL: $name: //" | cut -c1-200 | tr '|' '/')
	fi
	zt_log "$v   $name ($counts checks, ${dt}s)${why:+: $why}"
	ROWS+=("| ${T_APPS[$i]} | ${T_VERS[$i]} | \`$name\` | ${T_CHECKS[$i]} ($counts) | $v${why:+: $why} |")
done

# ---- summary ----------------------------------------------------------------
{
	echo "# Application compatibility results"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), Debian $(cat /etc/debian_version 2>/dev/null), $(uname -srm),"
	echo "topology: $TOPO_MODE, monitor: $( [ -n "$MONITOR_BIN" ] && echo "the official zerotier-one ($MONITOR_BIN, $("$MONITOR_BIN" -v 2>/dev/null | head -n1)), kernel tap, in its own namespace" || { [ "$MONITOR_MODE" = tap ] && echo 'our zerotier-one (kernel tap) in its own namespace' || echo 'a second netcon daemon, clients under the preload'; })."
	echo "Produced by \`make compat\` (docker-test/build.sh && docker-test/test.sh${FILTER:+ $FILTER})${NC_COMPAT_BREAK:+, with NC_COMPAT_BREAK=$NC_COMPAT_BREAK}."
	echo
	echo "| app | version | test | checks (passed/total) | result |"
	echo "|---|---|---|---|---|"
	printf '%s\n' "${ROWS[@]}"
	echo
	echo "$nok OK, $nfail FAIL, $nskip skipped. Raw output: docker-test/_results/{OK,FAIL}.<test>.txt"
} >"$WORK/RESULTS.md"
echo
cat "$WORK/RESULTS.md"
[ "$RESULTS_MD" = "-" ] || cp -f "$WORK/RESULTS.md" "$RESULTS_MD"
[ "$nfail" -eq 0 ]
