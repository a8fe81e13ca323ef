#!/usr/bin/env bash
# The README's first command: scripts/demo.sh (what `make demo` runs after
# building) must pass. As root it includes the tap node in a namespace.
source "$(dirname "$0")/../lib.sh"
out=$NC_TMP/demo.log
if bash "$ROOT/scripts/demo.sh" >"$out" 2>&1; then
	pass "make demo: seed walkthrough ($(grep -c '^==>' "$out") steps)"
	if is_root; then
		grep -q "T: ping -c 3" "$out" && grep -q "3 received" "$out" \
			&& pass "make demo: tap node pings the netcon address" \
			|| fail "make demo: tap node pings the netcon address" "$(tail -5 "$out")"
	fi
else
	fail "make demo" "$(grep -A3 'demo FAILED' "$out" | head -5 | tr '\n' ' ')"
fi
# Not root: the netcon-only part must work as an ordinary user, and the
# dependency check must name the apt-get line instead of installing.
if is_root && id nobody >/dev/null 2>&1; then
	if runuser -u nobody -- bash "$ROOT/scripts/demo.sh" >"$out.noroot" 2>&1; then
		grep -q "not root: skipping the tap node" "$out.noroot" \
			&& pass "make demo as user nobody: netcon-only walkthrough" \
			|| fail "make demo as user nobody" "did not take the non-root path"
	else
		fail "make demo as user nobody" "$(grep -A3 'demo FAILED' "$out.noroot" | head -5 | tr '\n' ' ')"
	fi
	msg=$(runuser -u nobody -- env NC_EXTRA_PKGS=netcon-no-such-package bash "$ROOT/scripts/deps.sh" 2>&1); rc=$?
	[ $rc != 0 ] && echo "$msg" | grep -q "sudo apt-get install -y netcon-no-such-package" \
		&& pass "deps as non-root: prints the apt-get line and stops" \
		|| fail "deps as non-root" "rc=$rc: $msg"
fi
exit $NC_FAILED
