using AfXdp.Net;

namespace AfXdp.Engine;

/// <summary>
/// A ready-made handler that sends every frame back where it came from: Ethernet addresses
/// swapped, and for IPv4 the addresses and the UDP/TCP ports too, so the sender's own socket
/// receives the reply. Swapping leaves every checksum valid (the Internet checksum is a sum).
/// Frames that are not Ethernet are dropped.
/// </summary>
public sealed class PacketReflector : IPacketHandler
{
    /// <summary>Turns every Ethernet frame around and transmits it; drops the rest.</summary>
    public void Handle(XdpQueue queue, Span<Packet> packets)
    {
        foreach (ref Packet packet in packets)
        {
            if (Reflect(packet.Data))
                packet.Transmit();
        }
    }

    /// <summary>Rewrites a frame in place into its reply; false when it is not an Ethernet frame.</summary>
    public static bool Reflect(Span<byte> bytes)
    {
        if (!EthernetFrame.TryCreate(bytes, out EthernetFrame frame))
            return false;
        frame.SwapMacs();
        if (frame.EtherType != EtherType.Ipv4 || !Ipv4Packet.TryCreate(frame.Payload, out Ipv4Packet ip))
            return true;
        (ip.Source, ip.Destination) = (ip.Destination, ip.Source);
        if (ip.IsFragment || ip.Protocol is not (IpProtocol.Udp or IpProtocol.Tcp) || ip.Payload.Length < 4)
            return true;
        // UDP and TCP both start with the source and destination ports.
        Span<byte> ports = ip.Payload;
        (ports[0], ports[1], ports[2], ports[3]) = (ports[2], ports[3], ports[0], ports[1]);
        return true;
    }
}
