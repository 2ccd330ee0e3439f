using System.Net;
using System.Text;
using AfXdp.Bpf;
using AfXdp.Interop;

namespace AfXdp.DevicePlugin;

/// <summary>
/// A connection to the AF_XDP device plugin for Kubernetes (or <c>afxdp plugin</c>) over its unix socket, to
/// be handed the XSKMAP of the XDP program the plugin attached, so that this process loads nothing and needs
/// only CAP_NET_RAW (and CAP_IPC_LOCK for a UMEM above RLIMIT_MEMLOCK). Each step sends one request and waits
/// at most <see cref="Timeout"/> for its answer (SO_RCVTIMEO); every refusal, silence or protocol error is a
/// <see cref="DevicePluginException"/> naming the step and the answer.
/// </summary>
/// <example>
/// <code>
/// using XskMap map = DevicePluginClient.GetXskMap(DevicePluginProtocol.DefaultSocketPath("eth0"), "eth0");
/// map.Register(socket);   // the plugin's program now redirects the socket's queue to it
/// </code>
/// </example>
public sealed unsafe class DevicePluginClient : IDisposable
{
    /// <summary>How long each step waits for its answer unless told otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    readonly SafeFd _socket;

    DevicePluginClient(SafeFd socket, string socketPath, TimeSpan timeout)
    {
        _socket = socket;
        SocketPath = socketPath;
        Timeout = timeout;
    }

    /// <summary>The server's socket.</summary>
    public string SocketPath { get; }

