#!/bin/bash
# docs/performance.md "At parity, not 5 % ahead: why": where the sink core's time goes in txonly-sink with KCPU=0, for the C
# baseline and for `afxdp bench`. Runs ../shared/baseline/bench.sh (one rep each) and meanwhile samples core 0,
# where the sink's threaded NAPI runs, with `perf record -e cpu-clock` (software sampling; the VM has no PMU).
# Prints bench.sh's summary (napi= is the sink core's busy %) and the top symbols of the NAPI thread.
# usage: sudo docs/figures/txonly-sink-profile.sh [REPS=3] [SECS=8] > docs/raw/txonly-sink-profile-DATE.txt   (the two alternate)
#   env CANDIDATE (default "/tmp/aot/afxdp bench"), BASELINE (a built copy of ../shared/baseline, default /tmp/baseline)
set -eu
REPS=${1:-3}; SECS=${2:-8}
CANDIDATE=${CANDIDATE:-/tmp/aot/afxdp bench}; BASELINE=${BASELINE:-/tmp/baseline}
[ -x "$BASELINE/xsk_baseline" ] || { cp -r "$(dirname "$0")/../../../shared/baseline/." "$BASELINE" && make -C "$BASELINE" -s; }
export LOG; LOG=$(mktemp -d)
cd "$BASELINE"
# lab.sh up deletes a lab that is up: that would be another run's, measuring now
if ip netns list | grep -qw xblA; then echo "the baseline lab (xblA/xblB) is up: another run is using it; wait for it or ./lab.sh down" >&2; exit 1; fi
./lab.sh up >/dev/null
trap './lab.sh down >/dev/null; rm -rf "$LOG"' EXIT; trap 'exit 1' INT TERM
echo "# $(date -u '+%F %T UTC') $(uname -r), $(nproc) cores; perf $(perf --version | cut -d' ' -f3)"
for rep in $(seq "$REPS"); do for impl in ./xsk_baseline "$CANDIDATE"; do
	echo "== rep $rep: BIN=\"$impl\" KCPU=0 ./bench.sh txonly-sink 1 $SECS, with: perf record -e cpu-clock -C 0 -- sleep $((SECS - 4)) (from 3 s in)"
	KCPU=0 BIN="$impl" CANDIDATE= ./bench.sh txonly-sink 1 "$SECS" 2>"$LOG/tries" >"$LOG/bench.out" &
	bench=$!
	# bench.sh waits for quiet cores first: start sampling 3 s after the unit under test started
	until pgrep -f -- "-i xbla0 -m txonly" >/dev/null; do sleep 0.2; done
	sleep 3
	perf record -q -e cpu-clock -C 0 -o "$LOG/perf.data" -- sleep $((SECS - 4)) 2>/dev/null
	wait $bench
	cat "$LOG/bench.out"
	# bench.sh repeats a try that saw foreign load and reports the last; the profile is from the first try
	echo "-- bench.sh's tries (the profile below was sampled during try 1):"
	grep ' try ' "$LOG/tries" | cut -c1-200
	napi=$(perf report -q -i "$LOG/perf.data" --sort comm --stdio 2>/dev/null | awk '$2 ~ /^napi\/xblb0/ { print $2; exit }')
	echo "-- core 0 by thread (perf report --sort comm)"
	perf report -q -i "$LOG/perf.data" --sort comm --stdio 2>/dev/null | head -5
	echo "-- $napi by symbol, % of its samples (perf report --comms $napi --sort sym --percentage relative)"
	perf report -q -i "$LOG/perf.data" --comms "$napi" --sort sym --percentage relative --stdio 2>/dev/null | head -15
done; done
