using System.Globalization;

namespace AfXdp.Testing;

/// <summary>How a <see cref="VethLab"/> is built. The defaults suit AF_XDP tests: one queue, no IPv6 chatter.</summary>
public sealed record VethLabOptions
{
    /// <summary>MAC of the side A interface; must be locally administered unicast (02:...), as test traffic never leaves the lab.</summary>
    public string MacA { get; init; } = "02:00:00:00:0a:01";

    /// <summary>MAC of the side B interface; must be locally administered unicast.</summary>
    public string MacB { get; init; } = "02:00:00:00:0b:01";

    /// <summary>
    /// RX queues of each veth end (numrxqueues). One by default: veth spreads traffic over its queues,
    /// and an XSK bound to queue 0 would miss what lands on the others.
    /// </summary>
    public int RxQueues { get; init; } = 1;

    /// <summary>TX queues of each veth end (numtxqueues).</summary>
    public int TxQueues { get; init; } = 1;

    /// <summary>MTU of both ends; null keeps the kernel default (1500). Native XDP on veth needs an MTU that fits one page.</summary>
    public int? Mtu { get; init; }

    /// <summary>GRO on both ends (via ethtool); null keeps the kernel default (off for veth).</summary>
    public bool? Gro { get; init; }

    /// <summary>Keep IPv6; by default it is disabled so that no router solicitation, DAD or MLD packet enters a measurement.</summary>
    public bool KeepIpv6 { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first bad option, before anything is created.</summary>
    public void Validate()
    {
        ValidateMac(nameof(MacA), MacA);
        ValidateMac(nameof(MacB), MacB);
        if (string.Equals(MacA, MacB, StringComparison.OrdinalIgnoreCase))
            Throw.Argument(nameof(MacB), $"VethLabOptions.MacB = {MacB}", "both ends have the same MAC.", "give each end its own MAC.");
        ValidateQueues(nameof(RxQueues), RxQueues);
        ValidateQueues(nameof(TxQueues), TxQueues);
        if (Mtu is < 68 or > 65535) // 68: the IPv4 minimum (RFC 791); 65535: veth's max_mtu without XDP
            Throw.OutOfRange(nameof(Mtu), $"VethLabOptions.Mtu = {Mtu}", "a veth MTU lies between 68 and 65535.", "pick an MTU in that range, or leave it null for 1500.");
    }

    static void ValidateMac(string name, string mac)
    {
        string[] octets = mac.Split(':');
        if (octets.Length != 6 || !octets.All(o => o.Length == 2 && byte.TryParse(o, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out _)))
            Throw.Argument(name, $"VethLabOptions.{name} = {mac}", "a MAC is six hex octets separated by colons.", "write it as 02:00:00:00:0a:01.");
        byte first = byte.Parse(octets[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        // Bit 1 of the first octet: locally administered; bit 0: multicast (IEEE 802, section 8.2).
        if ((first & 0b11) != 0b10)
            Throw.Argument(name, $"VethLabOptions.{name} = {mac}", "lab MACs must be locally administered unicast, so they can never clash with real hardware.",
                "start the MAC with 02 (e.g. 02:00:00:00:0a:01).");
    }

    static void ValidateQueues(string name, int count)
    {
        if (count is < 1 or > 4096) // rtnetlink refuses more than 4096 queues (net/core/rtnetlink.c)
            Throw.OutOfRange(name, $"VethLabOptions.{name} = {count}", "a link has between 1 and 4096 queues.", "pick a count in that range; 1 suits most tests.");
    }
}
