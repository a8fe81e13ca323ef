#!/usr/bin/env bash
# monitor side of the sshd test (OpenSSH sshd in the netcon; the monitor logs in with a key, runs commands and copies files with scp).
# Runs in a container built from monitor_dockerfile, or in place under the
# namespace harness (docker-test/test.sh), configured by the variables
# described in docker-test/lib/common.sh.
ROLE=monitor
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/checks.sh"
SSH_KEYDIR=${SSH_KEYDIR:-/opt/ssh}
nc_monitor_up
nc_raw_init monitor
ip=$(nc_wait_ready netcon)
nc_ssh_checks "$ip" 22
nc_verdict "$NC_PASS" "$NC_TOTAL"
