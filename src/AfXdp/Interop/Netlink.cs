using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace AfXdp.Interop;

/// <summary>
/// A NETLINK_ROUTE socket for the two link requests the library needs: RTM_GETLINK (queues, the
/// attached XDP program) and RTM_SETLINK with IFLA_XDP (attach where bpf_link is unsupported).
/// Errors come back with the kernel's extended-ack text.
/// </summary>
internal sealed unsafe class NetlinkRoute : IDisposable
{
    const int AF_NETLINK = 16;
    const int NETLINK_ROUTE = 0;
    const int SOL_NETLINK = 270;
    const int NETLINK_EXT_ACK = 11;
    const ushort RTM_NEWLINK = 16;
    const ushort RTM_GETLINK = 18;
    const ushort RTM_SETLINK = 19;
    const ushort NLM_F_REQUEST = 0x1;
    const ushort NLM_F_ACK = 0x4;
    const ushort NLMSG_ERROR = 2;
    const ushort NLMSG_DONE = 3;
    const ushort NLM_F_ACK_TLVS = 0x200;
    const ushort NLMSGERR_ATTR_MSG = 1;
    const ushort NLA_F_NESTED = 0x8000;
    const int NlmsghdrSize = 16;
    const int IfinfomsgSize = 16;

    public const ushort IFLA_ADDRESS = 1;
    public const ushort IFLA_IFNAME = 3;
    public const ushort IFLA_MTU = 4;
    public const ushort IFLA_OPERSTATE = 16;
    public const ushort IFLA_NUM_TX_QUEUES = 31;
    public const ushort IFLA_NUM_RX_QUEUES = 32;
    public const ushort IFLA_XDP = 43;
    public const ushort IFLA_XDP_FD = 1;
    public const ushort IFLA_XDP_ATTACHED = 2;
    public const ushort IFLA_XDP_FLAGS = 3;
    public const ushort IFLA_XDP_PROG_ID = 4;
    public const ushort IFLA_XDP_DRV_PROG_ID = 5;
    public const ushort IFLA_XDP_SKB_PROG_ID = 6;
    public const ushort IFLA_XDP_HW_PROG_ID = 7;

    readonly SafeFd _socket;
    readonly byte[] _buffer = new byte[32 * 1024];
    uint _sequence;

