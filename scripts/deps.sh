#!/usr/bin/env bash
# scripts/deps.sh - make sure the Debian packages the build and tests need are
# installed. As root it installs what is missing; otherwise it prints the
# exact apt-get line and fails.
set -u
PKGS="build-essential pkg-config clang libclang-rt-dev libsodium-dev liblz4-dev libjson-c-dev libhttp-parser-dev liblwip-dev liblwip0 iproute2 iputils-ping curl python3 procps psmisc nginx-light redis-server redis-tools"
PKGS="$PKGS jq"	# the daemon/cli/tap integration tests read API JSON with jq
PKGS="$PKGS openssh-server openssh-client"	# sshd and ssh under the preload (intercept_apps)
PKGS="$PKGS ${NC_EXTRA_PKGS:-}"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "netcon needs these Debian packages:$missing" >&2
	echo "install them with:  sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# the tests start the servers they need themselves, on namespaces or
# loopback; installing nginx, redis or sshd must not start system services
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq || true
apt-get install -y -qq --no-install-recommends $missing >/dev/null || { echo "apt-get install failed" >&2; exit 1; }
