using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using AfXdp.Interop;

namespace AfXdp.Xsk;

/// <summary>
/// Passes a UMEM and its bound AF_XDP sockets to another process over a unix socket (SCM_RIGHTS), the
/// way the AF_XDP device plugin for Kubernetes hands a pod its sockets: the privileged side creates
/// the UMEM (<see cref="Umem.CreateShareable"/>), binds the sockets and attaches the program; the
/// receiving side needs no capability at all: it maps the UMEM's memfd and the rings of the received
/// descriptors (getsockopt(XDP_MMAP_OFFSETS) and mmap work on any AF_XDP descriptor one holds) and
/// moves frames. Keep the sender's redirect program (its bpf_link) alive as long as the receiver runs.
/// </summary>
/// <example>
/// <code>
/// // privileged, in the interface's namespace
/// using var umem = Umem.CreateShareable(new UmemOptions { FrameCount = 4096 });
/// using var socket = new XskSocket(umem, "eth0", 0);
/// using var program = XskRedirectProgram.Attach("eth0");
/// program.Register(socket);
/// using Socket client = listener.Accept();
/// XskHandoff.Send(client, umem, socket);
///
/// // unprivileged
/// using var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
/// connection.Connect(new UnixDomainSocketEndPoint("/run/afxdp.sock"));
/// using XskHandoffResult received = XskHandoff.Receive(connection);
/// XskSocket mine = received.Sockets[0];   // rings mapped, bound, registered: fill and receive
/// </code>
/// </example>
public static unsafe class XskHandoff
{
    /// <summary>The kernel's limit on descriptors in one SCM_RIGHTS message (SCM_MAX_FD).</summary>
    public const int MaxDescriptors = Sys.SCM_MAX_FD;

    const uint Magic = 0x41465831; // "AFX1"
    const int MaxMessage = 64 * 1024;

    /// <summary>Sends the UMEM (its memfd and its socket) and <paramref name="sockets"/> in one message.</summary>
    public static void Send(Socket unixSocket, Umem umem, params IReadOnlyList<XskSocket> sockets)
    {
        ArgumentNullException.ThrowIfNull(unixSocket);
        ArgumentNullException.ThrowIfNull(umem);
        ArgumentNullException.ThrowIfNull(sockets);
        if (umem.Memory is null)
            Throw.Argument(nameof(umem), "XskHandoff.Send(umem)", "the UMEM's memory is anonymous, so no other process can map it.", "create it with Umem.CreateShareable (or UmemOptions.Shareable = true).");
        if (sockets.Count == 0 || sockets.Count + 2 > MaxDescriptors)
            Throw.Argument(nameof(sockets), $"XskHandoff.Send({sockets.Count} sockets)", $"one message carries 1 to {MaxDescriptors - 2} sockets (SCM_MAX_FD is {MaxDescriptors} descriptors).", "send fewer sockets per message.");
        if (sockets.FirstOrDefault(s => s.Umem != umem) is { } foreign)
            Throw.Argument(nameof(sockets), $"XskHandoff.Send({foreign})", "the socket is bound on another UMEM.", "send each UMEM with its own sockets.");

        List<SafeFd> fds = [umem.Memory, umem.Socket, .. sockets.Where(s => !s.UsesUmemSocket).Select(s => s.Handle)];
        byte[] message = Encode(umem.Options, umem.BoundInterface, umem.BoundQueue, sockets);
        var added = new List<SafeFd>();
        try
        {
            foreach (SafeFd fd in fds)
            {
                bool ok = false;
                fd.DangerousAddRef(ref ok);
                added.Add(fd);
            }
            Span<int> descriptors = stackalloc int[fds.Count];
            for (int i = 0; i < fds.Count; i++)
                descriptors[i] = fds[i].Fd;
            nint sent = Sys.SendWithDescriptors(UnixFd(unixSocket), message, descriptors);
            if (sent < 0)
                Throw.Errno($"sendmsg(unix socket, {fds.Count} descriptors)", Sys.LastErrno);
            // The descriptors travel with the first byte; the rest of a long message may need more writes.
            if (sent < message.Length)
                unixSocket.Send(message.AsSpan((int)sent));
        }
        finally
        {
            added.ForEach(fd => fd.DangerousRelease());
        }
    }

    /// <summary>
    /// Receives what <see cref="Send"/> sent: the UMEM and the sockets, rings mapped, ready to move
    /// frames. Blocks up to the socket's ReceiveTimeout.
    /// </summary>
    public static XskHandoffResult Receive(Socket unixSocket)
    {
        ArgumentNullException.ThrowIfNull(unixSocket);
        byte[] buffer = new byte[MaxMessage];
        var fds = new List<SafeFd>();
        nint received = Sys.ReceiveWithDescriptors(UnixFd(unixSocket), buffer, fds, out int flags);
        if (received < 0)
        {
            int errno = Sys.LastErrno;
            if (errno == Errno.EAGAIN)
                Throw.Kernel("recvmsg(unix socket)", errno, "nothing arrived within the socket's receive timeout.", "check that the privileged side sends (XskHandoff.Send) after it accepted the connection.");
            Throw.Errno("recvmsg(unix socket)", errno);
        }
        int length = (int)received;
        if ((flags & Sys.MSG_CTRUNC) != 0)
        {
            fds.ForEach(fd => fd.Dispose());
            Throw.Kernel("recvmsg(unix socket)", Errno.EMFILE, "the descriptors did not all arrive (MSG_CTRUNC): the process is at its descriptor limit.", "raise `ulimit -n`.");
        }
        try
        {
            while (length < 4 || length < 4 + BinaryPrimitives.ReadInt32LittleEndian(buffer))
            {
                int more = unixSocket.Receive(buffer.AsSpan(length));
                if (more == 0)
                    Throw.Kernel("recv(unix socket)", Errno.ENOTCONN, "the sender closed the connection in the middle of the message.", "check the sender.");
                length += more;
            }
            return Decode(buffer.AsSpan(0, length), fds);
        }
        catch
        {
            fds.ForEach(fd => fd.Dispose());
            throw;
        }
    }

