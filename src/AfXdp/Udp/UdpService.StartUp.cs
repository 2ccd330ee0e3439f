using System.Diagnostics.CodeAnalysis;
using AfXdp.Device;
using AfXdp.Engine;
using AfXdp.Interop;
using AfXdp.Xsk;

namespace AfXdp.Udp;

/// <summary>What a service checks at start and how it says it, in its own terms: another service on the interface, kernel sockets it shadows, a second Run.</summary>
public sealed partial class UdpService
{
    // _state: a service serves once, from NotStarted through Serving to Stopped.
    const int NotStarted = 0, Serving = 1, Stopped = 2;

    // The interfaces this process's services hold, by network namespace and index: a second service would find every
    // queue bound (EBUSY after the bind's retries), so it is refused at once, naming the one that holds them.
    static readonly Dictionary<(string Namespace, int Index), UdpService> s_served = [];
    (string Namespace, int Index)? _claim;

    /// <summary>
    /// Claims <paramref name="device"/> for this service and opens the engine on it. A service binds every queue of
    /// the interface and an interface takes one steering program, so a second service there cannot work; what would
    /// be the socket layer's EBUSY ("bind another queue", which a service cannot do) is said as what it is.
    /// </summary>
    XdpEngine OpenEngine(NetDevice device, XdpEngineOptions options)
    {
        var key = (XskFd.CurrentNetworkNamespace(), device.Index);
        lock (s_served)
        {
            if (s_served.TryGetValue(key, out UdpService? other))
            {
                uint queues = device.QueryActiveQueues();
                Throw.Config(ToString(), $"{device.Name} is already served by {other} in this process, whose AF_XDP sockets hold queue 0{(queues > 1 ? $" to {queues - 1}" : "")}: a queue takes one AF_XDP socket, an interface one steering program.",
                    $"serve every port from one service: list all the endpoints in its UdpServiceOptions.Endpoints ([{string.Join(", ", other.Options.Endpoints.Concat(Options.Endpoints))}]), or dispose {other} first.");
            }
            s_served.Add(key, this);
            _claim = key;
        }
        try
        {
            return new XdpEngine(options);
        }
        catch (AfXdpException e) when (e.Errno == Errno.EBUSY)
        {
            Release();
            throw new AfXdpException(ToString(), e.Errno, $"{device.Name} is already served by another process's AF_XDP socket: {e.Cause}",
                "serve every port from one service: list all the endpoints in the UdpServiceOptions.Endpoints of the service that runs there, or stop it first.", e);
        }
        catch
        {
            Release();
            throw;
        }
    }

    /// <summary>Gives the interface up for another service (at Dispose).</summary>
    void Release()
    {
        if (_claim is not { } key)
            return;
        lock (s_served)
            s_served.Remove(key);
        _claim = null;
    }

    /// <summary>
    /// Tells <see cref="UdpServiceOptions.Log"/> of each kernel UDP socket of this namespace bound to a served port, on the
    /// served address or the wildcard, and which process holds it: the steering program takes its datagrams before the
    /// kernel's stack sees them. A warning, not a refusal: shadowing a kernel socket can be meant (a fallback server
    /// kept beside the service, as Knot DNS keeps its sockets in XDP mode), but unmeant it silently takes that server's traffic.
    /// </summary>
    void WarnOfShadowedSockets()
    {
        if (Options.Log is not { } log)
            return;
        foreach (KernelUdpSocket socket in KernelUdpSocket.InThisNamespace())
        {
            if (Options.Endpoints.FirstOrDefault(socket.Receives) is not { } served)
                continue;
            IReadOnlyList<string> holders = socket.FindHolders();
            string holder = holders.Count == 0 ? $"no process this one may look into (socket inode {socket.Inode})" : string.Join(", ", holders);
            log(new(UdpServiceReportKind.ShadowedSocket, $"{this}: the kernel UDP socket on {socket.Local} of {holder} no longer receives the datagrams to {served}: this service's steering program takes them before the kernel's stack. " +
                "Fix: stop that program, or serve another port; nothing to do if the service is meant to take its place."));
        }
    }

    /// <summary>Marks the run over: the workers have stopped, and a service does not serve again.</summary>
    void Stop()
    {
        _engine.Stop();
        Volatile.Write(ref _state, Stopped);
    }

    [DoesNotReturn]
    void ThrowStarted() => throw new InvalidOperationException(Volatile.Read(ref _state) == Stopped
        ? $"{this} has stopped: its Run returned, and a service runs once. To serve again, dispose it and create a new UdpService."
        : $"{this} is already serving: Run or RunAsync was called and has not returned, and a service runs once. Cancel that run's token to stop it.");
}
