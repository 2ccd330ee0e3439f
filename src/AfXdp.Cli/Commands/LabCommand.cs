using System.CommandLine;
using AfXdp.Device;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.Cli.Commands;

/// <summary><c>afxdp lab up|down|status</c>: the persistent two-namespace veth lab to try AF_XDP in.</summary>
internal static class LabCommand
{
    public static Command Create()
    {
        var lab = new Command("lab",
            $"A persistent veth lab: namespaces {VethLab.PersistentName}A / {VethLab.PersistentName}B joined by afxa0 <-> afxb0 (10.99.255.1 / 10.99.255.2).");
        lab.Subcommands.Add(Up());
        lab.Subcommands.Add(Down());
        lab.Subcommands.Add(Status());
        return lab;
    }

    static Command Up()
    {
        var queues = CliOptions.Number<int>("--queues", null, "RX and TX queues of each veth end", 1, 1, 4096);
        var mtu = CliOptions.OptionalNumber<int>("--mtu", "MTU of both ends (default 1500)", 0, int.MaxValue, "an MTU");
        var gro = CliOptions.Choice("--gro", null, "GRO on both ends: on | off (default: the kernel's, off)", "", "on", "off");
        var ipv6 = new Option<bool>("--ipv6") { Description = "keep IPv6 (off by default, so that no RS/DAD/MLD packet enters a measurement)" };

        var up = new Command("up", "Create the lab, replacing an existing one, and show it") { queues, mtu, gro, ipv6 };
        VethLabOptions Options(ParseResult r) => new()
        {
            RxQueues = r.GetValue(queues),
            TxQueues = r.GetValue(queues),
            Mtu = r.GetValue(mtu),
            Gro = r.GetValue(gro) is { Length: > 0 } g ? g == "on" : null,
            KeepIpv6 = r.GetValue(ipv6),
        };
        up.SetAction(result =>
        {
            VethLabOptions options = Options(result);
            CliOptions.Validate(options.Validate);
            Print(VethLab.Up(options));
            return 0;
        });
        return up;
    }

    static Command Down()
    {
        var down = new Command("down", "Delete the lab (both namespaces and the veth pair)");
        down.SetAction(_ =>
        {
            Console.WriteLine(VethLab.Down()
                ? $"deleted {VethLab.PersistentName}A and {VethLab.PersistentName}B"
                : "the lab was not up");
            return 0;
        });
        return down;
    }

    static Command Status()
    {
        var status = new Command("status", "Show both ends: state, addresses, attached XDP programs; exit code 1 when the lab is not up");
        status.SetAction(_ =>
        {
            if (VethLab.TryOpen() is not { } lab)
            {
                Console.Error.WriteLine($"the lab is not up ({VethLab.PersistentName}A / {VethLab.PersistentName}B missing): run `afxdp lab up`");
                return 1;
            }
            Print(lab);
            return 0;
        });
        return status;
    }

    static void Print(VethLab lab)
    {
        foreach (VethSide side in Enum.GetValues<VethSide>())
        {
            VethEndStatus end = lab.Status(side);
            string addresses = end.Addresses.Count == 0 ? "no address" : string.Join(' ', end.Addresses);
            Console.WriteLine($"{end.Namespace,-8} {end.Interface,-6} {end.Mac}  {end.OperState,-4} {addresses}  mtu {end.Mtu}  queues rx {end.RxQueues} tx {end.TxQueues}  xdp {XdpPrograms(end.Xdp)}");
        }
    }

    static string XdpPrograms(XdpAttachment xdp)
    {
        var programs = new List<string>();
        if (xdp.DrvProgramId != 0)
            programs.Add($"native id {xdp.DrvProgramId}");
        if (xdp.SkbProgramId != 0)
            programs.Add($"generic id {xdp.SkbProgramId}");
        if (xdp.HwProgramId != 0)
            programs.Add($"offload id {xdp.HwProgramId}");
        return programs.Count == 0 ? "none" : string.Join(", ", programs);
    }
}
