#!/usr/bin/env bash
# netcon side of the nginx test (nginx, master and 2 workers, sendfile on, in the netcon).
# Runs in a container built from netcon_dockerfile, or in place under the
# namespace harness (docker-test/test.sh), configured by the variables
# described in docker-test/lib/common.sh.
ROLE=netcon
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/checks.sh"
nc_netcon_up
nc_www_prepare
conf="$APPDIR/nginx"
mkdir -p "$conf"
cat >"$conf/nginx.conf" <<EOF
user root;
worker_processes 2;
master_process on;
daemon off;
pid $conf/nginx.pid;
error_log $conf/error.log info;
events { worker_connections 256; }
http {
	access_log $conf/access.log;
	sendfile on;
	tcp_nopush on;
	keepalive_timeout 30;
	server {
		listen 80;
		root $WWW;
	}
}
EOF
touch "$XCHG/netcon_ready"
exec env $(nc_netcon_env nginx) nginx -p "$conf" -c "$conf/nginx.conf"
