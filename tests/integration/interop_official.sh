#!/usr/bin/env bash
# interop_official.sh - the tests against the official ZeroTier One
# (tests/interop/). They print SKIP unless ZT_OFFICIAL_BIN names an official
# zerotier-one binary; see tests/interop/README.md.
exec "$(dirname "$0")/../interop/run.sh" "$@"
