#!/usr/bin/env bash
# stack_lwip.sh - the liblwip.so the Makefile builds from Debian's lwip
# source package (stack/lwipopts.h) is interchangeable with Debian's
# packaged one:
# 1. layouts: tests/lwip/abi_probe.c compiled against Debian's headers and
#    against the source with our options prints the same sizeof/offsetof for
#    every structure the stack shares with lwIP; the options differ only
#    where stack/lwipopts.h means them to (TCP_TMR_INTERVAL, TCP_MSL);
# 2. symbols: the build exports every symbol Debian's library exports, plus
#    only netcon_lwip_info;
# 2b. the stack refuses a netcon build whose record does not match its
#    headers (a copy with TCP_WND patched);
# 3. the daemon says in its log which library it loaded, from where;
# 4. real traffic: a daemon on our build and one on Debian's library (its
#    HOME/liblwip.so, as a user's copy would be) move 4 MB both ways intact.
# Without the source (no deb-src, no network) build/liblwip.so is Debian's
# library: then 1-2 are skipped, saying so, and the rest runs on it.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
source "$(dirname "$0")/fault_lib.bash"
X=$BIN/tools/fault_xfer PD=$BIN/lwip-abi/probe-debian PN=$BIN/lwip-abi/probe-netcon LL=$BIN/tools/lwip_loss
need_bins "$SVC" "$CLI" "$IDTOOL" "$ICEPT" "$X" "$PD" "$LL" || exit 1
LIB=$BIN/liblwip.so
SYS=$(ls /usr/lib/*/liblwip.so.0 /usr/lib/liblwip.so.0 2>/dev/null | head -n 1)
[ -f "$LIB" ] && [ -n "$SYS" ] || { fail "libraries" "no $LIB or no packaged liblwip.so.0"; exit 1; }
# options stack/lwipopts.h changes on purpose
ALLOWED="TCP_TMR_INTERVAL TCP_MSL"

ours=0
if nm -D --defined-only "$LIB" | grep -q ' netcon_lwip_info$'; then
	ours=1
	pass "build: $LIB is the Makefile's build from Debian's lwip source"
elif cmp -s "$LIB" "$SYS"; then
	skip "build: layouts and symbols of a source build" "$LIB is Debian's packaged library (the source package was not available when it was built: see the make output)"
else
	fail "build" "$LIB is neither a netcon build (no netcon_lwip_info) nor a copy of $SYS"
fi

if [ $ours = 1 ]; then
	# ---- 1. layouts and options ----
	if [ ! -x "$PN" ]; then
		fail "layouts" "$PN is missing (built with the library)"
	else
		"$PD" >"$NC_TMP/debian.txt"; "$PN" >"$NC_TMP/netcon.txt"
		n=$(grep -c '^layout ' "$NC_TMP/debian.txt")
		if [ "$n" -gt 100 ] && diff <(grep '^layout ' "$NC_TMP/debian.txt") <(grep '^layout ' "$NC_TMP/netcon.txt") >"$NC_TMP/layout.diff"; then
			pass "layouts: $n sizeof/offsetof values identical with Debian's and our options (tcp_pcb $(awk '$2 == "sizeof(struct" && $3 == "tcp_pcb)" {print $4}' "$NC_TMP/debian.txt") bytes)"
		else
			fail "layouts" "$n values; differences: $(head -c 600 "$NC_TMP/layout.diff")"
		fi
		changed=$(join <(grep '^option ' "$NC_TMP/debian.txt" | awk '{print $2, $3}' | sort) \
			<(grep '^option ' "$NC_TMP/netcon.txt" | awk '{print $2, $3}' | sort) | awk '$2 != $3')
		bad=""
		while read -r name a b; do
			[ -n "$name" ] || continue
			case " $ALLOWED " in *" $name "*) ;; *) bad="$bad $name($a->$b)" ;; esac
		done <<<"$changed"
		[ -z "$bad" ] && [ -n "$changed" ] &&
			pass "options: only the intended ones differ: $(echo "$changed" | awk '{printf "%s %s->%s; ", $1, $2, $3}')" ||
			fail "options" "unexpected differences:$bad (all: $(echo $changed))"
	fi
	# ---- 2. symbols ----
	nm -D --defined-only "$SYS" | awk '{print $3}' | sort >"$NC_TMP/sym.debian"
	nm -D --defined-only "$LIB" | awk '{print $3}' | sort >"$NC_TMP/sym.netcon"
	missing=$(comm -23 "$NC_TMP/sym.debian" "$NC_TMP/sym.netcon" | tr '\n' ' ')
	extra=$(comm -13 "$NC_TMP/sym.debian" "$NC_TMP/sym.netcon" | tr '\n' ' ')
	[ -z "$missing" ] && [ "$extra" = "netcon_lwip_info " ] &&
		pass "symbols: all $(wc -l <"$NC_TMP/sym.debian") of Debian's exported, plus netcon_lwip_info" ||
		fail "symbols" "missing: ${missing:-none}; extra: ${extra:-none}"

	# ---- 2b. the stack refuses a netcon build that does not match its headers:
	# a copy whose netcon_lwip_info says TCP_WND 0x1ffff (byte-patched) ----
	if python3 - "$LIB" "$NC_TMP/bad.so" "$(nm -D --defined-only "$LIB" | awk '$3 == "netcon_lwip_info" {print $1}')" <<'PY'
import struct, sys
src, dst, sym = sys.argv[1], sys.argv[2], int(sys.argv[3], 16)
b = bytearray(open(src, "rb").read())
phoff, = struct.unpack_from("<Q", b, 0x20); phsz, phn = struct.unpack_from("<HH", b, 0x36)
for i in range(phn):
    t, _, off, va, _, fsz = struct.unpack_from("<IIQQQQ", b, phoff + i * phsz)
    if t == 1 and va <= sym < va + fsz:
        o = off + sym - va + 60          # struct nc_lwip_info.tcp_wnd
        assert struct.unpack_from("<I", b, o)[0] == 0xFFFF
        struct.pack_into("<I", b, o, 0x1FFFF)
        open(dst, "wb").write(b)
        sys.exit(0)
sys.exit(1)
PY
	then
		env "${APP_ENV[@]}" LWIP="$NC_TMP/bad.so" timeout 20 "$LL" 1 0 0 >"$NC_TMP/bad.out" 2>&1; rc=$?
		[ $rc = 1 ] && grep -q "layouts or window options other than" "$NC_TMP/bad.out" &&
			pass "guard: a copy of the build whose record says TCP_WND 0x1ffff is refused at load" ||
			fail "guard" "exit $rc: $(head -c 300 "$NC_TMP/bad.out")"
	else
		fail "guard: patch a copy of netcon_lwip_info" "no loadable segment holds it, or its tcp_wnd is not 0xFFFF"
	fi
fi

# ---- 3 and 4: A loads build/liblwip.so, B its HOME/liblwip.so = Debian's ----
HA=$NC_TMP/a HB=$NC_TMP/b
mkdir -p "$HB" && cp "$SYS" "$HB/liblwip.so"
net_up "$HA" "$HB" || { fail "setup: two daemons on one network" "see $NC_TMP"; exit 1; }
la=$(grep -h ' lwIP ' "$HA/stderr.log" "$HA/node.log" 2>/dev/null | head -n 1)
lb=$(grep -h ' lwIP ' "$HB/stderr.log" "$HB/node.log" 2>/dev/null | head -n 1)
if [ $ours = 1 ]; then
	case "$la" in *"$LIB (netcon build of Debian lwip"*"TCP timer"*) pass "log: A names its library: ${la#* lwIP }" ;;
	*) fail "log: A's library" "log line: '$la'" ;; esac
else
	case "$la" in *"$LIB (no netcon build record"*) pass "log: A names its library: ${la#* lwIP }" ;;
	*) fail "log: A's library" "log line: '$la'" ;; esac
fi
case "$lb" in *"$HB/liblwip.so (no netcon build record"*) pass "log: B names HOME/liblwip.so, Debian's: ${lb#* lwIP }" ;;
*) fail "log: B's library" "log line: '$lb'" ;; esac

BYTES=$((4 * 1024 * 1024)) WANT=$("$X" stream $((4 * 1024 * 1024)))
# xfer FROM TO PORT - BYTES from FROM's app to TO's app; sha256 both ends
xfer() {
	local from=$1 to=$2 port=$3 r s d
	net_bg "$to" "$NC_TMP/sink.$port" "$X" sink "$port"; r=$BG_PID
	wait_for grep -q listening "$NC_TMP/sink.$port"
	timeout 120 env "${APP_ENV[@]}" LD_PRELOAD="$PRELOAD" ZT_NC_NETWORK="${NC_SOCK[$from]}" "$X" source "${NC_IP[$to]}" "$port" "$BYTES" >"$NC_TMP/src.$port" 2>&1
	WAIT_S=30 wait_for bash -c "! kill -0 $r 2>/dev/null"
	s=$(awk '/^sent/ {print $3}' "$NC_TMP/src.$port") d=$(awk '/^done/ {print $3 " " $2}' "$NC_TMP/sink.$port")
	[ "$s" = "$WANT" ] && [ "$d" = "$WANT $BYTES" ]
}
xfer "$HA" "$HB" 6301 && pass "traffic: 4 MB from the build's stack to Debian's, sha256 matches" ||
	fail "traffic: A -> B" "sender: $(cat "$NC_TMP/src.6301"); receiver: $(cat "$NC_TMP/sink.6301")"
xfer "$HB" "$HA" 6302 && pass "traffic: 4 MB from Debian's stack to the build's, sha256 matches" ||
	fail "traffic: B -> A" "sender: $(cat "$NC_TMP/src.6302"); receiver: $(cat "$NC_TMP/sink.6302")"
exit 0
