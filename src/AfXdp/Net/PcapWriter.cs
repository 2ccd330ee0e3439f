using System.Buffers.Binary;

namespace AfXdp.Net;

/// <summary>
/// Writes a classic pcap file with nanosecond timestamps and Ethernet link type, readable by
/// tcpdump, tshark and Wireshark. Writing a packet does not allocate.
/// </summary>
public sealed class PcapWriter : IDisposable
{
    /// <summary>tcpdump's default snapshot length.</summary>
    public const int DefaultSnapLength = 262_144;

    readonly Stream _stream;
    readonly bool _leaveOpen;
    readonly byte[] _recordHeader = new byte[PcapFormat.RecordHeaderLength];
    bool _disposed;

    /// <summary>Writes the file header at once; packets longer than <paramref name="snapLength"/> are cut to it.</summary>
    public PcapWriter(Stream stream, int snapLength = DefaultSnapLength, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(snapLength);
        _stream = stream;
        _leaveOpen = leaveOpen;
        SnapLength = snapLength;

        Span<byte> header = stackalloc byte[PcapFormat.FileHeaderLength];
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header[PcapFormat.MagicOffset..], PcapFormat.NanosecondMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[PcapFormat.VersionMajorOffset..], PcapFormat.VersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(header[PcapFormat.VersionMinorOffset..], PcapFormat.VersionMinor);
        BinaryPrimitives.WriteInt32LittleEndian(header[PcapFormat.SnapLengthOffset..], snapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[PcapFormat.LinkTypeOffset..], PcapFormat.LinkTypeEthernet);
        _stream.Write(header);
    }

    /// <summary>The longest record written; longer packets are cut to it (their original length is kept).</summary>
    public int SnapLength { get; }

    /// <summary>Records <paramref name="frame"/> (cut to <see cref="SnapLength"/>), seen at <paramref name="unixTimeNanoseconds"/>, as it was on the wire.</summary>
    public void WritePacket(ReadOnlySpan<byte> frame, long unixTimeNanoseconds) =>
        WritePacket(frame, unixTimeNanoseconds, frame.Length);

    /// <summary>
    /// Records <paramref name="frame"/> (cut to <see cref="SnapLength"/>) of a packet that was
    /// <paramref name="originalLength"/> bytes on the wire, seen at <paramref name="unixTimeNanoseconds"/>.
    /// </summary>
    public void WritePacket(ReadOnlySpan<byte> frame, long unixTimeNanoseconds, int originalLength)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(unixTimeNanoseconds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(unixTimeNanoseconds, PcapFormat.MaximumUnixTimeNanoseconds);
        ArgumentOutOfRangeException.ThrowIfLessThan(originalLength, frame.Length);
        ReadOnlySpan<byte> captured = frame.Length > SnapLength ? frame[..SnapLength] : frame;
        (long seconds, long nanoseconds) = Math.DivRem(unixTimeNanoseconds, PcapFormat.NanosecondsPerSecond);
        Span<byte> header = _recordHeader;
        BinaryPrimitives.WriteUInt32LittleEndian(header[PcapFormat.SecondsOffset..], (uint)seconds);
        BinaryPrimitives.WriteUInt32LittleEndian(header[PcapFormat.FractionOffset..], (uint)nanoseconds);
        BinaryPrimitives.WriteInt32LittleEndian(header[PcapFormat.CapturedLengthOffset..], captured.Length);
        BinaryPrimitives.WriteInt32LittleEndian(header[PcapFormat.OriginalLengthOffset..], originalLength);
        _stream.Write(header);
        _stream.Write(captured);
    }

    /// <summary>Writes what the stream buffers to the file.</summary>
    public void Flush() => _stream.Flush();

    /// <summary>Flushes, and closes the stream unless it was to be left open. Idempotent.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (_leaveOpen)
            _stream.Flush();
        else
            _stream.Dispose();
    }
}
