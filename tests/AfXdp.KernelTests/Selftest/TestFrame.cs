using System.Buffers.Binary;
using AfXdp.Net;

namespace AfXdp.KernelTests.Selftest;

/// <summary>
/// The frames the scenario tests send, after xskxceiver's: an Ethernet header (EtherType 0x88B5, IEEE
/// local experimental), two bytes of padding, then 32-bit big-endian words (sequence &lt;&lt; 16 | word
/// index), so every word says which packet it belongs to and where in it it sits.
/// </summary>
internal static class TestFrame
{
    public const EtherType Type = (EtherType)0x88B5;

    /// <summary>Where the words start: the 14-byte Ethernet header and 2 bytes that align them.</summary>
    public const int HeaderLength = 16;

    /// <summary>The smallest frame the scenarios send (the minimum Ethernet frame without FCS is 60).</summary>
    public const int MinimumLength = 64;

    /// <summary>A whole frame of <paramref name="length"/> bytes carrying <paramref name="sequence"/> (cut short below the header).</summary>
    public static byte[] Create(int sequence, int length, MacAddress source, MacAddress destination)
    {
        if (length < HeaderLength)
            return Create(sequence, HeaderLength, source, destination)[..length];
        var frame = new byte[length];
        destination.WriteTo(frame);
        source.WriteTo(frame.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), (ushort)Type);
        for (int word = 0; HeaderLength + 4 * (word + 1) <= length; word++)
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(HeaderLength + 4 * word), Word(sequence, word));
        return frame;
    }

    /// <summary>The sequence number a received frame carries, or -1 when it is not a test frame.</summary>
    public static int SequenceOf(ReadOnlySpan<byte> frame) =>
        frame.Length >= HeaderLength + 4 && BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) == (ushort)Type
            ? (int)(BinaryPrimitives.ReadUInt32BigEndian(frame[HeaderLength..]) >> 16)
            : -1;

    /// <summary>Fails naming the first byte that differs from what <paramref name="sequence"/> should look like.</summary>
    public static void AssertIs(ReadOnlySpan<byte> frame, int sequence, int length, MacAddress source, MacAddress destination)
    {
        Assert.True(frame.Length == length, $"packet {sequence}: {frame.Length} bytes, expected {length}");
        byte[] expected = Create(sequence, length, source, destination);
        int differs = frame.CommonPrefixLength(expected);
        Assert.True(differs == length,
            $"packet {sequence}: byte {differs} is 0x{(differs < length ? frame[differs] : 0):x2}, expected 0x{(differs < length ? expected[differs] : 0):x2} (packet {SequenceOf(frame)} arrived)");
    }

    static uint Word(int sequence, int index) => (uint)(sequence << 16 | (index & 0xFFFF));
}
