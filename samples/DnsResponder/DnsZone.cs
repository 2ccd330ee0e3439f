using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DnsResponder;

/// <summary>
/// The A records a responder serves: names in lower-case wire form (length-prefixed labels, a zero
/// at the end) to their IPv4 addresses. Looked up by a span, so answering allocates nothing.
/// </summary>
public sealed class DnsZone
{
    /// <summary>RFC 1035 2.3.4: a name is at most 255 bytes in wire form, a label at most 63.</summary>
    public const int MaxNameLength = 255, MaxLabelLength = 63;

    readonly Dictionary<byte[], byte[]> _records;
    readonly Dictionary<byte[], byte[]>.AlternateLookup<ReadOnlySpan<byte>> _lookup;

    DnsZone(Dictionary<byte[], byte[]> records)
    {
        _records = records;
        _lookup = records.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>Names served.</summary>
    public int Count => _records.Count;

    /// <summary>
    /// Reads records written as NAME=IPV4 (e.g. "www.example.com=192.0.2.10"); a name given twice gets
    /// every address. A mistake is a <see cref="FormatException"/> naming the record, the cause and the fix.
    /// </summary>
    public static DnsZone Parse(IEnumerable<string> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var addresses = new Dictionary<byte[], List<byte>>(WireNameComparer.Instance);
        foreach (string record in records)
        {
            int equals = record.LastIndexOf('=');
            if (equals < 0)
                throw new FormatException($"--record '{record}': expected NAME=IPV4, e.g. www.example.com=192.0.2.10.");
            string name = record[..equals], text = record[(equals + 1)..];
            if (!IPAddress.TryParse(text, out IPAddress? address) || address.AddressFamily != AddressFamily.InterNetwork || text.Count(c => c == '.') != 3)
                throw new FormatException($"--record '{record}': '{text}' is not an IPv4 address in dotted form; write e.g. {name}=192.0.2.10.");
            byte[] wire = ToWireName(name, record);
            if (!addresses.TryGetValue(wire, out List<byte>? list))
                addresses[wire] = list = [];
            list.AddRange(address.GetAddressBytes());
        }
        if (addresses.Count == 0)
            throw new FormatException("no records: give at least one --record NAME=IPV4.");
        return new DnsZone(addresses.ToDictionary(p => p.Key, p => p.Value.ToArray(), WireNameComparer.Instance));
    }

    /// <summary>The addresses (4 bytes each, network order) of a lower-case wire-form name; false when the name is not served.</summary>
    public bool TryGetAddresses(ReadOnlySpan<byte> wireName, out ReadOnlySpan<byte> addresses)
    {
        if (_lookup.TryGetValue(wireName, out byte[]? found))
        {
            addresses = found;
            return true;
        }
        addresses = default;
        return false;
    }

    /// <summary>"www.Example.com." as 3www7example3com0, lower case; the trailing dot is optional.</summary>
    internal static byte[] ToWireName(string name, string record)
    {
        string trimmed = name.EndsWith('.') ? name[..^1] : name;
        if (trimmed.Length == 0)
            throw new FormatException($"--record '{record}': the name is empty; write e.g. www.example.com=192.0.2.10.");
        var wire = new List<byte>();
        foreach (string label in trimmed.Split('.'))
        {
            byte[] bytes = Encoding.ASCII.GetBytes(label.ToLowerInvariant());
            if (bytes.Length == 0)
                throw new FormatException($"--record '{record}': '{name}' has an empty label (two dots in a row, or a leading dot).");
            if (bytes.Length > MaxLabelLength)
                throw new FormatException($"--record '{record}': the label '{label}' has {bytes.Length} characters; DNS allows {MaxLabelLength}.");
            if (label.Any(c => c > 0x7e || c <= 0x20))
                throw new FormatException($"--record '{record}': '{label}' has characters outside printable ASCII; write internationalised names in their xn-- form.");
            wire.Add((byte)bytes.Length);
            wire.AddRange(bytes);
        }
        wire.Add(0);
        if (wire.Count > MaxNameLength)
            throw new FormatException($"--record '{record}': the name is {wire.Count} bytes in wire form; DNS allows {MaxNameLength}.");
        return [.. wire];
    }

    /// <summary>Byte-wise equality of wire names already lower-cased, also against a span (no key array per lookup).</summary>
    sealed class WireNameComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly WireNameComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] name) => GetHashCode((ReadOnlySpan<byte>)name);

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = new HashCode();
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }

}
