#!/usr/bin/env bash
# netcon side of the httpstub test (httpstub.c, our minimal fork-per-connection HTTP server, in the netcon).
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
exec env $(nc_netcon_env "$ZT_BINDIR/httpstub") "$ZT_BINDIR/httpstub" -p 80 -d "$WWW"
