#!/usr/bin/env bash
# bench/ab.sh DIR_A DIR_B [ROUNDS] - interleaved A/B of two builds of the
# netcon data path, on loopback (no root needed).
#
# DIR_A and DIR_B are build directories (each with zerotier-netcon-service,
# liblwip.so, libzerotierintercept.so), e.g. a copy of build/ from before a
# change and build/ after it. For each a daemon pair is set up as in
# tests/integration/daemon_netcon_pair.sh (A hosts the network on its
# controller and is the moon root, B joins); both pairs stay up and the
# measurements alternate A, B, A, B... so both see the same machine load.
#
# Per round and build: iperf3 (one TCP stream, B's netcon -> A's netcon,
# AB_SECS seconds) in Mbit/s and the CPU of both daemons per MB received
# (utime+stime from /proc/PID/stat: independent of what other tenants of
# the machine leave us); tcp_rr 64-byte round trips p50; new connections
# per second (tcp_rr -m conn -P 4); with AB_HTTP=1 also wrk -c 100 against
# nginx in A's netcon (wrk in B's netcon) and the daemons' CPU per request.
# Environment: AB_SECS (5), AB_ONLY (words: iperf rr conn http), AB_PERF=DIR
# (perf record -g of both daemons during each iperf3 and wrk run, files in
# DIR), AB_STRACE=DIR (strace -c of the server side's daemon during wrk, of
# both daemons during the connection test).
set -u
BD=$(cd "$(dirname "$0")" && pwd)
DA=$(cd "$1" && pwd) DB=$(cd "$2" && pwd)
ROUNDS=${3:-3}
SECS=${AB_SECS:-5}
ONLY=${AB_ONLY:-iperf rr conn}
[ "${AB_HTTP:-0}" = 1 ] && ONLY="$ONLY http"
source "$BD/../tests/lib.sh"
source "$BD/../tests/integration/daemon_lib.bash"
CLI=$DA/zerotier-cli IDTOOL=$DA/zerotier-idtool
mkdir -p "$BD/_build"
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -o "$BD/_build/tcp_rr" "$BD/tcp_rr.c" -lpthread || exit 1
TCPRR=$BD/_build/tcp_rr
want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }

declare -A HA HB NWID IPA
# pair TAG DIR SUBNET - start a daemon pair from DIR's binaries
pair() {
	local tag=$1 dir=$2 sub=$3 ha=$NC_TMP/$1a hb=$NC_TMP/$1b a b pa moon nw
	daemon_start "$ha" 0 "$dir/zerotier-netcon-service" || exit 1
	a=$(daddr "$ha"); pa=$(dport "$ha")
	moon=$(make_moon "$ha" "127.0.0.1/$pa")
	cp "$moon" "$ha/moons.d/"
	mkdir -p "$hb/moons.d"; cp "$moon" "$hb/moons.d/"
	printf '{ "settings": { "noPlanet": true }, "virtual": { "%s": { "try": [ "127.0.0.1/%s" ] } } }\n' \
		"$a" "$pa" >"$hb/local.conf"
	daemon_start "$hb" 0 "$dir/zerotier-netcon-service" || exit 1
	b=$(daddr "$hb"); nw=${a}000001
	ctl_make_network "$ha" "$nw" ab "$sub" >/dev/null
	ctl_authorize "$ha" "$nw" "$a" "$sub.1" >/dev/null
	ctl_authorize "$ha" "$nw" "$b" "$sub.2" >/dev/null
	cli "$ha" join "$nw" >/dev/null; cli "$hb" join "$nw" >/dev/null
	WAIT_S=30 wait_for net_ok "$ha" "$nw" && WAIT_S=30 wait_for net_ok "$hb" "$nw" || {
		echo "pair $tag: network not up" >&2; exit 1; }
	HA[$tag]=$ha HB[$tag]=$hb NWID[$tag]=$nw IPA[$tag]=$sub.1
}
# cpu_ms PID... - utime+stime of the processes, in ms
cpu_ms() {
	local t=0 p f
	for p in "$@"; do
		f=$(cut -d')' -f2 "/proc/$p/stat") || continue
		t=$((t + $(echo "$f" | awk '{print $12 + $13}')))
	done
	echo $((t * 1000 / $(getconf CLK_TCK)))
}
# pkts TAG - UDP datagrams sent by both daemons of pair TAG
pkts() {
	echo $(( $(api_body "${HA[$1]}" GET /metrics | awk '/^zt_packets_out_total/ {print $2}') +
		$(api_body "${HB[$1]}" GET /metrics | awk '/^zt_packets_out_total/ {print $2}') ))
}
pids() { echo "$(cat "${HA[$1]}/zerotier-one.pid") $(cat "${HB[$1]}/zerotier-one.pid")"; }
# in_nc TAG SIDE CMD... - run CMD in the netcon of pair TAG, side a or b
# (it execs: call it in the background, in $(...) or in ( ))
in_nc() {
	local tag=$1 side=$2 h; shift 2
	if [ "$side" = a ]; then h=${HA[$tag]}; else h=${HB[$tag]}; fi
	local d=$DA; [ "$tag" = B ] && d=$DB
	# exec: in the background, $! is then the program itself (nc_track
	# kills it at exit; the subshell's pid alone left servers running)
	LD_PRELOAD=$d/libzerotierintercept.so ZT_NC_NETWORK=$h/nc_${NWID[$tag]} exec "$@"
}

pair A "$DA" 10.147.31
pair B "$DB" 10.147.32
echo "pairs up: A=$DA B=$DB" >&2

