using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace AfXdp.Interop;

/// <summary>
/// A netlink socket of one protocol: builds a request (header, family header, attributes), sends
/// it and reads the answers until the matching ack, error or NLMSG_DONE. Errors come back with the
/// kernel's extended-ack text.
/// </summary>
internal abstract unsafe class NetlinkSocket : IDisposable
{
    const int AF_NETLINK = 16;
    const int SOL_NETLINK = 270;
    const int NETLINK_EXT_ACK = 11;
    protected const ushort NLM_F_REQUEST = 0x1;
    protected const ushort NLM_F_ACK = 0x4;
    const ushort NLM_F_MULTI = 0x2;
    const ushort NLMSG_ERROR = 2;
    const ushort NLMSG_DONE = 3;
    const ushort NLM_F_CAPPED = 0x100;
    const ushort NLM_F_ACK_TLVS = 0x200;
    const ushort NLMSGERR_ATTR_MSG = 1;
    protected const ushort NLA_F_NESTED = 0x8000;
    protected const int NlmsghdrSize = 16;

    readonly SafeFd _socket;
    protected readonly byte[] Buffer = new byte[32 * 1024];
    uint _sequence;

    protected NetlinkSocket(int protocol, string name)
    {
        int fd = Sys.Socket(AF_NETLINK, Sys.SOCK_RAW | Sys.SOCK_CLOEXEC, protocol);
        if (fd < 0)
            Throw.Errno($"socket(AF_NETLINK, {name})", Sys.LastErrno);
        _socket = new SafeFd(fd);
        int one = 1;
        Sys.SetSockOpt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(int)); // best effort: older kernels lack it
    }

    public void Dispose() => _socket.Dispose();

    /// <summary>Starts a request: the netlink header and <paramref name="familyHeaderSize"/> zeroed bytes after it; returns where attributes go.</summary>
    protected int StartMessage(ushort type, ushort flags, int familyHeaderSize)
    {
        Span<byte> b = Buffer;
        b[..(NlmsghdrSize + familyHeaderSize)].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(b[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(b[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(b[8..], ++_sequence);
        return NlmsghdrSize + familyHeaderSize;
    }

    protected int PutAttribute(int offset, ushort type, ReadOnlySpan<byte> value)
    {
        Span<byte> b = Buffer.AsSpan(offset);
        BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(b[2..], type);
        value.CopyTo(b[4..]);
        int aligned = (4 + value.Length + 3) & ~3;
        b[(4 + value.Length)..aligned].Clear();
        return offset + aligned;
    }

    /// <summary>Sends the request of <paramref name="length"/> bytes and hands each answer (type, payload after the netlink header) to <paramref name="onMessage"/>.</summary>
    protected void Exchange(int length, string call, Action<ushort, ReadOnlySpan<byte>> onMessage)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Buffer, (uint)length);
        fixed (byte* p = Buffer)
        {
            if (Sys.SendTo(_socket.Fd, p, (nuint)length, 0, null, 0) < 0)
                Throw.Errno(call, Sys.LastErrno);
            uint expected = _sequence;
            while (true)
            {
                nint received = Sys.RecvFrom(_socket.Fd, p, (nuint)Buffer.Length, 0, null, null);
                if (received < 0)
                {
                    int errno = Sys.LastErrno;
                    if (errno == Errno.EINTR)
                        continue;
                    Throw.Errno(call, errno);
                }
                for (int offset = 0; offset + NlmsghdrSize <= received;)
                {
                    ReadOnlySpan<byte> header = Buffer.AsSpan(offset);
                    int messageLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(header);
                    ushort type = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
                    ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(header[6..]);
                    uint sequence = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
                    if (messageLength < NlmsghdrSize || offset + messageLength > received)
                        break;
                    ReadOnlySpan<byte> payload = Buffer.AsSpan(offset + NlmsghdrSize, messageLength - NlmsghdrSize);
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
                    if ((flags & NLM_F_MULTI) == 0) // a single answer
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
        // With NLM_F_CAPPED only the original header is echoed back.
        int skip = 4 + ((flags & NLM_F_CAPPED) != 0 ? NlmsghdrSize : (originalLength + 3) & ~3);
        if (skip > errorPayload.Length)
            return "";
        Dictionary<ushort, byte[]> tlvs = ParseAttributes(errorPayload[skip..]);
        return tlvs.TryGetValue(NLMSGERR_ATTR_MSG, out byte[]? msg) ? Encoding.UTF8.GetString(msg).TrimEnd('\0') : "";
    }

    protected static Dictionary<ushort, byte[]> ParseAttributes(ReadOnlySpan<byte> data)
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

/// <summary>
/// A NETLINK_ROUTE socket for the two link requests the library needs: RTM_GETLINK (queues, the
/// attached XDP program) and RTM_SETLINK with IFLA_XDP (attach where bpf_link is unsupported).
/// </summary>
internal sealed partial class NetlinkRoute : NetlinkSocket
{
    const int NETLINK_ROUTE = 0;
    const ushort RTM_NEWLINK = 16;
    const ushort RTM_GETLINK = 18;
    const ushort RTM_SETLINK = 19;
    const int IfinfomsgSize = 16;

    public const ushort IFLA_ADDRESS = 1;
    public const ushort IFLA_IFNAME = 3;
    public const ushort IFLA_MTU = 4;
    public const ushort IFLA_LINK = 5;
    public const ushort IFLA_OPERSTATE = 16;
    public const ushort IFLA_NUM_TX_QUEUES = 31;
    public const ushort IFLA_NUM_RX_QUEUES = 32;
    public const ushort IFLA_LINK_NETNSID = 37;
    public const ushort IFLA_XDP = 43;
    public const ushort IFLA_XDP_FD = 1;
    public const ushort IFLA_XDP_ATTACHED = 2;
    public const ushort IFLA_XDP_FLAGS = 3;
    public const ushort IFLA_XDP_PROG_ID = 4;
    public const ushort IFLA_XDP_DRV_PROG_ID = 5;
    public const ushort IFLA_XDP_SKB_PROG_ID = 6;
    public const ushort IFLA_XDP_HW_PROG_ID = 7;

    public NetlinkRoute() : base(NETLINK_ROUTE, "NETLINK_ROUTE") { }

    /// <summary>One link's attributes as (type, value) pairs, with IFLA_XDP's nested ones flattened under <see cref="IFLA_XDP"/>.</summary>
    public Dictionary<ushort, byte[]> GetLink(int ifindex, out Dictionary<ushort, byte[]> xdp)
    {
        int length = StartLinkMessage(RTM_GETLINK, NLM_F_REQUEST, ifindex);
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
        int length = StartLinkMessage(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, ifindex);
        int nestStart = length;
        length = PutAttribute(length, IFLA_XDP | NLA_F_NESTED, []);
        Span<byte> value = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(value, programFd);
        length = PutAttribute(length, IFLA_XDP_FD, value);
        BinaryPrimitives.WriteUInt32LittleEndian(value, flags);
        length = PutAttribute(length, IFLA_XDP_FLAGS, value);
        BinaryPrimitives.WriteUInt16LittleEndian(Buffer.AsSpan(nestStart), (ushort)(length - nestStart));
        Exchange(length, call, static (_, _) => { });
    }

    int StartLinkMessage(ushort type, ushort flags, int ifindex)
    {
        int length = StartMessage(type, flags, IfinfomsgSize);
        // struct ifinfomsg: family AF_UNSPEC (0), then the index at byte 4.
        BinaryPrimitives.WriteInt32LittleEndian(Buffer.AsSpan(NlmsghdrSize + 4), ifindex);
        return length;
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
