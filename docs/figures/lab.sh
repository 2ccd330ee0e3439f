# Sourced by the figure scripts: a throwaway two-namespace veth lab and the CLI to measure with.
#   fig_lab_up [QUEUES=1]   namespaces $NS_A / $NS_B joined by $IF_A <-> $IF_B (QUEUES rx and tx queues each),
#                           02:00:00:00:0a:01 / 02:00:00:00:0b:01, $IP_A / $IP_B (/24), static neighbours, IPv6 off;
#                           deleted again when the script exits (also on Ctrl-C).
#   $AFXDP                  the CLI: the README's NativeAOT build, published to /tmp/afxdp-figures if not given.
# Traffic never leaves the two namespaces.
set -eu
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NS_A=fig$$A NS_B=fig$$B IF_A=fig$$a0 IF_B=fig$$b0
MAC_A=02:00:00:00:0a:01 MAC_B=02:00:00:00:0b:01
IP_A=10.98.0.1 IP_B=10.98.0.2

fig_lab_down() {
	ip netns del "$NS_A" 2>/dev/null || true   # deleting a namespace destroys its veth end
	ip netns del "$NS_B" 2>/dev/null || true
}

fig_lab_up() {
	local q=${1:-1}
	trap fig_lab_down EXIT
	trap 'exit 130' INT TERM
	ip netns add "$NS_A"
	ip netns add "$NS_B"
	ip -n "$NS_A" link add "$IF_A" address $MAC_A numrxqueues "$q" numtxqueues "$q" \
		type veth peer name "$IF_B" netns "$NS_B" address $MAC_B numrxqueues "$q" numtxqueues "$q"
	local ns dev ip peer mac
	for end in "$NS_A $IF_A $IP_A $IP_B $MAC_B" "$NS_B $IF_B $IP_B $IP_A $MAC_A"; do
		read -r ns dev ip peer mac <<<"$end"
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		ip -n "$ns" link set lo up
		ip -n "$ns" addr add "$ip/24" dev "$dev"
		ip -n "$ns" link set "$dev" up
	done
	for end in "$NS_A $IF_A $IP_B $MAC_B" "$NS_B $IF_B $IP_A $MAC_A"; do
		read -r ns dev peer mac <<<"$end"
		ip -n "$ns" neigh replace "$peer" lladdr "$mac" dev "$dev" nud permanent
	done
	sleep 1   # operational state follows carrier through linkwatch
}

# Runs in end a or b: fig_in a|b CMD...
fig_in() { local ns; [ "$1" = a ] && ns=$NS_A || ns=$NS_B; shift; ip netns exec "$ns" "$@"; }

if [ -z "${AFXDP:-}" ]; then
	AFXDP=/tmp/afxdp-figures/afxdp
	dotnet publish "$ROOT/src/AfXdp.Cli" -c Release -r linux-x64 -p:PublishAot=true -o /tmp/afxdp-figures >&2
fi

# One header line for a raw output file: when, where, what.
fig_header() {
	echo "# $(date -u '+%F %T UTC') $(uname -r), $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); load average $(cut -d' ' -f1-3 /proc/loadavg); commit $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src || echo '+changes'); $AFXDP"
	echo "# $0 $*"
}
