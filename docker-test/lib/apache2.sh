# apache2.sh - the Apache httpd configuration both apache2 tests share.
# Sourced by apache2-*/netcon_entrypoint.sh after common.sh and checks.sh.

# nc_apache2_exec MPM - write httpd.conf for the given MPM module (event,
# prefork), with the MPM's own sizing directives read from stdin, and exec
# httpd in the foreground under the preload
nc_apache2_exec() {
	local mpm=$1 conf="$APPDIR/apache2" mods=/usr/lib/apache2/modules
	mkdir -p "$conf"
	chmod 755 "$DATA" "$WWW"
	{
		cat <<EOF
ServerRoot $conf
ServerName compat.invalid
LoadModule mpm_${mpm}_module $mods/mod_mpm_${mpm}.so
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
EOF
		cat
	} >"$conf/httpd.conf"
	touch "$XCHG/netcon_ready"
	exec env $(nc_netcon_env /usr/sbin/apache2) /usr/sbin/apache2 -f "$conf/httpd.conf" -DFOREGROUND
}
