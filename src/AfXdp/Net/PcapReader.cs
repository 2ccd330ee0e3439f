using System.Buffers.Binary;

namespace AfXdp.Net;

/// <summary>One record of a pcap file.</summary>
/// <param name="Data">The captured bytes (at most the snapshot length).</param>
/// <param name="UnixTimeNanoseconds">When it was seen.</param>
/// <param name="OriginalLength">Its length on the wire.</param>
public readonly record struct PcapPacket(byte[] Data, long UnixTimeNanoseconds, int OriginalLength);

/// <summary>
/// Reads a classic pcap file, microsecond or nanosecond, either byte order: for tests and tools
/// (each packet is a new array).
/// </summary>
public sealed class PcapReader : IDisposable
{
    readonly Stream _stream;
    readonly bool _leaveOpen;
    readonly bool _isBigEndian;
    readonly long _nanosecondsPerFractionUnit;
    readonly byte[] _recordHeader = new byte[PcapFormat.RecordHeaderLength];

    /// <summary>Reads the file header; throws <see cref="InvalidDataException"/> if it is not pcap.</summary>
    public PcapReader(Stream stream, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;

        Span<byte> header = stackalloc byte[PcapFormat.FileHeaderLength];
        if (stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length)
            throw new InvalidDataException("not a pcap file: shorter than the 24-byte file header.");
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(header);
        _isBigEndian = magic is not (PcapFormat.MicrosecondMagic or PcapFormat.NanosecondMagic);
        if (_isBigEndian)
            magic = BinaryPrimitives.ReverseEndianness(magic);
        HasNanosecondTimestamps = magic switch
        {
            PcapFormat.NanosecondMagic => true,
            PcapFormat.MicrosecondMagic => false,
            _ => throw new InvalidDataException($"not a pcap file: magic 0x{BinaryPrimitives.ReadUInt32LittleEndian(header):x8} (pcapng is not supported)."),
        };
        _nanosecondsPerFractionUnit = HasNanosecondTimestamps ? 1 : PcapFormat.NanosecondsPerMicrosecond;
        SnapLength = (int)ReadUInt32(header[PcapFormat.SnapLengthOffset..]);
        LinkType = ReadUInt32(header[PcapFormat.LinkTypeOffset..]);
    }

    /// <summary>True for the nanosecond variant of the format (magic a1b23c4d), false for microseconds.</summary>
    public bool HasNanosecondTimestamps { get; }

    /// <summary>The longest record the file holds; longer packets were cut to it.</summary>
    public int SnapLength { get; }

    /// <summary>The LINKTYPE_ value; 1 is Ethernet.</summary>
    public uint LinkType { get; }

    /// <summary>Reads the next record; false at the end of the file. A record cut short throws <see cref="InvalidDataException"/>.</summary>
    public bool TryReadPacket(out PcapPacket packet)
    {
        packet = default;
        int headerRead = _stream.ReadAtLeast(_recordHeader, _recordHeader.Length, throwOnEndOfStream: false);
        if (headerRead == 0)
            return false;
        if (headerRead < _recordHeader.Length)
            throw new InvalidDataException($"pcap record header cut short: {headerRead} of {_recordHeader.Length} bytes.");
        ReadOnlySpan<byte> header = _recordHeader;
        uint capturedLength = ReadUInt32(header[PcapFormat.CapturedLengthOffset..]);
        if (capturedLength > SnapLength)
            throw new InvalidDataException($"pcap record of {capturedLength} bytes exceeds the snapshot length {SnapLength}.");
        // The length is the file's word: a file that lies must not make us allocate gigabytes first.
        if (_stream.CanSeek && capturedLength > _stream.Length - _stream.Position)
            throw CutShort(capturedLength);
        byte[] data;
        if (capturedLength <= ChunkLength || _stream.CanSeek)
        {
            data = new byte[capturedLength];
            if (_stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false) < data.Length)
                throw CutShort(capturedLength);
        }
        else if ((data = ReadInChunks((int)capturedLength)).Length < capturedLength)
        {
            throw CutShort(capturedLength);
        }
        long timestamp = ReadUInt32(header[PcapFormat.SecondsOffset..]) * PcapFormat.NanosecondsPerSecond
            + ReadUInt32(header[PcapFormat.FractionOffset..]) * _nanosecondsPerFractionUnit;
        packet = new PcapPacket(data, timestamp, (int)ReadUInt32(header[PcapFormat.OriginalLengthOffset..]));
        return true;
    }

    const int ChunkLength = 1 << 20;

    /// <summary>Reads a long record from a stream of unknown length a megabyte at a time; what it returns is whole or shorter than asked.</summary>
    byte[] ReadInChunks(int length)
    {
        using var record = new MemoryStream();
        var chunk = new byte[ChunkLength];
        while (record.Length < length)
        {
            int read = _stream.ReadAtLeast(chunk, (int)Math.Min(ChunkLength, length - record.Length), throwOnEndOfStream: false);
            if (read == 0)
                break;
            record.Write(chunk, 0, read);
        }
        return record.ToArray();
    }

    static InvalidDataException CutShort(uint capturedLength) => new($"pcap record cut short: fewer than its {capturedLength} bytes.");

    /// <summary>Closes the stream unless it was to be left open.</summary>
    public void Dispose()
    {
        if (!_leaveOpen)
            _stream.Dispose();
    }

    uint ReadUInt32(ReadOnlySpan<byte> bytes) =>
        _isBigEndian ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes);
}
