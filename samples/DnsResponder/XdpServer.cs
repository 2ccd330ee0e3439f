using System.Net;

namespace DnsResponder;

/// <summary>The responder over AF_XDP (the library's UDP service).</summary>
public static class XdpServer
{
    /// <summary>Serves until <paramref name="stop"/>; prints the summary line and returns the exit code.</summary>
    public static int Run(string interfaceName, IPEndPoint endpoint, DnsZone zone, CancellationToken stop) =>
        throw new NotImplementedException($"{interfaceName} {endpoint} {zone.Count} {stop.CanBeCanceled}");
}
