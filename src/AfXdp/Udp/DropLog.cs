namespace AfXdp.Udp;

/// <summary>
/// Tells <see cref="UdpServiceOptions.Log"/>, once per reason and from any worker thread, why a service drops
/// datagrams when the operator can do something about it; the counters keep every one. After the first of a
/// reason a drop costs one read of a flag: nothing is formatted or allocated.
/// </summary>
internal sealed class DropLog(Action<UdpServiceReport>? log, string interfaceName, string? driver)
{
    int _told;

    /// <summary>Tells the log about a frame dropped for <paramref name="reason"/>, unless that reason was told already; true when it told.</summary>
    public bool Report(UdpFrameCheck reason, ReadOnlySpan<byte> frame, string source)
    {
        int bit = 1 << (int)reason;
        if (log is null || (Volatile.Read(ref _told) & bit) != 0 || (Interlocked.Or(ref _told, bit) & bit) != 0)
            return false;
        string? why = Explain(reason, UdpFrame.Remote(frame));
        if (why is null)
            return false;
        log(new(UdpServiceReportKind.ChecksumDrops, $"{source}: {why} Each is counted (afxdp.udp.checksum_errors); this is told once."));
        return true;
    }

    string? Explain(UdpFrameCheck reason, UdpEndpoint remote) => reason switch
    {
        UdpFrameCheck.PartialChecksum =>
            $"dropped a datagram from {remote} whose UDP checksum holds only the pseudo-header sum: a sender on this machine left it for " +
            $"offload (CHECKSUM_PARTIAL) and {interfaceName} (driver {driver ?? "unknown"}) is not a device known to hand such frames over, " +
            "where the kernel's stack would accept them. Fix: turn TX checksum offload off on the sender's interface (`ethtool -K IFACE tx off`).",
        UdpFrameCheck.BadChecksum =>
            $"dropped a datagram from {remote} with a wrong IPv4 header or UDP checksum, or a zero UDP checksum over IPv6 (as the kernel's stack would): damaged on the way or by " +
            $"the sender. Fix: look for errors on the path (`ethtool -S {interfaceName}`, the sender's NIC and its offloads).",
        _ => null,
    };
}
