# fault_lib.bash - helpers for the hardening tests (fault_*, load_*, access_*).
# Source after tests/lib.sh and daemon_lib.bash.
#
# net_up HA HB... - HA's daemon hosts a private network on its embedded
# controller and is the only root of a moon every other home gets in moons.d,
# plus a static path to it in local.conf; every daemon is started, authorized
# with address PFX.(index+1) and joined. Sets NW (network id), PFX (10.147.N),
# NC_SOCK[HOME] (the RPC socket of HOME's port) and NC_IP[HOME].
# NET_UP_FIXED=1: every daemon gets a port from fixed_port(), so that it can
# be restarted on the same one.

declare -A NC_SOCK=() NC_IP=()
ICEPT=$BIN/libzerotierintercept.so
# sanitizer builds: the ASan runtime must come first in the preload list
PRELOAD=$ICEPT
if [ -f "$ICEPT" ]; then
	_asan=$(ldd "$ICEPT" 2>/dev/null | awk '/libasan/ {print $3}')
	[ -n "$_asan" ] && PRELOAD="$_asan $ICEPT"
fi
PFX=${PFX:-10.147.$((30 + RANDOM % 60))}
# NC_ASAN=1 for sanitizer builds: ASan's quarantine (freed memory held back,
# 256 MB by default) makes RSS meaningless as a leak signal, and so does
# ThreadSanitizer's shadow memory, so RSS checks are skipped there (fd
# checks still apply; LeakSanitizer covers memory)
NC_ASAN=0
ldd "$BIN/zerotier-netcon-service" 2>/dev/null | grep -q 'lib[at]san' && NC_ASAN=1
# rss_check NAME BEFORE_A AFTER_A BEFORE_B AFTER_B SLACK_KB - pass/fail/skip
rss_check() {
	if [ "$NC_ASAN" = 1 ]; then
		skip "$1" "sanitizer build: RSS includes the allocator's quarantine or shadow (A $2 -> $3 kB, B $4 -> $5 kB)"
	elif [ "$3" -le $(($2 + $6)) ] && [ "$5" -le $(($4 + $6)) ]; then
		pass "$1 (A $2 -> $3 kB, B $4 -> $5 kB)"
	else
		fail "$1" "RSS grew: A $2 -> $3 kB, B $4 -> $5 kB (slack $6 kB)"
	fi
}

# net_up HA HB... - see above. Return: 0 when every member is OK with its address
net_up() {
	local ha=$1 h i=1 pa a moon port=0
	[ -n "${NET_UP_FIXED:-}" ] && port=$(fixed_port)
	daemon_start "$ha" $port || return 1
	a=$(daddr "$ha"); pa=$(dport "$ha")
	moon=$(make_moon "$ha" "127.0.0.1/$pa") || return 1
	cp "$moon" "$ha/moons.d/"
	NW=${a}00beef
	[ "$(ctl_make_network "$ha" "$NW" hardening "$PFX")" = 200 ] || { echo "network create failed"; return 1; }
	for h in "$@"; do
		if [ "$h" != "$ha" ]; then
			mkdir -p "$h/moons.d"
			cp "$moon" "$h/moons.d/"
			printf '{ "settings": { "noPlanet": true }, "virtual": { "%s": { "try": [ "127.0.0.1/%s" ] } } }\n' \
				"$a" "$pa" >"$h/local.conf"
			[ -n "${NET_UP_FIXED:-}" ] && port=$(fixed_port)
			daemon_start "$h" $port || return 1
		fi
		[ "$(ctl_authorize "$ha" "$NW" "$(daddr "$h")" "$PFX.$i")" = 200 ] || { echo "authorize $h failed"; return 1; }
		NC_IP[$h]=$PFX.$i
		NC_SOCK[$h]=$h/nc_$NW
		i=$((i + 1))
	done
	for h in "$@"; do
		[ "$(cli "$h" join "$NW")" = "200 join OK" ] || { echo "join $h failed"; return 1; }
	done
	for h in "$@"; do
		WAIT_S=30 wait_for net_ok "$h" "$NW" || { echo "$h: network not OK"; return 1; }
		WAIT_S=10 wait_for test -S "${NC_SOCK[$h]}" || { echo "$h: no RPC socket"; return 1; }
	done
	return 0
}

# fixed_port - a free UDP+TCP port on loopback below the kernel's ephemeral
# range, for a daemon that must come back on the same port after a restart
# (an ephemeral one may be taken by then by some other program's socket)
fixed_port() {
	python3 -c '
import random, socket
for _ in range(200):
    p = random.randint(20000, 29999)
    try:
        for t in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, t); s.bind(("127.0.0.1", p)); s.close()
        print(p); break
    except OSError:
        pass'
}

# APP_ENV: under ASan the intercepted programs (python, curl, our tools) get
# the runtime preloaded; LeakSanitizer is off for them (their own leaks at
# exit are not ours, and its exit status 23 would read as a failure)
APP_ENV=()
[ "$NC_ASAN" = 1 ] && APP_ENV=("ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
# in_net HOME CMD... - run CMD under the preload on HOME's network port
in_net() { local h=$1; shift; env "${APP_ENV[@]}" LD_PRELOAD="$PRELOAD" ZT_NC_NETWORK="${NC_SOCK[$h]}" "$@"; }
# net_bg HOME LOG CMD... - the same in the background, output to LOG; BG_PID
# is CMD's own pid (env execs it), tracked for cleanup
net_bg() {
	local h=$1 log=$2; shift 2
	env "${APP_ENV[@]}" LD_PRELOAD="$PRELOAD" ZT_NC_NETWORK="${NC_SOCK[$h]}" "$@" >"$log" 2>&1 &
	BG_PID=$!
	nc_track $BG_PID
}

# pid_fds PID - number of open fds of PID
pid_fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# pid_rss PID - resident set in kB
pid_rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
# home_pid HOME - the daemon's pid
home_pid() { cat "$1/zerotier-one.pid"; }
# metric HOME NAME_REGEX - sum of the matching /metrics samples
metric() { api_body "$1" GET /metrics | awk -v re="$2" '$1 ~ re {s += $2} END {printf "%d\n", s}'; }
