#!/usr/bin/env bash
# monitor side of the client-redis-cli test (redis-cli and redis-benchmark inside the netcon against redis-server on the monitor).
# Runs in a container built from monitor_dockerfile, or in place under the
# namespace harness (docker-test/test.sh), configured by the variables
# described in docker-test/lib/common.sh.
ROLE=monitor
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/checks.sh"
nc_monitor_up
conf="$APPDIR/redis"
mkdir -p "$conf"
$RUN redis-server --port 6379 --bind 0.0.0.0 --protected-mode no --save "" --appendonly no \
	--dir "$conf" --daemonize no --logfile "$conf/redis.log" &
nc_serve_until_verdict $!
