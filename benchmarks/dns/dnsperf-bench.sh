#!/usr/bin/env bash
# DNS responder benchmark: samples/DnsResponder over AF_XDP, the same responder over System.Net.Sockets
# (--kernel) and Knot DNS (C, one UDP worker on kernel sockets: ../shared/baseline/knot_cand.sh or
# KNOT_CAND=PATH), side by side in one run, measured by dnsperf in a throwaway veth lab.
#   benchmarks/dns/dnsperf-bench.sh [SECONDS=10] [REPS=5] > docs/raw/dnsperf-YYYYMMDD.txt
# Environment:
#   MODES="xdp kernel knot"   modes run alternately in each rep; also xdp-spin (--spin-us 50: the old fixed spin),
#                              xdp-nospin (--spin-us 0), xdp-coalesce (--spin-us 0 --coalesce-us $COALESCE_US, default 200),
#                              xdp-nocoalesce (--coalesce-us 0: the adaptive spin, never a window)
#   RATES="2000 20000 100000"  paced rates (dnsperf -Q; RATES="" for none); each rep also runs one full-rate pass (100 queries outstanding)
#   PROFILE=1                  after the reps, one more paced PROFILE_QPS (20000) pass per mode under perf trace -s
#                              (syscalls) and one under perf record -e cpu-clock on the server's core (top symbols)
#   CLIENT_RPS=1               moves dnsperf's receive work onto dnsperf's core, see below
#   SERVER_CPU=PCT             confines every server to PCT % of one core (CFS bandwidth in a cgroup of its own:
#                              PCT/100 of each 10 ms), so that the servers, not dnsperf, are the bound (with
#                              CLIENT_RPS=1): a paced pass above what a server answers in PCT % (RATES=100000 at
#                              SERVER_CPU=40) counts what each answers with the same CPU ("completed"; dnsperf keeps
#                              at most 100 queries outstanding, so a faster server is sent more), and so does the
#                              full-rate pass, for dnsperf's bursts (docs/performance.md)
# Per mode, rep and rate: the server on core 1 (taskset), dnsperf on core 0;
#   full rate -> queries per second, the server's CPU (% of one core) and how busy dnsperf's core was (/proc/stat, tick-sampled);
#   every thread of the server on core 1, Knot's too (knotd pins its UDP worker to a CPU of its own choosing: moved back); paced -> server CPU per query (the server's /proc/PID/task/*/schedstat,
#   ns on CPU, over the run), voluntary and involuntary context switches per query (/proc/PID/task/*/status),
#   dnsperf's average latency. Medians over the reps (for an even count, the mean of the two middle values).
# The lab: namespaces dnsbA (dnsperf, 10.98.0.1) and dnsbB (server, 10.98.0.2), one veth pair with static
# neighbours, IPv6 off unless FAMILY=6 (then fd00:98::1 and ::2, no DAD, static neighbours too), default offloads (the responder accepts the partial UDP checksums dnsperf's end leaves
# on veth, as the kernel does; see docs/guide/udp.md). Every server answers the same query, www.example.test A, from the
# same two A records. Deleted on exit.
set -euo pipefail
export PATH=$PATH:/usr/sbin  # knotd
SECS=${1:-10}
REPS=${2:-5}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KNOT_CAND=${KNOT_CAND:-$ROOT/../shared/baseline/knot_cand.sh}
A=dnsbA B=dnsbB IFA=dnsba0 IFB=dnsbb0 ADDR_A=10.98.0.1 ADDR_B=10.98.0.2 ADDR6_A=fd00:98::1 ADDR6_B=fd00:98::2
FAMILY=${FAMILY:-4}   # FAMILY=6: every server serves, and dnsperf asks, fd00:98::2 instead of 10.98.0.2
case $FAMILY in 4) SERVE=$ADDR_B ;; 6) SERVE=$ADDR6_B ;; *) echo "FAMILY=$FAMILY: write FAMILY=4 or FAMILY=6" >&2; exit 2 ;; esac
MAC_A=02:00:00:00:0d:01 MAC_B=02:00:00:00:0d:02
SERVER_CORE=1 DNSPERF_CORE=0
COALESCE_US=${COALESCE_US:-200}
read -r -a MODES <<<"${MODES:-xdp kernel knot}"
read -r -a RATES <<<"${RATES-2000 20000 100000}"
PROFILE=${PROFILE:-0} PROFILE_QPS=${PROFILE_QPS:-20000}
SERVER_CPU=${SERVER_CPU:-}
declare -A ARGS=([xdp]="" [xdp-spin]="--spin-us 50" [xdp-nospin]="--spin-us 0" [xdp-coalesce]="--spin-us 0 --coalesce-us $COALESCE_US" [xdp-nocoalesce]="--coalesce-us 0" [kernel]="--kernel --threads 1")

