#!/usr/bin/env bash
# monitor side of the nodejs test (a Node.js HTTP server (httpserver.js) in the netcon).
# Runs in a container built from monitor_dockerfile, or in place under the
# namespace harness (docker-test/test.sh), configured by the variables
# described in docker-test/lib/common.sh.
ROLE=monitor
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/checks.sh"
nc_monitor_http 80
