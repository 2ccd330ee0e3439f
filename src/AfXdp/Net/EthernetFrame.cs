using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AfXdp.Net;

/// <summary>
/// A view over an Ethernet II frame as AF_XDP sees it (no preamble, no FCS), with at most one
/// 802.1Q or 802.1ad VLAN tag. A second (inner) tag is reported as <see cref="EtherType"/>
/// <see cref="Net.EtherType.Vlan"/> with the payload starting at that tag.
/// </summary>
public readonly ref struct EthernetFrame
{
    /// <summary>Destination, source and type: the untagged header.</summary>
    public const int HeaderLength = 14;

    /// <summary>An 802.1Q/802.1ad tag: TPID (already counted as the type) moves 4 bytes on.</summary>
    public const int VlanTagLength = 4;

    const int DestinationOffset = 0;
    const int SourceOffset = 6;
    const int OuterTypeOffset = 12;
    const int TagControlOffset = 14;
    const int TaggedTypeOffset = 16;
    // 802.1Q tag control information: PCP (3 bits), DEI (1 bit), VID (12 bits).
    const int PcpShift = 13;
    const ushort VlanIdMask = 0x0FFF;

    readonly Span<byte> _bytes;

    EthernetFrame(Span<byte> bytes) => _bytes = bytes;

    /// <summary>
    /// Wraps <paramref name="bytes"/> if it holds a whole header (and the whole tag when the type
    /// says one follows); otherwise returns false.
    /// </summary>
    public static bool TryCreate(Span<byte> bytes, out EthernetFrame frame)
    {
        frame = default;
        if (bytes.Length < HeaderLength)
            return false;
        if (IsTagType(BinaryPrimitives.ReadUInt16BigEndian(bytes[OuterTypeOffset..])) && bytes.Length < HeaderLength + VlanTagLength)
            return false;
        frame = new EthernetFrame(bytes);
        return true;
    }

    /// <summary>The whole frame.</summary>
    public Span<byte> Bytes => _bytes;

    /// <summary>The destination MAC address (read or written in place).</summary>
    public MacAddress Destination
    {
        get => new(_bytes[DestinationOffset..]);
        set => value.WriteTo(_bytes[DestinationOffset..]);
    }

    /// <summary>The source MAC address (read or written in place).</summary>
    public MacAddress Source
    {
        get => new(_bytes[SourceOffset..]);
        set => value.WriteTo(_bytes[SourceOffset..]);
    }

    /// <summary>True when the frame carries an 802.1Q or 802.1ad tag.</summary>
    public bool HasVlan => IsTagType(OuterType);

    /// <summary>The 12-bit VLAN identifier, or 0 when untagged.</summary>
    public ushort VlanId => HasVlan ? (ushort)(TagControl & VlanIdMask) : (ushort)0;

    /// <summary>The 3-bit 802.1p priority code point, or 0 when untagged.</summary>
    public byte Pcp => HasVlan ? (byte)(TagControl >> PcpShift) : (byte)0;

    /// <summary>The type of the payload: the one after the VLAN tag when there is one.</summary>
    public EtherType EtherType =>
        (EtherType)(HasVlan ? BinaryPrimitives.ReadUInt16BigEndian(_bytes[TaggedTypeOffset..]) : OuterType);

    /// <summary>Where the payload starts: 14, or 18 behind a VLAN tag.</summary>
    public int PayloadOffset => HasVlan ? HeaderLength + VlanTagLength : HeaderLength;

    /// <summary>The bytes after the header (and after the VLAN tag, if any), including any padding.</summary>
    public Span<byte> Payload => _bytes[PayloadOffset..];

    ushort OuterType => BinaryPrimitives.ReadUInt16BigEndian(_bytes[OuterTypeOffset..]);

    ushort TagControl => BinaryPrimitives.ReadUInt16BigEndian(_bytes[TagControlOffset..]);

    /// <summary>Exchanges destination and source in place, as a reflector or l2fwd does before sending back.</summary>
    public void SwapMacs()
    {
        // One bounds check on the 12 address bytes, then four loads and four stores.
        ref byte addresses = ref MemoryMarshal.GetReference(_bytes[..(2 * MacAddress.Length)]);
        ref byte source = ref Unsafe.Add(ref addresses, SourceOffset);
        uint destinationHead = Unsafe.ReadUnaligned<uint>(ref addresses);
        ushort destinationTail = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref addresses, 4));
        uint sourceHead = Unsafe.ReadUnaligned<uint>(ref source);
        ushort sourceTail = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref source, 4));
        Unsafe.WriteUnaligned(ref addresses, sourceHead);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref addresses, 4), sourceTail);
        Unsafe.WriteUnaligned(ref source, destinationHead);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref source, 4), destinationTail);
    }

    /// <summary>Writes an untagged header; the payload goes at <see cref="HeaderLength"/>.</summary>
    internal static void WriteHeader(Span<byte> frame, MacAddress destination, MacAddress source, EtherType etherType)
    {
        destination.WriteTo(frame[DestinationOffset..]);
        source.WriteTo(frame[SourceOffset..]);
        BinaryPrimitives.WriteUInt16BigEndian(frame[OuterTypeOffset..], (ushort)etherType);
    }

    static bool IsTagType(ushort type) => type is (ushort)EtherType.Vlan or (ushort)EtherType.QinQ;
}