# nginx in each pair's A side, for http
if want http; then
	for t in A B; do
		d=$NC_TMP/ngx$t; mkdir -p "$d/www" "$d/tmp"
		head -c 1024 /dev/zero | tr '\0' x >"$d/www/1k.txt"
		cat >"$d/nginx.conf" <<EOF
user root; worker_processes 2; daemon off; pid $d/nginx.pid; error_log $d/error.log;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 100000; client_body_temp_path $d/tmp; proxy_temp_path $d/tmp;
 fastcgi_temp_path $d/tmp; uwsgi_temp_path $d/tmp; scgi_temp_path $d/tmp;
 server { listen 80; root $d/www; } }
EOF
		in_nc $t a nginx -c "$d/nginx.conf" >/dev/null 2>&1 &
		nc_track $!
	done
	sleep 2
fi
for t in A B; do
	in_nc $t a "$TCPRR" -s 7001 >/dev/null 2>&1 &
	nc_track $!
done
sleep 1

for r in $(seq "$ROUNDS"); do
	for t in A B; do
		if want iperf; then
			in_nc $t a timeout $((SECS + 20)) iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
			sp=$!
			sleep 0.5
			k0=$(pkts $t)
			c0=$(cpu_ms $(pids $t))
			pp=""
			if [ -n "${AB_PERF:-}" ]; then
				for p in $(pids $t); do
					perf record -F 2000 -g -p "$p" -o "$AB_PERF/$t-$r-$p.data" -- sleep "$SECS" >/dev/null 2>&1 &
					pp="$pp $!"
				done
			fi
			if [ -n "${AB_STRACE:-}" ]; then
				for p in $(pids $t); do
					timeout "$SECS" strace -c -f -p "$p" -o "$AB_STRACE/iperf-$t-$r-$p.txt" &
					pp="$pp $!"
				done
			fi
			(in_nc $t b timeout $((SECS + 20)) iperf3 -c "${IPA[$t]}" -p 5201 -t "$SECS" -J) >"$NC_TMP/ip.json" 2>/dev/null
			c1=$(cpu_ms $(pids $t))
			wait $sp $pp 2>/dev/null
			k1=$(pkts $t)
			python3 - "$NC_TMP/ip.json" "$((c1 - c0))" "$t" "$r" "$((k1 - k0))" <<'PY'
import json, sys
try:
    e = json.load(open(sys.argv[1]))["end"]["sum_received"]
    mb = e["bytes"] / 1e6
    print("round %s %s iperf3 %.0f Mbit/s %.0f MB  daemons %.1f ms/MB  %.0f datagrams/MB" % (sys.argv[4],
          sys.argv[3], e["bits_per_second"] / 1e6, mb, int(sys.argv[2]) / mb, int(sys.argv[5]) / mb))
except Exception as x:
    print("round %s %s iperf3 failed: %s" % (sys.argv[4], sys.argv[3], x))
PY
		fi
		if want rr; then
			out=$(in_nc $t b timeout 30 "$TCPRR" -c "${IPA[$t]}" -p 7001 -m rr -z 64 -t 3 2>&1)
			echo "round $r $t tcp_rr $out"
		fi
		if want conn; then
			c0=$(cpu_ms $(pids $t))
			pp=""
			if [ -n "${AB_STRACE:-}" ]; then	# syscalls of both daemons
				timeout 3 strace -c -f -p "$(cat "${HA[$t]}/zerotier-one.pid")" -o "$AB_STRACE/conn-$t-$r-srv.txt" &
				pp="$pp $!"
				timeout 3 strace -c -f -p "$(cat "${HB[$t]}/zerotier-one.pid")" -o "$AB_STRACE/conn-$t-$r-cli.txt" &
				pp="$pp $!"
			fi
			out=$(in_nc $t b timeout 30 "$TCPRR" -c "${IPA[$t]}" -p 7001 -m conn -P 4 -t 3 2>&1)
			c1=$(cpu_ms $(pids $t))
			[ -n "$pp" ] && wait $pp 2>/dev/null
			n=$(echo "$out" | awk '{print $2}')
			echo "round $r $t conn $out  daemons $(awk -v c=$((c1 - c0)) -v n="${n:-0}" 'BEGIN{ if (n > 0) printf "%.0f us/conn", c * 1000 / n; else print "-" }')"
		fi
		if want http; then
			c0=$(cpu_ms $(pids $t))
			pp=""
			if [ -n "${AB_PERF:-}" ]; then
				perf record -F 1000 -g -p "$(echo $(pids $t) | tr ' ' ,)" -o "$AB_PERF/http-$t-$r.data" -- sleep "$SECS" >/dev/null 2>&1 &
				pp=$!
			fi
			if [ -n "${AB_STRACE:-}" ]; then	# syscalls of the server side's daemon
				timeout "$SECS" strace -c -f -p "$(cat "${HA[$t]}/zerotier-one.pid")" -o "$AB_STRACE/http-$t-$r.txt" &
				pp="$pp $!"
			fi
			out=$(in_nc $t b timeout $((SECS + 30)) wrk -t 2 -c 100 -d "${SECS}s" "http://${IPA[$t]}/1k.txt" 2>&1)
			c1=$(cpu_ms $(pids $t))
			[ -n "$pp" ] && wait $pp 2>/dev/null
			n=$(echo "$out" | awk '/requests in/ {print $1}')
			echo "round $r $t wrk $(echo "$out" | awk '/Requests\/sec/ {print $2}') req/s  daemons $(awk -v c=$((c1 - c0)) -v n="${n:-0}" 'BEGIN{ if (n > 0) printf "%.0f us/req", c * 1000 / n; else print "-" }') $(echo "$out" | grep -E 'errors|Non-2xx' | tr '\n' ' ')"
		fi
	done
done
