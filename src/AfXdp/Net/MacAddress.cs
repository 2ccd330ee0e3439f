using System.Buffers.Binary;
using System.Globalization;

namespace AfXdp.Net;

/// <summary>A 48-bit IEEE 802 MAC address, held by value.</summary>
public readonly struct MacAddress : IEquatable<MacAddress>
{
    /// <summary>Bytes in an address.</summary>
    public const int Length = 6;

    const int TextLength = 3 * Length - 1;
    const byte GroupBit = 0x01;
    const byte LocallyAdministeredBit = 0x02;

    // The first octet on the wire is in bits 47..40.
    readonly ulong _value;

    MacAddress(ulong value) => _value = value;

    /// <summary>Reads an address from the first six bytes of <paramref name="bytes"/>.</summary>
    public MacAddress(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Length)
            throw new ArgumentException($"a MAC address needs {Length} bytes, got {bytes.Length}.", nameof(bytes));
        _value = (ulong)BinaryPrimitives.ReadUInt32BigEndian(bytes) << 16 | BinaryPrimitives.ReadUInt16BigEndian(bytes[4..]);
    }

    /// <summary>ff:ff:ff:ff:ff:ff.</summary>
    public static MacAddress Broadcast { get; } = new(0xFFFF_FFFF_FFFF);

    /// <summary>True for ff:ff:ff:ff:ff:ff.</summary>
    public bool IsBroadcast => _value == 0xFFFF_FFFF_FFFF;

    /// <summary>The I/G bit: a multicast (or broadcast) destination.</summary>
    public bool IsMulticast => (FirstOctet & GroupBit) != 0;

    /// <summary>The U/L bit: assigned by an administrator, not burned in by a vendor (e.g. 02:...).</summary>
    public bool IsLocallyAdministered => (FirstOctet & LocallyAdministeredBit) != 0;

    byte FirstOctet => (byte)(_value >> 40);

    /// <summary>Writes the six bytes in wire order to the start of <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination)
    {
        if (destination.Length < Length)
            throw new ArgumentException($"a MAC address needs {Length} bytes, got {destination.Length}.", nameof(destination));
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)(_value >> 16));
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], (ushort)_value);
    }

    /// <summary>Parses six colon-separated hex octets, e.g. "02:00:00:00:0a:01".</summary>
    public static MacAddress Parse(ReadOnlySpan<char> text) =>
        TryParse(text, out MacAddress address)
            ? address
            : throw new FormatException($"'{text}' is not a MAC address; expected six hex octets separated by colons, e.g. 02:00:00:00:0a:01.");

    /// <inheritdoc cref="Parse(ReadOnlySpan{char})"/>
    public static MacAddress Parse(string text) => Parse(text.AsSpan());

    /// <summary>Parses six colon-separated hex octets; false (and no exception) when <paramref name="text"/> is not one.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out MacAddress address)
    {
        address = default;
        if (text.Length != TextLength)
            return false;
        ulong value = 0;
        for (int octet = 0; octet < Length; octet++)
        {
            int start = 3 * octet;
            if (octet > 0 && text[start - 1] != ':')
                return false;
            if (!byte.TryParse(text.Slice(start, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b))
                return false;
            value = value << 8 | b;
        }
        address = new MacAddress(value);
        return true;
    }

    /// <summary>Lower-case colon-separated form, as <c>ip link</c> prints it.</summary>
    public override string ToString() =>
        string.Create(TextLength, _value, static (text, value) =>
        {
            for (int octet = 0; octet < Length; octet++)
            {
                int start = 3 * octet;
                ((byte)(value >> (40 - 8 * octet))).TryFormat(text[start..], out _, "x2", CultureInfo.InvariantCulture);
                if (octet < Length - 1)
                    text[start + 2] = ':';
            }
        });

    /// <summary>True when both are the same six bytes.</summary>
    public bool Equals(MacAddress other) => _value == other._value;

    /// <summary>True when <paramref name="obj"/> is a MacAddress of the same six bytes.</summary>
    public override bool Equals(object? obj) => obj is MacAddress other && Equals(other);

    /// <summary>A hash of the six bytes.</summary>
    public override int GetHashCode() => _value.GetHashCode();

    /// <summary>True when both are the same six bytes.</summary>
    public static bool operator ==(MacAddress left, MacAddress right) => left.Equals(right);

    /// <summary>True when the addresses differ.</summary>
    public static bool operator !=(MacAddress left, MacAddress right) => !left.Equals(right);
}
