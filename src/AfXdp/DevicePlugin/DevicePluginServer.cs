using System.Diagnostics;
using System.Text;
using AfXdp.Bpf;
using AfXdp.Interop;

namespace AfXdp.DevicePlugin;

/// <summary>How a <see cref="DevicePluginServer"/> serves.</summary>
public sealed record DevicePluginServerOptions
{
    /// <summary>The host names /connect may give; empty for any (a single host has no kubelet to ask which pod holds a device).</summary>
    public IReadOnlyCollection<string> Hostnames { get; init; } = [];

    /// <summary>How long a connected client may stay silent before it is dropped (the plugin's UdsTimeout, 30 s by default).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The user the socket file is given to (the plugin's pool <c>uid</c>); null leaves it to root. Mode 0600 either way.</summary>
    public int? OwnerUid { get; init; }

    /// <summary>Told every request and answer, as the plugin logs them; null for silence.</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>
/// The AF_XDP device plugin's side of the protocol, for a single host and for tests: listens on a
/// SOCK_SEQPACKET unix socket and hands each client that introduces itself (/connect) the XSKMAP of the
/// interfaces it serves (/xsk_map_fd, answered /fd_ack with the descriptor), /fd_nak for any other.
/// Serves one client at a time, as many in a row as come. The maps stay the caller's; Dispose removes the
/// socket file and the directories it created.
/// </summary>
public sealed unsafe class DevicePluginServer : IDisposable
{
    const int Backlog = 16;
    const int PollSliceMs = 100;

    readonly SafeFd _listener;
    readonly IReadOnlyDictionary<string, XskMap> _maps;
    readonly DevicePluginServerOptions _options;
    readonly CreatedDirectories _directories = new();
    int _clients;
    bool _bound;

