#!/usr/bin/env bash
# netcon side of the apache2-event test (Apache httpd with the event MPM (threads + epoll) in the netcon).
# Runs in a container built from netcon_dockerfile, or in place under the
# namespace harness (docker-test/test.sh), configured by the variables
# described in docker-test/lib/common.sh.
ROLE=netcon
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/checks.sh"
. "$HERE/../lib/apache2.sh"
nc_netcon_up
nc_www_prepare
nc_apache2_exec event <<EOF
StartServers 1
ServerLimit 2
ThreadsPerChild 8
MaxRequestWorkers 16
EOF