need() { command -v "$1" >/dev/null || { echo "dnsperf-bench.sh: needs $1 (Debian package $2): apt-get install $2" >&2; exit 2; }; }
need dnsperf dnsperf; need ip iproute2; need taskset util-linux; need dotnet dotnet-sdk
[[ $PROFILE == 1 ]] && need perf linux-perf
for mode in "${MODES[@]}"; do
  [[ $mode == knot ]] && { need knotd knot; [[ -x $KNOT_CAND ]] || { echo "dnsperf-bench.sh: KNOT_CAND=$KNOT_CAND is not an executable; point it at baseline/knot_cand.sh" >&2; exit 2; }; continue; }
  [[ -v ARGS[$mode] ]] || { echo "dnsperf-bench.sh: unknown mode '$mode' in MODES; use one of: ${!ARGS[*]} knot" >&2; exit 2; }
done
[[ -z $SERVER_CPU || ( $SERVER_CPU =~ ^[1-9][0-9]?$ ) ]] || { echo "dnsperf-bench.sh: SERVER_CPU=$SERVER_CPU: write a percentage of one core from 1 to 99, or leave it unset for no limit" >&2; exit 2; }
[[ $SECS =~ ^[1-9][0-9]*$ && $REPS =~ ^[1-9][0-9]*$ ]] || { echo "dnsperf-bench.sh: SECONDS ($SECS) and REPS ($REPS) are positive integers" >&2; exit 2; }

cleanup() {
  if [[ -n ${SERVER:-} ]]; then kill "${PID:-$SERVER}" "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; fi
  ip netns del $A 2>/dev/null || true
  ip netns del $B 2>/dev/null || true
  [[ -n ${CGROUP:-} ]] && rmdir "$CGROUP" 2>/dev/null
  rm -rf "$WORK"
}
WORK=$(mktemp -d)
CGROUP=
trap cleanup EXIT
trap "exit 130" INT TERM

dotnet build "$ROOT/samples/DnsResponder" -c Release -v q -nologo >&2
DLL="$ROOT/samples/DnsResponder/bin/Release/net10.0/DnsResponder.dll"

ip netns add $A; ip netns add $B
ip link add $IFA netns $A address $MAC_A type veth peer $IFB netns $B address $MAC_B
for side in "$A $IFA $ADDR_A $ADDR_B $MAC_B $ADDR6_A $ADDR6_B" "$B $IFB $ADDR_B $ADDR_A $MAC_A $ADDR6_B $ADDR6_A"; do
  read -r ns ifc addr peer peermac addr6 peer6 <<<"$side"
  # IPv6 only when measured, and then without DAD, router or neighbour solicitations during a run
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=$((FAMILY == 6 ? 0 : 1))
  ip -n "$ns" addr add "$addr/24" dev "$ifc"
  [[ $FAMILY == 6 ]] && ip -n "$ns" addr add "$addr6/64" dev "$ifc" nodad
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "$ifc" up
  ip -n "$ns" neigh replace "$peer" lladdr "$peermac" dev "$ifc" nud permanent
  [[ $FAMILY == 6 ]] && ip -n "$ns" neigh replace "$peer6" lladdr "$peermac" dev "$ifc" nud permanent
