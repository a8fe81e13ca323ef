#!/usr/bin/env bash
# monitor side of the client-wget test (wget inside the netcon against python3 -m http.server on the monitor).
# Runs in a container built from monitor_dockerfile, or in place under the
# namespace harness (docker-test/test.sh), configured by the variables
# described in docker-test/lib/common.sh.
ROLE=monitor
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/checks.sh"
nc_monitor_up
nc_www_prepare
py=/usr/bin/python3
[ -x "$py" ] || py=python3
cd "$WWW" || exit 1
$RUN "$py" -m http.server 8080 >"$XCHG/monitor_server.log" 2>&1 &
nc_serve_until_verdict $!
