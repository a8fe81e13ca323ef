#!/usr/bin/env bash
# netcon side of the sshd test (OpenSSH sshd in the netcon; the monitor logs in with a key, runs commands and copies files with scp).
# Runs in a container built from netcon_dockerfile, or in place under the
# namespace harness (docker-test/test.sh), configured by the variables
# described in docker-test/lib/common.sh.
ROLE=netcon
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/checks.sh"
nc_netcon_up
nc_www_prepare
SSH_KEYDIR=${SSH_KEYDIR:-/opt/ssh}
cfg=$(nc_sshd_config "$APPDIR/sshd" 22)
touch "$XCHG/netcon_ready"
exec env $(nc_netcon_env /usr/sbin/sshd) /usr/sbin/sshd -D -e -f "$cfg"