    /// <summary>How long connecting and each step may take.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>
    /// The exchange DPDK's driver makes (use_cni): connect, /connect,HOSTNAME, /version, /xsk_map_fd,INTERFACE,
    /// /fin; returns the XSKMAP received with /fd_ack. <paramref name="hostname"/> defaults to this host's name
    /// (in a pod, the pod's name, which the plugin checks).
    /// </summary>
    public static XskMap GetXskMap(string socketPath, string interfaceName, string? hostname = null, TimeSpan? timeout = null)
    {
        using DevicePluginClient client = Open(socketPath, timeout);
        client.Connect(hostname);
        client.GetVersion();
        XskMap map = client.RequestXskMap(interfaceName);
        try
        {
            client.Finish();
            return map;
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    /// <summary>Connects to the server at <paramref name="socketPath"/> (SOCK_SEQPACKET), waiting at most <paramref name="timeout"/>.</summary>
    public static DevicePluginClient Open(string socketPath, TimeSpan? timeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        TimeSpan wait = timeout ?? DefaultTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(wait, TimeSpan.Zero, nameof(timeout));
        const string step = "connect";
        if (!Sys.TryUnixAddress(socketPath, out Sys.sockaddr_un address))
            throw new DevicePluginException(socketPath, step, null, 0, $"the path is longer than the {Sys.UnixPathSize - 1} bytes a unix socket address holds.", "use a shorter path.");
        int fd = Sys.Socket(Sys.AF_UNIX, Sys.SOCK_SEQPACKET | Sys.SOCK_CLOEXEC, 0);
        if (fd < 0)
            Throw.Errno("socket(AF_UNIX, SOCK_SEQPACKET)", Sys.LastErrno);
        var socket = new SafeFd(fd);
        try
        {
            if (Sys.SetTimeouts(fd, wait) != 0)
                Throw.Errno("setsockopt(SO_RCVTIMEO, SO_SNDTIMEO)", Sys.LastErrno);
            int result;
            do
                result = Sys.Connect(fd, &address, (uint)sizeof(Sys.sockaddr_un));
            while (result != 0 && Sys.LastErrno == Errno.EINTR);
            if (result != 0)
            {
                int errno = Sys.LastErrno;
                (string cause, string fix) = errno switch
                {
                    Errno.ENOENT => ($"there is no socket at {socketPath}.",
                        "the device plugin mounts it at /tmp/afxdp_dp/INTERFACE/afxdp.sock in a pod that requests its resource (afxdp/POOL) from a pool serving the socket; " +
                        "on a single host start `afxdp plugin -i INTERFACE --uds PATH` first."),
                    Errno.ECONNREFUSED => ($"nothing listens on {socketPath}: the server exited and left the file behind, or the file is not a socket.",
                        "the device plugin serves a pod's socket once and only for its UdsTimeout (30 s by default): restart the pod; on a single host restart `afxdp plugin`."),
                    Errno.EACCES or Errno.EPERM => ($"this user (uid {Sys.GetEUid()}) may not write to {socketPath} or search its directories.",
                        "the plugin lets its pool's `uid` (config map) in: run the pod as that user; `afxdp plugin --uid UID` does the same on a single host."),
                    Errno.EPROTOTYPE => ($"the socket at {socketPath} is not a SOCK_SEQPACKET socket, so it is not the device plugin's.", "check the path."),
                    Errno.EAGAIN => ($"the server accepted no connection within {Seconds(wait)}: its backlog is full.", "try again when its other clients are done."),
                    _ => ("the kernel refused the connection.", "check the path and the server."),
                };
                throw new DevicePluginException(socketPath, step, null, errno, cause, fix);
            }
            return new DevicePluginClient(socket, socketPath, wait);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>/connect,HOSTNAME: introduces the pod (default: this host's name); the plugin answers /host_ok if it gave the pod devices.</summary>
    public void Connect(string? hostname = null)
    {
        hostname ??= Dns.GetHostName();
        string request = DevicePluginProtocol.Request(DevicePluginProtocol.Connect, hostname);
        string answer = ExchangeWithoutDescriptor(request);
        if (answer == DevicePluginProtocol.HostOk)
            return;
        if (answer == DevicePluginProtocol.HostNak)
            throw Fail(request, answer, 0,
                $"{answer} for {hostname}: the plugin knows no pod of that name holding its devices on this node (it checks the name against the kubelet's pod resources).",
                "connect from the pod the device was given to (its host name is the pod's name unless spec.hostname is set); `afxdp plugin` takes any name unless given --hostname.");
        throw Unexpected(request, answer, DevicePluginProtocol.HostOk);
    }

    /// <summary>/version: the server's protocol version (the device plugin answers "0.1"); DPDK reads and ignores it.</summary>
    public string GetVersion()
    {
        string answer = ExchangeWithoutDescriptor(DevicePluginProtocol.Version);
        if (DevicePluginProtocol.IsRefusal(answer))
            throw Unexpected(DevicePluginProtocol.Version, answer, "a version");
        return answer;
    }

    /// <summary>/xsk_map_fd,INTERFACE: the XSKMAP of the program the plugin attached to <paramref name="interfaceName"/> (its descriptor comes with /fd_ack).</summary>
    public XskMap RequestXskMap(string interfaceName)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        string request = DevicePluginProtocol.Request(DevicePluginProtocol.XskMapFd, interfaceName);
        (string answer, SafeFd? descriptor) = Exchange(request);
        if (answer == DevicePluginProtocol.FdAck && descriptor is not null)
        {
            try
            {
                return XskMap.Open(BpfMap.Adopt(descriptor, $"the descriptor of {answer}"));
            }
            catch (AfXdpException e)
            {
                throw Fail(request, answer, e.Errno, $"the descriptor that came with {answer} is not an XSKMAP: {e.Cause}", "check that the server hands out the XSKMAP of the interface's XDP program.");
            }
        }
        descriptor?.Dispose();
        if (answer == DevicePluginProtocol.FdAck)
            throw Fail(request, answer, 0, $"{answer} for {interfaceName} came without a descriptor (SCM_RIGHTS).", "the server is broken: look at its log.");
        if (answer == DevicePluginProtocol.FdNak)
            throw Fail(request, answer, 0, $"{answer} for {interfaceName}: the plugin does not serve this interface to this pod.",
                $"ask for an interface the pod was given (the plugin lists them in the pod's AFXDP_DEVICES_POOL environment variable); on a single host `afxdp plugin -i {interfaceName}` serves it.");
        throw Unexpected(request, answer, DevicePluginProtocol.FdAck);
    }

    /// <summary>/fin: ends the conversation; the server answers /fin_ack. What was received stays valid.</summary>
    public void Finish()
    {
        string answer = ExchangeWithoutDescriptor(DevicePluginProtocol.Fin);
        if (answer != DevicePluginProtocol.FinAck)
            throw Unexpected(DevicePluginProtocol.Fin, answer, DevicePluginProtocol.FinAck);
    }

    /// <summary>Closes the connection.</summary>
    public void Dispose() => _socket.Dispose();

    /// <inheritdoc/>
    public override string ToString() => $"DevicePluginClient({SocketPath})";

    string ExchangeWithoutDescriptor(string request)
    {
        (string answer, SafeFd? descriptor) = Exchange(request);
        descriptor?.Dispose(); // not asked for: ours to close, not to keep
        return answer;
    }

    /// <summary>Sends one request and reads one answer, with the descriptor that came with it if any.</summary>
    (string Answer, SafeFd? Descriptor) Exchange(string request)
    {
        ObjectDisposedException.ThrowIf(_socket.IsClosed, this);
        byte[] bytes = Encoding.UTF8.GetBytes(request);
        if (bytes.Length > DevicePluginProtocol.MaxRequestLength)
            throw Fail(request, null, 0, $"the request is {bytes.Length} bytes; the plugin reads at most {DevicePluginProtocol.MaxRequestLength} and would cut it.", "use a shorter host or interface name.");
        if (Sys.SendWithDescriptors(_socket.Fd, bytes, []) < 0)
        {
            int errno = Sys.LastErrno;
            if (errno is Errno.EPIPE or Errno.ECONNRESET)
                throw Closed(request, errno);
            if (errno == Errno.EAGAIN)
                throw Fail(request, null, errno, $"the server took no request within {Seconds(Timeout)}.", "check that the server is alive.");
            throw Fail(request, null, errno, "the kernel refused to send the request.", "check the server.");
        }
        var descriptors = new List<SafeFd>();
        byte[] buffer = new byte[DevicePluginProtocol.MaxAnswerLength];
        nint received = Sys.ReceiveWithDescriptors(_socket.Fd, buffer, descriptors, out int flags);
        try
        {
            if (received < 0)
            {
                int errno = Sys.LastErrno;
                if (errno == Errno.ECONNRESET)
                    throw Closed(request, errno);
                if (errno == Errno.EAGAIN)
                    throw Fail(request, null, errno, $"no answer within {Seconds(Timeout)}.", "check that the server is alive and speaks the device plugin's protocol; a slower one needs a longer timeout.");
                throw Fail(request, null, errno, "the kernel refused to receive the answer.", "check the server.");
            }
            if (received == 0)
                throw Closed(request, 0);
            string answer = Encoding.UTF8.GetString(buffer, 0, (int)received);
            if ((flags & Sys.MSG_TRUNC) != 0)
                throw Fail(request, answer, 0, $"the answer is longer than the {DevicePluginProtocol.MaxAnswerLength} bytes of the protocol's answers.", $"check that {SocketPath} is the device plugin's socket.");
            if ((flags & Sys.MSG_CTRUNC) != 0)
                throw Fail(request, answer, Errno.EMFILE, "the descriptor did not arrive (MSG_CTRUNC): the process is at its descriptor limit.", "raise `ulimit -n`.");
            if (descriptors.Count > 1)
                throw Fail(request, answer, 0, $"{descriptors.Count} descriptors came with the answer; the protocol sends one.", "check the server.");
            return (answer, descriptors.Count == 1 ? descriptors[0] : null);
        }
        catch
        {
            descriptors.ForEach(d => d.Dispose());
            throw;
        }
    }

    DevicePluginException Closed(string request, int errno) =>
        Fail(request, null, errno, "the server closed the connection without answering.",
            "the device plugin serves one conversation per socket and ends it after UdsTimeout (30 s by default) of silence: restart the pod, or `afxdp plugin` on a single host.");

    DevicePluginException Unexpected(string request, string answer, string expected) => answer switch
    {
        DevicePluginProtocol.Nak => Fail(request, answer, 0, $"{answer} for {request}: the plugin did not understand the request.",
            $"check that the server speaks the device plugin's protocol {DevicePluginProtocol.ProtocolVersion}."),
        DevicePluginProtocol.Error => Fail(request, answer, 0, $"{answer} for {request}: the plugin failed on its side (it asks the kubelet's pod-resources API about the pod).",
            "see the plugin's log (/var/log/afxdp-k8s-plugins/ on the node) and try again."),
        _ => Fail(request, answer, 0, $"the server answered '{answer}' where {expected} was expected: it does not speak the device plugin's protocol.",
            $"check that {SocketPath} is the device plugin's socket."),
    };

    DevicePluginException Fail(string step, string? answer, int errno, string cause, string fix) => new(SocketPath, step, answer, errno, cause, fix);

    static string Seconds(TimeSpan time) => $"{time.TotalSeconds:0.###} s";
}
