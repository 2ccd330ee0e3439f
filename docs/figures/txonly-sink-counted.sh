#!/bin/bash
# Issue 24.4: txonly-sink counted where the frames arrive. bench.sh takes each sender's own " pps=": the
# C baseline and `afxdp bench` count TX completions, DPDK's testpmd counts descriptors placed in its TX
# ring. This runs the same bench.sh scenario (KCPU=0: the sink's threaded NAPI on core 0, the sender on
# core 1) with every sender wrapped in sink-counted.sh, which reports the rate the sink's XDP program saw
# (veth's rx_queue_0_xdp_packets) and logs the sender's own claim beside it; then one DPDK run with the
# kernel's XDP_STATISTICS of testpmd's socket read twice, 2 s apart (xsk-stats.py). DPDK runs twice: as
# dpdk_cand.sh starts it (--no-huge: its mbufs, the UMEM, in 4 KiB pages) and with 2 MiB huge pages (the
# same script with --no-huge dropped; the script reserves 512 huge pages and mounts hugetlbfs if
# needed, and puts both back afterwards).
# usage: sudo docs/figures/txonly-sink-counted.sh [REPS=3] [SECS=8]
#   env CANDIDATE (default "/tmp/aot/afxdp bench"), BASELINE (a built copy of ../shared/baseline, default /tmp/baseline)
#   needs dpdk-testpmd (apt-get install dpdk-dev librte-net-af-xdp23), xdp-tools, python3
set -eu
REPS=${1:-3}; SECS=${2:-8}
HERE=$(cd "$(dirname "$0")" && pwd)
CANDIDATE=${CANDIDATE:-/tmp/aot/afxdp bench}; BASELINE=${BASELINE:-/tmp/baseline}
[ -x "$BASELINE/xsk_baseline" ] || { cp -r "$HERE/../../../shared/baseline/." "$BASELINE" && make -C "$BASELINE" -s; }
export LOG; LOG=$(mktemp -d)
cd "$BASELINE"
if ip netns list | grep -qw xblA; then echo "the baseline lab (xblA/xblB) is up: another run is using it; wait for it or ./lab.sh down" >&2; exit 1; fi
./lab.sh up >/dev/null
# DPDK with huge pages: dpdk_cand.sh without --no-huge, in our own temporary directory
sed 's/--no-huge //' dpdk_cand.sh >"$LOG/dpdk_huge.sh" && chmod 700 "$LOG/dpdk_huge.sh"
hp=$(cat /proc/sys/vm/nr_hugepages); mounted=
[ "$hp" -ge 512 ] || echo 512 >/proc/sys/vm/nr_hugepages
if ! grep -q ' hugetlbfs ' /proc/mounts; then mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages && mounted=1; fi
restore() { [ -z "$mounted" ] || umount /dev/hugepages; echo "$hp" >/proc/sys/vm/nr_hugepages; }
trap './lab.sh down >/dev/null; restore; rm -rf "$LOG"' EXIT; trap 'exit 1' INT TERM
echo "# $(date -u '+%F %T UTC') $(uname -r), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
for cand in "$CANDIDATE" "$BASELINE/dpdk_cand.sh" "$LOG/dpdk_huge.sh"; do
	echo "== KCPU=0 BIN=\"sink-counted.sh ./xsk_baseline\" CANDIDATE=\"sink-counted.sh $cand\" ./bench.sh txonly-sink $REPS $SECS"
	KCPU=0 BIN="$HERE/sink-counted.sh ./xsk_baseline" CANDIDATE="$HERE/sink-counted.sh $cand" ./bench.sh txonly-sink "$REPS" "$SECS" 2>/dev/null
	echo "-- per rep (pps= is what the sink received; claimed_pps= what the sender reported):"
	grep -o 'txonly-sink-[a-z]*-[0-9]*-try[0-9]: mode=sink-counted[^|]*' "$LOG/runs.log"
	: >"$LOG/runs.log"
done
sink() { ip netns exec xblB ethtool -S xblb0 | awk '/rx_queue_0_xdp_packets:/ { print $2 }'; }
for dpdk in ./dpdk_cand.sh "$LOG/dpdk_huge.sh"; do
	echo "== one more DPDK run ($dpdk): XDP_STATISTICS of testpmd's AF_XDP socket 3 s and 5 s in, and the sink's count over the same 2 s"
	./lab.sh exec b xdp-loader load -m native xblb0 /usr/lib/x86_64-linux-gnu/bpf/xdpfilt_dny_all.o
	./lab.sh exec a taskset -c 1 "$dpdk" -i xbla0 -m txonly -c copy -R --dmac 02:00:00:00:0b:01 -d $((SECS < 8 ? 8 : SECS)) >"$LOG/dpdk.out" 2>&1 &
	sleep 3
	pid=$(pgrep -n dpdk-testpmd); s1=$(sink); python3 "$HERE/xsk-stats.py" "$pid"
	sleep 2; s2=$(sink); python3 "$HERE/xsk-stats.py" "$pid"
	echo "sink received in those 2 s: $((s2 - s1))"
	wait
	cat "$LOG/dpdk.out"
	./lab.sh exec b xdp-loader unload -a xblb0
done
