#!/usr/bin/env bash
# netcon side of the nodejs test (a Node.js HTTP server (httpserver.js) in the netcon).
# Runs in a container built from netcon_dockerfile, or in place under the
# namespace harness (docker-test/test.sh), configured by the variables
# described in docker-test/lib/common.sh.
ROLE=netcon
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/checks.sh"
nc_netcon_up
nc_www_prepare
touch "$XCHG/netcon_ready"
exec env $(nc_netcon_env node) node "$HERE/httpserver.js" 80 "$WWW"
