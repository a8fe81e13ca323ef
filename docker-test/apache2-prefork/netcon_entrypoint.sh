#!/usr/bin/env bash
# netcon side of the apache2-prefork test (Apache httpd with the prefork MPM (a process per connection) in the netcon).
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
nc_apache2_exec prefork <<EOF
StartServers 2
MinSpareServers 2
MaxSpareServers 4
MaxRequestWorkers 16
EOF
