namespace AfXdp.DevicePlugin;

/// <summary>
/// The device plugin refused a request, answered outside the protocol, went silent or away: names the socket,
/// the step (the request sent, or "connect") and the answer, with the cause and the fix.
/// </summary>
public sealed class DevicePluginException : AfXdpException
{
    /// <summary>Creates the error for <paramref name="step"/> on the server at <paramref name="socketPath"/>.</summary>
    public DevicePluginException(string socketPath, string step, string? answer, int errno, string cause, string fix)
        : base($"device plugin {socketPath}: {step}", errno, cause, fix)
    {
        SocketPath = socketPath;
        Step = step;
        Answer = answer;
    }

    /// <summary>The server's socket.</summary>
    public string SocketPath { get; }

    /// <summary>What was being done: "connect", or the request sent (e.g. "/xsk_map_fd,eth0").</summary>
    public string Step { get; }

    /// <summary>What the server answered; null when no answer came.</summary>
    public string? Answer { get; }

    /// <summary>Without an errno this is not an invalid argument but the server's doing: say so.</summary>
    public override string Message => Errno != 0 ? base.Message : $"{Call} failed. Cause: {Cause} Fix: {Fix}";
}
