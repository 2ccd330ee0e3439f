using System.Collections.Concurrent;
using AfXdp.DevicePlugin;
using AfXdp.Interop;

namespace AfXdp.Cli.DevicePlugin;

/// <summary>
/// Closes, on a thread of its own, what a server must not close itself: its clients' connections and the descriptors
/// they passed (SCM_RIGHTS). A close can block for as long as the file's owner likes: the last close of a TCP socket
/// with unsent data and SO_LINGER waits up to the linger time (tcp_close), and closing a connection whose queue still
/// holds passed descriptors closes those too (unix_release_sock purges it). So every passed socket gets SO_LINGER
/// {1, 0} first, which turns that TCP close into an immediate abort (RST), and each connection is shut down and
/// drained first, so that what it still holds gets the same treatment; what else can block (a FUSE file's flush)
/// then blocks this thread, never the one serving.
/// </summary>
internal sealed unsafe class DescriptorCloser : IDisposable
{
    readonly BlockingCollection<(SafeFd Fd, bool Connection)> _queue = new();
    readonly Thread _thread;

    public DescriptorCloser()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "afxdp descriptor closer" };
        _thread.Start();
    }

    /// <summary>Hands over a descriptor a client passed: aborted if a socket, then closed.</summary>
    public void Discard(SafeFd passed) => Add(passed, connection: false);

    /// <summary>Hands over a client's connection (or a listener): shut down, drained, then closed.</summary>
    public void Close(SafeFd connection) => Add(connection, connection: true);

    /// <summary>Closes what is queued, then the thread ends; does not wait for it (a close may hang).</summary>
    public void Dispose() => _queue.CompleteAdding();

    void Add(SafeFd fd, bool connection)
    {
        if (!_queue.TryAdd((fd, connection)))
            fd.Dispose(); // only after Dispose, when the server itself is going
    }

    void Run()
    {
        foreach ((SafeFd fd, bool connection) in _queue.GetConsumingEnumerable())
        {
            if (connection)
                Drain(fd);
            else
                Abort(fd);
            fd.Dispose();
        }
        _queue.Dispose();
    }

    /// <summary>Shuts the connection (the peer's sends now fail with EPIPE) and takes what its queue holds: a bounded loop.</summary>
    static void Drain(SafeFd connection)
    {
        Sys.Shutdown(connection.Fd, Sys.SHUT_RDWR);
        Span<byte> buffer = stackalloc byte[DevicePluginProtocol.MaxRequestLength];
        var passed = new List<SafeFd>();
        while (Sys.ReceiveWithDescriptors(connection.Fd, buffer, passed, out _, Sys.MSG_DONTWAIT) > 0)
        {
            passed.ForEach(Abort);
            passed.ForEach(fd => fd.Dispose());
            passed.Clear();
        }
    }

    /// <summary>SO_LINGER {1, 0}: the last close of a socket resets instead of waiting (ENOTSOCK for other files: nothing to do).</summary>
    static void Abort(SafeFd fd)
    {
        var abort = new Sys.linger { l_onoff = 1, l_linger = 0 };
        Sys.SetSockOpt(fd.Fd, Sys.SOL_SOCKET, Sys.SO_LINGER, &abort, (uint)sizeof(Sys.linger));
    }
}
