#!/bin/bash
# docs/performance.md's side-by-side bench: every scenario of ../shared/baseline/bench.sh with `afxdp bench`
# as the candidate, then the same with the baseline as its own candidate (A/A: the noise). The two livegen
# scenarios need BPF_PROG_RUN live frames, which some kernel builds refuse (EPERM): the script tries the
# in-kernel generator for a second first and, when it is refused, says so and skips those two.
# usage: bench-side-by-side.sh OUT.txt [REPS=5] [SECS=8]
#   env CANDIDATE  the candidate command (default "/tmp/aot/afxdp bench": the README's NativeAOT build)
#       BASELINE   a built copy of ../shared/baseline (default /tmp/baseline; made here if missing)
#       AA=0       skip the A/A runs
# Writes OUT.txt (summary lines, prefixed by the run's KCPU) and OUT.runs.log (every rep's final lines).
# Needs root; brings the baseline's lab (xblA/xblB) up and down.
set -eu
OUT=$(realpath -m "${1:?output file}"); REPS=${2:-5}; SECS=${3:-8}
CANDIDATE=${CANDIDATE:-/tmp/aot/afxdp bench}; BASELINE=${BASELINE:-/tmp/baseline}; AA=${AA:-1}
[ -x "$BASELINE/xsk_baseline" ] || { cp -r "$(dirname "$0")/../../../shared/baseline/." "$BASELINE" && make -C "$BASELINE" -s; }
export LOG; LOG=$(mktemp -d /tmp/bench-side-by-side.XXXX)
cd "$BASELINE"
# lab.sh up deletes a lab that is up: that would be another run's, measuring now
if ip netns list | grep -qw xblA; then echo "the baseline lab (xblA/xblB) is up: another run is using it; wait for it or ./lab.sh down" >&2; exit 1; fi
./lab.sh up >/dev/null
trap './lab.sh down' EXIT; trap 'exit 1' INT TERM
run() { # KCPU scenario candidate
	local k=$1; shift
	if [ "$k" = unset ]; then CANDIDATE="$2" ./bench.sh "$1" "$REPS" "$SECS"
	else KCPU=$k CANDIDATE="$2" ./bench.sh "$1" "$REPS" "$SECS"; fi 2>>"$LOG/tries.log" | sed "s/^/KCPU=$k /"
}
{
	echo "# $(date -u) $(uname -r) $(nproc) cores;$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); candidate: $CANDIDATE; reps=$REPS secs=$SECS"
	livegen=(rxdrop-drv-livegen rxdrop-skb-livegen)
	if ! why=$(./lab.sh exec a timeout 5 ./xdp_livegen -i xbla0 -m 02:00:00:00:0b:01 -d 1 2>&1); then
		echo "# rxdrop-drv-livegen, rxdrop-skb-livegen: not run, this kernel build refuses the in-kernel generator: ${why//$'\n'/ }"
		livegen=()
	fi
	cands=("$CANDIDATE"); [ "$AA" = 1 ] && cands+=("$BASELINE/xsk_baseline")
	for c in "${cands[@]}"; do
		[ "$c" = "$CANDIDATE" ] || echo "# A/A: the baseline against itself (candidate = $c)"
		run 0 txonly-sink "$c"
		for sc in l2fwd-drv-txgen l2fwd-skb-txgen rxdrop-drv-txgen rxdrop-skb-txgen "${livegen[@]}"; do
			run unset "$sc" "$c"
		done
	done
} | tee -a "$OUT"
cp "$LOG/runs.log" "${OUT%.txt}.runs.log"
cat "$LOG/tries.log" >"${OUT%.txt}.tries.log"
rm -rf "$LOG"
