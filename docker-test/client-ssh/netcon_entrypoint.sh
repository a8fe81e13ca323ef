#!/usr/bin/env bash
# netcon side of the client-ssh test (ssh and scp inside the netcon against sshd on the monitor).
# Runs in a container built from netcon_dockerfile, or in place under the
# namespace harness (docker-test/test.sh), configured by the variables
# described in docker-test/lib/common.sh.
ROLE=netcon
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/checks.sh"
SSH_KEYDIR=${SSH_KEYDIR:-/opt/ssh}
nc_netcon_up
RUN="env $(nc_netcon_env ssh)"
nc_raw_init netcon
ip=$(nc_wait_ready monitor)
nc_ssh_checks "$ip" 22
nc_verdict "$NC_PASS" "$NC_TOTAL"
