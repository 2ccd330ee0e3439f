namespace AfXdp.Net;

/// <summary>
/// Whom a correct host answers (RFC 1122): not a source address that names no single host (0/8,
/// loopback, multicast, class E and the limited broadcast, the host's own address, the subnet's
/// broadcast; 3.2.1.3, 3.3.6), not a frame from a group MAC address, and no datagram from a
/// reflector service port (echo, daytime, chargen, ...), so that two responders can never answer
/// each other forever. Pure functions on addresses most significant byte first.
/// </summary>
public static class ReplyRules
{
    /// <summary>
    /// True when a reply to <paramref name="source"/> may be sent by the host <paramref name="local"/>;
    /// <paramref name="subnetBroadcast"/> is the broadcast address of the local subnet, or 0 when there is none.
    /// </summary>
    public static bool IsAnswerableSource(uint source, uint local, uint subnetBroadcast = 0) =>
        (source >> 24) is not (0 or 127) // "this network" and loopback
        && source < 0xE000_0000          // multicast (224/4), class E (240/4) and 255.255.255.255
        && source != local
        && (subnetBroadcast == 0 || source != subnetBroadcast);

    /// <summary>True for a frame's source MAC a reply can go to: not broadcast, not multicast.</summary>
    public static bool IsAnswerableSourceMac(MacAddress source) => !source.IsMulticast;

    /// <summary>
    /// True for source ports of services that answer whatever reaches them (RFC 862 echo 7, discard 9,
    /// daytime 13, quote 17, chargen 19, time 37) and port 0, which no sender uses: a reply there could
    /// start a loop between two services, so none is sent.
    /// </summary>
    public static bool IsReflectorPort(ushort port) => port is 0 or 7 or 9 or 13 or 17 or 19 or 37;

    /// <summary>The broadcast address of <paramref name="address"/>'s subnet of <paramref name="prefixLength"/> bits; 0 for /31 and /32, which have none (RFC 3021).</summary>
    public static uint SubnetBroadcast(uint address, int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 32);
        return prefixLength >= 31 ? 0 : address | (uint.MaxValue >> prefixLength);
    }
}
