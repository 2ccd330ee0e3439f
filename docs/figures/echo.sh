#!/bin/bash
# docs/performance.md "Echo round trips" figures: `ping -f -c 10000` against `afxdp echo` (time, loss, rtt) and a lock-step UDP client's
# round trips per second, in a throwaway veth lab (drv mode, copy-mode socket).
# usage: sudo docs/figures/echo.sh > docs/raw/echo-DATE.txt      (env AFXDP: the CLI, see lab.sh)
. "$(dirname "$0")/lab.sh"
fig_lab_up
ECHO_IP=10.98.0.3   # an address the kernel does not have: only afxdp echo answers it
client=$(mktemp -d)/udp_lockstep
cc -O2 -Wall -Wextra -Werror -o "$client" "$ROOT/docs/figures/udp_lockstep.c"
fig_header "$@"
out=$(mktemp)
ip netns exec "$NS_B" "$AFXDP" echo -i "$IF_B" --ip $ECHO_IP -a drv -d 60 >"$out" 2>&1 &   # ip execs: $! is afxdp
echo_pid=$!
for _ in $(seq 100); do grep -q answering "$out" && break; sleep 0.1; done
cat "$out"
for run in 1 2 3; do
	echo "\$ ip netns exec $NS_A ping -f -c 10000 $ECHO_IP    # run $run"
	fig_in a ping -q -f -c 10000 $ECHO_IP
done
for run in 1 2 3; do
	echo "\$ ip netns exec $NS_A udp_lockstep $ECHO_IP 7 5    # run $run"
	fig_in a "$client" $ECHO_IP 7 5
done
kill -TERM $echo_pid   # SIGINT is ignored by a background job of a script
wait $echo_pid
echo "(afxdp echo, after SIGTERM)"
tail -n +2 "$out"
