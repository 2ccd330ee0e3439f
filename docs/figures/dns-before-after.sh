#!/bin/bash
# The DNS benchmark on two commits, alternated: benchmarks/dns/dnsperf-bench.sh of each tree (each builds its
# own sample) run in turn ROUNDS times, so that both see the same machine. Prints each run's raw output under
# a "### round R: before|after" line, then the medians over every rep of each side.
# usage: sudo docs/figures/dns-before-after.sh BEFORE_TREE AFTER_TREE [ROUNDS=2] [SECS=5] [REPS=3] > docs/raw/NAME.txt
#   env MODES (default "xdp knot"), RATES (default "2000 20000 100000"), FAMILY; KNOT_CAND (default ../shared/baseline/knot_cand.sh)
#   e.g. git worktree add /tmp/before a2dd90d && sudo docs/figures/dns-before-after.sh /tmp/before . 2 5 3
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BEFORE=$(cd "${1:?before tree}" && pwd); AFTER=$(cd "${2:?after tree}" && pwd)
ROUNDS=${3:-2}; SECS=${4:-5}; REPS=${5:-3}
export MODES=${MODES:-xdp knot} RATES=${RATES:-2000 20000 100000}
export KNOT_CAND=${KNOT_CAND:-$(cd "$HERE/../../.." && pwd)/shared/baseline/knot_cand.sh}
echo "# $(date -u '+%F %T UTC'), before $(git -C "$BEFORE" rev-parse --short HEAD), after $(git -C "$AFTER" rev-parse --short HEAD), command: MODES=\"$MODES\" RATES=\"$RATES\" docs/figures/dns-before-after.sh $* ; machine: $(uname -r), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
log=$(mktemp); trap 'rm -f "$log"' EXIT
for round in $(seq "$ROUNDS"); do
	for side in before after; do
		tree=$BEFORE; [ "$side" = after ] && tree=$AFTER
		echo "### round $round: $side ($tree)"
		"$tree/benchmarks/dns/dnsperf-bench.sh" "$SECS" "$REPS" 2>&1 | tee "$log.run"
		sed -n "s/^RESULT /RESULT side=$side /p" "$log.run" >>"$log"
	done
done
rm -f "$log.run"
echo "### medians over every rep of each side (even count: mean of the two middle values)"
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "-"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
for side in before after; do
	for mode in $MODES; do
		for rate in full $RATES; do
			line="side=$side mode=$mode rate=$rate"
			for key in qps cpu_ns_per_query vol_cs_per_query invol_cs_per_query latency_us; do
				v=$(grep "^RESULT side=$side mode=$mode rep=[0-9]* rate=$rate " "$log" | tr ' ' '\n' | awk -F= -v k=$key '$1 == k {print $2}' | median)
				[ "$v" = - ] || line+=" $key=$v"
			done
			echo "MEDIAN $line"
		done
	done
done
