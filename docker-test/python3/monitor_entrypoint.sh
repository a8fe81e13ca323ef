#!/usr/bin/env bash
# monitor side of the python3 test (python3 -m http.server (Debian's /usr/bin/python3) in the netcon).
# Runs in a container built from monitor_dockerfile, or in place under the
# namespace harness (docker-test/test.sh), configured by the variables
# described in docker-test/lib/common.sh.
ROLE=monitor
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/checks.sh"
nc_monitor_http 80