done
# CLIENT_RPS=1: dnsperf's receive work (IP, UDP, waking dnsperf) is queued to dnsperf's core (RPS), as
# it would run on a client machine across a real link; by default (0) veth runs that work inside the
# server's sendto and charges it to the server, in every mode alike.
CLIENT_RPS=${CLIENT_RPS:-0}
[[ $CLIENT_RPS == 1 ]] && ip netns exec $A sh -c "printf %x $((1 << DNSPERF_CORE)) > /sys/class/net/$IFA/queues/rx-0/rps_cpus"
echo "www.example.test A" > "$WORK/queries"
# SERVER_CPU: a cgroup of this run's own under the cpu controller (v2: cpu.max; v1: cfs_quota_us and cfs_period_us)
if [[ -n $SERVER_CPU ]]; then
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control || { echo "dnsperf-bench.sh: SERVER_CPU needs the cpu controller enabled for /sys/fs/cgroup's children: echo +cpu > /sys/fs/cgroup/cgroup.subtree_control" >&2; exit 2; }
    CGROUP=/sys/fs/cgroup/dnsperf-bench.$$; mkdir "$CGROUP"
    echo "$((SERVER_CPU * 100)) 10000" > "$CGROUP/cpu.max"
  elif [[ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]]; then
    CGROUP=/sys/fs/cgroup/cpu/dnsperf-bench.$$; mkdir "$CGROUP"
    echo 10000 > "$CGROUP/cpu.cfs_period_us"; echo $((SERVER_CPU * 100)) > "$CGROUP/cpu.cfs_quota_us"
  else
    echo "dnsperf-bench.sh: SERVER_CPU needs the cgroup cpu controller (cgroup v2 cpu.max or v1 cpu.cfs_quota_us), and this machine has neither under /sys/fs/cgroup" >&2; exit 2
  fi
fi

# Sum of ns on CPU of every thread of a process; voluntary and involuntary context switches of every thread.
cputime() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'; }
# "idle total" jiffies of one CPU from /proc/stat (tick-sampled: a coarse figure, enough to see a saturated core)
busy() { awk -v c="cpu$1" '$1 == c {print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ {v += $2} /^nonvoluntary_ctxt_switches/ {n += $2} END {print v + 0, n + 0}'; }

# The first process named NAME below PID (knot_cand.sh runs knotd under timeout).
descendant() { # pid name
  local child
  for child in $(pgrep -P "$1"); do
    [[ $(cat /proc/$child/comm 2>/dev/null) == "$2" ]] && { echo $child; return; }
    descendant $child "$2"
  done
}

