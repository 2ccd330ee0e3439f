using System.Net;
using AfXdp.Bpf;
using CsCheck;

namespace AfXdp.Tests.Bpf;

public class PacketFilterTests
{
    [Fact]
    public void TheDocumentedExamplesParse()
    {
        Assert.Equal(new PacketFilter { Protocol = 17, DestinationPort = new PortRange(4791, 4791) }, PacketFilter.Parse("udp dst port 4791"));
        Assert.Equal(new PacketFilter { Protocol = 6, DestinationPort = new PortRange(8000, 8100) }, PacketFilter.Parse("tcp dst port 8000-8100"));
        Assert.Equal(new PacketFilter { EtherType = 0x0800, Destination = IPAddress.Parse("10.99.0.2"), Protocol = 17 }, PacketFilter.Parse("ip dst 10.99.0.2 and udp"));
        Assert.Equal(new PacketFilter { EtherType = 0x86dd, Destination = IPAddress.Parse("fd00::2") }, PacketFilter.Parse("ip6 dst fd00::2"));
        Assert.Equal(new PacketFilter { Vlan = true, VlanId = 100, Protocol = 17, DestinationPort = new PortRange(9, 9) }, PacketFilter.Parse("vlan 100 and udp dst port 9"));
        Assert.Equal(new PacketFilter { EtherType = 0x88b5 }, PacketFilter.Parse("ether proto 0x88b5"));
        Assert.Equal(new PacketFilter { EtherType = 0x0800, Protocol = 1 }, PacketFilter.Parse("ICMP"));
        Assert.Equal(new PacketFilter { EtherType = 0x0800, Protocol = 47 }, PacketFilter.Parse("ip proto 47"));
        Assert.Equal(new PacketFilter { Vlan = true }, PacketFilter.Parse("  vlan  "));
        Assert.Equal(new PacketFilter { EtherType = 0x0806 }, PacketFilter.Parse("ether proto arp and arp"));
        Assert.Equal(new PacketFilter { EtherType = 0x0800, PlainIpv4 = true, Destination = IPAddress.Parse("10.99.0.2"), Protocol = 17, DestinationPort = new PortRange(53, 53) },
            PacketFilter.Parse("ip dst 10.99.0.2 and ip plain and udp dst port 53"));
        Assert.Equal(new PacketFilter { EtherType = 0x0800, PlainIpv4 = true }, PacketFilter.Parse("ip plain"));
    }

    [Fact]
    public void ArpOperationsTargetsAndIcmpTypesParse()
    {
        Assert.Equal(new PacketFilter { EtherType = 0x0806, ArpOperation = 1, Destination = IPAddress.Parse("10.99.0.2") }, PacketFilter.Parse("arp op request and arp dst 10.99.0.2"));
        Assert.Equal(new PacketFilter { EtherType = 0x0806, ArpOperation = 2 }, PacketFilter.Parse("arp op REPLY"));
        Assert.Equal(new PacketFilter { EtherType = 0x0806, ArpOperation = 9 }, PacketFilter.Parse("arp op 9"));
        Assert.Equal(new PacketFilter { EtherType = 0x0800, Protocol = 1, IcmpType = 8 }, PacketFilter.Parse("icmp type echo-request"));
        Assert.Equal(new PacketFilter { EtherType = 0x86dd, Protocol = 58, IcmpType = 128 }, PacketFilter.Parse("icmp6 type echo-request"));
        Assert.Equal(new PacketFilter { EtherType = 0x86dd, Protocol = 58, IcmpType = 135 }, PacketFilter.Parse("icmp6 type 135"));
        Assert.Equal(new PacketFilter { EtherType = 0x0800, PlainIpv4 = true, Destination = IPAddress.Parse("10.99.0.2"), Protocol = 1, IcmpType = 8 },
            PacketFilter.Parse("ip dst 10.99.0.2 and ip plain and icmp type echo-request"));
        Assert.Equal("arp dst 10.99.0.2 and arp op request", PacketFilter.Parse("arp op request and arp dst 10.99.0.2").ToString());
        Assert.Equal("ip6 and icmp6 type echo-request", PacketFilter.Parse("icmp6 type 128").ToString());
        Assert.Equal("ip and icmp type 0", PacketFilter.Parse("icmp type 0").ToString());
    }

