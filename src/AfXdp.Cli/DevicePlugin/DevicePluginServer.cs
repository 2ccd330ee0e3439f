using System.Diagnostics;
using System.Globalization;
using System.Text;
using AfXdp.Bpf;
using AfXdp.DevicePlugin;
using AfXdp.Interop;

namespace AfXdp.Cli.DevicePlugin;

/// <summary>How a <see cref="DevicePluginServer"/> serves.</summary>
internal sealed record DevicePluginServerOptions
{
    /// <summary>
    /// The shortest timeout taken, 100 ms: below it a timeout measures the scheduler rather than the client (a correct
    /// client on a loaded machine waits tens of milliseconds for a CPU), and the server looks at the clock in slices of it.
    /// </summary>
    public static TimeSpan MinimumTimeout { get; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest timeout taken: a day.</summary>
    public static TimeSpan MaximumTimeout { get; } = TimeSpan.FromDays(1);

    /// <summary>The host names /connect may give; empty for any (a single host has no kubelet to ask which pod holds a device).</summary>
    public IReadOnlyCollection<string> Hostnames { get; init; } = [];

    /// <summary>How long a connected client may stay silent before it is dropped (the plugin's UdsTimeout, 30 s by default).</summary>
    public TimeSpan IdleTimeout { get; init => field = InRange(value, nameof(IdleTimeout)); } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a client's whole conversation may last, however busy, before it is dropped (60 s by default; DPDK's
    /// exchange takes milliseconds): a client that speaks just often enough not to be idle holds nothing for longer.
    /// </summary>
    public TimeSpan ExchangeTimeout { get; init => field = InRange(value, nameof(ExchangeTimeout)); } = TimeSpan.FromSeconds(60);

    /// <summary>The user the socket file is given to (the plugin's pool <c>uid</c>); null leaves it to root. Mode 0600 either way.</summary>
    public int? OwnerUid { get; init; }

    /// <summary>Told every request and answer, as the plugin logs them (client text with control characters escaped); null for silence.</summary>
    public Action<string>? Log { get; init; }

    static TimeSpan InRange(TimeSpan value, string name) => value >= MinimumTimeout && value <= MaximumTimeout ? value
        : throw new ArgumentOutOfRangeException(name, value, $"{name} must be from {MinimumTimeout.TotalMilliseconds} ms to {MaximumTimeout.TotalDays} day: a shorter one would cut correct clients on a busy machine.");
}

/// <summary>
/// The AF_XDP device plugin's side of the protocol, for a single host and for tests: listens on a
/// SOCK_SEQPACKET unix socket and hands each client that introduces itself (/connect) the XSKMAP of the
/// interfaces it serves (/xsk_map_fd, answered /fd_ack with the descriptor), /fd_nak for any other.
/// Serves its clients side by side (one thread, poll), each for at most <see cref="DevicePluginServerOptions.ExchangeTimeout"/>,
/// so that no client holds up another. The socket's directories must be root's and closed to others
/// (<see cref="TrustedDirectory"/>); the socket's mode and owner are set relative to its directory without following
/// a link. The maps stay the caller's; Dispose removes the socket file and the directories it created.
/// </summary>
internal sealed unsafe class DevicePluginServer : IDisposable
{
    const int Backlog = 16;
    const int PollSliceMs = 100;
    const uint SocketMode = 0b110_000_000; // 0600: the owner alone may connect

    /// <summary>Clients served at once; more wait in the backlog. Each leaves by its exchange deadline, so a full house empties within ExchangeTimeout.</summary>
    const int MaxClients = 64;

    readonly SafeFd _listener;
    readonly IReadOnlyDictionary<string, XskMap> _maps;
    readonly DevicePluginServerOptions _options;
    readonly DescriptorCloser _closer = new();
    readonly string _socketName;
    readonly byte[] _request = new byte[DevicePluginProtocol.MaxRequestLength];
    readonly List<SafeFd> _passed = [];
    TrustedDirectory? _directory;
    ulong? _socketInode;
    int _clients;
    bool _disposed;

