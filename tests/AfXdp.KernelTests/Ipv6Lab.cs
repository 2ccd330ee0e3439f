using System.Net;
using AfXdp.Testing;

namespace AfXdp.KernelTests;

/// <summary>A veth lab with IPv6 on: fd00:99::1/64 on A, fd00:99::2/64 on B, added without duplicate address detection (nodad), so usable at once.</summary>
internal static class Ipv6Lab
{
    public static readonly IPAddress AddressA = IPAddress.Parse("fd00:99::1"), AddressB = IPAddress.Parse("fd00:99::2");

    public static VethLab Create()
    {
        VethLab lab = VethLab.Create(new VethLabOptions { KeepIpv6 = true });
        try
        {
            foreach ((VethSide side, IPAddress address) in new[] { (VethSide.A, AddressA), (VethSide.B, AddressB) })
            {
                CommandResult add = lab.Exec(side, "ip", "-6", "addr", "add", $"{address}/64", "dev", lab.InterfaceOf(side), "nodad");
                Assert.True(add.Succeeded, $"{add.CommandLine}: {add.Error}");
            }
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }
}
