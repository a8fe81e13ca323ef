#!/usr/bin/env bash
# netcon side of the python3 test (python3 -m http.server (Debian's /usr/bin/python3) in the netcon).
# Runs in a container built from netcon_dockerfile, or in place under the
# namespace harness (docker-test/test.sh), configured by the variables
# described in docker-test/lib/common.sh.
ROLE=netcon
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/checks.sh"
nc_netcon_up
nc_www_prepare
py=/usr/bin/python3
[ -x "$py" ] || py=python3
cd "$WWW" || exit 1
touch "$XCHG/netcon_ready"
exec env $(nc_netcon_env "$py") "$py" -m http.server 80
