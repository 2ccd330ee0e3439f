using System.Buffers.Binary;
using AfXdp.Net;
using CsCheck;

namespace AfXdp.Tests.Net;

public class InternetChecksumTests
{
    [Fact]
    public void Rfc1071_example_sums_to_ddf2()
    {
        byte[] data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];

        Assert.Equal(0xDDF2, InternetChecksum.Sum(data));
        Assert.Equal(0x220D, InternetChecksum.Compute(data));
    }

    [Fact]
    public void An_odd_last_byte_is_padded_on_the_right()
    {
        Assert.Equal(0xAB00, InternetChecksum.Sum([0xAB]));
        Assert.Equal(0x01AB + 0xCD00, InternetChecksum.Sum([0x01, 0xAB, 0xCD]));
    }

    [Fact]
    public void Initial_value_is_added_with_the_carry_wrapped_around() =>
        Assert.Equal(0x0002, InternetChecksum.Sum([0xFF, 0xFF], initial: 0x0002));

    [Fact]
    public void Known_ipv4_header_has_checksum_b861()
    {
        byte[] header = Convert.FromHexString("450000730000400040110000c0a80001c0a800c7");

        Assert.Equal(0xB861, InternetChecksum.Compute(header));
    }

    [Fact]
    public void Vectorized_equals_scalar_for_every_length_up_to_2000_and_odd_and_even_starts()
    {
        var random = new Random(1071);
        byte[] buffer = new byte[2003];
        random.NextBytes(buffer);
        byte[] ones = Enumerable.Repeat((byte)0xFF, buffer.Length).ToArray();

        foreach (byte[] data in new[] { buffer, ones })
            for (int start = 0; start <= 3; start++)
                for (int length = 0; length <= 2000; length++)
                {
                    ReadOnlySpan<byte> span = data.AsSpan(start, length);
                    ushort scalar = InternetChecksum.SumScalar(span, 0);
                    Assert.Equal(scalar, InternetChecksum.SumVectorized(span, 0));
                    Assert.Equal(scalar, InternetChecksum.Sum(span));
                }
    }

    [Fact]
    public void Vectorized_equals_scalar_and_the_rfc_definition_for_random_data()
    {
        Gen.Select(Gen.Byte.Array[0, 4000], Gen.UInt[0, 0x3_FFFF]).Sample((data, initial) =>
        {
            ushort expected = DefinitionSum(data, initial);
            Assert.Equal(expected, InternetChecksum.SumScalar(data, initial));
            Assert.Equal(expected, InternetChecksum.SumVectorized(data, initial));
        });
    }

    [Fact]
    public void Incremental_update_of_a_word_equals_a_full_recompute()
    {
        // Word 0 keeps 0x45 so no header sums to zero, where the two methods may pick different zeros (RFC 1624 3).
        Gen.Select(Gen.Byte.Array[20], Gen.Int[1, 9], Gen.UShort).Sample((header, wordIndex, newWord) =>
        {
            if (wordIndex == ChecksumWord)
                return;
            header[0] = 0x45;
            ushort checksum = WriteChecksum(header);
            ushort oldWord = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2 * wordIndex));

            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2 * wordIndex), newWord);

            Assert.Equal(WriteChecksum(header), InternetChecksum.Update(checksum, oldWord, newWord));
        });
    }

    [Fact]
    public void Incremental_update_of_an_address_equals_a_full_recompute()
    {
        Gen.Select(Gen.Byte.Array[20], Gen.UInt).Sample((header, newSource) =>
        {
            header[0] = 0x45;
            ushort checksum = WriteChecksum(header);
            uint oldSource = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(12));

            BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(12), newSource);

            Assert.Equal(WriteChecksum(header), InternetChecksum.Update(checksum, oldSource, newSource));
        });
    }

    [Fact]
    public void Rfc1624_example_updates_to_zero() =>
        Assert.Equal(0x0000, InternetChecksum.Update(0xDD2F, (ushort)0x5555, (ushort)0x3285));

    [Fact]
    public void Ipv4_pseudo_header_adds_addresses_protocol_and_length() =>
        Assert.Equal(0x0A0Bu + 0x0001 + 0x0A0B + 0x0002 + 17 + 18,
            InternetChecksum.PseudoHeaderSum(0x0A0B0001, 0x0A0B0002, IpProtocol.Udp, 18));

    [Fact]
    public void Ipv6_pseudo_header_splits_a_length_above_65535()
    {
        byte[] zero = new byte[16];

        Assert.Equal(1u + 0x0002 + 58, InternetChecksum.PseudoHeaderSum(zero, zero, IpProtocol.IcmpV6, 0x1_0002));
    }

    const int ChecksumWord = 5;

    static ushort WriteChecksum(byte[] header)
    {
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2 * ChecksumWord), 0);
        ushort checksum = InternetChecksum.Compute(header);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2 * ChecksumWord), checksum);
        return checksum;
    }

    // RFC 1071 4.1, word by word: the reference the fast paths must agree with.
    static ushort DefinitionSum(byte[] data, uint initial)
    {
        ulong sum = initial;
        for (int i = 0; i < data.Length; i += 2)
            sum += (uint)data[i] << 8 | (i + 1 < data.Length ? data[i + 1] : 0u);
        while (sum > 0xFFFF)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }
}
