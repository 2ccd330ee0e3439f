#!/bin/bash
# docs/performance.md micro-benchmark table: BenchmarkDotNet over the ring steps (benchmarks/AfXdp.Benchmarks), C xsk.h against
# AfXdp, no kernel. Copies each class's report to docs/raw/microbench-DATE-CLASS.md / .csv and prints the tables.
# usage: docs/figures/microbench.sh [JOB=short] > docs/raw/microbench-DATE.txt      (needs cc and /usr/include/xdp/xsk.h: apt-get install libxdp-dev)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JOB=${1:-short}
cd "$ROOT/benchmarks/AfXdp.Benchmarks"
rm -rf BenchmarkDotNet.Artifacts
load=$(cut -d' ' -f1-3 /proc/loadavg)
dotnet run -c Release -- --filter '*' --job "$JOB" >&2
day=$(date -u +%Y%m%d)
echo "# $(date -u '+%F %T UTC'), load average before $load (the machine may be shared), job $JOB, commit $(git -C "$ROOT" rev-parse --short HEAD)"
for report in BenchmarkDotNet.Artifacts/results/*-report-github.md; do
	class=$(basename "$report" -report-github.md); class=${class##*.}
	cp "$report" "$ROOT/docs/raw/microbench-$day-$class.md"
	cp "${report%-github.md}.csv" "$ROOT/docs/raw/microbench-$day-$class.csv"
	echo "== $class (docs/raw/microbench-$day-$class.md)"
	cat "$report"
done
