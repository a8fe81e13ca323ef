#!/usr/bin/env bash
# netcon side of the lighttpd test (lighttpd in the netcon).
# Runs in a container built from netcon_dockerfile, or in place under the
# namespace harness (docker-test/test.sh), configured by the variables
# described in docker-test/lib/common.sh.
ROLE=netcon
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/checks.sh"
nc_netcon_up
nc_www_prepare
conf="$APPDIR/lighttpd"
mkdir -p "$conf"
chmod 755 "$DATA" "$WWW"
chown www-data "$conf" 2>/dev/null   # lighttpd opens its log after dropping root
cat >"$conf/lighttpd.conf" <<EOF
server.document-root = "$WWW"
server.port = 80
server.bind = "0.0.0.0"
server.username = "www-data"
server.groupname = "www-data"
server.pid-file = "$conf/lighttpd.pid"
server.errorlog = "$conf/error.log"
server.modules = ()
index-file.names = ( "index.html" )
mimetype.assign = ( ".txt" => "text/plain", "" => "application/octet-stream" )
EOF
touch "$XCHG/netcon_ready"
exec env $(nc_netcon_env lighttpd) lighttpd -D -f "$conf/lighttpd.conf"