    [Fact]
    public void WhichIpVersionsAreInspected()
    {
        Assert.True(PacketFilter.Parse("udp").InspectsIpv4);
        Assert.True(PacketFilter.Parse("udp").InspectsIpv6);
        Assert.False(PacketFilter.Parse("ip dst 10.0.0.1").InspectsIpv6);
        Assert.False(PacketFilter.Parse("ip6 and tcp").InspectsIpv4);
        Assert.False(PacketFilter.Parse("arp").InspectsIpv4);
        Assert.False(PacketFilter.Parse("vlan 3").InspectsIpv6);
    }

    [Theory]
    [InlineData("", "the filter is empty")]
    [InlineData("udp port 53", "only destination ports can be matched: write \"udp dst port N\"")]
    [InlineData("udp dst 53", "expected \"port\" after 'dst', found '53' (word 3)")]
    [InlineData("udp dst port", "the filter ends after 'port'")]
    [InlineData("udp dst port 70000", "'70000' (word 4) is not a port (0 to 65535)")]
    [InlineData("tcp dst port 9000-8000", "the port range 9000-8000 is backwards: write 8000-9000")]
    [InlineData("tcp dst port 1-2-3", "is not a port or a range")]
    [InlineData("udp and tcp", "conflicting IP protocols (17 and 6)")]
    [InlineData("ip and ip6", "conflicting EtherTypes (0x0800 and 0x86dd)")]
    [InlineData("ip dst fd00::2", "'fd00::2' (word 3) is not an IPv4 address; write \"ip6 dst\" for IPv6")]
    [InlineData("ip6 dst 10.0.0.1", "is not an IPv6 address; write \"ip dst\" for IPv4")]
    [InlineData("ip dst 10.0.0.0/8", "is not an IPv4 address")]
    [InlineData("ip dst 10.0.0.1 and ip dst 10.0.0.2", "two destination addresses")]
    [InlineData("vlan 4096", "'4096' (word 2) is not a VLAN id (0 to 4095)")]
    [InlineData("ether proto 0x8100", "is a VLAN tag, not the payload's EtherType")]
    [InlineData("ether proto 100", "below 0x0600")]
    [InlineData("ether proto zz", "'zz' (word 3) is not an EtherType")]
    [InlineData("arp and udp", "IP clauses need EtherType IPv4 or IPv6, but the filter asks for EtherType 0x0806")]
    [InlineData("tcp src port 5", "write \"tcp dst port N\"")]
    [InlineData("src port 5", "only destinations can be matched")]
    [InlineData("udp or tcp", "expected \"and\" or the end after a clause, found 'or' (word 2)")]
    [InlineData("ip proto 300", "is not an IP protocol number (0 to 255)")]
    [InlineData("ip6 plain", "expected \"and\" or the end after a clause, found 'plain' (word 2)")]
    [InlineData("ip plain and ip6", "conflicting EtherTypes (0x0800 and 0x86dd)")]
    [InlineData("arp op ask", "'ask' (word 3) is not an ARP operation: request, reply or a number (0 to 65535)")]
    [InlineData("arp op request and arp op reply", "conflicting ARP operations (1 and 2)")]
    [InlineData("arp dst fd00::2", "'fd00::2' (word 3) is not an IPv4 address; IPv6 has no ARP")]
    [InlineData("arp dst 10.0.0.1 and arp dst 10.0.0.2", "two destination addresses")]
    [InlineData("arp dst 10.0.0.1 and ip", "conflicting EtherTypes (0x0806 and 0x0800)")]
    [InlineData("icmp type 256", "'256' (word 3) is not an ICMP type: echo-request or a number (0 to 255)")]
    [InlineData("icmp type 8 and icmp type 0", "conflicting ICMP types (8 and 0)")]
    [InlineData("icmp type 8 and udp", "conflicting IP protocols (1 and 17)")]
    public void MistakesNameTheWordAndWhatWasExpected(string text, string message)
    {
        ArgumentException e = Assert.ThrowsAny<ArgumentException>(() => PacketFilter.Parse(text));
        Assert.Equal("text", e.ParamName);
        Assert.StartsWith($"filter \"{text}\": ", e.Message);
        Assert.Contains(message, e.Message);
        Assert.Contains("Fix: write clauses", e.Message);
        Assert.Contains("udp dst port 4791", e.Message);
        Assert.False(PacketFilter.TryParse(text, out PacketFilter? filter, out string error));
        Assert.Null(filter);
        Assert.Contains(message, error);
        Assert.Contains(error, e.Message);
    }

