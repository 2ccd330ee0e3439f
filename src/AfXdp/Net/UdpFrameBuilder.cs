using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace AfXdp.Net;

/// <summary>
/// Writes complete Ethernet/IPv4/UDP or Ethernet/IPv6/UDP frames between two fixed endpoints, with
/// correct checksums, e.g. to prebuild the frames a generator sends. IPv4 headers carry no options,
/// identification 0, no fragment flags, TTL 64; IPv6 headers class and flow 0, hop limit 64.
/// </summary>
public sealed class UdpFrameBuilder
{
    readonly MacAddress _sourceMac;
    readonly MacAddress _destinationMac;
    readonly byte[] _sourceAddress;
    readonly byte[] _destinationAddress;
    readonly ushort _sourcePort;
    readonly ushort _destinationPort;
    readonly bool _isIpv6;

    /// <summary>Both endpoints must be IPv4 or both IPv6.</summary>
    public UdpFrameBuilder(MacAddress sourceMac, MacAddress destinationMac, IPEndPoint source, IPEndPoint destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        if (source.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw new ArgumentException($"source {source} is neither IPv4 nor IPv6.", nameof(source));
        if (destination.AddressFamily != source.AddressFamily)
            throw new ArgumentException($"destination {destination} is not of the same family as source {source}.", nameof(destination));
        _sourceMac = sourceMac;
        _destinationMac = destinationMac;
        _sourceAddress = source.Address.GetAddressBytes();
        _destinationAddress = destination.Address.GetAddressBytes();
        _sourcePort = (ushort)source.Port;
        _destinationPort = (ushort)destination.Port;
        _isIpv6 = source.AddressFamily == AddressFamily.InterNetworkV6;
    }

    /// <summary>Ethernet, IP and UDP headers: 42 bytes over IPv4, 62 over IPv6, the smallest frame this writes.</summary>
    public int HeadersLength => EthernetFrame.HeaderLength + IpHeaderLength + UdpDatagram.HeaderLength;

    /// <summary>The largest payload the IP length fields can carry.</summary>
    public int MaximumPayloadLength => ushort.MaxValue - UdpDatagram.HeaderLength - (_isIpv6 ? 0 : Ipv4Packet.MinimumHeaderLength);

    int IpHeaderLength => _isIpv6 ? Ipv6Packet.FixedHeaderLength : Ipv4Packet.MinimumHeaderLength;

    /// <summary>Writes a frame carrying <paramref name="payload"/> to the start of <paramref name="frame"/> and returns its length.</summary>
    public int Write(Span<byte> frame, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > MaximumPayloadLength)
            throw new ArgumentOutOfRangeException(nameof(payload), payload.Length, $"a UDP payload holds at most {MaximumPayloadLength} bytes here.");
        int frameLength = HeadersLength + payload.Length;
        RequireRoom(frame, frameLength);
        payload.CopyTo(frame[HeadersLength..]);
        return WriteHeaders(frame, payload.Length);
    }

    /// <summary>
    /// Writes a frame of exactly <paramref name="frameLength"/> bytes with a zeroed payload and returns
    /// <paramref name="frameLength"/>; 64 gives the classic minimum-size test frame (22 payload bytes over IPv4).
    /// </summary>
    public int WriteOfLength(Span<byte> frame, int frameLength)
    {
        int payloadLength = frameLength - HeadersLength;
        if (payloadLength < 0 || payloadLength > MaximumPayloadLength)
            throw new ArgumentOutOfRangeException(nameof(frameLength), frameLength,
                $"a UDP frame here is {HeadersLength} to {HeadersLength + MaximumPayloadLength} bytes.");
        RequireRoom(frame, frameLength);
        frame[HeadersLength..frameLength].Clear();
        return WriteHeaders(frame, payloadLength);
    }

    int WriteHeaders(Span<byte> frame, int payloadLength)
    {
        int udpLength = UdpDatagram.HeaderLength + payloadLength;
        Span<byte> ipPacket = frame[EthernetFrame.HeaderLength..(HeadersLength + payloadLength)];
        uint pseudoHeaderSum;
        if (_isIpv6)
        {
            EthernetFrame.WriteHeader(frame, _destinationMac, _sourceMac, EtherType.Ipv6);
            Ipv6Packet.WriteHeader(ipPacket, IpProtocol.Udp, _sourceAddress, _destinationAddress, udpLength);
            pseudoHeaderSum = InternetChecksum.PseudoHeaderSum(_sourceAddress, _destinationAddress, IpProtocol.Udp, udpLength);
        }
        else
        {
            uint source = BinaryPrimitives.ReadUInt32BigEndian(_sourceAddress);
            uint destination = BinaryPrimitives.ReadUInt32BigEndian(_destinationAddress);
            EthernetFrame.WriteHeader(frame, _destinationMac, _sourceMac, EtherType.Ipv4);
            Ipv4Packet.WriteHeader(ipPacket, IpProtocol.Udp, source, destination, udpLength);
            pseudoHeaderSum = InternetChecksum.PseudoHeaderSum(source, destination, IpProtocol.Udp, udpLength);
        }
        UdpDatagram.Write(ipPacket[IpHeaderLength..], _sourcePort, _destinationPort, pseudoHeaderSum);
        return HeadersLength + payloadLength;
    }

    static void RequireRoom(Span<byte> frame, int frameLength)
    {
        if (frame.Length < frameLength)
            throw new ArgumentException($"the frame needs {frameLength} bytes, the buffer has {frame.Length}.", nameof(frame));
    }
}
