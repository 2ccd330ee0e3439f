using AfXdp.Interop;

namespace AfXdp;

/// <summary>
/// A part of an operation and the capabilities it needs. A failing call names its own part first and the
/// rest of the operation after it, so that the first failure lists every capability the process lacks
/// instead of one per attempt.
/// </summary>
internal sealed record CapabilityNeed(string What, params int[] Capabilities)
{
    /// <summary>socket(AF_XDP) checks CAP_NET_RAW (net/xdp/xsk.c, xsk_create); a UMEM is registered on such a socket.</summary>
    public static readonly CapabilityNeed AfXdpSocket = new("an AF_XDP socket (a UMEM is registered on one)", Interop.Capabilities.CAP_NET_RAW);

    /// <summary>
    /// The XSKMAP, the program load and its attachment: map_create and bpf_prog_load ask bpf_capable and
    /// bpf_net_capable for networking types (kernel/bpf/syscall.c), the attachment CAP_NET_ADMIN.
    /// </summary>
    public static readonly CapabilityNeed XdpProgram = new("the XDP program that feeds it (its XSKMAP, loading and attaching it), unless another process provides it",
        Interop.Capabilities.CAP_BPF, Interop.Capabilities.CAP_NET_ADMIN);

    /// <summary>"CAP_BPF and CAP_NET_ADMIN".</summary>
    public string CapabilityNames => Join(Capabilities.Select(Interop.Capabilities.Name));

    /// <summary>The capabilities of <paramref name="needs"/> the calling thread lacks, each once, in order; CAP_SYS_ADMIN stands in for CAP_BPF and CAP_NET_ADMIN (bpf_capable, bpf_net_capable).</summary>
    public static int[] Lacking(IEnumerable<CapabilityNeed> needs)
    {
        bool admin = Interop.Capabilities.Has(Interop.Capabilities.CAP_SYS_ADMIN);
        return [.. needs.SelectMany(n => n.Capabilities).Distinct()
            .Where(c => !Interop.Capabilities.Has(c) && !(admin && c is Interop.Capabilities.CAP_BPF or Interop.Capabilities.CAP_NET_ADMIN))];
    }

    /// <summary>
    /// How to grant <paramref name="capabilities"/> in one go. File capabilities go on the executable that starts the
    /// process: for `dotnet app.dll` that is the shared host, which would hand them to every .NET program.
    /// </summary>
    public static string GrantFix(IEnumerable<int> capabilities)
    {
        string[] names = [.. capabilities.Select(c => Interop.Capabilities.Name(c)["CAP_".Length..].ToLowerInvariant())];
        return $"run as root, or grant {(names.Length == 1 ? "it" : "them all at once")}: `setcap {string.Join(',', names.Select(n => "cap_" + n))}+ep` on the app's own executable " +
            "(the apphost `bin/.../MyApp` or the published or NativeAOT binary, not the shared `dotnet` host, which would give them to every .NET program), " +
            $"AmbientCapabilities={string.Join(' ', names.Select(n => "CAP_" + n.ToUpperInvariant()))} in a systemd unit, " +
            $"or `setpriv --inh-caps {string.Join(',', names.Select(n => "+" + n))} --ambient-caps {string.Join(',', names.Select(n => "+" + n))}` for a child.";
    }

    /// <summary>"A", "A and B", "A, B and C".</summary>
    public static string Join(IEnumerable<string> items)
    {
        string[] all = [.. items];
        return all.Length <= 1 ? string.Concat(all) : string.Join(", ", all[..^1]) + " and " + all[^1];
    }
}
