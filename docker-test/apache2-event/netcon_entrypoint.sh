#!/usr/bin/env bash
# netcon side of the apache2-event test (Apache httpd with the event MPM (threads + epoll) in the netcon).
# Runs in a container built from netcon_dockerfile, or in place under the
# namespace harness (docker-test/test.sh), configured by the variables
# described in docker-test/lib/common.sh.
ROLE=netcon
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/checks.sh"
nc_netcon_up
nc_www_prepare
conf="$APPDIR/apache2"
mods=/usr/lib/apache2/modules
mkdir -p "$conf"
chmod 755 "$DATA" "$WWW"
cat >"$conf/httpd.conf" <<EOF
ServerRoot $conf
ServerName compat.invalid
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule dir_module $mods/mod_dir.so
LoadModule mime_module $mods/mod_mime.so
User www-data
Group www-data
Listen 80
PidFile $conf/httpd.pid
DefaultRuntimeDir $conf
Mutex file:$conf default
ErrorLog $conf/error.log
LogLevel info
TypesConfig /etc/mime.types
DocumentRoot $WWW
<Directory $WWW>
	Require all granted
</Directory>
StartServers 1
ServerLimit 2
ThreadsPerChild 8
MaxRequestWorkers 16
EOF
touch "$XCHG/netcon_ready"
exec env $(nc_netcon_env) /usr/sbin/apache2 -f "$conf/httpd.conf" -DFOREGROUND
