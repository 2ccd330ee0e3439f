#!/bin/bash
# docs/testing.md "Frame accounting" figure: the l2fwd soak with a frame ledger on both ends (SoakTests), 10^7 frames.
# The test builds its own throwaway veth lab and prints one "soak: ..." line with the figures it asserted on.
# usage: sudo docs/figures/soak.sh [FRAMES=10000000] > docs/raw/soak-DATE.txt
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FRAMES=${1:-10000000}
dotnet build "$ROOT/tests/AfXdp.KernelTests" -c Release >&2
echo "# $(date -u '+%F %T UTC') $(uname -r), $(nproc) cores; commit $(git -C "$ROOT" rev-parse --short HEAD)"
echo "# AFXDP_SOAK_FRAMES=$FRAMES tests/AfXdp.KernelTests/bin/Release/net10.0/AfXdp.KernelTests -class AfXdp.KernelTests.Reliability.SoakTests -showliveoutput -nocolor"
AFXDP_SOAK_FRAMES=$FRAMES "$ROOT/tests/AfXdp.KernelTests/bin/Release/net10.0/AfXdp.KernelTests" \
	-class AfXdp.KernelTests.Reliability.SoakTests -showliveoutput -nocolor 2>&1
