using System.Buffers.Binary;
using System.Net;
using AfXdp.Net;
using AfXdp.Udp;
using CsCheck;

namespace AfXdp.Tests.Udp;

/// <summary>What the UDP service hands to an application, and the replies it writes.</summary>
public class UdpFrameTests
{
    static readonly MacAddress Us = MacAddress.Parse("02:00:00:00:0b:01"), Them = MacAddress.Parse("02:00:00:00:0a:01");
    const uint Server = 0x0A63_0002, Client = 0x0A63_0001, Other = 0xC000_0201;
    static readonly HostPolicy Host = new(Us, Server, 24);
    static readonly UdpEndpoint[] Served = [new(Server, 53)];

    static byte[] Frame(string source = "10.99.0.1", int sourcePort = 40000, int payload = 20, MacAddress? to = null, MacAddress? from = null, int port = 53)
    {
        var frame = new byte[1514];
        int length = new UdpFrameBuilder(from ?? Them, to ?? Us, new IPEndPoint(IPAddress.Parse(source), sourcePort), new IPEndPoint(new IPAddress(0x0200630A), port))
            .Write(frame, Enumerable.Range(1, payload).Select(i => (byte)i).ToArray());
        return frame[..length];
    }

    static UdpFrameCheck Check(byte[] frame) => UdpFrame.Check(frame, [Host], Served, out _);

    [Fact]
    public void A_valid_datagram_is_handed_over_with_both_endpoints()
    {
        byte[] frame = Frame(payload: 33);
        Assert.Equal(UdpFrameCheck.Ok, UdpFrame.Check(frame, [Host], Served, out int payload));
        Assert.Equal(33, payload);
        Assert.Equal("10.99.0.1:40000", UdpFrame.Remote(frame).ToString());
        Assert.Equal(new UdpEndpoint(Server, 53), UdpFrame.Local(frame));
    }

    [Fact]
    public void Wrong_checksums_are_told_apart_from_a_missing_one()
    {
        byte[] ipBad = Frame();
        ipBad[14 + 10] ^= 1;
        Assert.Equal(UdpFrameCheck.BadChecksum, Check(ipBad));
        byte[] udpBad = Frame();
        udpBad[^1] ^= 0x40;
        Assert.Equal(UdpFrameCheck.BadChecksum, Check(udpBad));
        byte[] none = Frame();
        none[40] = none[41] = 0;
        Assert.Equal(UdpFrameCheck.Ok, Check(none));
    }

