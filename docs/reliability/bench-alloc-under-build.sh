#!/bin/sh
# Issue 14: bench's alloc_bytes in txonly -R (the case that once printed a non-zero value under load), N runs
# of 1 s (--json, as CliTests runs it) in the persistent lab (rebuilt, and deleted at the end) while another copy of the tree rebuilds in a loop. Prints one line per run:
# "i \"alloc_bytes\":... load". Run as root after `dotnet build`:
#   sh docs/reliability/bench-alloc-under-build.sh [N] > docs/raw/bench-alloc-under-build-DATE.txt
N=${1:-40}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CLI="$REPO/src/AfXdp.Cli/bin/Debug/net10.0/AfXdp.Cli.dll"
. "$REPO/docs/reliability/build-loop.sh"
build_loop_start "$REPO" /tmp/afxdp-alloc-build-loop
dotnet "$CLI" lab up > /dev/null
MACA=$(ip netns exec afxlabA cat /sys/class/net/afxa0/address)
echo "# $(date -u) $(uname -r), $(nproc) cores, commit $(cd "$REPO" && git rev-parse --short HEAD); bench txonly -R -d 1 --json x $N beside a build loop"
sleep 20
ZERO=0
for i in $(seq "$N"); do
  RESULT=$(ip netns exec afxlabB dotnet "$CLI" bench -i afxb0 -m txonly -R -d 1 --json --dmac "$MACA" 2>&1 | grep -o '"alloc_bytes":[0-9]*\|^error.*')
  [ "$RESULT" = '"alloc_bytes":0' ] && ZERO=$((ZERO + 1))
  echo "$i $RESULT load $(cut -d' ' -f1 /proc/loadavg)"
done
build_loop_stop
dotnet "$CLI" lab down > /dev/null
echo "# done $(date +%T); alloc_bytes=0 in $ZERO of $N runs"
