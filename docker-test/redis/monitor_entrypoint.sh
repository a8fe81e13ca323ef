#!/usr/bin/env bash
# monitor side of the redis test (redis-server in the netcon, redis-cli and redis-benchmark on the monitor).
# Runs in a container built from monitor_dockerfile, or in place under the
# namespace harness (docker-test/test.sh), configured by the variables
# described in docker-test/lib/common.sh.
ROLE=monitor
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/checks.sh"
nc_monitor_up
nc_raw_init monitor
ip=$(nc_wait_ready netcon)
nc_redis_checks "$ip" 6379
nc_verdict "$NC_PASS" "$NC_TOTAL"
