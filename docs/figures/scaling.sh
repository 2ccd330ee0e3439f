#!/bin/bash
# docs/performance.md "The engine on 1 and 2 queues" table: `afxdp engine` (drop handler) on 1 and on 2 queues, alternately,
# each queue fed by its own `afxdp bench -m txonly` on the peer. Throwaway veth lab with 2 queues per end, drv mode.
# usage: sudo docs/figures/scaling.sh [PAIRS=12] [SECS=5] > docs/raw/scaling-DATE.txt   (env AFXDP: see lab.sh)
. "$(dirname "$0")/lab.sh"
PAIRS=${1:-12}; SECS=${2:-5}
fig_lab_up 2
fig_header "$@"
tmp=$(mktemp -d)
run() { # queues...
	local q feeders=() line
	for q in "$@"; do
		fig_in a "$AFXDP" bench -i "$IF_A" -m txonly -R -q "$q" -c copy -d $((SECS + 4)) \
			--dmac $MAC_B --sip $IP_A --dip $IP_B >"$tmp/feed$q.out" 2>/dev/null &
		feeders+=($!)
	done
	line=$(fig_in b "$AFXDP" engine -i "$IF_B" -q "$@" -a drv -d "$SECS" 2>/dev/null | tail -1)
	wait "${feeders[@]}"
	echo "queues=$# | $line | feeders:$(for q in "$@"; do printf ' q%s %s' "$q" "$(grep -o ' pps=[0-9]*' "$tmp/feed$q.out")"; done)"
	sleep 1.5   # a queue re-bound at once after a close can give EBUSY
}
for _ in $(seq "$PAIRS"); do
	run 0
	run 0 1
done | tee "$tmp/runs"
echo
echo "# engine pps and cpu_pct (% of one core, both workers) per queue count: median (min-max)"
awk -F' [|] ' '{ split($1, h, "="); k = h[2]; n[k]++; m = split($2, f, " ")
		for (i = 1; i <= m; i++) { split(f[i], kv, "="); if (kv[1] == "pps") P[k, n[k]] = kv[2] + 0; if (kv[1] == "cpu_pct") C[k, n[k]] = kv[2] + 0 } }
	function med(a, k, m,   i, j, t, x) { for (i = 1; i <= m; i++) x[i] = a[k, i]
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
		# the median: the middle value, or the mean of the two middle ones for an even count
		v = (m % 2) ? x[(m + 1) / 2] : (x[m / 2] + x[m / 2 + 1]) / 2
		return sprintf(v == int(v) ? "%d (%d-%d)" : "%.1f (%d-%d)", v, x[1], x[m]) }
	END { for (k in n) printf "queues=%s runs=%d pps %s cpu_pct %s\n", k, n[k], med(P, k, n[k]), med(C, k, n[k]) }' "$tmp/runs" | sort
