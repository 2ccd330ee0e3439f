using AfXdp.Net;
using CsCheck;

namespace AfXdp.Tests.Net;

public class PcapTests
{
    [Fact]
    public void Writer_emits_a_nanosecond_ethernet_file_header_and_record()
    {
        var stream = new MemoryStream();
        using (var writer = new PcapWriter(stream, snapLength: 128, leaveOpen: true))
            writer.WritePacket(Captures.ArpRequest, 1_795_568_539_594_500_123);

        Assert.Equal(
            "4d3cb2a1" + "0200" + "0400" + "00000000" + "00000000" + "80000000" + "01000000" +
            "9b33066b" + "1b5a6f23" + "2a000000" + "2a000000" +
            Convert.ToHexStringLower(Captures.ArpRequest),
            Convert.ToHexStringLower(stream.ToArray()));
    }

    [Fact]
    public void Reader_reads_a_tcpdump_microsecond_file()
    {
        using var reader = new PcapReader(new MemoryStream(Captures.TcpdumpFileWithArpRequest));

        Assert.False(reader.HasNanosecondTimestamps);
        Assert.Equal(1u, reader.LinkType);
        Assert.Equal(262_144, reader.SnapLength);
        Assert.True(reader.TryReadPacket(out PcapPacket packet));
        Assert.Equal(Captures.ArpRequest, packet.Data);
        Assert.Equal(1_795_568_539_594_500_000, packet.UnixTimeNanoseconds);
        Assert.Equal(42, packet.OriginalLength);
        Assert.False(reader.TryReadPacket(out _));
    }

    [Fact]
    public void Reader_reads_a_big_endian_file()
    {
        byte[] file = Captures.TcpdumpFileWithArpRequest;
        foreach (int field in new[] { 0, 16, 20, 24, 28, 32, 36 })
            file.AsSpan(field, 4).Reverse();
        file.AsSpan(4, 2).Reverse();
        file.AsSpan(6, 2).Reverse();

        using var reader = new PcapReader(new MemoryStream(file));

        Assert.True(reader.TryReadPacket(out PcapPacket packet));
        Assert.Equal(1_795_568_539_594_500_000, packet.UnixTimeNanoseconds);
        Assert.Equal(Captures.ArpRequest, packet.Data);
    }

    [Fact]
    public void Any_packets_round_trip_and_long_ones_are_cut_to_the_snap_length()
    {
        var packets = Gen.Select(Gen.Byte.Array[0, 300], Gen.Long[0, PcapFormat.MaximumUnixTimeNanoseconds]).Array[0, 20];
        Gen.Select(packets, Gen.Int[1, 256]).Sample((written, snapLength) =>
        {
            var stream = new MemoryStream();
            using (var writer = new PcapWriter(stream, snapLength, leaveOpen: true))
                foreach ((byte[] frame, long time) in written)
                    writer.WritePacket(frame, time, frame.Length + 4);

            stream.Position = 0;
            using var reader = new PcapReader(stream);
            Assert.True(reader.HasNanosecondTimestamps);
            Assert.Equal(snapLength, reader.SnapLength);
            foreach ((byte[] frame, long time) in written)
            {
                Assert.True(reader.TryReadPacket(out PcapPacket packet));
                Assert.Equal(frame.AsSpan(0, Math.Min(frame.Length, snapLength)).ToArray(), packet.Data);
                Assert.Equal(time, packet.UnixTimeNanoseconds);
                Assert.Equal(frame.Length + 4, packet.OriginalLength);
            }
            Assert.False(reader.TryReadPacket(out _));
        });
    }

    [Fact]
    public void Bad_magic_or_a_cut_record_is_invalid_data()
    {
        byte[] file = Captures.TcpdumpFileWithArpRequest;

        Assert.Throws<InvalidDataException>(() => new PcapReader(new MemoryStream(file[..23])));
        Assert.Throws<InvalidDataException>(() => new PcapReader(new MemoryStream([.. "\n\r\r\n"u8, .. file[4..]])));
        foreach (int cut in new[] { 30, 40, file.Length - 1 })
        {
            using var reader = new PcapReader(new MemoryStream(file[..cut]));
            Assert.Throws<InvalidDataException>(() => reader.TryReadPacket(out _));
        }
    }

    [Fact]
    public void Writer_refuses_an_original_length_below_the_frame_and_times_outside_32_bit_seconds()
    {
        using var writer = new PcapWriter(Stream.Null);

        Assert.Throws<ArgumentOutOfRangeException>(() => writer.WritePacket(new byte[60], 0, 59));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.WritePacket(new byte[60], -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.WritePacket(new byte[60], PcapFormat.MaximumUnixTimeNanoseconds + 1));
    }
}
