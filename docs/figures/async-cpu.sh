#!/bin/bash
# docs/performance.md "Receiving: spinning, async, poll, busy poll" table: CPU of `afxdp bench -m rxdrop` spinning (default), with
# --async, -p (poll()) and -B (busy poll), fed on the peer by `afxdp bench -m txonly --rate 50000` (paced) and by
# an unpaced txonly (saturating; spin and --async only, receiver rings -r 8192). cpu_pct is the receiving
# process's CPU from schedstat, in % of one core. Throwaway veth lab, drv mode, copy mode, receiver on core 1,
# feeder on core 0.
# usage: sudo docs/figures/async-cpu.sh [RUNS=5] [SECS=5] > docs/raw/async-cpu-DATE.txt   (env AFXDP: see lab.sh)
. "$(dirname "$0")/lab.sh"
RUNS=${1:-5}; SECS=${2:-5}
fig_lab_up
fig_header "$@"
tmp=$(mktemp -d)
run() { # feed-rate (0: unpaced) variant receiver-options...
	local rate=$1 variant=$2 paced=() line; shift 2
	[ "$rate" = 0 ] || paced=(--rate "$rate")
	# the feeder outlives the receiver, whose clock starts at the first packet
	fig_in a taskset -c 0 "$AFXDP" bench -i "$IF_A" -m txonly -R -c copy "${paced[@]}" -d $((SECS + 4)) \
		--dmac $MAC_B --sip $IP_A --dip $IP_B >"$tmp/feed.out" 2>/dev/null &
	local feeder=$!
	line=$(fig_in b taskset -c 1 "$AFXDP" bench -i "$IF_B" -m rxdrop -a drv -c copy -d "$SECS" "$@" 2>/dev/null | tail -1)
	wait $feeder
	echo "feed=$rate variant=$variant | $line | feeder: $(tail -1 "$tmp/feed.out")"
	sleep 1.5   # a queue re-bound at once after a close can give EBUSY
}
{
	for _ in $(seq "$RUNS"); do
		run 50000 spin
		run 50000 async --async
		run 50000 poll -p
		run 50000 busy-poll -B
	done
	for _ in 1 2 3; do
		run 0 spin -r 8192
		run 0 async -r 8192 --async
	done
} | tee "$tmp/runs"
echo
echo "# median (min-max) of the receiver's pps and cpu_pct, per feed (0 = unpaced) and variant"
awk -F' [|] ' '{ split($1, h, /[ =]/); k = h[2] " variant=" h[4]; pps = cpu = -1
		m = split($2, f, " "); for (i = 1; i <= m; i++) { split(f[i], kv, "="); if (kv[1] == "pps") pps = kv[2]; if (kv[1] == "cpu_pct") cpu = kv[2] }
		n[k]++; P[k, n[k]] = pps; C[k, n[k]] = cpu }
	function med(a, k, m,   i, j, t, x) { for (i = 1; i <= m; i++) x[i] = a[k, i] + 0
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
		# the median: the middle value, or the mean of the two middle ones for an even count
		v = (m % 2) ? x[(m + 1) / 2] : (x[m / 2] + x[m / 2 + 1]) / 2
		return sprintf(v == int(v) ? "%d (%d-%d)" : "%.1f (%d-%d)", v, x[1], x[m]) }
	END { for (k in n) printf "feed=%s runs=%d pps %s cpu_pct %s\n", k, n[k], med(P, k, n[k]), med(C, k, n[k]) }' "$tmp/runs" | sort