    /// <summary>Binds and listens on <paramref name="socketPath"/> (creating its directory), serving <paramref name="maps"/> by interface name.</summary>
    public DevicePluginServer(string socketPath, IReadOnlyDictionary<string, XskMap> maps, DevicePluginServerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        ArgumentNullException.ThrowIfNull(maps);
        SocketPath = Path.GetFullPath(socketPath);
        _maps = maps;
        _options = options ?? new DevicePluginServerOptions();
        string call = $"bind(AF_UNIX SOCK_SEQPACKET, \"{SocketPath}\")";
        if (!Sys.TryUnixAddress(SocketPath, out Sys.sockaddr_un address))
            Throw.Config(call, $"the path is longer than the {Sys.UnixPathSize - 1} bytes a unix socket address holds.", "use a shorter path.");
        int fd = Sys.Socket(Sys.AF_UNIX, Sys.SOCK_SEQPACKET | Sys.SOCK_CLOEXEC, 0);
        if (fd < 0)
            Throw.Errno("socket(AF_UNIX, SOCK_SEQPACKET)", Sys.LastErrno);
        _listener = new SafeFd(fd);
        try
        {
            _directories.Create(Path.GetDirectoryName(SocketPath)!);
            if (Sys.Bind(fd, &address, (uint)sizeof(Sys.sockaddr_un)) != 0)
            {
                int errno = Sys.LastErrno;
                if (errno == Errno.EADDRINUSE && SomeoneListens(address))
                    Throw.Kernel(call, errno, $"another server listens on {SocketPath}.", "stop it, or serve on another path.");
                if (errno == Errno.EADDRINUSE)
                    Throw.Kernel(call, errno, $"{SocketPath} exists (a socket left behind by a server that was killed?).", $"remove it (`rm {SocketPath}`) if nothing uses it, or serve on another path.");
                Throw.Errno(call, errno);
            }
            // From here the file is ours to remove.
            _bound = true;
            if (Sys.Chmod(SocketPath, 0b110_000_000) != 0)
                Throw.Errno($"chmod(\"{SocketPath}\", 0600)", Sys.LastErrno);
            if (_options.OwnerUid is int uid && Sys.Chown(SocketPath, uid, -1) != 0)
                Throw.Errno($"chown(\"{SocketPath}\", {uid})", Sys.LastErrno);
            if (Sys.Listen(fd, Backlog) != 0)
                Throw.Errno($"listen(\"{SocketPath}\")", Sys.LastErrno);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The socket's absolute path.</summary>
    public string SocketPath { get; }

    /// <summary>How many clients connected so far.</summary>
    public int Clients => Volatile.Read(ref _clients);

    /// <summary>Serves clients one after another until <paramref name="cancellation"/> is signalled (noticed within 100 ms).</summary>
    public void Run(CancellationToken cancellation)
    {
        ObjectDisposedException.ThrowIf(_listener.IsClosed, this);
        while (!cancellation.IsCancellationRequested)
        {
            if (!WaitReadable(_listener, Timeout.InfiniteTimeSpan, cancellation))
                continue;
            int fd = Sys.Accept4(_listener.Fd, null, null, Sys.SOCK_CLOEXEC);
            if (fd < 0)
            {
                int errno = Sys.LastErrno;
                // The client gave up between poll and accept, or a signal came: wait for the next.
                if (errno is Errno.EINTR or Errno.EAGAIN or Errno.ECONNABORTED)
                    continue;
                Throw.Errno($"accept4(\"{SocketPath}\")", errno);
            }
            using var connection = new SafeFd(fd);
            // A client that stops reading must not hold the server in sendmsg.
            if (Sys.SetTimeouts(fd, _options.IdleTimeout) != 0)
                Throw.Errno("setsockopt(SO_RCVTIMEO, SO_SNDTIMEO)", Sys.LastErrno);
            Serve(connection, Interlocked.Increment(ref _clients), cancellation);
        }
    }

    /// <summary>Stops listening and removes the socket file and the directories the server created (when empty).</summary>
    public void Dispose()
    {
        _listener.Dispose();
        if (_bound)
        {
            _bound = false;
            File.Delete(SocketPath);
        }
        _directories.RemoveEmpty();
    }

    /// <inheritdoc/>
    public override string ToString() => $"DevicePluginServer({SocketPath}: {string.Join(", ", _maps.Keys)})";

    /// <summary>One conversation: /connect first, then requests until /fin, silence, a refusal that ends it, or cancellation.</summary>
    void Serve(SafeFd connection, int client, CancellationToken cancellation)
    {
        bool connected = false;
        while (true)
        {
            string? request = Read(connection, client, cancellation);
            if (request is null)
                return;
            DevicePluginRequest parsed = DevicePluginProtocol.ParseRequest(request);
            if (!connected)
            {
                // Like the plugin: the first request must introduce the pod; anything else ends the conversation.
                if (parsed.Command != DevicePluginCommand.Connect)
                {
                    Answer(connection, client, request, DevicePluginProtocol.Nak);
                    return;
                }
                connected = parsed.Argument is string host && (_options.Hostnames.Count == 0 || _options.Hostnames.Contains(host));
                if (!Answer(connection, client, request, connected ? DevicePluginProtocol.HostOk : DevicePluginProtocol.HostNak) || !connected)
                    return;
                continue;
            }
            if (parsed.Command == DevicePluginCommand.Fin)
            {
                Answer(connection, client, request, DevicePluginProtocol.FinAck);
                return;
            }
            bool sent = parsed.Command switch
            {
                DevicePluginCommand.XskMapFd when _maps.TryGetValue(parsed.Argument!, out XskMap? map) => Answer(connection, client, request, DevicePluginProtocol.FdAck, map),
                DevicePluginCommand.XskMapFd => Answer(connection, client, request, DevicePluginProtocol.FdNak),
                DevicePluginCommand.Version => Answer(connection, client, request, DevicePluginProtocol.ProtocolVersion),
                _ => Answer(connection, client, request, DevicePluginProtocol.Nak),
            };
            if (!sent)
                return;
        }
    }

    /// <summary>The next request; null when the client closed, stayed silent past the idle timeout, or the server is stopping.</summary>
    string? Read(SafeFd connection, int client, CancellationToken cancellation)
    {
        if (!WaitReadable(connection, _options.IdleTimeout, cancellation))
        {
            if (!cancellation.IsCancellationRequested)
                Log(client, $"silent for {_options.IdleTimeout.TotalSeconds:0.###} s, dropped");
            return null;
        }
        byte[] buffer = new byte[DevicePluginProtocol.MaxRequestLength];
        var descriptors = new List<SafeFd>();
        nint received = Sys.ReceiveWithDescriptors(connection.Fd, buffer, descriptors, out _);
        int errno = Sys.LastErrno;
        // Descriptors a client sends (the plugin's /config_busy_poll) are not served here.
        descriptors.ForEach(d => d.Dispose());
        if (received <= 0)
        {
            Log(client, received == 0 ? "closed" : $"gone ({Errno.Name(errno)})");
            return null;
        }
        // A longer request is cut to the plugin's 64 bytes, as the plugin's read cuts it.
        return Encoding.UTF8.GetString(buffer, 0, (int)received);
    }

    /// <summary>Sends <paramref name="answer"/> (with the map's descriptor for /fd_ack); false when the client is gone.</summary>
    bool Answer(SafeFd connection, int client, string request, string answer, XskMap? map = null)
    {
        ReadOnlySpan<int> descriptor = map is null ? [] : [map.Fd];
        if (Sys.SendWithDescriptors(connection.Fd, Encoding.UTF8.GetBytes(answer), descriptor) < 0)
        {
            Log(client, $"{request} -> {answer} not sent ({Errno.Name(Sys.LastErrno)})");
            return false;
        }
        Log(client, map is null ? $"{request} -> {answer}" : $"{request} -> {answer} with XSKMAP id {map.Id}");
        return true;
    }

    void Log(int client, string text) => _options.Log?.Invoke($"client {client}: {text}");

    /// <summary>Polls in short slices so that cancellation is noticed; false on timeout or cancellation.</summary>
    static bool WaitReadable(SafeFd fd, TimeSpan timeout, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var poll = new Sys.pollfd { fd = fd.Fd, events = Sys.POLLIN };
        while (!cancellation.IsCancellationRequested)
        {
            int slice = PollSliceMs;
            if (timeout != Timeout.InfiniteTimeSpan)
            {
                TimeSpan left = timeout - clock.Elapsed;
                if (left <= TimeSpan.Zero)
                    return false;
                slice = (int)Math.Min(slice, Math.Ceiling(left.TotalMilliseconds));
            }
            int ready = Sys.Poll(&poll, 1, slice);
            if (ready > 0)
                return true;
            if (ready < 0 && Sys.LastErrno != Errno.EINTR)
                Throw.Errno("poll(unix socket)", Sys.LastErrno);
        }
        return false;
    }

    /// <summary>True when something accepts connections at <paramref name="address"/>.</summary>
    static bool SomeoneListens(Sys.sockaddr_un address)
    {
        using var probe = new SafeFd(Sys.Socket(Sys.AF_UNIX, Sys.SOCK_SEQPACKET | Sys.SOCK_CLOEXEC, 0));
        return !probe.IsInvalid && Sys.Connect(probe.Fd, &address, (uint)sizeof(Sys.sockaddr_un)) == 0;
    }
}
