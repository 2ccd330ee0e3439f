using System.Buffers.Binary;
using AfXdp.Net;
using CsCheck;

namespace AfXdp.Tests.Net;

/// <summary>
/// Whatever the bytes, TryCreate answers, accessors and writers of an accepted view stay inside it, and
/// nothing throws but the documented exceptions.
/// </summary>
public class MalformedInputTests
{
    /// <summary>Random inputs per property (CsCheck's default is 100); docs/testing.md quotes the total.</summary>
    internal const int Iterations = 20_000;

    static readonly byte[][] Golden =
    [
        Captures.ArpRequest, Captures.IcmpEchoRequest, Captures.Ipv4Udp, Captures.Ipv6UdpWithHopByHop,
        Captures.NeighborSolicitation, Captures.NeighborAdvertisement, Captures.TcpSyn, Captures.VlanTaggedUdp,
    ];

    [Fact]
    public void Random_bytes_never_throw()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            ParseEverything(bytes);
            ParseEveryLayer(bytes);
        }, iter: Iterations);
    }

    /// <summary>
    /// The same random bytes flush against an inaccessible page, after them and before them: one byte read
    /// or written outside the input faults, also through the Unsafe and vectorised code paths.
    /// </summary>
    [Fact]
    public void Random_bytes_next_to_a_guard_page_are_never_read_outside()
    {
        // One guarded page per thread: CsCheck runs samples in parallel.
        using var pages = new ThreadLocal<GuardedMemory>(() => new GuardedMemory(), trackAllValues: true);
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            GuardedMemory memory = pages.Value!;
            ParseEverything(memory.BeforeGuard(bytes));
            ParseEverything(memory.AfterGuard(bytes));
            ParseEveryLayer(memory.BeforeGuard(bytes));
            ParseEveryLayer(memory.AfterGuard(bytes));
            _ = InternetChecksum.Sum(memory.BeforeGuard(bytes)) + InternetChecksum.Sum(memory.AfterGuard(bytes));
        }, iter: Iterations);
        foreach (GuardedMemory memory in pages.Values)
            memory.Dispose();
    }

    [Fact]
    public void Random_bytes_behind_valid_headers_never_throw()
    {
        Gen.Select(Gen.Int[0, Golden.Length - 1], Gen.Byte.Array[0, 120]).Sample((index, tail) =>
        {
            byte[] frame = Golden[index];
            int keep = Math.Min(frame.Length, 14 + tail.Length % 60);
            ParseEverything([.. frame.AsSpan(0, keep), .. tail]);
        }, iter: Iterations);
    }

    [Fact]
    public void Every_truncation_of_every_capture_never_throws_and_drops_the_cut_layer()
    {
        foreach (byte[] frame in Golden)
            for (int length = 0; length < frame.Length; length++)
            {
                byte[] cut = frame[..length];
                ParseEverything(cut);
                if (EthernetFrame.TryCreate(cut, out EthernetFrame ethernet))
                {
                    Assert.False(Ipv4Packet.TryCreate(ethernet.Payload, out _));
                    Assert.False(Ipv6Packet.TryCreate(ethernet.Payload, out _));
                }
            }
    }

    [Fact]
    public void Lying_lengths_are_rejected()
    {
        Gen.Int[1, ushort.MaxValue].Sample(excess =>
        {
            byte[] ipv4 = Captures.Ipv4Udp[14..];
            BinaryPrimitives.WriteUInt16BigEndian(ipv4.AsSpan(2), (ushort)Math.Min(ushort.MaxValue, ipv4.Length + excess));
            Assert.False(Ipv4Packet.TryCreate(ipv4, out _));

            byte[] udp = Captures.Ipv4Udp[34..];
            BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)Math.Min(ushort.MaxValue, udp.Length + excess));
            Assert.False(UdpDatagram.TryCreate(udp, out _));

            byte[] ipv6 = Captures.Ipv6UdpWithHopByHop[14..];
            BinaryPrimitives.WriteUInt16BigEndian(ipv6.AsSpan(4), (ushort)Math.Min(ushort.MaxValue, ipv6.Length - 40 + excess));
            Assert.False(Ipv6Packet.TryCreate(ipv6, out _));

            byte[] hopByHop = Captures.Ipv6UdpWithHopByHop[14..];
            hopByHop[41] = (byte)Math.Min(255, 2 + excess); // 24 bytes or more where 25 remain, holding the UDP header
            Assert.False(Ipv6Packet.TryCreate(hopByHop, out _));
        });
    }

    [Fact]
    public void Udp_length_below_its_header_is_rejected()
    {
        byte[] udp = Captures.Ipv4Udp[34..];
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), 7);

        Assert.False(UdpDatagram.TryCreate(udp, out _));
    }

    /// <summary>ICMPv6 fields of the other message kind throw InvalidOperationException, as documented, and nothing else.</summary>
    [Fact]
    public void ICMPv6_fields_of_the_other_kind_throw_only_InvalidOperationException()
    {
        Gen.Select(Gen.OneOf<byte>(128, 129, 135, 136), Gen.Byte.Array[24, 64]).Sample((type, bytes) =>
        {
            bytes[0] = type;
            bool echo = type < 130;
            Exception? target = Record.Exception(() =>
            {
                Assert.True(IcmpV6.TryCreate(bytes, out IcmpV6 message));
                _ = message.TargetAddress.Length;
            });
            Exception? sequence = Record.Exception(() =>
            {
                Assert.True(IcmpV6.TryCreate(bytes, out IcmpV6 message));
                _ = message.Identifier + message.SequenceNumber;
            });
            Assert.True(echo ? target is InvalidOperationException && sequence is null : target is null && sequence is InvalidOperationException,
                $"type {type}: {target} / {sequence}");
        }, iter: Iterations / 4);
    }

    /// <summary>Any text: TryParse answers, Parse throws FormatException exactly when TryParse says no.</summary>
    [Fact]
    public void Any_text_parses_as_a_MAC_or_is_a_FormatException()
    {
        Gen<string> nearlyMacs = Gen.Char["0123456789abcdefABCDEF:-g \0\u00e9"].Array[0, 20].Select(chars => new string(chars));
        Gen.OneOf(nearlyMacs, Gen.String).Sample(text =>
        {
            bool parsed = MacAddress.TryParse(text, out MacAddress address);
            Exception? e = Record.Exception(() => MacAddress.Parse(text));
            Assert.True(parsed ? e is null : e is FormatException, $"'{text}': {e}");
            if (parsed)
                Assert.Equal(text.ToLowerInvariant(), address.ToString());
        }, iter: Iterations);
    }

    /// <summary>
    /// Random files, and random records behind a valid file header, through a seekable and a non-seekable stream:
    /// packets or InvalidDataException, nothing else, and no allocation a record's claimed length alone asked for.
    /// </summary>
    [Fact]
    public void Any_file_reads_as_packets_or_is_invalid_data()
    {
        byte[] header = Captures.TcpdumpFileWithArpRequest[..PcapFormat.FileHeaderLength];
        Gen.Select(Gen.Bool, Gen.Bool, Gen.Byte.Array[0, 300]).Sample((validHeader, seekable, bytes) =>
        {
            byte[] file = validHeader ? [.. header, .. bytes] : bytes;
            Stream stream = seekable ? new MemoryStream(file) : new NonSeekableStream(file);
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using var reader = new PcapReader(stream);
                while (reader.TryReadPacket(out PcapPacket packet))
                    Assert.InRange(packet.Data.Length, 0, file.Length);
            }
            catch (InvalidDataException)
            {
            }
            Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - allocated, 0, (2 << 20) + 64 * file.Length);
        }, iter: Iterations);
    }

    /// <summary>Any buffer and payload size: a whole frame, or ArgumentException for a short buffer, ArgumentOutOfRangeException for a payload too long.</summary>
    [Fact]
    public void The_frame_builder_writes_a_frame_or_refuses_the_sizes()
    {
        var builder = new UdpFrameBuilder(MacAddress.Parse("02:00:00:00:0a:01"), MacAddress.Parse("02:00:00:00:0b:01"),
            new System.Net.IPEndPoint(0x0100000A, 9), new System.Net.IPEndPoint(0x0200000A, 9));
        Gen.Select(Gen.Int[0, 2000], Gen.Int[-10, 70_000]).Sample((bufferLength, frameLength) =>
        {
            var buffer = new byte[bufferLength];
            Exception? e = Record.Exception(() => Assert.Equal(frameLength, builder.WriteOfLength(buffer, frameLength)));
            if (frameLength < builder.HeadersLength || frameLength > builder.HeadersLength + builder.MaximumPayloadLength)
                Assert.IsType<ArgumentOutOfRangeException>(e);
            else if (frameLength > bufferLength)
                Assert.IsType<ArgumentException>(e);
            else
                Assert.Null(e);
        }, iter: Iterations);
    }

    static void ParseEverything(Span<byte> bytes)
    {
        if (!EthernetFrame.TryCreate(bytes, out EthernetFrame frame))
            return;
        _ = (frame.Destination, frame.Source, frame.HasVlan, frame.VlanId, frame.Pcp, frame.EtherType, frame.PayloadOffset);
        frame.SwapMacs();
        ParseEveryLayer(frame.Payload);
    }

    // Tries every view on the same bytes, as a parser that misread the type would, and rewrites each checksum it finds.
    static void ParseEveryLayer(Span<byte> bytes)
    {
        if (ArpPacket.TryCreate(bytes, out ArpPacket arp))
        {
            _ = (arp.Operation, arp.SenderMac, arp.SenderIp, arp.TargetMac, arp.TargetIp);
            arp.ConvertToReply(MacAddress.Broadcast);
        }
        if (Ipv4Packet.TryCreate(bytes, out Ipv4Packet ipv4))
        {
            _ = (ipv4.HeaderLength, ipv4.TotalLength, ipv4.Identification, ipv4.IsFragment, ipv4.FragmentOffset, ipv4.Ttl,
                ipv4.Protocol, ipv4.Source, ipv4.Destination, ipv4.Options.Length, ipv4.Payload.Length, ipv4.IsChecksumValid,
                ipv4.PseudoHeaderSum());
            ipv4.UpdateChecksum();
            Assert.True(ipv4.IsChecksumValid);
            ParseTransport(ipv4.Payload, ipv4.PseudoHeaderSum());
        }
        if (Ipv6Packet.TryCreate(bytes, out Ipv6Packet ipv6))
        {
            _ = (ipv6.TrafficClass, ipv6.FlowLabel, ipv6.PayloadLength, ipv6.NextHeader, ipv6.HopLimit, ipv6.Source.Length,
                ipv6.Destination.Length, ipv6.Protocol, ipv6.HeaderLength, ipv6.IsFragment, ipv6.Payload.Length);
            ParseTransport(ipv6.Payload, ipv6.PseudoHeaderSum());
        }
        ParseTransport(bytes, 0);
    }

    static void ParseTransport(Span<byte> bytes, uint pseudoHeaderSum)
    {
        if (UdpDatagram.TryCreate(bytes, out UdpDatagram udp))
        {
            _ = (udp.SourcePort, udp.DestinationPort, udp.Length, udp.Checksum, udp.Payload.Length, udp.IsChecksumValid(pseudoHeaderSum));
            udp.UpdateChecksum(pseudoHeaderSum);
            Assert.True(udp.IsChecksumValid(pseudoHeaderSum) && udp.HasChecksum);
        }
        if (TcpHeader.TryCreate(bytes, out TcpHeader tcp))
            _ = (tcp.SourcePort, tcp.DestinationPort, tcp.SequenceNumber, tcp.AcknowledgmentNumber, tcp.HeaderLength, tcp.Flags,
                tcp.WindowSize, tcp.Checksum, tcp.UrgentPointer, tcp.Options.Length);
        if (IcmpV4Echo.TryCreate(bytes, out IcmpV4Echo echo))
        {
            _ = (echo.Type, echo.Code, echo.Checksum, echo.Identifier, echo.SequenceNumber, echo.Data.Length, echo.IsChecksumValid);
            echo.UpdateChecksum();
            Assert.True(echo.IsChecksumValid);
        }
        if (IcmpV6.TryCreate(bytes, out IcmpV6 icmp))
        {
            _ = (icmp.Type, icmp.Code, icmp.Checksum, icmp.IsChecksumValid(pseudoHeaderSum));
            _ = icmp.IsEcho ? icmp.Identifier + icmp.SequenceNumber : icmp.TargetAddress.Length;
            icmp.UpdateChecksum(pseudoHeaderSum);
            Assert.True(icmp.IsChecksumValid(pseudoHeaderSum));
        }
    }

    /// <summary>A stream that cannot seek, so the reader cannot ask how much is left.</summary>
    sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