    /// <summary>A frame as a sender on this machine leaves it for offload (CHECKSUM_PARTIAL): only the pseudo-header sum in the UDP checksum field.</summary>
    static byte[] PartialFrame()
    {
        byte[] frame = Frame();
        int udpLength = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(38));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(40), InternetChecksum.Sum([], InternetChecksum.PseudoHeaderSum(Client, Server, IpProtocol.Udp, udpLength)));
        return frame;
    }

    [Fact]
    public void A_checksum_left_for_offload_is_accepted_only_by_a_host_that_accepts_partial_checksums()
    {
        Assert.Equal(UdpFrameCheck.Ok, UdpFrame.Check(PartialFrame(), [Host with { AcceptsPartialUdpChecksum = true }], Served, out int payload));
        Assert.Equal(20, payload);
        Assert.Equal(UdpFrameCheck.PartialChecksum, Check(PartialFrame()));
    }

    [Fact]
    public void A_wrong_checksum_is_dropped_also_where_partial_checksums_are_accepted()
    {
        byte[] wrong = PartialFrame();
        wrong[41] ^= 0x10;
        Assert.Equal(UdpFrameCheck.BadChecksum, UdpFrame.Check(wrong, [Host with { AcceptsPartialUdpChecksum = true }], Served, out _));
        byte[] damaged = Frame();
        damaged[^1] ^= 0x40;
        Assert.Equal(UdpFrameCheck.BadChecksum, UdpFrame.Check(damaged, [Host with { AcceptsPartialUdpChecksum = true }], Served, out _));
    }

    [Theory]
    [InlineData("0.0.0.1")]
    [InlineData("127.0.0.1")]
    [InlineData("224.0.0.1")]
    [InlineData("240.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("10.99.0.2")]   // our own address
    [InlineData("10.99.0.255")] // the subnet's broadcast
    [InlineData("10.99.0.0")]   // the subnet's network address
    public void Sources_a_host_must_not_answer_are_refused(string source) => Assert.Equal(UdpFrameCheck.Unanswerable, Check(Frame(source)));

    [Theory]
    [InlineData(7)]
    [InlineData(19)]
    [InlineData(0)]
    public void Reflector_ports_are_refused_so_two_services_never_loop(int port) => Assert.Equal(UdpFrameCheck.Unanswerable, Check(Frame(sourcePort: port)));

    /// <summary>Amplifier ports (DNS 53, NTP 123) are refused by echo, which bounces bytes back, not by a service answering its own requests.</summary>
    [Theory]
    [InlineData(53)]
    [InlineData(123)]
    public void A_service_answers_requests_from_amplifier_ports(int port) => Assert.Equal(UdpFrameCheck.Ok, Check(Frame(sourcePort: port)));

    [Fact]
    public void Frames_for_another_mac_or_from_a_group_mac_are_refused()
    {
        Assert.Equal(UdpFrameCheck.Unanswerable, Check(Frame(to: MacAddress.Parse("02:00:00:00:0c:01"))));
        Assert.Equal(UdpFrameCheck.Unanswerable, Check(Frame(from: MacAddress.Broadcast)));
        Assert.Equal(UdpFrameCheck.Unanswerable, Check(Frame(from: MacAddress.Parse("01:00:5e:00:00:01"))));
    }

    [Fact]
    public void Of_several_addresses_the_destination_picks_which_subnet_broadcast_is_refused()
    {
        HostPolicy[] both = [new(Us, Other, 24), Host];
        UdpEndpoint[] served = [new(Other, 53), new(Server, 53)];
        Assert.Equal(UdpFrameCheck.Unanswerable, UdpFrame.Check(Frame(), [new HostPolicy(Us, 0x0A63_0003, 24)], [new(0x0A63_0003, 53)], out _));
        Assert.Equal(UdpFrameCheck.Ok, UdpFrame.Check(Frame(), both, served, out _));
        Assert.Equal(UdpFrameCheck.Ok, UdpFrame.Check(Frame("192.0.2.255"), both, served, out _));
        Assert.Equal(UdpFrameCheck.Unanswerable, UdpFrame.Check(Frame("10.99.0.255"), both, served, out _));
    }

    /// <summary>A foreign XSKMAP's program may redirect any datagram: only a served (address, port) pair is a request.</summary>
    [Fact]
    public void Only_a_served_address_and_port_pair_is_handed_over()
    {
        UdpEndpoint[] served = [new(Server, 53), new(Other, 7007)];
        Assert.Equal(UdpFrameCheck.Ok, UdpFrame.Check(Frame(port: 53), [Host], served, out _));
        // The served address on another served address's port, and on a port nobody serves.
        Assert.Equal(UdpFrameCheck.Unanswerable, UdpFrame.Check(Frame(port: 7007), [Host], served, out _));
        Assert.Equal(UdpFrameCheck.Unanswerable, UdpFrame.Check(Frame(port: 54), [Host], served, out _));
        // Not UDP: the bytes where a UDP header's ports would be name a served pair, but it is no datagram of ours.
        byte[] tcp = Frame(port: 53);
        tcp[14 + 9] = (byte)IpProtocol.Tcp;
        Assert.Equal(UdpFrameCheck.Unanswerable, UdpFrame.Check(tcp, [Host], served, out _));
    }

    [Fact]
    public void Lengths_fragments_and_options_that_do_not_hold_are_malformed()
    {
        byte[] longUdp = Frame();
        BinaryPrimitives.WriteUInt16BigEndian(longUdp.AsSpan(38), 200);
        Assert.Equal(UdpFrameCheck.Malformed, Check(longUdp));
        byte[] fragment = Frame();
        fragment[20] = 0x20; // more fragments
        Assert.Equal(UdpFrameCheck.Malformed, Check(fragment));
        byte[] options = Frame();
        options[14] = 0x46;
        Assert.Equal(UdpFrameCheck.Malformed, Check(options));
        Assert.Equal(UdpFrameCheck.Malformed, Check(Frame()[..41]));
    }

    [Fact]
    public void A_shorter_udp_length_ends_the_datagram_and_the_rest_is_not_payload()
    {
        // An IP payload 4 bytes longer than the UDP length says; the UDP checksum covers the UDP length only.
        byte[] frame = Frame(payload: 20);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(38), 8 + 16);
        frame[40] = frame[41] = 0;
        Assert.Equal(UdpFrameCheck.Ok, UdpFrame.Check(frame, [Host], Served, out int payload));
        Assert.Equal(16, payload);
    }

    [Fact]
    public void A_reply_longer_than_the_request_goes_back_to_the_sender_with_valid_checksums()
    {
        byte[] frame = new byte[2048];
        // From a port a client may answer: a reply from 53 would itself be refused (a reflector port).
        Frame(payload: 10, port: 7007).CopyTo(frame, 0);
        Enumerable.Repeat((byte)0xAB, 300).ToArray().CopyTo(frame, UdpFrame.HeadersLength);
        int length = UdpFrame.WriteReply(frame, 300);
        Assert.Equal(42 + 300, length);
        // Seen from the sender: for its MAC, from ours, with checksums that verify.
        Assert.Equal(UdpFrameCheck.Ok, UdpFrame.Check(frame.AsSpan(0, length), [new HostPolicy(Them, Client, 24)], [new(Client, 40000)], out int payload));
        Assert.Equal(300, payload);
        Assert.Equal(Us, new MacAddress(frame.AsSpan(6)));
        Assert.Equal(new UdpEndpoint(Server, 7007), UdpFrame.Remote(frame));
        Assert.Equal("10.99.0.1:40000", UdpFrame.Local(frame).ToString());
        Assert.Equal(0x40, frame[20]); // DF
        Assert.Equal(64, frame[22]);   // TTL
    }

    [Fact]
    public void Any_bytes_are_checked_without_an_exception() =>
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            UdpFrameCheck check = UdpFrame.Check(bytes, [Host], Served, out int payload);
            Assert.True(check != UdpFrameCheck.Ok || payload <= bytes.Length - UdpFrame.HeadersLength);
        }, iter: 100_000);

    [Theory]
    [InlineData(24, "10.99.0.255", false)]
    [InlineData(16, "10.99.0.255", true)]  // a host of 10.99/16
    [InlineData(16, "10.99.255.255", false)]
    [InlineData(31, "10.99.0.3", true)]    // the /31 peer: no subnet broadcast there (RFC 3021)
    [InlineData(32, "10.99.0.255", true)]
    public void The_prefix_places_the_refused_subnet_broadcast(int prefix, string source, bool answered) =>
        Assert.Equal(answered ? UdpFrameCheck.Ok : UdpFrameCheck.Unanswerable, UdpFrame.Check(Frame(source), [new HostPolicy(Us, Server, prefix)], Served, out _));
}
