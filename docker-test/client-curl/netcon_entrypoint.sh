#!/usr/bin/env bash
# netcon side of the client-curl test (curl inside the netcon against python3 -m http.server on the monitor).
# Runs in a container built from netcon_dockerfile, or in place under the
# namespace harness (docker-test/test.sh), configured by the variables
# described in docker-test/lib/common.sh.
ROLE=netcon
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/checks.sh"
nc_netcon_up
RUN="env $(nc_netcon_env curl)"
nc_raw_init netcon
ip=$(nc_wait_ready monitor)
nc_http_checks "$ip" 8080 curl
nc_verdict "$NC_PASS" "$NC_TOTAL"
