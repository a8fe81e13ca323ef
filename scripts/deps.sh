#!/usr/bin/env bash
# scripts/deps.sh - make sure the Debian packages the build and tests need are
# installed. As root it installs what is missing; otherwise it prints the
# exact apt-get line and fails.
set -u
PKGS="build-essential pkg-config clang libclang-rt-dev libsodium-dev liblz4-dev libjson-c-dev libhttp-parser-dev liblwip-dev liblwip0 iproute2 iputils-ping curl python3 procps psmisc nginx-light redis-server redis-tools"
PKGS="$PKGS jq"	# the daemon/cli/tap integration tests read API JSON with jq
PKGS="$PKGS openssh-server openssh-client"	# sshd and ssh under the preload (intercept_apps)
PKGS="$PKGS dpkg-dev"	# dpkg-source, for `apt-get source lwip` (scripts/lwip-src.sh)
PKGS="$PKGS ethtool"	# udp_gso turns a veth's checksum offload off
PKGS="$PKGS ${NC_EXTRA_PKGS:-}"
# lwip_debsrc - the Makefile builds liblwip.so from Debian's lwip source
# package (scripts/lwip-src.sh), which needs a deb-src entry for the same
# archive as the existing deb entries. As root, add one (a copy of the deb822
# stanzas of /etc/apt/sources.list.d/debian.sources, or of the deb lines of
# /etc/apt/sources.list, as deb-src) and refresh the index; never fatal: the
# build falls back to the packaged library.
lwip_debsrc() {
	local d=/etc/apt/sources.list.d f=/etc/apt/sources.list.d/netcon-debsrc
	apt-cache showsrc lwip >/dev/null 2>&1 && return 0
	[ "$(id -u)" = 0 ] || {
		echo "note: no deb-src entry for lwip; liblwip.so will be Debian's packaged build (as root, make deps adds one)" >&2
		return 0
	}
	# an entry may exist with a stale index: then only refresh
	if ! grep -rqsE '^(Types:.*deb-src|deb-src[[:space:]])' /etc/apt/sources.list $d/; then
		if [ -f "$d/debian.sources" ]; then
			sed -n '/^Types:/,/^$/p' "$d/debian.sources" | sed 's/^Types:.*/Types: deb-src/' >"$f.sources"
		elif [ -f /etc/apt/sources.list ]; then
			grep -E '^deb[[:space:]]' /etc/apt/sources.list | sed 's/^deb[[:space:]]/deb-src /' >"$f.list"
		fi
		echo "added a deb-src entry for Debian's lwip source package ($(ls $f.* 2>/dev/null))"
	fi
	apt-get update -qq >/dev/null 2>&1 || true
	apt-cache showsrc lwip >/dev/null 2>&1 ||
		echo "note: still no lwip source package (offline?); liblwip.so will be Debian's packaged build" >&2
	return 0
}

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && { lwip_debsrc; exit 0; }
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
lwip_debsrc
