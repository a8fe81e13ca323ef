#!/usr/bin/env bash
# monitor side of the client-ssh test (ssh and scp inside the netcon against sshd on the monitor).
# Runs in a container built from monitor_dockerfile, or in place under the
# namespace harness (docker-test/test.sh), configured by the variables
# described in docker-test/lib/common.sh.
ROLE=monitor
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/checks.sh"
SSH_KEYDIR=${SSH_KEYDIR:-/opt/ssh}
nc_monitor_up
nc_www_prepare
cfg=$(nc_sshd_config "$APPDIR/sshd" 22)
$RUN /usr/sbin/sshd -D -e -f "$cfg" >"$XCHG/monitor_server.log" 2>&1 &
nc_serve_until_verdict $!