    /// <summary>
    /// Binds and listens on <paramref name="socketPath"/> (creating its directory), serving <paramref name="maps"/> by
    /// interface name. Refuses a directory on the way that is not root's, is open to others or is a link.
    /// </summary>
    public DevicePluginServer(string socketPath, IReadOnlyDictionary<string, XskMap> maps, DevicePluginServerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        ArgumentNullException.ThrowIfNull(maps);
        SocketPath = Path.GetFullPath(socketPath);
        _socketName = Path.GetFileName(SocketPath);
        _maps = maps;
        _options = options ?? new DevicePluginServerOptions();
        string call = $"bind(AF_UNIX SOCK_SEQPACKET, \"{SocketPath}\")";
        if (_socketName.Length == 0 || !Sys.TryUnixAddress(SocketPath, out _))
            Throw.Argument(nameof(socketPath), call, $"the path is empty or longer than the {Sys.UnixPathSize - 1} bytes a unix socket address holds.", "use a shorter path.");
        int fd = Sys.Socket(Sys.AF_UNIX, Sys.SOCK_SEQPACKET | Sys.SOCK_CLOEXEC | Sys.SOCK_NONBLOCK, 0);
        if (fd < 0)
            Throw.Errno("socket(AF_UNIX, SOCK_SEQPACKET)", Sys.LastErrno);
        _listener = new SafeFd(fd);
        try
        {
            _directory = TrustedDirectory.Open(Path.GetDirectoryName(SocketPath)!, "the device plugin's socket");
            int directory = _directory.Fd.Fd;
            // bind(2) takes a path: through the directory's own /proc/self/fd link it lands in the directory checked,
            // whatever happens to the path meanwhile.
            if (!Sys.TryUnixAddress($"/proc/self/fd/{directory}/{_socketName}", out Sys.sockaddr_un address))
                Throw.Config(call, "the socket's file name is too long for a unix socket address.", "use a shorter name.");
            if (Sys.Bind(fd, &address, (uint)sizeof(Sys.sockaddr_un)) != 0)
            {
                int errno = Sys.LastErrno;
                if (errno == Errno.EADDRINUSE && SomeoneListens(address))
                    Throw.Kernel(call, errno, $"another server listens on {SocketPath}.", "stop it, or serve on another path.");
                if (errno == Errno.EADDRINUSE)
                    Throw.Kernel(call, errno, $"{SocketPath} exists (a socket left behind by a server that was killed?).", $"remove it (`rm {SocketPath}`) if nothing uses it, or serve on another path.");
                Throw.Errno(call, errno);
            }
            // From here the file is ours to remove, and only this one (Dispose compares the inode).
            if (!Sys.TryStatAt(directory, _socketName, out Sys.statx bound))
                Throw.Errno($"statx(\"{SocketPath}\")", Sys.LastErrno);
            _socketInode = bound.stx_ino;
            // Until the mode is set the file has 0777 less the umask, but nobody connects before listen(2) (ECONNREFUSED).
            // Relative to the checked directory, and refusing a link rather than following it (AT_SYMLINK_NOFOLLOW).
            if (Sys.FChmodAt(directory, _socketName, SocketMode, Sys.AT_SYMLINK_NOFOLLOW) != 0)
                Throw.Errno($"fchmodat(\"{SocketPath}\", 0600, AT_SYMLINK_NOFOLLOW)", Sys.LastErrno);
            if (_options.OwnerUid is int uid && Sys.FChownAt(directory, _socketName, uid, -1, Sys.AT_SYMLINK_NOFOLLOW) != 0)
                Throw.Errno($"fchownat(\"{SocketPath}\", {uid}, AT_SYMLINK_NOFOLLOW)", Sys.LastErrno);
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

    /// <summary>Serves clients, side by side, until <paramref name="cancellationToken"/> is signalled (noticed within 100 ms).</summary>
    public void Run(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var clients = new List<Client>();
        var polls = new Sys.pollfd[MaxClients + 1];
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                long now = Stopwatch.GetTimestamp();
                int wait = PollSliceMs;
                for (int i = clients.Count - 1; i >= 0; i--)
                {
                    if (clients[i].Expired(now, _options) is string why)
                    {
                        Log(clients[i].Number, why);
                        Drop(clients, i);
                    }
                    else
                        wait = Math.Min(wait, clients[i].MillisecondsLeft(now));
                }
                // At capacity the listener is not watched: newcomers wait in the backlog until someone leaves.
                polls[0] = new Sys.pollfd { fd = _listener.Fd, events = clients.Count < MaxClients ? Sys.POLLIN : (short)0 };
                for (int i = 0; i < clients.Count; i++)
                    polls[i + 1] = new Sys.pollfd { fd = clients[i].Connection.Fd, events = Sys.POLLIN };
                int ready;
                fixed (Sys.pollfd* p = polls)
                    ready = Sys.Poll(p, (nuint)(clients.Count + 1), wait);
                if (ready < 0 && Sys.LastErrno != Errno.EINTR)
                    Throw.Errno("poll(unix sockets)", Sys.LastErrno);
                if (ready <= 0)
                    continue;
                // One message from each ready client per round: none can keep the others waiting.
                for (int i = clients.Count - 1; i >= 0; i--)
                {
                    if (polls[i + 1].revents != 0 && !Serve(clients[i]))
                        Drop(clients, i);
                }
                if ((polls[0].revents & Sys.POLLIN) != 0)
                    Accept(clients);
            }
        }
        finally
        {
            clients.ForEach(c => _closer.Close(c.Connection));
        }
    }

