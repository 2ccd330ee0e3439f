using AfXdp.Net;

namespace AfXdp.Tests.Net;

/// <summary>
/// Frames captured with tcpdump on one end of a veth pair between two network namespaces
/// (02:00:00:00:0a:01 10.11.0.1 fd00::1 and 02:00:00:00:0a:02 10.11.0.2 fd00::2), checksum
/// offload off so the checksums on the wire are the real ones.
/// </summary>
static class Captures
{
    /// <summary>ARP "who-has 10.11.0.2 tell 10.11.0.1", sent before the ping.</summary>
    public static byte[] ArpRequest => Convert.FromHexString(
        "ffffffffffff020000000a010806" +
        "0001080006040001020000000a010a0b00010000000000000a0b0002");

    /// <summary>The answer from 10.11.0.2: "10.11.0.2 is-at 02:00:00:00:0a:02".</summary>
    public static byte[] ArpReply => Convert.FromHexString(
        "020000000a01020000000a020806" +
        "0001080006040002020000000a020a0b0002020000000a010a0b0001");

    /// <summary><c>ping -c1 10.11.0.2</c>: id 4802, seq 1, IPv4 id 40449, DF, 56 data bytes (a timeval, then 0x10..0x37).</summary>
    public static byte[] IcmpEchoRequest => Convert.FromHexString(
        "020000000a02020000000a010800" +
        "450000549e0140004001888f0a0b00010a0b0002" +
        "08007f9012c20001f433066b00000000a43a080000000000" +
        "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");

    /// <summary>The Linux kernel's reply to <see cref="IcmpEchoRequest"/> (IPv4 id 23231, no DF).</summary>
    public static byte[] IcmpEchoReply => Convert.FromHexString(
        "020000000a01020000000a020800" +
        "450000545abf000040010bd20a0b00020a0b0001" +
        "0000879012c20001f433066b00000000a43a080000000000" +
        "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");

    /// <summary>"hello, xdp" from 10.11.0.1:40000 to 10.11.0.2:9000, IPv4 id 24541, DF.</summary>
    public static byte[] Ipv4Udp => Convert.FromHexString(
        "020000000a02020000000a010800" +
        "450000265fdd40004011c6d10a0b00010a0b0002" +
        "9c4023280012636268656c6c6f2c20786470");

    /// <summary>
    /// "hello, v6" from [fd00::1]:40001 to [fd00::2]:9001 with a hop-by-hop header holding one PadN
    /// option (set with IPV6_HOPOPTS); flow label 0x20d6d.
    /// </summary>
    public static byte[] Ipv6UdpWithHopByHop => Convert.FromHexString(
        "020000000a02020000000a0186dd" +
        "60020d6d00190040fd000000000000000000000000000001fd000000000000000000000000000002" +
        "1100010400000000" +
        "9c4123290011abe868656c6c6f2c207636");

    /// <summary>Neighbour solicitation "who has fd00::2" from fd00::1 to ff02::1:ff00:2, with a source link-address option.</summary>
    public static byte[] NeighborSolicitation => Convert.FromHexString(
        "3333ff000002020000000a0186dd" +
        "6000000000203afffd000000000000000000000000000001ff0200000000000000000001ff000002" +
        "8700739700000000fd000000000000000000000000000002" +
        "0101020000000a01");

    /// <summary>The answer: "fd00::2 is at 02:00:00:00:0a:02", solicited and override flags set.</summary>
    public static byte[] NeighborAdvertisement => Convert.FromHexString(
        "020000000a01020000000a0286dd" +
        "6000000000203afffd000000000000000000000000000002fd000000000000000000000000000001" +
        "8800129a60000000fd000000000000000000000000000002" +
        "0201020000000a02");

    /// <summary>A connect() to closed port 9003: SYN with MSS 1460, SACK permitted, timestamps, window scale 10.</summary>
    public static byte[] TcpSyn => Convert.FromHexString(
        "020000000a02020000000a010800" +
        "4500003cc2314000400664720a0b00010a0b0002" +
        "b46a232ba097d7be00000000a002faf0e1f70000" +
        "020405b40402080aaa485cc7000000000103030a");

    /// <summary>
    /// "tagged" from 10.12.0.1:40002 to 10.12.0.2:9002 behind an 802.1Q tag, PCP 5, VID 100. The
    /// capture host's kernel has no 8021q module, so this frame was written with AF_PACKET on one
    /// end of the veth and captured on the other.
    /// </summary>
    public static byte[] VlanTaggedUdp => Convert.FromHexString(
        "020000000a02020000000a01" + "8100a064" + "0800" +
        "45000022123440004011147d0a0c00010a0c0002" +
        "9c42232a000eeb1d746167676564");

    /// <summary>The ARP request as tcpdump wrote it: microsecond pcap, snaplen 262144, at 1795568539.594500 s.</summary>
    public static byte[] TcpdumpFileWithArpRequest => Convert.FromHexString(
        "d4c3b2a1" + "0200" + "0400" + "00000000" + "00000000" + "00000400" + "01000000" +
        "9b33066b" + "44120900" + "2a000000" + "2a000000" +
        "ffffffffffff020000000a0108060001080006040001020000000a010a0b00010000000000000a0b0002");

    public static MacAddress MacA => MacAddress.Parse("02:00:00:00:0a:01");

    public static MacAddress MacB => MacAddress.Parse("02:00:00:00:0a:02");
}
