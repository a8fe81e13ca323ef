# docker-test/lib/checks.sh - the checks the entry points run, shared by the
# server tests (application in the netcon, client on the monitor) and the
# client tests (client in the netcon, server on the monitor). Source after
# common.sh. Every check compares content (md5 or exact text) and appends
# what it saw to $NC_RAW; the calling entry point ends with nc_verdict.
#
# $RUN is the prefix that puts a command on the virtual network: empty on a
# tap monitor (the kernel routes to the tap), "env LD_PRELOAD=...
# ZT_NC_NETWORK=..." inside a netcon.

NC_PASS=0
NC_TOTAL=0
NC_WHY=""

# nc_count RC - count one check
nc_count() {
	NC_TOTAL=$((NC_TOTAL + 1))
	[ "$1" -eq 0 ] && NC_PASS=$((NC_PASS + 1))
	return 0
}

# nc_raw_init NAME - start the raw-output file for this side
nc_raw_init() {
	NC_RAW="$XCHG/$1_raw.txt"
	: >"$NC_RAW"
}

# nc_www_prepare - the files the HTTP tests serve: hello.txt (a greeting that
# names the test), file10m.bin (10 MiB random), file1m.bin (1 MiB). Their
# md5 sums (and the greeting) are published in $XCHG for the other side.
nc_www_prepare() {
	WWW="$DATA/www"
	mkdir -p "$WWW"
	echo "Hello from $TEST in a network container" >"$WWW/hello.txt"
	nc_make_file "$WWW/file10m.bin" 10
	nc_make_file "$WWW/file1m.bin" 1
	cp -f "$WWW/hello.txt" "$XCHG/greeting"
	nc_md5 "$WWW/file10m.bin" >"$XCHG/file10m.md5"
	nc_md5 "$WWW/file1m.bin" >"$XCHG/file1m.md5"
	echo "$WWW/file10m.bin" >"$XCHG/remote_file"
}

# nc_fetch NAME URL OUT [TOOL] - download URL to OUT with curl (or wget),
# over $RUN; logs status, size and time to $NC_RAW
nc_fetch() {
	local name=$1 url=$2 out=$3 tool=${4:-curl} info rc
	rm -f "$out"
	if [ "$tool" = wget ]; then
		info=$($RUN timeout 60 wget -q -T 45 -t 1 -O "$out" "$url" 2>&1); rc=$?
		info="wget rc=$rc $info"
	else
		info=$($RUN timeout 60 curl -s -S --max-time 45 -o "$out" -w 'http=%{http_code} bytes=%{size_download} time=%{time_total}s' "$url" 2>&1); rc=$?
		info="curl rc=$rc $info"
	fi
	echo "$name: GET $url -> $info" >>"$NC_RAW"
	return $rc
}

# nc_http_checks IP PORT [TOOL] - the HTTP checks against a server that
# serves the files of nc_www_prepare:
#   1. the greeting (exact text),  2. 10 MiB file md5,
#   3. four parallel 1 MiB downloads, each md5,  4. 20 sequential requests
nc_http_checks() {
	local ip=$1 port=$2 tool=${3:-curl} base="http://$1:$2" tmp got i ok pids
	tmp="$XCHG/dl.$$"
	mkdir -p "$tmp"
	if ! nc_wait_tcp "$ip" "$port"; then
		NC_WHY="$ip:$port never accepted a TCP connection"
		nc_count 1
		return 1
	fi
	if ! nc_fetch greeting "$base/hello.txt" "$tmp/hello.txt" "$tool"; then
		# no answer at all: the other checks would only wait for time-outs
		nc_check_eq greeting "$(cat "$tmp/hello.txt" 2>/dev/null)" "$(cat "$XCHG/greeting")"
		NC_WHY="$NC_WHY (the server did not answer: the other 3 checks not run)"
		NC_TOTAL=$((NC_TOTAL + 4))
		rm -rf "$tmp"
		return 1
	fi
	got=$(cat "$tmp/hello.txt" 2>/dev/null)
	nc_check_eq greeting "$got" "$(cat "$XCHG/greeting")"; nc_count $?

	nc_fetch "10 MiB file" "$base/file10m.bin" "$tmp/file10m.bin" "$tool"
	got=$(nc_md5 "$tmp/file10m.bin" 2>/dev/null)
	nc_check_md5 "10 MiB file" "$got" "$(nc_expected_md5 "$XCHG/file10m.md5")"; nc_count $?

	pids=""
	for i in 1 2 3 4; do
		nc_fetch "parallel $i" "$base/file1m.bin" "$tmp/p$i.bin" "$tool" &
		pids="$pids $!"
	done
	for i in $pids; do wait "$i"; done
	ok=0
	for i in 1 2 3 4; do
		got=$(nc_md5 "$tmp/p$i.bin" 2>/dev/null)
		nc_check_md5 "parallel 1 MiB #$i" "$got" "$(nc_expected_md5 "$XCHG/file1m.md5")" || ok=1
	done
	nc_count $ok

	ok=0
	for i in $(seq 1 20); do
		if [ "$tool" = wget ]; then
			got=$($RUN timeout 20 wget -q -T 10 -t 1 -O - "$base/hello.txt" 2>&1)
		else
			got=$($RUN timeout 20 curl -s --max-time 10 "$base/hello.txt" 2>&1)
		fi
		[ "$got" = "$(cat "$XCHG/greeting")" ] || { ok=1; echo "sequential #$i: got '$got'" >>"$NC_RAW"; }
	done
	echo "check 20 sequential requests: $([ $ok = 0 ] && echo all ok || echo some failed)" >>"$NC_RAW"
	[ $ok = 0 ] || NC_WHY="${NC_WHY:+$NC_WHY; }20 sequential requests: some failed"
	nc_count $ok
	rm -rf "$tmp"
}

