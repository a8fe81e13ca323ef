#!/usr/bin/env bash
# docker-test/build.sh [FILTER] - prepare what the compatibility tests need,
# in docker-test/_build/ (also the build context of the Dockerfiles):
#   bin/          our binaries from build/ (make all), plus httpstub
#   ids/ROLE/     identities of the controller, the netcon and the monitor
#   ctl/          the controller's home: a private network on our embedded
#                 controller, both test nodes authorized; moon.json (initmoon)
#   seed/ROLE/    what a node's image installs: identity, local.conf
#   ssh/          host key and client key for the sshd/ssh tests
#   nwid          the network id
# As root it also installs the applications of the selected tests (Debian
# packages, apt-get). FILTER: substring of the test directory or test name,
# several separated by commas. Idempotent: kept identities keep the network.
set -u
DT=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$DT/.." && pwd)
B=${B:-build}
BUILD=$DT/_build
FILTER=${1:-}
ZT_BINDIR=$BUILD/bin
. "$DT/lib/topo.sh"
. "$DT/lib/zt.sh"

die() { echo "build.sh: $*" >&2; exit 1; }

# match NAME - does NAME contain one of the comma-separated FILTER words?
match() {
	local f
	[ -z "$FILTER" ] && return 0
	for f in ${FILTER//,/ }; do case "$1" in *"$f"*) return 0 ;; esac; done
	return 1
}

# 1. applications (Debian packages) of the selected tests
pkgs="iproute2 curl wget python3 openssh-client procps"
for conf in "$DT"/*/test.conf; do
	d=$(basename "$(dirname "$conf")")
	match "$d" || continue
	PKGS=""; . "$conf"
	pkgs="$pkgs $PKGS"
done
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ]; then
		zt_log "installing:$missing"
		export DEBIAN_FRONTEND=noninteractive
		# keep packaged services from starting on the host (Debian's
		# policy-rc.d convention), unless a policy is already in place
		rc_made=0
		if [ ! -e /usr/sbin/policy-rc.d ]; then
			printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && rc_made=1
		fi
		apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 ||
			{ apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq --no-install-recommends $missing >/dev/null; } ||
			echo "build.sh: apt-get could not install:$missing (those tests will be skipped)" >&2
		[ $rc_made = 1 ] && rm -f /usr/sbin/policy-rc.d
	else
		echo "build.sh: not root, cannot install:$missing (those tests will be skipped)" >&2
	fi
fi

# 2. our binaries
mkdir -p "$BUILD/bin"
for f in zerotier-netcon-service zerotier-one zerotier-cli zerotier-idtool libzerotierintercept.so liblwip.so; do
	[ -e "$ROOT/$B/$f" ] || die "$ROOT/$B/$f is missing: run 'make all' first"
	cp -f "$ROOT/$B/$f" "$BUILD/bin/$f"
done
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -o "$BUILD/bin/httpstub" "$DT/httpstub.c" || die "httpstub.c does not compile"

# 3. ssh keys
mkdir -p "$BUILD/ssh"
[ -s "$BUILD/ssh/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C netcon-compat-host -f "$BUILD/ssh/host_ed25519" || die "ssh-keygen failed"
[ -s "$BUILD/ssh/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C netcon-compat-client -f "$BUILD/ssh/client_ed25519" || die "ssh-keygen failed"
chmod 600 "$BUILD/ssh/host_ed25519" "$BUILD/ssh/client_ed25519"

# 4. identities
for r in ctl netcon monitor; do
	zt_gen_identity "$BUILD/ids/$r" || die "could not generate the $r identity"
done
stamp="$(zt_addr "$BUILD/ids/ctl") $(zt_addr "$BUILD/ids/netcon") $(zt_addr "$BUILD/ids/monitor")"

# 5. the self-hosted network on our controller
if [ "$(cat "$BUILD/ctl/stamp" 2>/dev/null)" != "$stamp" ] || [ ! -s "$BUILD/nwid" ]; then
	rm -rf "$BUILD/ctl" "$BUILD/nwid"
	mkdir -p "$BUILD/ctl"
	cp -f "$BUILD/ids/ctl/identity.secret" "$BUILD/ids/ctl/identity.public" "$BUILD/ctl/"
	zt_no_planet_conf "$BUILD/ctl/local.conf"
	topo_setup loopback
	topo_node ctl
	zt_log "controller $(zt_addr "$BUILD/ctl") on 127.0.0.1/${TOPO_PORT[ctl]}: creating the network"
	zt_start ctl zerotier-netcon-service "$BUILD/ctl" || { topo_kill_pidfile "$BUILD/ctl/zerotier-one.pid"; die "the controller daemon did not start (or its API did not answer)"; }
	nwid=$(zt_create_network ctl "$BUILD/ctl" netcon-compat)
	ok=1
	case "$nwid" in [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;; *) ok=0 ;; esac
	if [ $ok = 1 ]; then
		for r in netcon monitor; do
			zt_authorize ctl "$BUILD/ctl" "$nwid" "$(zt_addr "$BUILD/ids/$r")" || ok=0
		done
	fi
	topo_kill_pidfile "$BUILD/ctl/zerotier-one.pid"
	[ $ok = 1 ] || die "the controller did not create the network or authorize the members (nwid '$nwid')"
	rm -f "$BUILD/ctl/zerotier-one.pid" "$BUILD/ctl/zerotier-one.port"
	rm -rf "$BUILD/ctl/networks.d" "$BUILD/ctl/peers.d"
	echo "$nwid" >"$BUILD/nwid"
	echo "$stamp" >"$BUILD/ctl/stamp"
	zt_log "network $nwid; members $(zt_addr "$BUILD/ids/netcon") (netcon), $(zt_addr "$BUILD/ids/monitor") (monitor) authorized"
fi
if [ ! -s "$BUILD/ctl/moon.json" ]; then
	"$ZT_BINDIR/zerotier-idtool" initmoon "$BUILD/ctl/identity.public" >"$BUILD/ctl/moon.json.tmp" &&
		mv -f "$BUILD/ctl/moon.json.tmp" "$BUILD/ctl/moon.json" || die "zerotier-idtool initmoon failed"
fi

# 6. seeds for the node images
for r in netcon monitor; do
	mkdir -p "$BUILD/seed/$r/moons.d"
	cp -f "$BUILD/ids/$r/identity.secret" "$BUILD/ids/$r/identity.public" "$BUILD/seed/$r/"
	zt_no_planet_conf "$BUILD/seed/$r/local.conf"
done
echo "$(cat "$BUILD/nwid") $stamp" >"$BUILD/ready"
zt_log "ready: network $(cat "$BUILD/nwid"), binaries in $BUILD/bin"
