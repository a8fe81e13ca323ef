#!/usr/bin/env bash
# netcon side of the redis test (redis-server in the netcon, redis-cli and redis-benchmark on the monitor).
# Runs in a container built from netcon_dockerfile, or in place under the
# namespace harness (docker-test/test.sh), configured by the variables
# described in docker-test/lib/common.sh.
ROLE=netcon
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/checks.sh"
nc_netcon_up
conf="$APPDIR/redis"
mkdir -p "$conf"
touch "$XCHG/netcon_ready"
exec env $(nc_netcon_env redis-server) redis-server --port 6379 --bind 0.0.0.0 --protected-mode no \
	--save "" --appendonly no --dir "$conf" --daemonize no --logfile "$conf/redis.log"
