namespace AfXdp.Net;

/// <summary>The Ethernet II type field values this library understands (IEEE 802 numbers).</summary>
public enum EtherType : ushort
{
    /// <summary>An IPv4 packet follows.</summary>
    Ipv4 = 0x0800,
    /// <summary>An ARP packet follows.</summary>
    Arp = 0x0806,
    /// <summary>An IEEE 802.1Q customer VLAN tag follows the source address.</summary>
    Vlan = 0x8100,
    /// <summary>An IPv6 packet follows.</summary>
    Ipv6 = 0x86DD,
    /// <summary>An IEEE 802.1ad service (outer, "QinQ") VLAN tag follows the source address.</summary>
    QinQ = 0x88A8,
}