    /// <summary>Stops listening and removes the socket file and the directories the server created (when empty).</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (_directory is not null)
        {
            // unlinkat never follows a link; and only the socket bound here goes, not a file put in its place.
            if (_socketInode is ulong inode && Sys.TryStatAt(_directory.Fd.Fd, _socketName, out Sys.statx status)
                && (status.stx_mode & Sys.S_IFMT) == Sys.S_IFSOCK && status.stx_ino == inode)
                Sys.UnlinkAt(_directory.Fd.Fd, _socketName, 0);
            _directory.Dispose();
            _directory = null;
        }
        // Connections not yet accepted may hold passed descriptors: the listener's close is the closer's too.
        _closer.Close(_listener);
        _closer.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"DevicePluginServer({SocketPath}: {string.Join(", ", _maps.Keys)})";

    /// <summary>
    /// <paramref name="text"/> from a client, fit for a log line: backslash, C0 and C1 controls, DEL and the Unicode
    /// format and line/paragraph separators (e.g. U+202E, which reorders a terminal's line) written as escapes.
    /// </summary>
    internal static string Printable(string text)
    {
        if (!text.EnumerateRunes().Any(NeedsEscape))
            return text;
        var printable = new StringBuilder(text.Length + 16);
        foreach (Rune rune in text.EnumerateRunes())
        {
            printable.Append(rune.Value switch
            {
                '\\' => @"\\",
                '\n' => @"\n",
                '\r' => @"\r",
                '\t' => @"\t",
                < 0x100 when NeedsEscape(rune) => $"\\x{rune.Value:x2}",
                _ when NeedsEscape(rune) => $"\\u{rune.Value:x4}",
                _ => rune.ToString(),
            });
        }
        return printable.ToString();
    }

    static bool NeedsEscape(Rune rune) => rune.Value == '\\' || Rune.IsControl(rune)
        || Rune.GetUnicodeCategory(rune) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    void Accept(List<Client> clients)
    {
        while (clients.Count < MaxClients)
        {
            int fd = Sys.Accept4(_listener.Fd, null, null, Sys.SOCK_CLOEXEC | Sys.SOCK_NONBLOCK);
            if (fd < 0)
            {
                int errno = Sys.LastErrno;
                // No one (more) waiting, or the client gave up between poll and accept, or a signal came.
                if (errno is Errno.EAGAIN or Errno.ECONNABORTED)
                    return;
                if (errno == Errno.EINTR)
                    continue;
                Throw.Errno($"accept4(\"{SocketPath}\")", errno);
            }
            clients.Add(new Client(new SafeFd(fd), Interlocked.Increment(ref _clients), Stopwatch.GetTimestamp(), _options));
        }
    }

    void Drop(List<Client> clients, int index)
    {
        _closer.Close(clients[index].Connection);
        clients.RemoveAt(index);
    }