# Starts the server of a mode on SERVER_CORE; SERVER is the process to wait for, PID the one to measure and stop (knotd, under timeout).
start_server() { # mode
  local log=$WORK/server.log life=$(( (${#RATES[@]} + 3) * (SECS + 2) + 60 ))
  if [[ $1 == knot ]]; then
    taskset -c $SERVER_CORE "$KNOT_CAND" $B $IFB $SERVE $life udp >"$log" 2>&1 &
    SERVER=$!
    for _ in $(seq 100); do grep -q 'server started' "$log" && break; sleep 0.1; done
    PID=$(descendant $SERVER knotd)
    # knotd pins each UDP worker to a CPU of its own choosing (worker i on CPU i), which puts its one worker
    # on dnsperf's core whatever taskset said; move every thread back to the server's core, as for the others
    [[ -z ${PID:-} ]] || taskset -a -p -c $SERVER_CORE "$PID" >/dev/null
  else
    local args; read -r -a args <<<"${ARGS[$1]}"
    ip netns exec $B taskset -c $SERVER_CORE env ${PERF_MAP:+DOTNET_PerfMapEnabled=1} dotnet "$DLL" -i $IFB --ip $SERVE \
      --record www.example.test=192.0.2.8 --record example.test=192.0.2.7 -d $life "${args[@]}" >"$log" 2>&1 &
    SERVER=$! PID=$SERVER
    for _ in $(seq 100); do grep -q '\[2[34]00\] Serving ' "$log" && break; sleep 0.1; done
  fi
  if [[ -z ${PID:-} ]] || ! grep -q 'server started\|\] Serving ' "$log"; then
    echo "dnsperf-bench.sh: the $1 server did not start:" >&2; cat "$log" >&2; exit 1
  fi
  [[ -z $CGROUP ]] || echo "$PID" > "$CGROUP/cgroup.procs"  # every thread, and any it starts later
  sleep 0.5
}

stop_server() {
  # knotd itself: a TERM to knot_cand.sh (a shell waiting for it) would leave knotd holding port 53.
  kill -TERM "$PID"; wait "$SERVER" || true; SERVER= PID=
  sed 's/^/  | /' "$WORK/server.log"
}

run_dnsperf() { # extra args...
  ip netns exec $A taskset -c $DNSPERF_CORE dnsperf -s $SERVE -d "$WORK/queries" -l "$SECS" "$@" 2>&1
}

# One paced pass: dnsperf's output, then a RESULT line appended to $WORK/results.
paced() { # mode rep qps
  local cpu0 cpu1 sw0 sw1 out
  cpu0=$(cputime $PID); sw0=$(switches $PID)
  out=$(run_dnsperf -Q "$3"); echo "$out"
  cpu1=$(cputime $PID); sw1=$(switches $PID)
  read -r v0 n0 <<<"$sw0"; read -r v1 n1 <<<"$sw1"
  awk -v m="$1" -v r="$2" -v q="$3" -v ns=$((cpu1 - cpu0)) -v vol=$((v1 - v0)) -v inv=$((n1 - n0)) -v s="$SECS" \
      -v n="$(awk '/Queries completed/ {print $3}' <<<"$out")" -v l="$(awk '/Average Latency/ {print $4 * 1e6}' <<<"$out")" \
    'BEGIN {n = n > 0 ? n : 1; printf "RESULT mode=%s rep=%d rate=%d completed=%d cpu_ns_per_query=%.0f cpu_pct=%.1f vol_cs_per_query=%.3f invol_cs_per_query=%.3f latency_us=%.0f\n", m, r, q, n, ns / n, 100 * ns / (s * 1e9), vol / n, inv / n, l}' \
    | tee -a "$WORK/results"
}

git_commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git_dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (uncommitted changes)" || true)
echo "# dnsperf-bench.sh: the DNS sample over AF_XDP, over sockets (--kernel) and Knot DNS, side by side"
echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# commit: $git_commit$git_dirty"
echo "# command: FAMILY=$FAMILY SECS=$SECS REPS=$REPS MODES=\"${MODES[*]}\" RATES=\"${RATES[*]}\" PROFILE=$PROFILE CLIENT_RPS=$CLIENT_RPS${SERVER_CPU:+ SERVER_CPU=$SERVER_CPU} COALESCE_US=$COALESCE_US benchmarks/dns/dnsperf-bench.sh $SECS $REPS"
echo "# machine: $(uname -sr), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), dotnet $(dotnet --version), $(dnsperf -h 2>&1 | grep -m1 Version | xargs)$(command -v knotd >/dev/null && echo ", $(knotd -V 2>&1 | head -1)")"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# servers: taskset -c $SERVER_CORE${SERVER_CPU:+, each in cgroup $CGROUP limited to $SERVER_CPU % of one core ($((SERVER_CPU * 100)) µs per 10 ms)}; xdp*/kernel: dotnet DnsResponder.dll -i $IFB --ip $SERVE --record www.example.test=192.0.2.8 --record example.test=192.0.2.7 [ARGS]"
for mode in "${MODES[@]}"; do [[ $mode != knot ]] && echo "#   $mode: ARGS='${ARGS[$mode]}'"; done
echo "#   knot: $KNOT_CAND $B $IFB $SERVE SECS udp (one UDP worker)"
echo "# dnsperf: taskset -c $DNSPERF_CORE dnsperf -s $SERVE -d queries -l $SECS [-Q RATE]   (queries: 'www.example.test A')"
for rep in $(seq "$REPS"); do
  for mode in "${MODES[@]}"; do
    start_server "$mode"
    echo "## rep $rep mode $mode full rate (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    cpu0=$(cputime $PID); core0=$(busy $DNSPERF_CORE)
    full=$(run_dnsperf); echo "$full"
    cpu1=$(cputime $PID); core1=$(busy $DNSPERF_CORE)
    echo "RESULT mode=$mode rep=$rep rate=full qps=$(awk '/Queries per second/ {printf "%.0f", $4}' <<<"$full") latency_us=$(awk '/Average Latency/ {print $4 * 1e6}' <<<"$full") server_cpu_pct=$(awk -v ns=$((cpu1 - cpu0)) -v s="$SECS" 'BEGIN {printf "%.1f", 100 * ns / (s * 1e9)}') client_core_busy_pct=$(awk -v a="$core0" -v b="$core1" 'BEGIN {split(a, x); split(b, y); printf "%.1f", 100 * (1 - (y[1] - x[1]) / (y[2] - x[2] + 1e-9))}')" | tee -a "$WORK/results"
    for rate in "${RATES[@]}"; do
      echo "## rep $rep mode $mode paced $rate qps"
      paced "$mode" "$rep" "$rate"
    done
    echo "## server log"
    stop_server
    sleep 1 # a queue just unbound can be busy for a moment
  done
done

if [[ $PROFILE == 1 ]]; then
  for mode in "${MODES[@]}"; do
    PERF_MAP=1 start_server "$mode"
    run_dnsperf >/dev/null  # warm up (JIT tiering) before anything is counted
    echo "## profile mode $mode: perf trace -s -p $PID during a paced $PROFILE_QPS qps pass"
    timeout -s INT $((SECS + 1)) perf trace -s -p "$PID" -o "$WORK/trace" >/dev/null 2>&1 &
    tracer=$!; sleep 0.5
    paced "$mode" profile-trace "$PROFILE_QPS" | grep RESULT
    wait $tracer || true
    grep -v '^$' "$WORK/trace" | sed -n 1,80p
    echo "## profile mode $mode: perf record -e cpu-clock -C $SERVER_CORE during a paced $PROFILE_QPS qps pass"
    timeout -s INT $((SECS + 1)) perf record -e cpu-clock -C $SERVER_CORE -o "$WORK/perf.data" >/dev/null 2>&1 &
    recorder=$!; sleep 0.5
    paced "$mode" profile-record "$PROFILE_QPS" | grep RESULT
    wait $recorder || true
    perf report -i "$WORK/perf.data" --sort pid,dso --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | sed -n 1,15p
    perf report -i "$WORK/perf.data" --sort pid,sym --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | sed -n 1,40p
    stop_server >/dev/null
    sleep 1
  done
fi

echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "## summary: medians of $REPS reps (even count: mean of the two middle values)"
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "-"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
field() { # mode rate key
  grep "mode=$1 rep=[0-9]* rate=$2 " "$WORK/results" | tr ' ' '\n' | awk -F= -v k="$3" '$1 == k {print $2}' | median
}
for mode in "${MODES[@]}"; do
  echo "MEDIAN mode=$mode rate=full qps=$(field "$mode" full qps) latency_us=$(field "$mode" full latency_us) server_cpu_pct=$(field "$mode" full server_cpu_pct) client_core_busy_pct=$(field "$mode" full client_core_busy_pct)"
  for rate in "${RATES[@]}"; do
    echo "MEDIAN mode=$mode rate=$rate cpu_ns_per_query=$(field "$mode" "$rate" cpu_ns_per_query) vol_cs_per_query=$(field "$mode" "$rate" vol_cs_per_query) invol_cs_per_query=$(field "$mode" "$rate" invol_cs_per_query) latency_us=$(field "$mode" "$rate" latency_us) completed=$(field "$mode" "$rate" completed)"
  done
done
# Ratios against Knot (or, without it, against --kernel): qps above 1 and CPU/latency below 1 are better.
ref=; for r in knot kernel; do [[ " ${MODES[*]} " =~ " $r " ]] && { ref=$r; break; }; done
if [[ -n $ref ]]; then
  for mode in "${MODES[@]}"; do
    [[ $mode == "$ref" ]] && continue
    line="RATIO $mode/$ref full_qps=$(awk -v a="$(field "$mode" full qps)" -v b="$(field $ref full qps)" 'BEGIN {printf "%.2f", a / b}')"
    for rate in "${RATES[@]}"; do
      line+=" $rate:cpu=$(awk -v a="$(field "$mode" "$rate" cpu_ns_per_query)" -v b="$(field $ref "$rate" cpu_ns_per_query)" 'BEGIN {printf "%.2f", a / b}')"
      line+=",latency=$(awk -v a="$(field "$mode" "$rate" latency_us)" -v b="$(field $ref "$rate" latency_us)" 'BEGIN {printf "%.2f", a / b}')"
    done
    echo "$line"
  done
fi
