#!/usr/bin/env bash
# DNS responder benchmark: samples/DnsResponder over AF_XDP against the same responder over
# System.Net.Sockets (--kernel), both measured by dnsperf in a throwaway veth lab.
#   benchmarks/dns/dnsperf-bench.sh [SECONDS=10] [REPS=3] > docs/raw/dnsperf-YYYYMMDD.txt
#   (COALESCE_US=N sets the xdp-coalesce mode's --coalesce-us, default 200; MODES="kernel xdp-coalesce" runs those only;
#    FAMILIES="4" or "6" measures over IPv4 or IPv6 only, default both ("4 6"): the responder serves both addresses
#    at once and dnsperf asks each in turn;
#    CLIENT_RPS=1 moves dnsperf's receive work onto dnsperf's core, see below)
# Per mode, family and rep: the responder on core 1 (taskset), dnsperf on core 0,
#   full rate:  dnsperf -l SECONDS (100 queries outstanding)          -> queries per second
#   paced:      dnsperf -l SECONDS -Q 20000                           -> responder CPU per query,
#               from the responder's /proc/PID/task/*/schedstat (ns on CPU) over the run,
#               and dnsperf's average latency.
# The lab: namespaces dnsbA (dnsperf, 10.98.0.1 and fd00:98::1) and dnsbB (responder, 10.98.0.2 and fd00:98::2), one
# veth pair with static neighbours (no ARP or neighbour discovery during a run), IPv6 off when FAMILIES has no 6, default offloads (the responder accepts the partial UDP checksums
# dnsperf's end leaves on veth, as the kernel does; see docs/guide/udp.md). Deleted on exit.
set -euo pipefail
SECS=${1:-10}
REPS=${2:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
A=dnsbA B=dnsbB IFA=dnsba0 IFB=dnsbb0 ADDR_A=10.98.0.1 ADDR_B=10.98.0.2 ADDR6_A=fd00:98::1 ADDR6_B=fd00:98::2
MAC_A=02:00:00:00:0d:01 MAC_B=02:00:00:00:0d:02
RESPONDER_CORE=1 DNSPERF_CORE=0 PACED_QPS=20000
# The modes, run alternately in each rep: AF_XDP with the default idle spin (50 us), AF_XDP sleeping at once,
# AF_XDP sleeping at once and waiting COALESCE_US after a wakeup for more queries, System.Net.Sockets.
COALESCE_US=${COALESCE_US:-200}
read -r -a MODES <<<"${MODES:-xdp xdp-nospin xdp-coalesce kernel}"  # MODES="..." runs a subset
read -r -a FAMILIES <<<"${FAMILIES:-4 6}"
declare -A SERVER=([4]=$ADDR_B [6]=$ADDR6_B)
IPS=()
for family in "${FAMILIES[@]}"; do
  [[ -n ${SERVER[$family]:-} ]] || { echo "FAMILIES: '$family' is no IP version; write FAMILIES=\"4 6\", \"4\" or \"6\"" >&2; exit 2; }
  IPS+=(--ip "${SERVER[$family]}")
done
declare -A ARGS=([xdp]="" [xdp-nospin]="--spin-us 0" [xdp-coalesce]="--spin-us 0 --coalesce-us $COALESCE_US" [kernel]="--kernel --threads 1")

need() { command -v "$1" >/dev/null || { echo "needs $1 (Debian package $2): apt-get install $2" >&2; exit 1; }; }
need dnsperf dnsperf; need ip iproute2; need taskset util-linux; need dotnet dotnet-sdk

cleanup() {
  [[ -n ${RESPONDER:-} ]] && kill "$RESPONDER" 2>/dev/null && wait "$RESPONDER" 2>/dev/null || true
  ip netns del $A 2>/dev/null || true
  ip netns del $B 2>/dev/null || true
  rm -rf "$WORK"
}
WORK=$(mktemp -d)
trap cleanup EXIT
trap "exit 130" INT TERM

dotnet build "$ROOT/samples/DnsResponder" -c Release -v q -nologo >&2
DLL="$ROOT/samples/DnsResponder/bin/Release/net10.0/DnsResponder.dll"

ip netns add $A; ip netns add $B
ip link add $IFA netns $A address $MAC_A type veth peer $IFB netns $B address $MAC_B
for side in "$A $IFA $ADDR_A $ADDR_B $MAC_B $ADDR6_A $ADDR6_B" "$B $IFB $ADDR_B $ADDR_A $MAC_A $ADDR6_B $ADDR6_A"; do
  read -r ns ifc addr peer peermac addr6 peer6 <<<"$side"
  if [[ " ${FAMILIES[*]} " =~ " 6 " ]]; then
    # No router solicitations during a run; the addresses usable at once (nodad), the neighbour static as for IPv4.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.$ifc.router_solicitations=0
    ip -n "$ns" addr add "$addr6/64" dev "$ifc" nodad
    ip -n "$ns" neigh replace "$peer6" lladdr "$peermac" dev "$ifc" nud permanent
  else
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  fi
  ip -n "$ns" addr add "$addr/24" dev "$ifc"
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "$ifc" up
  ip -n "$ns" neigh replace "$peer" lladdr "$peermac" dev "$ifc" nud permanent
done
# CLIENT_RPS=1: dnsperf's receive work (IP, UDP, waking dnsperf) is queued to dnsperf's core (RPS), as
# it would run on a client machine across a real link; by default (0) veth runs that work inside the
# responder's sendto and charges it to the responder, in both modes alike.
CLIENT_RPS=${CLIENT_RPS:-0}
[[ $CLIENT_RPS == 1 ]] && ip netns exec $A sh -c "printf %x $((1 << DNSPERF_CORE)) > /sys/class/net/$IFA/queues/rx-0/rps_cpus"
echo "www.example.com A" > "$WORK/queries"

# Sum of ns on CPU of every thread of a process.
cputime() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'; }

start_responder() { # mode args...
  local log=$WORK/responder.log
  ip netns exec $B taskset -c $RESPONDER_CORE dotnet "$DLL" -i $IFB "${IPS[@]}" --record www.example.com=192.0.2.10 -d $((2 * ${#FAMILIES[@]} * SECS + 30)) "$@" >"$log" 2>&1 &
  RESPONDER=$!
  for _ in $(seq 100); do grep -q '\[2[34]00\] Serving ' "$log" && return 0; kill -0 $RESPONDER 2>/dev/null || break; sleep 0.1; done
  echo "the responder did not start:" >&2; cat "$log" >&2; exit 1
}

stop_responder() {
  kill -TERM "$RESPONDER"; wait "$RESPONDER" || true; RESPONDER=
  cat "$WORK/responder.log"
}

run_dnsperf() { # server extra args...
  local server=$1; shift
  ip netns exec $A taskset -c $DNSPERF_CORE dnsperf -s "$server" -d "$WORK/queries" -l "$SECS" "$@" 2>&1
}

echo "# dnsperf-bench.sh $SECS s x $REPS reps, $(date -u +%Y-%m-%dT%H:%M:%SZ), kernel $(uname -r), $(nproc) cores, dotnet $(dotnet --version), $(dnsperf -h 2>&1 | grep Version), CLIENT_RPS=$CLIENT_RPS, FAMILIES=${FAMILIES[*]}"
echo "# responder: taskset -c $RESPONDER_CORE dotnet DnsResponder.dll -i $IFB ${IPS[*]} --record www.example.com=192.0.2.10 [xdp-nospin: --spin-us 0] [xdp-coalesce: --spin-us 0 --coalesce-us $COALESCE_US] [kernel: --kernel --threads 1]"
echo "# dnsperf:   taskset -c $DNSPERF_CORE dnsperf -s ${SERVER[${FAMILIES[0]}]}|... -d queries -l $SECS [-Q $PACED_QPS]   (queries: 'www.example.com A')"
for rep in $(seq "$REPS"); do
  for mode in "${MODES[@]}"; do
    read -r -a args <<<"${ARGS[$mode]}"
    start_responder "${args[@]}"
    for family in "${FAMILIES[@]}"; do
      server=${SERVER[$family]}
      echo "## rep $rep mode $mode family $family full rate"
      full=$(run_dnsperf "$server"); echo "$full"
      qps=$(awk '/Queries per second/ {print $4}' <<<"$full")
      echo "## rep $rep mode $mode family $family paced $PACED_QPS qps"
      before=$(cputime "$RESPONDER")
      paced=$(run_dnsperf "$server" -Q $PACED_QPS); echo "$paced"
      after=$(cputime "$RESPONDER")
      completed=$(awk '/Queries completed/ {print $3}' <<<"$paced")
      latency=$(awk '/Average Latency/ {print $4 * 1e6}' <<<"$paced")
      awk -v m=$mode -v f=$family -v r=$rep -v q="$qps" -v ns=$((after - before)) -v n="$completed" -v s="$SECS" -v l="$latency" \
        'BEGIN {printf "RESULT mode=%s family=%s rep=%d full_qps=%.0f paced_completed=%d responder_cpu_ns=%.0f cpu_ns_per_query=%.0f responder_cpu_pct=%.1f paced_latency_us=%.0f\n", m, f, r, q, n, ns, ns / n, 100 * ns / (s * 1e9), l}' \
        >>"$WORK/rep-results"
    done
    echo "## responder"
    stop_responder
    tee -a "$WORK/results" <"$WORK/rep-results"
    rm "$WORK/rep-results"
    sleep 1 # a queue just unbound can be busy for a moment
  done
done
echo "## summary (median of $REPS reps)"
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
field() { grep "mode=$1 family=$2 " "$WORK/results" | tr ' ' '\n' | awk -F= -v k="$3" '$1 == k {print $2}' | median; }
for family in "${FAMILIES[@]}"; do
  for mode in "${MODES[@]}"; do
    echo "MEDIAN mode=$mode family=$family full_qps=$(field $mode $family full_qps) cpu_ns_per_query=$(field $mode $family cpu_ns_per_query) paced_latency_us=$(field $mode $family paced_latency_us)"
  done
done
for family in "${FAMILIES[@]}"; do
  for mode in "${MODES[@]}"; do
    [[ $mode == kernel || ! " ${MODES[*]} " =~ " kernel " ]] && continue
    awk -v m=$mode -v f=$family -v xq="$(field $mode $family full_qps)" -v kq="$(field kernel $family full_qps)" -v xc="$(field $mode $family cpu_ns_per_query)" -v kc="$(field kernel $family cpu_ns_per_query)" \
      'BEGIN {printf "RATIO %s/kernel family=%s full_qps=%.2f cpu_per_query=%.2f\n", m, f, xq / kq, xc / kc}'
  done
done
