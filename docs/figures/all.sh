#!/bin/bash
# Every table of docs/performance.md from one commit in one go: one NativeAOT build of HEAD, then each figure
# script in turn, each writing its raw output to docs/raw/NAME-DATE.txt headed by the date, the commit, the
# command, the machine and the load average. Takes hours; run it as root on a machine with no other work.
# usage: sudo docs/figures/all.sh [REPS=5] [SECS=8] [DNSSECS=10] [MICROJOB=default]
#   DNSSECS: each dnsperf pass; MICROJOB: BenchmarkDotNet's job for the micro-benchmarks (short is quicker)
#   env BASELINE  a built copy of ../shared/baseline (default /tmp/baseline), for the bench.sh scenarios
# Needs what the scripts need: dnsperf, perf, cc and libxdp-dev (./test.sh installs them but perf).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REPS=${1:-5}; SECS=${2:-8}; DNSSECS=${3:-10}; MICROJOB=${4:-default}; DAY=$(date -u +%Y%m%d)
if [ -n "$(git -C "$ROOT" status --porcelain -- src samples benchmarks docs/figures)" ]; then
	echo "all.sh: src/, samples/, benchmarks/ or docs/figures/ has uncommitted changes; commit them first, so that the figures name the code they measured" >&2
	exit 2
fi
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD)
AOT=/tmp/afxdp-figures-$COMMIT
dotnet publish "$ROOT/src/AfXdp.Cli" -c Release -r linux-x64 -p:PublishAot=true -o "$AOT" >&2
export AFXDP="$AOT/afxdp" CANDIDATE="$AOT/afxdp bench"
cd "$ROOT"

header() { # $1: the command
	echo "# $(date -u '+%F %T UTC'), commit $COMMIT, command: $1 (by docs/figures/all.sh $REPS $SECS $DNSSECS $MICROJOB), machine: $(uname -r), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
run() { # $1: the raw file's name before -DATE.txt; the rest: the command
	local name=$1; shift
	echo "all.sh: $name" >&2
	{ header "$*"; "$@"; } >"docs/raw/$name-$DAY.txt" 2>&1
}

# The side-by-side script appends to its output file (and writes .runs.log, .tries.log beside it).
header "docs/figures/bench-side-by-side.sh docs/raw/bench-$DAY.txt $REPS $SECS" >"docs/raw/bench-$DAY.txt"
docs/figures/bench-side-by-side.sh "docs/raw/bench-$DAY.txt" "$REPS" "$SECS" >&2
run txonly-sink-profile docs/figures/txonly-sink-profile.sh 3 "$SECS"
run microbench docs/figures/microbench.sh "$MICROJOB"
run dnsperf-knot benchmarks/dns/dnsperf-bench.sh "$DNSSECS" "$REPS"
run dnsperf-knot-ipv6 env FAMILY=6 benchmarks/dns/dnsperf-bench.sh "$DNSSECS" "$REPS"
run txonly-sink-counted docs/figures/txonly-sink-counted.sh 3 "$SECS"
run dnsperf-veth-default env CLIENT_RPS=0 MODES="xdp xdp-spin xdp-nospin xdp-coalesce kernel" benchmarks/dns/dnsperf-bench.sh "$DNSSECS" "$REPS"
# 200 µs is xdp-coalesce's default: dnsperf-veth-default above has it, beside --kernel in the same run
for c in 100 500; do
	run "dnsperf-coalesce-$c" env COALESCE_US=$c MODES="xdp-coalesce kernel" CLIENT_RPS=0 benchmarks/dns/dnsperf-bench.sh "$DNSSECS" "$REPS"
done
run scaling docs/figures/scaling.sh 12 5
run async-cpu docs/figures/async-cpu.sh "$REPS" 5
run echo docs/figures/echo.sh
echo "all.sh: done; raw outputs in docs/raw/*-$DAY.txt" >&2