    static int UnixFd(Socket socket)
    {
        if (socket.AddressFamily != AddressFamily.Unix)
            Throw.Argument(nameof(socket), $"XskHandoff over a {socket.AddressFamily} socket", "descriptors travel only over unix sockets (SCM_RIGHTS).", "use a Socket(AddressFamily.Unix, ...).");
        return (int)socket.SafeHandle.DangerousGetHandle();
    }

    /// <summary>The message: magic, UMEM layout and bound (interface, queue), then one record per socket.</summary>
    internal static byte[] Encode(UmemOptions umem, int boundInterface, uint boundQueue, IReadOnlyList<XskSocket> sockets)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(0); // length, patched below
            w.Write(Magic);
            w.Write(umem.FrameCount);
            w.Write(umem.FrameSize);
            w.Write(umem.Headroom);
            w.Write(umem.FillRingSize);
            w.Write(umem.CompletionRingSize);
            w.Write(umem.UnalignedChunks);
            w.Write(umem.TxMetadataLength);
            w.Write(boundInterface);
            w.Write(boundQueue);
            w.Write(sockets.Count);
            foreach (XskSocket s in sockets)
            {
                w.Write(s.UsesUmemSocket);
                w.Write(s.InterfaceIndex);
                w.Write(s.InterfaceName);
                w.Write(s.QueueId);
                // The rings the socket's shape has: an RxSocket's configuration may still name a TX size it never set.
                w.Write(s.RxRing is null ? 0 : s.Options.RxRingSize);
                w.Write(s.TxRing is null ? 0 : s.Options.TxRingSize);
                w.Write(s.Options.FillRingSize);
                w.Write(s.Options.CompletionRingSize);
                w.Write(s.Options.NeedWakeup);
            }
        }
        byte[] message = stream.ToArray();
        BinaryPrimitives.WriteInt32LittleEndian(message, message.Length - 4);
        return message;
    }

    /// <summary>Builds the objects from the message and the descriptors (memfd, UMEM socket, then one per socket that has its own).</summary>
    internal static XskHandoffResult Decode(ReadOnlySpan<byte> message, List<SafeFd> fds)
    {
        using var r = new BinaryReader(new MemoryStream(message.ToArray()), Encoding.UTF8);
        r.ReadInt32();
        if (r.ReadUInt32() != Magic)
            Throw.Config("XskHandoff.Receive", "the message is not an AfXdp handoff (wrong magic).", "connect to the socket XskHandoff.Send writes to.");
        var options = new UmemOptions
        {
            FrameCount = r.ReadUInt32(),
            FrameSize = r.ReadUInt32(),
            Headroom = r.ReadUInt32(),
            FillRingSize = r.ReadUInt32(),
            CompletionRingSize = r.ReadUInt32(),
            UnalignedChunks = r.ReadBoolean(),
            TxMetadataLength = r.ReadUInt32(),
        };
        int boundInterface = r.ReadInt32();
        uint boundQueue = r.ReadUInt32();
        int count = r.ReadInt32();
        var records = new List<(bool UsesUmemSocket, int Index, string Name, uint Queue, XskSocketOptions Options)>();
        for (int i = 0; i < count; i++)
        {
            bool usesUmemSocket = r.ReadBoolean();
            int index = r.ReadInt32();
            string name = r.ReadString();
            uint queue = r.ReadUInt32();
            records.Add((usesUmemSocket, index, name, queue, new XskSocketOptions
            {
                RxRingSize = r.ReadUInt32(),
                TxRingSize = r.ReadUInt32(),
                FillRingSize = r.ReadUInt32(),
                CompletionRingSize = r.ReadUInt32(),
                NeedWakeup = r.ReadBoolean(),
            }));
        }
        int expected = 2 + records.Count(x => !x.UsesUmemSocket);
        if (fds.Count != expected)
            Throw.Config("XskHandoff.Receive", $"the message describes {expected} descriptors but {fds.Count} arrived.", "send and receive with the same AfXdp version.");
        var umem = new Umem(options, fds[0], fds[1], boundInterface, boundQueue);
        var sockets = new List<XskSocket>();
        try
        {
            int next = 2;
            foreach (var x in records)
                sockets.Add(XskSocket.Adopt(umem, x.UsesUmemSocket ? fds[1] : fds[next++], !x.UsesUmemSocket, x.Index, x.Name, x.Queue, x.Options));
        }
        catch
        {
            sockets.ForEach(s => s.Dispose());
            umem.Dispose();
            fds.Skip(2).ToList().ForEach(fd => fd.Dispose());
            throw;
        }
        return new XskHandoffResult(umem, sockets);
    }
}

/// <summary>A received UMEM and its sockets; Dispose unmaps and closes them all.</summary>
public sealed class XskHandoffResult(Umem umem, IReadOnlyList<XskSocket> sockets) : IDisposable
{
    /// <summary>The received UMEM: the sender's memfd and FILL/COMPLETION rings, mapped into this process.</summary>
    public Umem Umem { get; } = umem;

    /// <summary>The sockets, in the order they were sent.</summary>
    public IReadOnlyList<XskSocket> Sockets { get; } = sockets;

    /// <summary>Closes every socket, then unmaps and closes the UMEM.</summary>
    public void Dispose()
    {
        foreach (XskSocket socket in Sockets)
            socket.Dispose();
        Umem.Dispose();
    }
}
