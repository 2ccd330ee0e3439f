#!/bin/sh
# Writes the transcripts in docs/raw/ quoted in docs/cli.md and the guide: echo answering a real ping, two echo
# instances not answering a spoofed datagram, loops exiting when their interface or program goes away,
# two benches started on one queue at once, and what `bench --async` allocates in runs of 2 s and 6 s. Run as root from the repository root after `dotnet build`:
#   sh docs/reliability/transcripts.sh
# Traffic stays between two namespaces it creates (t14ea, t14eb) and deletes again.
set -u
AFXDP="dotnet $(pwd)/src/AfXdp.Cli/bin/Debug/net10.0/AfXdp.Cli.dll"
OUT=docs/raw
DAY=$(date +%Y%m%d)

lab() {
    ip netns del t14ea 2>/dev/null; ip netns del t14eb 2>/dev/null
    ip netns add t14ea && ip netns add t14eb
    # No IPv6: its router solicitations and reports would be frames of their own on the wire.
    for ns in t14ea t14eb; do ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
    ip link add t14ea0 netns t14ea address 02:00:00:00:0e:01 type veth peer name t14eb0 netns t14eb address 02:00:00:00:0e:02
    ip -n t14ea addr add 10.99.240.1/24 dev t14ea0 && ip -n t14eb addr add 10.99.240.2/24 dev t14eb0
    ip -n t14ea link set t14ea0 up && ip -n t14eb link set t14eb0 up
    sleep 1
}
unlab() { ip netns del t14ea 2>/dev/null; ip netns del t14eb 2>/dev/null; }

# One UDP datagram from 10.99.240.4:PORT to 10.99.240.3:PORT, written raw on t14ea0 (AF_PACKET).
spoof() {
    ip netns exec t14ea python3 - "$1" <<'EOF'
import socket, struct, sys
port = int(sys.argv[1])
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
src, dst, data = socket.inet_aton('10.99.240.4'), socket.inet_aton('10.99.240.3'), b'spoofed'
udp = struct.pack('!HHHH', port, port, 8 + len(data), 0) + data
udp = udp[:6] + struct.pack('!H', csum(src + dst + struct.pack('!BBH', 0, 17, len(udp)) + udp)) + udp[8:]
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, src, dst)
ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
eth = bytes.fromhex('020000000e02' '020000000e01') + b'\x08\x00'
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('t14ea0', 0)); s.send(eth + ip + udp)
EOF
}
tx() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/tx_packets"; }

# 1. echo and a real ping
lab
{
    echo "# ip netns exec t14eb afxdp echo -i t14eb0 --ip 10.99.240.3 -d 10"
    ip netns exec t14eb $AFXDP echo -i t14eb0 --ip 10.99.240.3 -d 10 > /tmp/t14echo.out 2>&1 &
    sleep 4
    echo; echo "# ip netns exec t14ea ping -c 5 10.99.240.3"
    ip netns exec t14ea ping -c 5 10.99.240.3
    wait
    echo; echo "(afxdp echo: its banner, then its last line when its 10 s are up)"
    cat /tmp/t14echo.out
} > $OUT/echo-transcript-$DAY.txt 2>&1
unlab

# 2. two echo instances on one segment and one spoofed datagram, for the reflector port 7 and for a port of their own
{
    for port in 7 9000; do
        lab
        echo "# ip netns exec t14eb afxdp echo -i t14eb0 --ip 10.99.240.3 --port $port -d 8 &"
        echo "# ip netns exec t14ea afxdp echo -i t14ea0 --ip 10.99.240.4 --port $port -d 8 &"
        ip netns exec t14eb $AFXDP echo -i t14eb0 --ip 10.99.240.3 --port $port -d 8 > /tmp/t14b.out 2>&1 &
        ip netns exec t14ea $AFXDP echo -i t14ea0 --ip 10.99.240.4 --port $port -d 8 > /tmp/t14a.out 2>&1 &
        sleep 4
        a0=$(tx t14ea t14ea0); b0=$(tx t14eb t14eb0)
        echo "# spoofed from t14ea0 (AF_PACKET): 10.99.240.4:$port -> 10.99.240.3:$port, then 2 s"
        spoof $port; sleep 2
        echo "frames sent in those 2 s: t14ea0 $(( $(tx t14ea t14ea0) - a0 )) (the spoofed one), t14eb0 $(( $(tx t14eb t14eb0) - b0 ))"
        wait
        echo "(echo on B) $(tail -1 /tmp/t14b.out)"
        echo "(echo on A) $(tail -1 /tmp/t14a.out)"
        echo
        unlab
    done
} > $OUT/two-echoes-$DAY.txt 2>&1

