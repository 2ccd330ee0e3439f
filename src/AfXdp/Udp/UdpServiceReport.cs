namespace AfXdp.Udp;

/// <summary>What a <see cref="UdpServiceReport"/> is about: a logger maps each kind to an event id and level.</summary>
public enum UdpServiceReportKind
{
    /// <summary>The handler's first exception of a type; later ones are counted (<see cref="UdpServiceCounters.HandlerErrors"/>).</summary>
    HandlerException,
    /// <summary>Datagrams dropped for their checksum, told once per reason with the fix (<see cref="UdpServiceCounters.BadChecksums"/>).</summary>
    ChecksumDrops,
    /// <summary>At start: a kernel UDP socket on a served port whose datagrams the service now takes, and who holds it.</summary>
    ShadowedSocket,
}

/// <summary>One line a <see cref="UdpService"/> tells <see cref="UdpServiceOptions.Log"/>: its kind and the text, which names the service and the fix.</summary>
public readonly record struct UdpServiceReport(UdpServiceReportKind Kind, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => Message;
}
