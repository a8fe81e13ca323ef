#!/usr/bin/env bash
# intercept_apps.sh - more unmodified programs from the seed's compatibility
# list on two netcon stacks: redis-server + redis-cli (a 1 MB value round
# trip, md5 checked), and sshd (forks and re-execs itself per connection, so
# the accepted socket crosses exec) + ssh running a command and copying
# 10 MB through the session. Each part skips when its program is missing.
ICEPT_TEST=intercept_apps
source "$(dirname "$0")/intercept_lib.bash"
icept_require
icept_start_twostack

# ---- redis ----
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
	RD=$NC_TMP/redis
	mkdir -p "$RD"
	icept_bg a "$RD/server.log" redis-server --bind "$IP_A" --port 6390 --dir "$RD" \
		--save "" --appendonly no --protected-mode no
	RPID=$BG_PID
	if WAIT_S=20 wait_for in_b redis-cli -h "$IP_A" -p 6390 ping; then
		head -c 1048576 /dev/urandom | base64 -w0 >"$RD/val"
		want=$(md5sum <"$RD/val" | cut -d' ' -f1)
		in_b redis-cli -h "$IP_A" -p 6390 -x set big <"$RD/val" >/dev/null
		got=$(in_b redis-cli -h "$IP_A" -p 6390 --raw get big | head -c "$(stat -c %s "$RD/val")" | md5sum | cut -d' ' -f1)
		[ "$got" = "$want" ] && pass "redis-server on A, redis-cli on B: 1.3 MB value round trip" \
			|| fail "redis value round trip" "got $got want $want"
		n=$(in_b redis-cli -h "$IP_A" -p 6390 info clients | tr -d '\r' | sed -n 's/^connected_clients://p')
		[ -n "$n" ] && pass "redis INFO over netcon (connected_clients=$n)" || fail "redis INFO" "empty"
		# redis sees the client's virtual address
		in_b redis-cli -h "$IP_A" -p 6390 client list | grep -q "addr=$IP_B:" \
			&& pass "redis CLIENT LIST shows the virtual peer address" \
			|| fail "redis CLIENT LIST peer address" "$(in_b redis-cli -h "$IP_A" -p 6390 client list)"
	else
		fail "redis-server on A answers PING from B" "$(tail -5 "$RD/server.log")"
	fi
	kill "$RPID" 2>/dev/null
else
	skip "redis" "redis-server/redis-cli not installed"
fi

# ---- sshd ----
SSHD=$(command -v sshd || ls /usr/sbin/sshd 2>/dev/null)
if [ -n "$SSHD" ] && command -v ssh >/dev/null && is_root; then
	SD=$NC_TMP/ssh
	mkdir -p "$SD"
	chmod 700 "$SD"
	ssh-keygen -q -t ed25519 -N '' -f "$SD/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$SD/id"
	cp "$SD/id.pub" "$SD/authorized_keys"
	cat >"$SD/sshd_config" <<CONF
ListenAddress $IP_A:2222
HostKey $SD/host_key
AuthorizedKeysFile $SD/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin yes
StrictModes no
PidFile $SD/sshd.pid
UseDNS no
CONF
	mkdir -p /run/sshd
	icept_bg a "$SD/sshd.log" "$SSHD" -D -e -f "$SD/sshd_config"
	SPID=$BG_PID
	SSH_OPTS=(-F /dev/null -i "$SD/id" -p 2222 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
		-o BatchMode=yes -o ConnectTimeout=10 -o LogLevel=ERROR)
	if WAIT_S=20 wait_for in_b ssh "${SSH_OPTS[@]}" "root@$IP_A" true; then
		out=$(in_b ssh "${SSH_OPTS[@]}" "root@$IP_A" 'echo "$SSH_CONNECTION"' 2>&1)
		case "$out" in "$IP_B "*" $IP_A 2222") pass "sshd on A, ssh from B: SSH_CONNECTION=$out" ;;
			*) fail "sshd SSH_CONNECTION" "$out" ;; esac
		SUM=$(icept_bigfile "$SD/big.bin")
		got=$(in_b ssh "${SSH_OPTS[@]}" "root@$IP_A" "cat $SD/big.bin" 2>>"$SD/ssh.err" | md5sum | cut -d' ' -f1)
		[ "$got" = "$SUM" ] && pass "ssh session: 10 MB through sshd (re-exec'd per connection), md5 matches" \
			|| fail "ssh session 10 MB" "got $got want $SUM; $(tail -3 "$SD/ssh.err")"
	else
		fail "sshd on A accepts ssh from B" "$(tail -5 "$SD/sshd.log")"
	fi
	kill "$SPID" 2>/dev/null
else
	skip "sshd" "sshd/ssh not installed or not root"
fi
exit 0
