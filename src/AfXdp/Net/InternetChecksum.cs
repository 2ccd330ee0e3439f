using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace AfXdp.Net;

/// <summary>
/// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit
/// big-endian words. Sums are folded to 16 bits but not complemented, so they can be chained
/// through the <c>initial</c> argument (e.g. a pseudo-header sum, then the datagram).
/// </summary>
public static class InternetChecksum
{
    /// <summary>The ones' complement sum of <paramref name="data"/> (an odd last byte is padded with zero) plus <paramref name="initial"/>, folded to 16 bits.</summary>
    public static ushort Sum(ReadOnlySpan<byte> data, uint initial = 0) =>
        Vector.IsHardwareAccelerated ? SumVectorized(data, initial) : SumScalar(data, initial);

    /// <summary>The value to store in a checksum field: the complement of <see cref="Sum"/>.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data, uint initial = 0) => (ushort)~Sum(data, initial);

    /// <summary>The sum of the IPv4 pseudo-header for UDP or TCP (RFC 768, RFC 9293 3.1): addresses, protocol, upper-layer length.</summary>
    public static uint PseudoHeaderSum(uint source, uint destination, IpProtocol protocol, int upperLayerLength) =>
        (source >> 16) + (source & 0xFFFF) + (destination >> 16) + (destination & 0xFFFF) + (uint)protocol + (uint)upperLayerLength;

    /// <summary>The sum of the IPv6 pseudo-header for UDP, TCP or ICMPv6 (RFC 8200 8.1); addresses are 16 bytes each.</summary>
    public static uint PseudoHeaderSum(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, IpProtocol protocol, int upperLayerLength) =>
        (uint)Sum(source[..16]) + Sum(destination[..16]) + ((uint)upperLayerLength >> 16) + ((uint)upperLayerLength & 0xFFFF) + (uint)protocol;

    /// <summary>
    /// The checksum after one 16-bit word covered by it changed from <paramref name="oldWord"/> to
    /// <paramref name="newWord"/>: RFC 1624 equation 3, HC' = ~(~HC + ~m + m').
    /// </summary>
    public static ushort Update(ushort oldChecksum, ushort oldWord, ushort newWord) =>
        (ushort)~Fold((uint)(ushort)~oldChecksum + (ushort)~oldWord + newWord);

    /// <summary>
    /// As <see cref="Update(ushort, ushort, ushort)"/> for a 32-bit field, e.g. an IPv4 address.
    /// Pass typed values: integer literals bind to the 16-bit overload.
    /// </summary>
    public static ushort Update(ushort oldChecksum, uint oldValue, uint newValue) =>
        (ushort)~Fold((ulong)(ushort)~oldChecksum
            + (ushort)~(ushort)(oldValue >> 16) + (ushort)~(ushort)oldValue
            + (newValue >> 16) + (newValue & 0xFFFF));

    internal static ushort SumScalar(ReadOnlySpan<byte> data, uint initial) => Finish(AddNativeWords(data), initial);

    internal static ushort SumVectorized(ReadOnlySpan<byte> data, uint initial)
    {
        // Vector<T> is 256-bit with AVX2, 128-bit with SSE2 or AdvSimd. Each 64-bit lane adds its
        // two 32-bit words; a lane overflows only after 2^31 vectors.
        ReadOnlySpan<Vector<ulong>> vectors = MemoryMarshal.Cast<byte, Vector<ulong>>(data);
        var lowHalves = new Vector<ulong>(0xFFFF_FFFF);
        Vector<ulong> lanes = Vector<ulong>.Zero;
        foreach (Vector<ulong> vector in vectors)
            lanes += (vector & lowHalves) + Vector.ShiftRightLogical(vector, 32);
        ulong sum = Vector.Sum(lanes) + AddNativeWords(data[(vectors.Length * Vector<byte>.Count)..]);
        return Finish(sum, initial);
    }

    // Adds 32-bit words in machine order; RFC 1071 2(B): the sum is byte-order independent up to a final swap.
    static ulong AddNativeWords(ReadOnlySpan<byte> data)
    {
        ulong sum = 0;
        ReadOnlySpan<uint> words = MemoryMarshal.Cast<byte, uint>(data);
        foreach (uint word in words)
            sum += word;
        ReadOnlySpan<byte> rest = data[(words.Length * sizeof(uint))..];
        if (rest.Length >= sizeof(ushort))
        {
            sum += MemoryMarshal.Read<ushort>(rest);
            rest = rest[sizeof(ushort)..];
        }
        if (!rest.IsEmpty)
            sum += BitConverter.IsLittleEndian ? rest[0] : (uint)rest[0] << 8;
        return sum;
    }

    static ushort Finish(ulong nativeSum, uint initial)
    {
        ushort sum = Fold(nativeSum);
        if (BitConverter.IsLittleEndian)
            sum = BinaryPrimitives.ReverseEndianness(sum);
        return Fold((ulong)sum + initial);
    }

    static ushort Fold(ulong sum)
    {
        while (sum > 0xFFFF)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }
}