    public NetlinkRoute()
    {
        int fd = Sys.Socket(AF_NETLINK, Sys.SOCK_RAW | Sys.SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0)
            Throw.Errno("socket(AF_NETLINK, NETLINK_ROUTE)", Sys.LastErrno);
        _socket = new SafeFd(fd);
        int one = 1;
        Sys.SetSockOpt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(int)); // best effort: older kernels lack it
    }

    public void Dispose() => _socket.Dispose();

    /// <summary>One link's attributes as (type, value) pairs, with IFLA_XDP's nested ones flattened under <see cref="IFLA_XDP"/>.</summary>
    public Dictionary<ushort, byte[]> GetLink(int ifindex, out Dictionary<ushort, byte[]> xdp)
    {
        int length = StartMessage(RTM_GETLINK, NLM_F_REQUEST, ifindex);
        Dictionary<ushort, byte[]>? attributes = null;
        xdp = [];
        Exchange(length, $"RTM_GETLINK(ifindex {ifindex})", (type, payload) =>
        {
            if (type != RTM_NEWLINK)
                return;
            attributes = ParseAttributes(payload[IfinfomsgSize..]);
        });
        if (attributes is null)
            Throw.Kernel($"RTM_GETLINK(ifindex {ifindex})", Errno.ENODEV, "the kernel returned no link.", "check the interface exists in this namespace.");
        if (attributes.TryGetValue(IFLA_XDP, out byte[]? nested))
            xdp = ParseAttributes(nested);
        return attributes;
    }

    /// <summary>RTM_SETLINK with IFLA_XDP {FD, FLAGS}: attach (fd >= 0) or detach (fd = -1).</summary>
    public void SetXdp(int ifindex, int programFd, uint flags, string call)
    {
        int length = StartMessage(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, ifindex);
        int nestStart = length;
        length = PutAttribute(length, IFLA_XDP | NLA_F_NESTED, []);
        Span<byte> value = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(value, programFd);
        length = PutAttribute(length, IFLA_XDP_FD, value);
        BinaryPrimitives.WriteUInt32LittleEndian(value, flags);
        length = PutAttribute(length, IFLA_XDP_FLAGS, value);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(nestStart), (ushort)(length - nestStart));
        Exchange(length, call, static (_, _) => { });
    }

    int StartMessage(ushort type, ushort flags, int ifindex)
    {
        Span<byte> b = _buffer;
        b[..(NlmsghdrSize + IfinfomsgSize)].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(b[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(b[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(b[8..], ++_sequence);
        b[NlmsghdrSize] = 0; // AF_UNSPEC
        BinaryPrimitives.WriteInt32LittleEndian(b[(NlmsghdrSize + 4)..], ifindex);
        return NlmsghdrSize + IfinfomsgSize;
    }

    int PutAttribute(int offset, ushort type, ReadOnlySpan<byte> value)
    {
        Span<byte> b = _buffer.AsSpan(offset);
        BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(b[2..], type);
        value.CopyTo(b[4..]);
        int aligned = (4 + value.Length + 3) & ~3;
        b[(4 + value.Length)..aligned].Clear();
        return offset + aligned;
    }

    void Exchange(int length, string call, Action<ushort, ReadOnlySpan<byte>> onMessage)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)length);
        fixed (byte* p = _buffer)
        {
            if (Sys.SendTo(_socket.Fd, p, (nuint)length, 0, null, 0) < 0)
                Throw.Errno(call, Sys.LastErrno);
            uint expected = _sequence;
            while (true)
            {
                nint received = Sys.RecvFrom(_socket.Fd, p, (nuint)_buffer.Length, 0, null, null);
                if (received < 0)
                {
                    int errno = Sys.LastErrno;
                    if (errno == Errno.EINTR)
                        continue;
                    Throw.Errno(call, errno);
                }
                for (int offset = 0; offset + NlmsghdrSize <= received;)
                {
                    ReadOnlySpan<byte> header = _buffer.AsSpan(offset);
                    int messageLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(header);
                    ushort type = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
                    ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(header[6..]);
                    uint sequence = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
                    if (messageLength < NlmsghdrSize || offset + messageLength > received)
                        break;
                    ReadOnlySpan<byte> payload = _buffer.AsSpan(offset + NlmsghdrSize, messageLength - NlmsghdrSize);
                    offset += (messageLength + 3) & ~3;
                    if (sequence != expected)
                        continue;
                    if (type == NLMSG_DONE)
                        return;
                    if (type == NLMSG_ERROR)
                    {
                        int error = -BinaryPrimitives.ReadInt32LittleEndian(payload);
                        if (error == 0)
                            return;
                        throw new NetlinkException(call, error, ExtendedAck(payload, flags));
                    }
                    onMessage(type, payload);
                    if ((flags & 0x2) == 0) // not NLM_F_MULTI: a single answer
                        return;
                }
            }
        }
    }

    /// <summary>The NLMSGERR_ATTR_MSG text the kernel attaches to an error, if any.</summary>
    static string ExtendedAck(ReadOnlySpan<byte> errorPayload, ushort flags)
    {
        if ((flags & NLM_F_ACK_TLVS) == 0 || errorPayload.Length < 4 + NlmsghdrSize)
            return "";
        int originalLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(errorPayload[4..]);
        // With NLM_F_CAPPED (0x100) only the original header is echoed back.
        int skip = 4 + ((flags & 0x100) != 0 ? NlmsghdrSize : (originalLength + 3) & ~3);
        if (skip > errorPayload.Length)
            return "";
        Dictionary<ushort, byte[]> tlvs = ParseAttributes(errorPayload[skip..]);
        return tlvs.TryGetValue(NLMSGERR_ATTR_MSG, out byte[]? msg) ? Encoding.UTF8.GetString(msg).TrimEnd('\0') : "";
    }

    static Dictionary<ushort, byte[]> ParseAttributes(ReadOnlySpan<byte> data)
    {
        var result = new Dictionary<ushort, byte[]>();
        while (data.Length >= 4)
        {
            int length = BinaryPrimitives.ReadUInt16LittleEndian(data);
            ushort type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(data[2..]) & 0x3fff);
            if (length < 4 || length > data.Length)
                break;
            result[type] = data[4..length].ToArray();
            int aligned = (length + 3) & ~3;
            data = aligned >= data.Length ? default : data[aligned..];
        }
        return result;
    }
}

/// <summary>A netlink request failed; <see cref="ExtendedAck"/> is the kernel's own explanation.</summary>
internal sealed class NetlinkException(string call, int errno, string extendedAck)
    : Exception($"{call}: {AfXdp.Interop.Errno.Name(errno)}{(extendedAck.Length > 0 ? ": " + extendedAck : "")}")
{
    public string Call { get; } = call;
    public int Errno { get; } = errno;
    public string ExtendedAck { get; } = extendedAck;
}
