#!/bin/sh
# The device plugin's two ways on one host, as root: `afxdp plugin` attaches the redirect program to the veth end
# in namespace dpb and hands out its XSKMAP (socket, then pin); `afxdp echo` runs as a pod would (uid 65534, only
# CAP_NET_RAW and CAP_IPC_LOCK), takes the map with --xskmap, loads nothing, and answers the real ping from
# namespace dpa. Its output is committed as docs/raw/k8s-single-host-demo-DATE.txt. AFXDP says how to run the CLI (default: this checkout's build).
set -u
AFXDP=${AFXDP:-"dotnet $(dirname "$(realpath "$0")")/../../src/AfXdp.Cli/bin/Debug/net10.0/AfXdp.Cli.dll"}
export AFXDP
POD="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,+net_raw,+ipc_lock --ambient-caps=-all,+net_raw,+ipc_lock --bounding-set=-all,+net_raw,+ipc_lock --"

run() { # $1: how the plugin serves, $2: --xskmap of the pod
    echo "# ip netns exec dpb afxdp plugin -i dpb0 $1 --uid 65534"
    ip netns exec dpb $AFXDP plugin -i dpb0 $1 --uid 65534 > /tmp/afxdp-demo-plugin.log 2>&1 &
    plugin=$!
    sleep 3
    head -1 /tmp/afxdp-demo-plugin.log
    echo
    echo "# ip netns exec dpb $POD afxdp echo -i dpb0 --ip 10.115.0.9 -d 6 --xskmap $2"
    (sleep 3; ip netns exec dpa ping -c 5 -i 0.2 10.115.0.9 > /tmp/afxdp-demo-ping.log 2>&1) &
    pinger=$!
    ip netns exec dpb $POD env HOME=/tmp $AFXDP echo -i dpb0 --ip 10.115.0.9 -d 6 --xskmap "$2"
    wait $pinger
    echo
    echo "# ip netns exec dpa ping -c 5 -i 0.2 10.115.0.9   (while echo ran)"
    cat /tmp/afxdp-demo-ping.log
    echo
    echo "# kill -TERM <afxdp plugin>   (Ctrl-C does the same)"
    kill -TERM $plugin
    wait $plugin
    tail -n +2 /tmp/afxdp-demo-plugin.log
    echo "# ip -n dpb link show dpb0 | grep -c xdp"
    ip -n dpb link show dpb0 2>/dev/null | grep -c xdp
    ip -n dpa neigh flush all
}

if [ "${1:-}" = pin ]; then # re-run by unshare below, with the bpffs mounted in a mount namespace of its own
    run "--pin /tmp/afxdp-demo-bpf/dpb0" pin:/tmp/afxdp-demo-bpf/dpb0/xsks_map
    echo "# ls /tmp/afxdp-demo-bpf"
    ls /tmp/afxdp-demo-bpf
    exit 0
fi

ip netns add dpa
ip netns add dpb
ip link add dpa0 netns dpa address 02:15:00:00:0a:01 type veth peer name dpb0 netns dpb address 02:15:00:00:0b:01
ip -n dpa addr add 10.115.0.1/24 dev dpa0
ip -n dpb addr add 10.115.0.2/24 dev dpb0
ip netns exec dpa sysctl -qw net.ipv6.conf.dpa0.disable_ipv6=1
ip netns exec dpb sysctl -qw net.ipv6.conf.dpb0.disable_ipv6=1
ip -n dpa link set dpa0 up
ip -n dpb link set dpb0 up

run "--uds /tmp/afxdp_dp/dpb0/afxdp.sock" uds:/tmp/afxdp_dp/dpb0/afxdp.sock
echo "# ls /tmp/afxdp_dp"
ls /tmp/afxdp_dp 2>&1
echo
mkdir -p /tmp/afxdp-demo-bpf
unshare -m --propagation private sh -c 'mount -t bpf bpf /tmp/afxdp-demo-bpf && sh "$0" pin' "$(realpath "$0")"
rmdir /tmp/afxdp-demo-bpf
ip netns del dpa
ip netns del dpb
rm -f /tmp/afxdp-demo-plugin.log /tmp/afxdp-demo-ping.log