    static readonly Gen<PacketFilter> Filters =
        from vlan in Gen.Bool
        from vlanId in Gen.UShort[0, 4095].Nullable()
        from layer in Gen.Int[0, 5]
        from protocol in Gen.Int[0, 3].Select(i => new byte?[] { null, 17, 6, 47 }[i])
        from ports in Gen.Select(Gen.UShort, Gen.UShort).Nullable()
        from address in Gen.Bool
        from plain in Gen.Bool
        from arpOperation in Gen.UShort.Nullable()
        from icmpType in Gen.Byte.Nullable()
        select Build(vlan, vlanId, layer, protocol, ports, address, plain, arpOperation, icmpType);

    static PacketFilter Build(bool vlan, ushort? vlanId, int layer, byte? protocol, (ushort, ushort)? ports, bool address, bool plain, ushort? arpOperation, byte? icmpType)
    {
        ushort? etherType = layer switch { 1 => 0x0800, 2 => 0x86dd, 3 => 0x0806, 4 => 0x88b5, _ => null };
        bool ip = etherType is null or 0x0800 or 0x86dd;
        if (!ip || (etherType is null && protocol is not (17 or 6)))
            protocol = ip && protocol is not null ? (byte)17 : null;
        // With an ICMP type, the ICMP of the IP version (a filter of either IP version is the only other layer left alone).
        if (icmpType is not null && etherType is 0x0800 or 0x86dd)
            return new PacketFilter
            {
                Vlan = vlan,
                VlanId = vlan ? vlanId : null,
                EtherType = etherType,
                Protocol = etherType == 0x0800 ? (byte)1 : (byte)58,
                IcmpType = icmpType,
                Destination = address && etherType == 0x0800 ? IPAddress.Parse("192.0.2.7") : address ? IPAddress.Parse("2001:db8::7") : null,
                PlainIpv4 = plain && etherType == 0x0800,
            };
        return new PacketFilter
        {
            Vlan = vlan,
            VlanId = vlan ? vlanId : null,
            EtherType = etherType,
            Protocol = protocol,
            Destination = address && etherType is 0x0800 or 0x0806 ? IPAddress.Parse("192.0.2.7") : address && etherType == 0x86dd ? IPAddress.Parse("2001:db8::7") : null,
            DestinationPort = protocol is 17 or 6 && ports is var (a, b) ? new PortRange(Math.Min(a, b), Math.Max(a, b)) : null,
            PlainIpv4 = plain && etherType == 0x0800,
            ArpOperation = etherType == 0x0806 ? arpOperation : null,
        };
    }

    [Fact]
    public void TheCanonicalTextParsesBackToTheSameFilter() =>
        Filters.Sample(filter =>
        {
            if (filter.Vlan || filter.EtherType is not null || filter.Protocol is not null)
                Assert.Equal(filter, PacketFilter.Parse(filter.ToString()));
        });
}
