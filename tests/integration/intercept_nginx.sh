#!/usr/bin/env bash
# intercept_nginx.sh - unmodified nginx, a master and two workers (the
# listening socket is inherited across fork; workers accept4 on it), sendfile
# on, listening on the virtual IP: parallel 10 MB downloads from the other
# stack, md5 checked; both workers keep serving after the master's setup.
ICEPT_TEST=intercept_nginx
source "$(dirname "$0")/intercept_lib.bash"
icept_require
NGINX=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null) || { skip "$ICEPT_TEST" "nginx not installed (apt-get install nginx-light)"; exit 0; }

icept_start_twostack
WWW=$NC_TMP/www
SUM=$(icept_bigfile "$WWW/big.bin")
PORT=8082
NG=$NC_TMP/nginx
mkdir -p "$NG/logs" "$NG/tmp"
USER_LINE=""
is_root && USER_LINE="user root;"
cat >"$NG/nginx.conf" <<CONF
$USER_LINE
daemon off;
master_process on;
worker_processes 2;
pid $NG/nginx.pid;
error_log $NG/logs/error.log info;
events { worker_connections 64; }
http {
	access_log $NG/logs/access.log;
	client_body_temp_path $NG/tmp/body;
	proxy_temp_path $NG/tmp/proxy;
	fastcgi_temp_path $NG/tmp/fastcgi;
	uwsgi_temp_path $NG/tmp/uwsgi;
	scgi_temp_path $NG/tmp/scgi;
	sendfile on;
	tcp_nopush on;
	tcp_nodelay on;
	keepalive_timeout 5;
	server {
		listen $IP_A:$PORT;
		root $WWW;
	}
}
CONF
icept_bg a "$NG/stdout.log" "$NGINX" -p "$NG" -c "$NG/nginx.conf"
NGINX_PID=$BG_PID
if WAIT_S=20 wait_for in_b curl -sf --max-time 2 -o /dev/null "http://$IP_A:$PORT/big.bin" -r 0-0; then
	workers=$(pgrep -P "$NGINX_PID" | wc -l)
	[ "$workers" = 2 ] && pass "nginx master with 2 workers on A" || fail "nginx master with 2 workers" "$workers workers"
	pids=()
	for i in 1 2 3 4 5 6; do icept_fetch_md5 b "http://$IP_A:$PORT/big.bin" >"$NC_TMP/ng.$i" & pids+=($!); done
	wait "${pids[@]}"
	ok=1
	for i in 1 2 3 4 5 6; do [ "$(cat "$NC_TMP/ng.$i")" = "$SUM" ] || ok=0; done
	[ $ok = 1 ] && pass "nginx (sendfile) -> curl on B: 6 parallel 10 MB downloads, md5 match" \
		|| fail "nginx parallel downloads" "$(cat "$NC_TMP"/ng.*) want $SUM; $(tail -3 "$NG/logs/error.log")"
	# keep-alive: two requests on one connection
	n=$(in_b curl -sS --max-time 60 -o /dev/null -o /dev/null -w '%{num_connects}\n' \
		"http://$IP_A:$PORT/big.bin" "http://$IP_A:$PORT/big.bin" 2>>"$NC_TMP/curl.err" | awk '{s+=$1} END {print s}')
	[ "${n:-0}" = 1 ] && pass "nginx keep-alive: two requests over one connection" \
		|| fail "nginx keep-alive" "connects: '$n'"
	served=$(wc -l <"$NG/logs/access.log")
	[ "$served" -ge 8 ] && pass "nginx access log shows $served requests" || fail "nginx access log" "$served lines"
	grep -q '\[alert\]\|\[emerg\]\|\[crit\]' "$NG/logs/error.log" \
		&& fail "nginx error log clean" "$(grep '\[alert\]\|\[emerg\]\|\[crit\]' "$NG/logs/error.log" | head -3)" \
		|| pass "nginx error log has no alert/crit/emerg"
else
	fail "nginx on A answers curl on B" "$(tail -5 "$NG/logs/error.log" "$NG/stdout.log" 2>/dev/null)"
fi
kill -QUIT "$NGINX_PID" 2>/dev/null
WAIT_S=10 wait_for bash -c "! kill -0 $NGINX_PID"
icept_alive "$NGINX_PID" && fail "nginx exits on SIGQUIT" "still running" || pass "nginx graceful shutdown"
exit 0