    /// <summary>Reads and answers one request; false when the conversation is over (/fin, a refusal that ends it, the client gone).</summary>
    bool Serve(Client client)
    {
        nint received = Sys.ReceiveWithDescriptors(client.Connection.Fd, _request, _passed, out _);
        int errno = Sys.LastErrno;
        // Descriptors a client sends (the plugin's /config_busy_poll) are not served here, and not closed here either.
        _passed.ForEach(_closer.Discard);
        _passed.Clear();
        if (received < 0 && errno == Errno.EAGAIN)
            return true;
        if (received <= 0)
        {
            Log(client.Number, received == 0 ? "closed" : $"gone ({Errno.Name(errno)})");
            return false;
        }
        client.Heard(Stopwatch.GetTimestamp(), _options);
        // A longer request is cut to the plugin's 64 bytes, as the plugin's read cuts it.
        string request = Encoding.UTF8.GetString(_request, 0, (int)received);
        DevicePluginRequest parsed = DevicePluginProtocol.ParseRequest(request);
        if (!client.Connected)
        {
            // Like the plugin: the first request must introduce the pod; anything else ends the conversation.
            if (parsed.Command != DevicePluginCommand.Connect)
            {
                Answer(client, request, DevicePluginProtocol.Nak);
                return false;
            }
            client.Connected = parsed.Argument is string host && (_options.Hostnames.Count == 0 || _options.Hostnames.Contains(host));
            return Answer(client, request, client.Connected ? DevicePluginProtocol.HostOk : DevicePluginProtocol.HostNak) && client.Connected;
        }
        if (parsed.Command == DevicePluginCommand.Fin)
        {
            Answer(client, request, DevicePluginProtocol.FinAck);
            return false;
        }
        return parsed.Command switch
        {
            DevicePluginCommand.XskMapFd when _maps.TryGetValue(parsed.Argument!, out XskMap? map) => Answer(client, request, DevicePluginProtocol.FdAck, map),
            DevicePluginCommand.XskMapFd => Answer(client, request, DevicePluginProtocol.FdNak),
            DevicePluginCommand.Version => Answer(client, request, DevicePluginProtocol.ProtocolVersion),
            _ => Answer(client, request, DevicePluginProtocol.Nak),
        };
    }

    /// <summary>
    /// Sends <paramref name="answer"/> (with the map's descriptor for /fd_ack) without waiting; false when the client
    /// is gone or does not read its answers (EAGAIN: its queue is full).
    /// </summary>
    bool Answer(Client client, string request, string answer, XskMap? map = null)
    {
        ReadOnlySpan<int> descriptor = map is null ? [] : [map.Fd];
        string exchange = $"{Printable(request)} -> {answer}";
        if (Sys.SendWithDescriptors(client.Connection.Fd, Encoding.UTF8.GetBytes(answer), descriptor) < 0)
        {
            Log(client.Number, $"{exchange} not sent ({Errno.Name(Sys.LastErrno)})");
            return false;
        }
        Log(client.Number, map is null ? exchange : $"{exchange} with XSKMAP id {map.Id}");
        return true;
    }

    void Log(int client, string text) => _options.Log?.Invoke($"client {client}: {text}");

    /// <summary>True when something accepts connections at <paramref name="address"/>.</summary>
    static bool SomeoneListens(Sys.sockaddr_un address)
    {
        using var probe = new SafeFd(Sys.Socket(Sys.AF_UNIX, Sys.SOCK_SEQPACKET | Sys.SOCK_CLOEXEC, 0));
        return !probe.IsInvalid && Sys.Connect(probe.Fd, &address, (uint)sizeof(Sys.sockaddr_un)) == 0;
    }

    /// <summary>One connection and its two deadlines: silence (idle timeout) and the whole exchange.</summary>
    sealed class Client(SafeFd connection, int number, long accepted, DevicePluginServerOptions options)
    {
        readonly long _exchangeDeadline = accepted + Ticks(options.ExchangeTimeout);
        long _idleDeadline = accepted + Ticks(options.IdleTimeout);

        public SafeFd Connection { get; } = connection;

        public int Number { get; } = number;

        /// <summary>Introduced itself with a host name the server takes.</summary>
        public bool Connected { get; set; }

        public void Heard(long now, DevicePluginServerOptions options) => _idleDeadline = now + Ticks(options.IdleTimeout);

        /// <summary>Why the client is dropped now, or null while both deadlines are ahead.</summary>
        public string? Expired(long now, DevicePluginServerOptions options) =>
            now < Math.Min(_idleDeadline, _exchangeDeadline) ? null
            : _idleDeadline <= _exchangeDeadline ? $"silent for {options.IdleTimeout.TotalSeconds:0.###} s, dropped"
            : $"still talking after {options.ExchangeTimeout.TotalSeconds:0.###} s, the limit of a whole exchange, dropped";

        /// <summary>Milliseconds to the nearer deadline, rounded up.</summary>
        public int MillisecondsLeft(long now) =>
            (int)Math.Min(int.MaxValue, (Math.Min(_idleDeadline, _exchangeDeadline) - now + Stopwatch.Frequency / 1000 - 1) * 1000 / Stopwatch.Frequency);

        static long Ticks(TimeSpan time) => (long)(time.TotalSeconds * Stopwatch.Frequency);
    }
}