# nc_redis_checks IP PORT - redis-cli PING, SET/GET, EVAL, a 1 MiB binary
# value round trip (md5) and a short redis-benchmark
nc_redis_checks() {
	local ip=$1 port=$2 got exp big="$DATA/redis-big.bin" out
	if ! nc_wait_tcp "$ip" "$port"; then
		NC_WHY="$ip:$port never accepted a TCP connection"
		nc_count 1
		return 1
	fi
	nc_rcli() { $RUN timeout 30 redis-cli -h "$ip" -p "$port" "$@" 2>&1; }
	got=$(nc_rcli PING); echo "PING -> $got" >>"$NC_RAW"
	nc_check_eq PING "$got" PONG; nc_count $?

	got=$(nc_rcli SET "compat:$TEST" "value-of-$TEST"); echo "SET -> $got" >>"$NC_RAW"
	got=$(nc_rcli GET "compat:$TEST"); echo "GET -> $got" >>"$NC_RAW"
	nc_check_eq SET/GET "$got" "value-of-$TEST"; nc_count $?

	nc_rcli DEL "compat:ctr" >/dev/null
	nc_rcli EVAL "return redis.call('INCRBY', KEYS[1], ARGV[1])" 1 compat:ctr 5 >/dev/null
	got=$(nc_rcli EVAL "return redis.call('INCRBY', KEYS[1], ARGV[1]) * 2" 1 compat:ctr 16)
	echo "EVAL INCRBY 5 then (INCRBY 16)*2 -> $got" >>"$NC_RAW"
	nc_check_eq EVAL "$got" 42; nc_count $?

	nc_make_file "$big" 1
	got=$($RUN timeout 60 redis-cli -h "$ip" -p "$port" -x SET compat:big <"$big" 2>&1)
	echo "SET 1 MiB -> $got" >>"$NC_RAW"
	got=$($RUN timeout 60 redis-cli -h "$ip" -p "$port" --raw GET compat:big 2>/dev/null | head -c 1048576 | md5sum | cut -d' ' -f1)
	exp=$(nc_md5 "$big" >"$XCHG/redis-big.md5"; nc_expected_md5 "$XCHG/redis-big.md5")
	nc_check_md5 "1 MiB value" "$got" "$exp"; nc_count $?

	out=$($RUN timeout 90 redis-benchmark -h "$ip" -p "$port" -n 2000 -c 10 -q -t ping,set,get,lpush 2>&1)
	printf 'redis-benchmark -n 2000 -c 10 -t ping,set,get,lpush:\n%s\n' "$out" | tr '\r' '\n' | grep -v '^ *$' | grep -v 'rps=' >>"$NC_RAW"
	got=$(printf '%s\n' "$out" | tr '\r' '\n' | grep -c 'requests per second')
	nc_check_eq "redis-benchmark result lines" "$got" 5; nc_count $?
}

# the account the ssh tests log in to: root in a container, else ourselves
NC_SSH_USER=${NC_SSH_USER:-$(id -un)}

