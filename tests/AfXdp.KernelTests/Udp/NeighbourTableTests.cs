using System.Net;
using AfXdp.Testing;
using AfXdp.Net;
using AfXdp.Udp;
using AfXdp.Device;

namespace AfXdp.KernelTests.Udp;

/// <summary>The neighbour lookup against the kernel's own ARP table in a lab.</summary>
public sealed class NeighbourTableTests
{
    public NeighbourTableTests() => KernelTest.RequireRoot();

    [Fact]
    public void A_permanent_entry_gives_the_peers_mac()
    {
        using VethLab lab = VethLab.Create();
        MacAddress mac = lab.Run(VethSide.A, () =>
        {
            using var table = new NeighbourTable(NetDevice.IndexOf(lab.InterfaceA), lab.InterfaceA);
            return table.Lookup(lab.AddressB);
        });
        Assert.Equal(MacAddress.Parse(lab.MacB), mac);
    }

    [Fact]
    public void An_unknown_address_is_a_typed_error_and_the_kernel_resolves_it_by_arp()
    {
        using VethLab lab = VethLab.Create();
        // Forget B, so that only an ARP exchange can bring its MAC back.
        Assert.True(lab.Exec(VethSide.A, "ip", "neigh", "del", lab.AddressB.ToString(), "dev", lab.InterfaceA).Succeeded);
        lab.Run(VethSide.A, () =>
        {
            using var table = new NeighbourTable(NetDevice.IndexOf(lab.InterfaceA), lab.InterfaceA);
            var e = Assert.Throws<NeighbourUnresolvedException>(() => table.Lookup(lab.AddressB));
            Assert.Equal(NeighbourState.None, e.State);
            Assert.Equal(lab.AddressB, e.Address);
            Assert.Contains($"no entry for {lab.AddressB} on {lab.InterfaceA}", e.Message);
            Assert.Contains("ip neigh", e.Fix);
            // The lookup asked the kernel to resolve it: B answers the ARP request.
            MacAddress mac = default;
            Assert.True(KernelTest.Eventually(() => table.TryLookup(Ipv4Address.ToUInt32(lab.AddressB), out mac, out _), TimeSpan.FromSeconds(10)),
                "the kernel did not resolve the address it was asked to");
            Assert.Equal(MacAddress.Parse(lab.MacB), mac);
        });
    }

    [Fact]
    public void An_address_nobody_answers_stays_unresolved()
    {
        using VethLab lab = VethLab.Create();
        IPAddress nobody = IPAddress.Parse(lab.AddressB.ToString()[..lab.AddressB.ToString().LastIndexOf('.')] + ".77");
        lab.Run(VethSide.A, () =>
        {
            using var table = new NeighbourTable(NetDevice.IndexOf(lab.InterfaceA), lab.InterfaceA);
            Assert.Throws<NeighbourUnresolvedException>(() => table.Lookup(nobody));
            Assert.False(table.TryLookup(Ipv4Address.ToUInt32(nobody), out _, out NeighbourState state));
            Assert.True(state is NeighbourState.Incomplete or NeighbourState.Failed, $"state {state}");
            var again = Assert.Throws<NeighbourUnresolvedException>(() => table.Lookup(nobody));
            Assert.Contains("without a usable MAC address", again.Message);
        });
    }
}