# 3. loops that notice their interface or program is gone, and two benches on one queue
{
    lab
    echo "# ip netns exec t14eb afxdp bench -i t14eb0 -d 60 &   (spinning rxdrop, nothing arrives)"
    echo "# sleep 4; ip -n t14ea link del t14ea0"
    ip netns exec t14eb $AFXDP bench -i t14eb0 -d 60 > /dev/null 2> /tmp/t14bench.err & pid=$!
    sleep 4; ip -n t14ea link del t14ea0; start=$(date +%s%N); wait $pid; code=$?
    echo "exit $code, $(( ($(date +%s%N) - start) / 1000000 )) ms after the fault; its last line on stderr:"; tail -1 /tmp/t14bench.err
    unlab; lab
    echo; echo "# ip netns exec t14eb afxdp echo -i t14eb0 --ip 10.99.240.3 -d 60 &"
    echo "# sleep 4; bpftool link detach id \$(the link holding the program on t14eb0)"
    ip netns exec t14eb $AFXDP echo -i t14eb0 --ip 10.99.240.3 -d 60 > /dev/null 2> /tmp/t14echo.err & pid=$!
    sleep 4
    prog=$(ip -n t14eb -j link show t14eb0 | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['xdp']['prog']['id'])")
    link=$(bpftool -j link show | python3 -c "import json,sys; print([l['id'] for l in json.load(sys.stdin) if l.get('prog_id')==$prog][0])")
    bpftool link detach id $link; start=$(date +%s%N); wait $pid; code=$?
    echo "exit $code, $(( ($(date +%s%N) - start) / 1000000 )) ms after the fault; its last line on stderr:"; tail -1 /tmp/t14echo.err
    unlab; lab
    echo; echo "# two benches on queue 0 of t14eb0 started at the same moment:"
    echo "# ip netns exec t14eb afxdp bench -i t14eb0 -d 5 & ip netns exec t14eb afxdp bench -i t14eb0 -d 5 &"
    ip netns exec t14eb $AFXDP bench -i t14eb0 -d 5 > /dev/null 2> /tmp/t14r1.err & p1=$!
    ip netns exec t14eb $AFXDP bench -i t14eb0 -d 5 > /dev/null 2> /tmp/t14r2.err & p2=$!
    sleep 6; echo "pids $p1 $p2; the one that failed:"; grep -h EBUSY /tmp/t14r1.err /tmp/t14r2.err
    kill $p1 $p2 2>/dev/null; wait
    unlab
} > $OUT/gone-$DAY.txt 2>&1
# 4. alloc_bytes of bench --async (the receive loop's threads, from the first packet), fed by txonly from A
{
    lab
    echo "# ip netns exec t14ea afxdp bench -i t14ea0 -m txonly -R -d 30 --dmac 02:00:00:00:0e:02 &"
    ip netns exec t14ea $AFXDP bench -i t14ea0 -m txonly -R -d 30 --dmac 02:00:00:00:0e:02 > /dev/null 2>&1 & feeder=$!
    sleep 3
    for d in 2 2 6 6; do
        echo "# ip netns exec t14eb afxdp bench -i t14eb0 -m rxdrop --async -d $d"
        ip netns exec t14eb $AFXDP bench -i t14eb0 -m rxdrop --async -d $d 2>/dev/null
    done
    kill $feeder; wait
    unlab
} > $OUT/async-alloc-$DAY.txt 2>&1
rm -f /tmp/t14echo.out /tmp/t14a.out /tmp/t14b.out /tmp/t14bench.err /tmp/t14echo.err /tmp/t14r1.err /tmp/t14r2.err
