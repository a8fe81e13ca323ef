#!/usr/bin/env bash
# scripts/lwip-src.sh DIR - unpack Debian's lwip source package into DIR, the
# same version as the installed liblwip-dev (so its headers, which the stack
# is compiled against, are the headers of the source we build).
#
# Uses `apt-get source` (needs a deb-src entry, which scripts/deps.sh adds,
# and dpkg-dev). Nothing is fetched from anywhere else and nothing lands in
# the repository: DIR is under build/. Exit 0 with DIR/.netcon-unpacked
# present, or 1 with the reason on stderr (the Makefile then falls back to
# the packaged library).
set -u
dir=${1:?usage: lwip-src.sh DIR}
ver=$(dpkg-query -W -f='${Version}' liblwip-dev 2>/dev/null)
[ -n "$ver" ] || { echo "lwip-src: liblwip-dev is not installed (make deps)" >&2; exit 1; }
command -v apt-get >/dev/null || { echo "lwip-src: no apt-get" >&2; exit 1; }
command -v dpkg-source >/dev/null || { echo "lwip-src: no dpkg-source (dpkg-dev; make deps)" >&2; exit 1; }
[ -f "$dir/.netcon-unpacked" ] && exit 0

tmp=$dir.tmp
rm -rf "$tmp" && mkdir -p "$tmp" || exit 1
# apt-get source as root warns that _apt cannot write here; harmless
if ! (cd "$tmp" && timeout 120 apt-get source -q "lwip=$ver") >"$tmp.log" 2>&1; then
	echo "lwip-src: 'apt-get source lwip=$ver' failed (no deb-src entry or no network?):" >&2
	grep -E '^(E|W):' "$tmp.log" | grep -v 'unsandboxed' | head -n 3 | sed 's/^/    /' >&2
	rm -rf "$tmp"
	exit 1
fi
src=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d -name 'lwip-*' | head -n 1)
if [ -z "$src" ] || [ ! -f "$src/src/core/tcp.c" ] || [ ! -f "$src/port/include/lwipopts.h" ]; then
	echo "lwip-src: the unpacked source has no src/core/tcp.c or port/include/lwipopts.h" >&2
	rm -rf "$tmp"
	exit 1
fi
# the port's options must be the ones the installed headers carry: they are
# the base stack/lwipopts.h changes only behaviour options of
if ! cmp -s "$src/port/include/lwipopts.h" /usr/include/lwip/lwipopts.h; then
	echo "lwip-src: $src/port/include/lwipopts.h differs from /usr/include/lwip/lwipopts.h" >&2
	rm -rf "$tmp"
	exit 1
fi
rm -rf "$dir" && mv "$src" "$dir" && echo "$ver" >"$dir/.netcon-unpacked" || exit 1
rm -rf "$tmp" "$tmp.log"
echo "lwip-src: Debian lwip $ver unpacked in $dir"
