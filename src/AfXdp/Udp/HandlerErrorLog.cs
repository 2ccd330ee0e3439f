namespace AfXdp.Udp;

/// <summary>
/// Tells <see cref="UdpServiceOptions.Log"/> the first exception of each type a service's handler throws, from
/// any worker thread: a handler that fails on every datagram of a flood costs one line per kind of failure,
/// not one per datagram (the counter has them all).
/// </summary>
internal sealed class HandlerErrorLog(Action<UdpServiceReport>? log)
{
    readonly HashSet<Type> _told = [];

    /// <summary>
    /// Tells the log "<paramref name="source"/>: the handler's <paramref name="what"/>" and <paramref name="error"/>
    /// with its stack, unless an exception of its type was told already; true when it told.
    /// </summary>
    public bool Report(Exception error, string source, string what)
    {
        if (log is null)
            return false;
        lock (_told)
        {
            if (!_told.Add(error.GetType()))
                return false;
        }
        log(new(UdpServiceReportKind.HandlerException, $"{source}: the handler's {what}; only the first {error.GetType().Name} is told, each is counted (afxdp.udp.handler_errors): {error}"));
        return true;
    }
}