# nc_ssh_opts - client options: our key, no host-key prompts, no agent
nc_ssh_opts() {
	echo "-i $SSH_KEYDIR/client_ed25519 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=20 -o LogLevel=ERROR"
}

# nc_ssh_checks IP PORT - log in with a key and run commands; scp a 10 MiB
# file down (md5) and a 1 MiB file up (md5 computed remotely)
nc_ssh_checks() {
	local ip=$1 port=$2 got opts remote tmp
	opts=$(nc_ssh_opts)
	tmp="$XCHG/ssh.$$"; mkdir -p "$tmp"
	chmod 600 "$SSH_KEYDIR/client_ed25519" 2>/dev/null
	if ! nc_wait_tcp "$ip" "$port"; then
		NC_WHY="$ip:$port never accepted a TCP connection"
		nc_count 1
		return 1
	fi
	got=$($RUN timeout 60 ssh $opts -p "$port" "$NC_SSH_USER@$ip" "echo hello-$TEST; echo \$((6*7))" 2>&1)
	printf 'ssh command -> %s\n' "$got" >>"$NC_RAW"
	nc_check_eq "ssh command" "$got" "hello-$TEST
42"; nc_count $?

	remote=$(cat "$XCHG/remote_file")
	got=$($RUN timeout 60 ssh $opts -p "$port" "$NC_SSH_USER@$ip" "md5sum $remote" 2>&1 | cut -d' ' -f1)
	nc_check_md5 "remote md5sum" "$got" "$(nc_expected_md5 "$XCHG/file10m.md5")"; nc_count $?

	got=$($RUN timeout 120 scp $opts -P "$port" "$NC_SSH_USER@$ip:$remote" "$tmp/down.bin" 2>&1)
	echo "scp down rc=$? $got" >>"$NC_RAW"
	got=$(nc_md5 "$tmp/down.bin" 2>/dev/null)
	nc_check_md5 "scp 10 MiB down" "$got" "$(nc_expected_md5 "$XCHG/file10m.md5")"; nc_count $?

	nc_make_file "$tmp/up.bin" 1
	nc_md5 "$tmp/up.bin" >"$XCHG/up.md5"
	got=$($RUN timeout 120 scp $opts -P "$port" "$tmp/up.bin" "$NC_SSH_USER@$ip:$remote.up" 2>&1)
	echo "scp up rc=$? $got" >>"$NC_RAW"
	got=$($RUN timeout 60 ssh $opts -p "$port" "$NC_SSH_USER@$ip" "md5sum $remote.up; rm -f $remote.up" 2>&1 | cut -d' ' -f1)
	nc_check_md5 "scp 1 MiB up" "$got" "$(nc_expected_md5 "$XCHG/up.md5")"; nc_count $?
	rm -rf "$tmp"
}

# nc_sshd_config DIR PORT - write an sshd_config for a key-only root login
# into DIR and print its path (host key and authorized key from SSH_KEYDIR)
nc_sshd_config() {
	local d=$1 port=$2
	mkdir -p "$d" /run/sshd
	chmod 600 "$SSH_KEYDIR/host_ed25519" 2>/dev/null
	cat >"$d/sshd_config" <<EOF
Port $port
ListenAddress 0.0.0.0
HostKey $SSH_KEYDIR/host_ed25519
AuthorizedKeysFile $SSH_KEYDIR/client_ed25519.pub
PidFile $d/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
LogLevel VERBOSE
Subsystem sftp internal-sftp
EOF
	echo "$d/sshd_config"
}

# nc_monitor_http PORT - the whole monitor side of an HTTP server test
nc_monitor_http() {
	nc_monitor_up
	nc_raw_init monitor
	local ip
	ip=$(nc_wait_ready netcon)
	nc_http_checks "$ip" "$1" curl
	nc_verdict "$NC_PASS" "$NC_TOTAL"
}

# nc_serve_until_verdict PID - (server side of a client test) mark ready,
# then keep the server PID running until the other side wrote a verdict
nc_serve_until_verdict() {
	local pid=$1 t=$(( NC_WAIT_S * 40 ))
	touch "$XCHG/${ROLE}_ready"
	while [ $t -gt 0 ]; do
		[ -e "$RESULTS/OK.$TEST.txt" ] || [ -e "$RESULTS/FAIL.$TEST.txt" ] && break
		kill -0 "$pid" 2>/dev/null || { log "server (pid $pid) exited early"; break; }
		sleep 0.2; t=$((t - 1))
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
