#!/bin/bash
# A bench.sh wrapper for txonly-sink: runs IMPL with bench.sh's arguments and reports the rate the
# sink received (xblb0's XDP program saw, from veth's per-queue counters) instead of the rate IMPL
# says it sent. Senders count differently: one counts TX completions, another frames placed in its
# TX ring; the sink's count is the one figure they share.
# usage (bench.sh passes IMPL its options; see txonly-sink-counted.sh):
#   BIN="$PWD/sink-counted.sh ./xsk_baseline" CANDIDATE="$PWD/sink-counted.sh /path/afxdp bench" KCPU=0 ./bench.sh txonly-sink 5 8
set -u
impl=()
while [ $# -gt 0 ] && [ "$1" != -i ]; do impl+=("$1"); shift; done
secs=8; prev=
for a in "$@"; do [ "$prev" = -d ] && secs=$a; prev=$a; done
sink() { ip netns exec xblB ethtool -S xblb0 | awk '/rx_queue_0_xdp_packets:/ { print $2 }'; }
drops() { ip -s -s link show xbla0 | awk '/TX:/ { getline; print $4 }'; }
# the window: from 2 s after start to 1 s before the end, as bench.sh's CPU window
"${impl[@]}" "$@" >"${TMPDIR:-/tmp}/sink-counted.$$" 2>&1 &
pid=$!
sleep 2; s1=$(sink); d1=$(drops); t1=$(date +%s%N)
sleep "$(awk -v d="$secs" 'BEGIN { print d - 3 }')"; s2=$(sink); d2=$(drops); t2=$(date +%s%N)
wait $pid; rc=$?
claim=$(grep -o ' pps=[0-9]*' "${TMPDIR:-/tmp}/sink-counted.$$" | tail -1 | cut -d= -f2)
rm -f "${TMPDIR:-/tmp}/sink-counted.$$"
awk -v s=$((s2 - s1)) -v d=$((d2 - d1)) -v ns=$((t2 - t1)) -v c="${claim:-0}" -v i="${impl[*]}" 'BEGIN {
	printf "mode=sink-counted impl=%s claimed_pps=%d veth_tx_dropped_pps=%d pps=%d\n", i, c, d * 1e9 / ns, s * 1e9 / ns }'
exit $rc
