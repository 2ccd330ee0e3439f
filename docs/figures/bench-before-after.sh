#!/bin/bash
# Issue 11's check that the batch verbs cost nothing measurable: ../shared/baseline/bench.sh with the C
# reference as base and, in one run, `afxdp bench` before the verbs, after them, and the baseline against
# itself (A/A, the noise). usage: bench-before-after.sh OUT.txt BEFORE_BIN AFTER_BIN [REPS=3] [SECS=5] [SCENARIOS...]
# BEFORE_BIN/AFTER_BIN: NativeAOT builds (`dotnet publish src/AfXdp.Cli -c Release -r linux-x64 -p:PublishAot=true -o DIR`
# at 7e808dc and at HEAD). BASELINE: a built copy of ../shared/baseline (default /tmp/baseline). Needs root.
set -eu
OUT=$(realpath -m "${1:?output}"); BEFORE=${2:?before binary}; AFTER=${3:?after binary}; REPS=${4:-3}; SECS=${5:-5}; shift 5 || true
SCENARIOS=${*:-rxdrop-drv-livegen l2fwd-skb-txgen}
BASELINE=${BASELINE:-/tmp/baseline}
[ -x "$BASELINE/xsk_baseline" ] || { cp -r "$(dirname "$0")/../../../shared/baseline/." "$BASELINE" && make -C "$BASELINE" -s; }
cd "$BASELINE"; ./lab.sh up >/dev/null; trap './lab.sh down' EXIT
{
	echo "# $(date -u) $(uname -r); load: $(cut -d' ' -f1-3 /proc/loadavg); reps=$REPS secs=$SECS; before=$BEFORE after=$AFTER"
	for s in $SCENARIOS; do
		for c in "$BEFORE bench" "$AFTER bench" "$BASELINE/xsk_baseline"; do
			# txonly-sink as in docs/performance.md's table: the sink's NAPI thread on core 0 (KCPU=0).
			kcpu=; [ "$s" = txonly-sink ] && kcpu=0
			echo "# $s, candidate: $c${kcpu:+ (KCPU=$kcpu)}"
			KCPU=$kcpu CANDIDATE="$c" ./bench.sh "$s" "$REPS" "$SECS" 2>/dev/null | grep -E "base \(|cand \(|ratio"
		done
	done
} | tee "$OUT"
