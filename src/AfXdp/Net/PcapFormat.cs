namespace AfXdp.Net;

// Classic libpcap file format (draft-ietf-opsawg-pcap): a 24-byte file header, then a 16-byte
// header before each record.
static class PcapFormat
{
    public const uint MicrosecondMagic = 0xA1B2C3D4;
    public const uint NanosecondMagic = 0xA1B23C4D;
    public const ushort VersionMajor = 2;
    public const ushort VersionMinor = 4;
    public const uint LinkTypeEthernet = 1;
    public const int FileHeaderLength = 24;
    public const int RecordHeaderLength = 16;

    // File header fields.
    public const int MagicOffset = 0;
    public const int VersionMajorOffset = 4;
    public const int VersionMinorOffset = 6;
    public const int SnapLengthOffset = 16;
    public const int LinkTypeOffset = 20;

    // Record header fields.
    public const int SecondsOffset = 0;
    public const int FractionOffset = 4;
    public const int CapturedLengthOffset = 8;
    public const int OriginalLengthOffset = 12;

    public const long NanosecondsPerSecond = 1_000_000_000;
    public const long NanosecondsPerMicrosecond = 1_000;

    // Seconds are an unsigned 32-bit field: the format ends in February 2106.
    public const long MaximumUnixTimeNanoseconds = uint.MaxValue * NanosecondsPerSecond + NanosecondsPerSecond - 1;
}
