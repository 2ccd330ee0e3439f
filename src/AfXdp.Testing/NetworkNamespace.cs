using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using AfXdp.Interop;

namespace AfXdp.Testing;

/// <summary>
/// Runs code inside a named network namespace (one made by <c>ip netns add NAME</c>, i.e. /run/netns/NAME).
/// </summary>
/// <remarks>
/// <para>
/// setns(2) moves only the calling thread, and sockets, interface indexes and bpf links belong to the
/// namespace of the thread that creates them. So each call starts a dedicated thread, enters the
/// namespace there, runs the body, returns the thread to where it came from and lets it end: the
/// caller's thread never moves and no pooled thread is ever in a foreign namespace. What the body
/// creates (sockets, XSKs, links) stays in the namespace and may be used from any thread afterwards.
/// </para>
/// <para>
/// A thread is born in the namespace of the thread that starts it, so a body should do its setup
/// synchronously and return: a thread, task, timer or async socket operation it starts may run in
/// the namespace, and the runtime's shared threads would too if the body were the first to need them
/// (they are started before the first switch for that reason). For the same reason an async body is
/// refused: its continuations would run on pool threads outside the namespace.
/// </para>
/// <para>
/// Keep the thread pool out of a body (Task.Run, Parallel, ThreadPool.QueueUserWorkItem). Pool workers
/// come and go (an idle one exits after 20 s), and the pool starts a new one from the thread that queues
/// work when it has fewer than it wants: queued from a body, that worker is born inside the namespace
/// and runs later pool work there, for any caller, until it exits. The kernel suite met this under load.
/// </para>
/// </remarks>
public static class NetworkNamespace
{
    /// <summary>Where iproute2 keeps its named network namespaces (bind mounts of /proc/PID/ns/net).</summary>
    public const string Root = "/run/netns";

    const string ThreadSelf = "/proc/thread-self/ns/net";
    static int s_runtimeThreadsStarted;

    /// <summary>The file that holds the namespace <paramref name="name"/> open, e.g. /run/netns/afxlabA.</summary>
    public static string PathOf(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('/') || name is "." or "..")
            Throw.Argument(nameof(name), $"network namespace name '{name}'", "a namespace name is a file name under /run/netns.", "pass a name as `ip netns list` shows it.");
        return Path.Combine(Root, name);
    }

    /// <summary>Whether a network namespace of that name exists.</summary>
    public static bool Exists(string name) => File.Exists(PathOf(name));

    /// <summary>Runs <paramref name="body"/> inside namespace <paramref name="name"/> and returns its result; its exception is rethrown with its stack.</summary>
    public static T Run<T>(string name, Func<T> body)
    {
        T? result = default;
        ExceptionDispatchInfo? failure = null;
        Start(name, body, (r, f) => (result, failure) = (r, f)).Join();
        failure?.Throw();
        return result!;
    }

    /// <summary>Runs <paramref name="body"/> inside namespace <paramref name="name"/>; its exception is rethrown with its stack.</summary>
    public static void Run(string name, Action body)
    {
        ArgumentNullException.ThrowIfNull(body);
        Run(name, () =>
        {
            body();
            return true;
        });
    }

    /// <summary>
    /// Starts <paramref name="body"/> inside namespace <paramref name="name"/> on a dedicated background thread,
    /// for long-running work such as a receive loop; the task completes with its result or its exception.
    /// </summary>
    public static Task<T> RunAsync<T>(string name, Func<T> body)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Start(name, body, (result, failure) =>
        {
            if (failure is null)
                completion.SetResult(result!);
            else
                completion.SetException(failure.SourceException);
        });
        return completion.Task;
    }

    /// <summary>Starts <paramref name="body"/> inside namespace <paramref name="name"/> on a dedicated background thread.</summary>
    public static Task RunAsync(string name, Action body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return RunAsync(name, () =>
        {
            body();
            return true;
        });
    }

    // The thread is background, so that a forgotten loop does not keep the process alive after Main returns.
    // `done` runs on it after it is back in its original namespace, so that nothing it signals
    // (a task continuation queued to the pool) can start a thread inside the namespace.
    static Thread Start<T>(string name, Func<T> body, Action<T?, ExceptionDispatchInfo?> done)
    {
        ArgumentNullException.ThrowIfNull(body);
        string path = PathOf(name);
        if (IsAwaitable(typeof(T)))
            Throw.Argument("body", $"NetworkNamespace.Run(\"{name}\", async body)", "an async body runs its continuations on pool threads outside the namespace.",
                "make the body synchronous (blocking calls), or create the sockets inside it and use them asynchronously after it returns.");
        StartRuntimeThreads();

        var thread = new Thread(() =>
        {
            T? result = default;
            ExceptionDispatchInfo? failure = null;
            try
            {
                using SafeFd home = Open(ThreadSelf, name);
                using (SafeFd target = Open(path, name))
                    Enter(target, path);
                try
                {
                    result = body();
                }
                catch (Exception e)
                {
                    failure = ExceptionDispatchInfo.Capture(e);
                }
                Enter(home, ThreadSelf);
            }
            catch (Exception e)
            {
                failure ??= ExceptionDispatchInfo.Capture(e);
            }
            done(result, failure);
        })
        { IsBackground = true, Name = $"netns {name}" };
        thread.Start();
        return thread;
    }

    static bool IsAwaitable(Type type) =>
        typeof(Task).IsAssignableFrom(type) || type == typeof(ValueTask) || (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ValueTask<>));

    static SafeFd Open(string path, string name)
    {
        int fd = Sys.Open(path, Sys.O_RDONLY | Sys.O_CLOEXEC);
        if (fd < 0)
        {
            int errno = Sys.LastErrno;
            if (errno == Errno.ENOENT)
                throw new AfXdpException($"open({path})", errno,
                    $"there is no network namespace named '{name}'.",
                    "check the name with `ip netns list`; create one with `ip netns add NAME`, or the lab with `afxdp lab up`.");
            Throw.Errno($"open({path})", errno);
        }
        return new SafeFd(fd);
    }

    static void Enter(SafeFd ns, string path)
    {
        if (Sys.SetNs(ns.Fd, Sys.CLONE_NEWNET) != 0)
            Throw.Errno($"setns({path}, CLONE_NEWNET)", Sys.LastErrno);
    }

    // The runtime starts its shared threads (thread pool workers and gate, timer, socket engine) lazily,
    // from whichever thread first needs them, and each is born in that thread's namespace. Starting them
    // here, before any thread leaves the caller's namespace, keeps a body from being their birthplace.
    static void StartRuntimeThreads()
    {
        if (Interlocked.Exchange(ref s_runtimeThreadsStarted, 1) != 0)
            return;
        Task.Run(static () => { }).Wait();
        Task.Delay(1).Wait();
        Task<int> receive;
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            socket.Bind(new IPEndPoint(IPAddress.Any, 0));
            receive = socket.ReceiveAsync(new ArraySegment<byte>(new byte[1]), SocketFlags.None);
        }
        // Closing the socket aborts the receive; its exception is expected and observed here.
        receive.ContinueWith(static t => t.Exception, TaskContinuationOptions.ExecuteSynchronously);
    }
}
