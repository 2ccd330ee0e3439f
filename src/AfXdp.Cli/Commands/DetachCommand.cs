using System.CommandLine;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Xsk;

namespace AfXdp.Cli.Commands;

/// <summary>
/// <c>afxdp detach -i IF [--force]</c>: removes what an older tool or a crashed program left on an
/// interface. Netlink attachments are removed; a bpf_link belongs to the process holding it, so it is
/// named and left alone unless <c>--force</c> detaches it (BPF_LINK_DETACH).
/// </summary>
internal static class DetachCommand
{
    public static Command Create()
    {
        var iface = CliOptions.Interface("interface to clean up");
        var force = new Option<bool>("--force") { Description = "also detach programs held by a live process's bpf_link (BPF_LINK_DETACH); that process keeps an empty link" };
        var command = new Command("detach",
            "Detach the XDP programs attached to an interface. Netlink attachments (ip link, xdp-loader, libbpf) are removed; " +
            "a bpf_link held by a live process is named and left to that process, unless --force. Exit code 1 when something stays attached.")
        { iface, force };
        command.SetAction(r => Run(r.GetRequiredValue(iface), r.GetValue(force)));
        return command;
    }

    static int Run(string interfaceName, bool force)
    {
        NetDevice device = NetDevice.Get(interfaceName);
        IReadOnlyList<AttachedProgram> attached = AttachedProgram.On(device);
        if (attached.Count == 0)
        {
            Console.WriteLine($"{device.Name}: no XDP program attached");
            return 0;
        }
        foreach (AttachedProgram program in attached)
        {
            string what = $"program {program.ProgramId} '{program.ProgramName}' ({program.Mode.ToString().ToLowerInvariant()} mode";
            if (program.Link is null)
            {
                XdpLink.DetachNetlink(device, program.Mode, $"netlink RTM_SETLINK(IFLA_XDP off, {device.Name}, {program.Mode})");
                Console.WriteLine($"{device.Name}: detached {what}, attached by netlink)");
            }
            else if (force)
            {
                string holder = program.Link.Describe();
                program.Link.Detach();
                Console.WriteLine($"{device.Name}: detached {what}) from {holder}; the holder keeps an empty link");
            }
            else
                Console.Error.WriteLine($"{device.Name}: {what}) is attached by {program.Link.Describe()}. " +
                    "It goes away when that process exits, and only that process should remove it: stop it, " +
                    $"or detach the link now with `afxdp detach -i {device.Name} --force` (BPF_LINK_DETACH).");
        }
        XdpAttachment left = NetDevice.Get(device.Index).Xdp;
        if (left.Any)
        {
            (uint id, XdpAttachMode mode) = left.First;
            Console.Error.WriteLine($"{device.Name}: still attached: program {id} '{BpfProgram.NameOf(id)}' ({mode.ToString().ToLowerInvariant()} mode)");
            return 1;
        }
        return 0;
    }
}
