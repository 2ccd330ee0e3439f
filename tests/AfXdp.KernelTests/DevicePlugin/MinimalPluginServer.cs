using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using AfXdp.Cli.DevicePlugin;

namespace AfXdp.KernelTests.DevicePlugin;

/// <summary>What the minimal server does with one request: answer (with a descriptor), stay silent, or hang up.</summary>
internal sealed record Reply(string Text, int Descriptor = -1)
{
    /// <summary>Reads the request and never answers.</summary>
    public static readonly Reply Silence = new("(silence)");

    /// <summary>Closes the connection without answering.</summary>
    public static readonly Reply HangUp = new("(hang up)");
}

/// <summary>
/// A device plugin server written in the test straight from the protocol as issue 15 states it, sharing no code with
/// the library's DevicePluginServer: a SOCK_SEQPACKET unix socket; "/connect,HOSTNAME" gets "/host_ok", "/version" the
/// version, "/xsk_map_fd,IFNAME" gets "/fd_ack" with the XSKMAP's descriptor in SCM_RIGHTS ("/fd_nak" for another
/// interface), "/fin" gets "/fin_ack"; anything else "/nak". A test replaces answers to provoke the client.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed partial class MinimalPluginServer : IDisposable
{
    readonly Socket _listener;
    readonly CancellationTokenSource _stop = new();
    readonly Task _loop;

    public MinimalPluginServer(string path, Func<string, Reply> answer)
    {
        Path = path;
        _listener = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        // The unprivileged children connect as nobody.
        File.SetUnixFileMode(path, (UnixFileMode)0b110_110_110);
        _listener.Listen();
        _loop = Task.Run(() => Serve(answer));
    }

    /// <summary>The plugin as the issue describes it, serving <paramref name="mapFd"/> for <paramref name="interfaceName"/>.</summary>
    public static Func<string, Reply> Plugin(string interfaceName, int mapFd) => request => request.Split(',') switch
    {
        ["/connect", _] => new Reply("/host_ok"),
        ["/version"] => new Reply("0.1"),
        ["/xsk_map_fd", var name] when name == interfaceName => new Reply("/fd_ack", mapFd),
        ["/xsk_map_fd", _] => new Reply("/fd_nak"),
        ["/fin"] => new Reply("/fin_ack"),
        _ => new Reply("/nak"),
    };

    /// <summary>The plugin, except that <paramref name="request"/> (its command, before any comma) gets <paramref name="instead"/>.</summary>
    public static Func<string, Reply> PluginExcept(string interfaceName, int mapFd, string request, Reply instead) =>
        r => r.Split(',')[0] == request ? instead : Plugin(interfaceName, mapFd)(r);

    public string Path { get; }

    /// <summary>
    /// A socket file no one listens on, as a server killed with SIGKILL leaves it (a .NET Socket would remove its
    /// file on Dispose, so this binds with the library's raw calls and closes).
    /// </summary>
    public static unsafe void LeaveStaleSocket(string path)
    {
        Assert.True(AfXdp.Interop.Sys.TryUnixAddress(path, out AfXdp.Interop.Sys.sockaddr_un address));
        using var fd = new AfXdp.Interop.SafeFd(AfXdp.Interop.Sys.Socket(AfXdp.Interop.Sys.AF_UNIX, AfXdp.Interop.Sys.SOCK_SEQPACKET, 0));
        Assert.Equal(0, AfXdp.Interop.Sys.Bind(fd.Fd, &address, (uint)sizeof(AfXdp.Interop.Sys.sockaddr_un)));
    }

    /// <summary>Every request received, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>What broke the server's loop, if anything did (other than stopping).</summary>
    public Exception? Fault { get; private set; }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        File.Delete(Path);
    }

    async Task Serve(Func<string, Reply> answer)
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                using Socket client = await _listener.AcceptAsync(_stop.Token);
                byte[] buffer = new byte[64];
                while (true)
                {
                    int length = await client.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                    if (length == 0)
                        break;
                    string request = Encoding.ASCII.GetString(buffer, 0, length);
                    Requests.Enqueue(request);
                    Reply reply = answer(request);
                    if (reply == Reply.HangUp)
                        break;
                    if (reply != Reply.Silence)
                        Send(client, reply);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || _stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Fault = e;
        }
    }

    /// <summary>sendmsg(2) of the text, with the descriptor as SCM_RIGHTS when there is one.</summary>
    static unsafe void Send(Socket client, Reply reply)
    {
        byte[] text = Encoding.ASCII.GetBytes(reply.Text);
        byte* control = stackalloc byte[24]; // CMSG_SPACE(sizeof(int)): a 16-byte cmsghdr and the int, padded to 8
        new Span<byte>(control, 24).Clear();
        *(ulong*)control = 20;                // cmsg_len = CMSG_LEN(sizeof(int))
        *(int*)(control + 8) = 1;             // SOL_SOCKET
        *(int*)(control + 12) = 1;            // SCM_RIGHTS
        *(int*)(control + 16) = reply.Descriptor;
        fixed (byte* data = text)
        {
            var iov = new IoVec { Base = data, Length = (nuint)text.Length };
            var header = new MsgHdr { Iov = &iov, IovLength = 1 };
            if (reply.Descriptor >= 0)
            {
                header.Control = control;
                header.ControlLength = 24;
            }
            if (sendmsg((int)client.SafeHandle.DangerousGetHandle(), &header, 0) < 0)
                throw new IOException($"sendmsg: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    unsafe struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    unsafe struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint sendmsg(int fd, MsgHdr* message, int flags);
}
