#!/bin/sh
# Issue 14, item 5: the whole kernel suite N times in a row (default 5) while another copy of the tree
# rebuilds in a loop (`dotnet build --no-incremental`, build-loop.sh), so both cores are loaded throughout.
# Run as root: sh docs/reliability/kernel-suite-under-build.sh [N] > docs/raw/kernel-suite-under-build-DATE.txt
N=${1:-5}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
COPY=/tmp/afxdp-build-loop
. "$REPO/docs/reliability/build-loop.sh"
build_loop_start "$REPO" "$COPY"
cd "$REPO" && dotnet build tests/AfXdp.KernelTests -v q > /dev/null
echo "# $(date -u) $(uname -r), $(nproc) cores, commit $(git rev-parse --short HEAD); kernel suite x $N beside a build loop of $COPY; this shell: $(grep SigIgn /proc/$$/status)"
for i in $(seq "$N"); do
  echo "=== run $i $(date +%T), load $(cut -d' ' -f1-3 /proc/loadavg)"
  dotnet test tests/AfXdp.KernelTests --no-build 2>&1 | grep -E -A6 "Passed!|Failed!|^\s+Failed |Error Message"
done
build_loop_stop
echo "=== done $(date +%T); builds of the other copy meanwhile: $BUILD_LOOP_BUILDS"
