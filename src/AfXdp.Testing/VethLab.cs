using System.Diagnostics;
using System.Globalization;
using System.Net;
using AfXdp.Interop;

namespace AfXdp.Testing;

/// <summary>One of the two sides of a <see cref="VethLab"/>.</summary>
public enum VethSide
{
    /// <summary>Side A: the first namespace, address 10.99.N.1.</summary>
    A,
    /// <summary>Side B: the second namespace, address 10.99.N.2.</summary>
    B,
}

/// <summary>
/// Two network namespaces joined by one veth pair, built with iproute2: A (10.99.N.1/24) and B (10.99.N.2/24),
/// both ends up, static permanent neighbour entries both ways (no ARP), IPv6 off unless asked for.
/// Traffic sent in a lab never leaves it.
/// </summary>
/// <remarks>
/// <see cref="Create"/> makes a throwaway lab that <see cref="Dispose"/> deletes (deleting a namespace destroys
/// its veth end). Its names carry the process id, so a lab left by a killed process is swept by the next
/// <see cref="Create"/>. <see cref="Up"/>, <see cref="TryOpen"/> and <see cref="Down"/> manage the one
/// persistent lab "afxlab" that the <c>afxdp lab</c> command shows.
/// </remarks>
public sealed class VethLab : IDisposable
{
    /// <summary>The prefix of every namespace a throwaway lab creates: afx{pid}-{index}a / b.</summary>
    public const string Prefix = "afx";

    /// <summary>The name of the persistent lab: namespaces afxlabA / afxlabB, interfaces afxa0 / afxb0.</summary>
    public const string PersistentName = "afxlab";

    /// <summary>The prefix length of both addresses: each lab is one /24 (10.99.N.0/24).</summary>
    public const int PrefixLength = 24;

    const int PersistentIndex = 255; // 10.99.255.0/24; throwaway labs use 10.99.0-254.0/24
    static readonly TimeSpan OperStateTimeout = TimeSpan.FromSeconds(5);
    static readonly VethSide[] Sides = [VethSide.A, VethSide.B];
    static readonly string[] Ipv6Confs = ["all", "default"];
    static int s_lastIndex = -1;

    readonly bool _ownsNamespaces;
    int _disposed;

    VethLab(string name, string namespaceA, string namespaceB, string interfaceA, string interfaceB,
        string macA, string macB, IPAddress addressA, IPAddress addressB, bool ownsNamespaces)
    {
        Name = name;
        NamespaceA = namespaceA;
        NamespaceB = namespaceB;
        InterfaceA = interfaceA;
        InterfaceB = interfaceB;
        MacA = macA;
        MacB = macB;
        AddressA = addressA;
        AddressB = addressB;
        _ownsNamespaces = ownsNamespaces;
    }

    /// <summary>The lab's name: "afx{pid}-{index}" for a throwaway lab, "afxlab" for the persistent one.</summary>
    public string Name { get; }

    /// <summary>The network namespace of side A ("{Name}a", or "afxlabA").</summary>
    public string NamespaceA { get; }

    /// <summary>The network namespace of side B ("{Name}b", or "afxlabB").</summary>
    public string NamespaceB { get; }

    /// <summary>The veth end in <see cref="NamespaceA"/> ("{Name}a0", or "afxa0").</summary>
    public string InterfaceA { get; }

    /// <summary>The veth end in <see cref="NamespaceB"/> ("{Name}b0", or "afxb0").</summary>
    public string InterfaceB { get; }

    /// <summary>The MAC of <see cref="InterfaceA"/>, e.g. "02:00:00:00:0a:01" (<see cref="VethLabOptions.MacA"/>).</summary>
    public string MacA { get; }

    /// <summary>The MAC of <see cref="InterfaceB"/>, e.g. "02:00:00:00:0b:01" (<see cref="VethLabOptions.MacB"/>).</summary>
    public string MacB { get; }

    /// <summary>The IPv4 address of <see cref="InterfaceA"/>: 10.99.N.1.</summary>
    public IPAddress AddressA { get; }

    /// <summary>The IPv4 address of <see cref="InterfaceB"/>: 10.99.N.2.</summary>
    public IPAddress AddressB { get; }

    /// <summary>The namespace of <paramref name="side"/>.</summary>
    public string NamespaceOf(VethSide side) => side == VethSide.A ? NamespaceA : NamespaceB;

    /// <summary>The veth interface of <paramref name="side"/>, inside <see cref="NamespaceOf"/>.</summary>
    public string InterfaceOf(VethSide side) => side == VethSide.A ? InterfaceA : InterfaceB;

    /// <summary>Builds a throwaway lab with unique names; <see cref="Dispose"/> deletes it. Sweeps stale labs first.</summary>
    public static VethLab Create(VethLabOptions? options = null)
    {
        options ??= new VethLabOptions();
        options.Validate();
        SweepStale();
        int index = NextFreeIndex();
        // At most afx + 7-digit pid + '-' + 2 hex digits + "a0" = 15 characters, the limit of an interface name (IFNAMSIZ - 1).
        string name = $"{Prefix}{Environment.ProcessId}-{index:x}";
        var lab = new VethLab(name, name + "a", name + "b", name + "a0", name + "b0", options.MacA, options.MacB,
            Address(index, 1), Address(index, 2), ownsNamespaces: true);
        lab.Build(options);
        return lab;
    }

    /// <summary>
    /// (Re)builds the persistent lab "afxlab" (namespaces afxlabA / afxlabB, interfaces afxa0 / afxb0,
    /// 10.99.255.1 / 10.99.255.2). It outlives the process: <see cref="Dispose"/> leaves it, <see cref="Down"/> deletes it.
    /// </summary>
    public static VethLab Up(VethLabOptions? options = null)
    {
        options ??= new VethLabOptions();
        options.Validate();
        Down();
        VethLab lab = Persistent(options.MacA, options.MacB, Address(PersistentIndex, 1), Address(PersistentIndex, 2));
        lab.Build(options);
        return lab;
    }

    /// <summary>The persistent lab as the kernel has it now, or null when it is not up (a namespace or an interface is missing).</summary>
    public static VethLab? TryOpen()
    {
        VethLab layout = Persistent("", "", IPAddress.None, IPAddress.None);
        if (layout.TryStatus(VethSide.A) is not { } a || layout.TryStatus(VethSide.B) is not { } b)
            return null;
        return Persistent(a.Mac, b.Mac,
            a.Ipv4Address is { } addressA ? IPAddress.Parse(addressA) : IPAddress.None,
            b.Ipv4Address is { } addressB ? IPAddress.Parse(addressB) : IPAddress.None);
    }

    /// <summary>Deletes the persistent lab; returns false when there was nothing to delete.</summary>
    public static bool Down() => Persistent("", "", IPAddress.None, IPAddress.None).DeleteNamespaces();

    /// <summary>
    /// Deletes the namespaces of throwaway labs whose process is gone (killed before it could dispose them);
    /// returns how many it deleted. <see cref="Create"/> calls it.
    /// </summary>
    public static int SweepStale()
    {
        int swept = 0;
        if (!Directory.Exists(NetworkNamespace.Root))
            return 0;
        foreach (string path in Directory.GetFiles(NetworkNamespace.Root, Prefix + "*"))
        {
            string ns = Path.GetFileName(path);
            if (OwnerPid(ns) is { } pid && !Directory.Exists($"/proc/{pid}"))
            {
                // Another process may sweep the same namespace at the same time; gone is gone.
                CommandResult result = ExternalCommand.Run("ip", ["netns", "del", ns]);
                if (result.Succeeded)
                    swept++;
                else if (NetworkNamespace.Exists(ns))
                    ExternalCommand.RunChecked("ip", "netns", "del", ns);
            }
        }
        return swept;
    }

    /// <summary>Runs <paramref name="body"/> on a dedicated thread inside the namespace of <paramref name="side"/>.</summary>
    public T Run<T>(VethSide side, Func<T> body) => NetworkNamespace.Run(NamespaceOf(side), body);

    /// <summary>Runs <paramref name="body"/> on a dedicated thread inside the namespace of <paramref name="side"/>.</summary>
    public void Run(VethSide side, Action body) => NetworkNamespace.Run(NamespaceOf(side), body);

    /// <summary>Starts long-running <paramref name="body"/> (a receive loop) on a dedicated thread inside the namespace of <paramref name="side"/>.</summary>
    public Task<T> RunAsync<T>(VethSide side, Func<T> body) => NetworkNamespace.RunAsync(NamespaceOf(side), body);

    /// <summary>Starts long-running <paramref name="body"/> on a dedicated thread inside the namespace of <paramref name="side"/>.</summary>
    public Task RunAsync(VethSide side, Action body) => NetworkNamespace.RunAsync(NamespaceOf(side), body);

    /// <summary>
    /// Runs a program inside the namespace of <paramref name="side"/> (<c>ip netns exec</c>), e.g. ping, and returns
    /// its exit code and output; it is killed after 60 s.
    /// </summary>
    public CommandResult Exec(VethSide side, string program, params IEnumerable<string> args) =>
        ExternalCommand.Run("ip", ["netns", "exec", NamespaceOf(side), program, .. args]);

    /// <summary>The veth end of <paramref name="side"/> as the kernel reports it: state, addresses, attached XDP programs.</summary>
    public VethEndStatus Status(VethSide side) => TryStatus(side)
        ?? throw new AfXdpException($"ip -n {NamespaceOf(side)} link show {InterfaceOf(side)}", Errno.ENODEV,
            $"the lab's interface {InterfaceOf(side)} is gone from namespace {NamespaceOf(side)}.",
            "rebuild the lab (for the persistent one: `afxdp lab up`).");

    /// <summary>Deletes both namespaces of a throwaway lab (and so its veth pair); leaves the persistent lab. Idempotent.</summary>
    public void Dispose()
    {
        if (_ownsNamespaces && Interlocked.Exchange(ref _disposed, 1) == 0)
            DeleteNamespaces();
    }

    /// <summary>Both sides as namespace/interface, MAC and address/prefix, for logs.</summary>
    public override string ToString() =>
        $"{NamespaceA}/{InterfaceA} {MacA} {AddressA}/{PrefixLength} <-> {NamespaceB}/{InterfaceB} {MacB} {AddressB}/{PrefixLength}";

    static VethLab Persistent(string macA, string macB, IPAddress addressA, IPAddress addressB) =>
        new(PersistentName, PersistentName + "A", PersistentName + "B", "afxa0", "afxb0", macA, macB, addressA, addressB, ownsNamespaces: false);

    static IPAddress Address(int index, int host) => new([10, 99, (byte)index, (byte)host]);

    /// <summary>The pid in a throwaway lab's namespace name "afx{pid}-{index}{side}"; null for other names (afxlabA).</summary>
    internal static int? OwnerPid(string ns)
    {
        int dash = ns.IndexOf('-');
        return dash > Prefix.Length && ns.StartsWith(Prefix, StringComparison.Ordinal)
            && int.TryParse(ns.AsSpan(Prefix.Length, dash - Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
            ? pid
            : null;
    }

    // 255 labs per process at once; an index is reused once its lab is gone.
    static int NextFreeIndex()
    {
        for (int attempt = 0; attempt < PersistentIndex; attempt++)
        {
            int index = (int)((uint)Interlocked.Increment(ref s_lastIndex) % PersistentIndex);
            string name = $"{Prefix}{Environment.ProcessId}-{index:x}";
            if (!NetworkNamespace.Exists(name + "a") && !NetworkNamespace.Exists(name + "b"))
                return index;
        }
        throw new AfXdpException("VethLab.Create()", 0, $"this process already has {PersistentIndex} labs.", "dispose labs you no longer use.");
    }

    void Build(VethLabOptions options)
    {
        try
        {
            string rx = options.RxQueues.ToString(CultureInfo.InvariantCulture);
            string tx = options.TxQueues.ToString(CultureInfo.InvariantCulture);
            foreach (VethSide side in Sides)
            {
                ExternalCommand.RunChecked("ip", "netns", "add", NamespaceOf(side));
                if (!options.KeepIpv6)
                    DisableIpv6(NamespaceOf(side));
            }
            // Created inside A with its peer placed in B: the pair never exists in the caller's namespace.
            ExternalCommand.RunChecked("ip", "-n", NamespaceA, "link", "add", InterfaceA, "address", MacA, "numrxqueues", rx, "numtxqueues", tx,
                "type", "veth", "peer", "name", InterfaceB, "netns", NamespaceB, "address", MacB, "numrxqueues", rx, "numtxqueues", tx);
            foreach (VethSide side in Sides)
                ConfigureEnd(side, options);
            // After both ends are up: taking a device down flushes its neighbour entries, permanent ones too.
            foreach (VethSide side in Sides)
            {
                VethSide peer = side == VethSide.A ? VethSide.B : VethSide.A;
                ExternalCommand.RunChecked("ip", "-n", NamespaceOf(side), "neigh", "replace", AddressOf(peer).ToString(),
                    "lladdr", MacOf(peer), "dev", InterfaceOf(side), "nud", "permanent");
            }
            WaitUntilUp();
        }
        catch
        {
            DeleteNamespacesQuietly();
            throw;
        }
    }

    void ConfigureEnd(VethSide side, VethLabOptions options)
    {
        string ns = NamespaceOf(side);
        string dev = InterfaceOf(side);
        ExternalCommand.RunChecked("ip", "-n", ns, "link", "set", "dev", "lo", "up");
        if (options.Mtu is { } mtu)
            ExternalCommand.RunChecked("ip", "-n", ns, "link", "set", "dev", dev, "mtu", mtu.ToString(CultureInfo.InvariantCulture));
        if (options.Gro is { } gro)
            ExternalCommand.RunChecked("ip", "netns", "exec", ns, "ethtool", "-K", dev, "gro", gro ? "on" : "off");
        ExternalCommand.RunChecked("ip", "-n", ns, "addr", "add", $"{AddressOf(side)}/{PrefixLength}", "dev", dev);
        ExternalCommand.RunChecked("ip", "-n", ns, "link", "set", "dev", dev, "up");
    }

    // The kernel reports carrier at once but the operational state through linkwatch, up to a second later;
    // waiting for it means a fresh lab never shows DOWN to a status check.
    void WaitUntilUp()
    {
        var clock = Stopwatch.StartNew();
        while (Sides.Any(side => Status(side).OperState != "UP"))
        {
            if (clock.Elapsed > OperStateTimeout)
                throw new AfXdpException($"waiting for {InterfaceA} and {InterfaceB} to be UP", Errno.ENETDOWN,
                    $"the veth ends were still not UP after {OperStateTimeout.TotalSeconds:0} s.",
                    $"look at `ip -n {NamespaceA} -d link` and `ip -n {NamespaceB} -d link`.");
            Thread.Sleep(20);
        }
    }

    // /proc/sys/net belongs to the network namespace of the thread that opens it. Setting "default" before
    // the veth pair exists means its ends never get a link-local address, so they never send RS, DAD or MLD.
    static void DisableIpv6(string ns) => NetworkNamespace.Run(ns, () =>
    {
        foreach (string conf in Ipv6Confs)
        {
            string path = $"/proc/sys/net/ipv6/conf/{conf}/disable_ipv6";
            if (File.Exists(path)) // absent when the kernel has no IPv6
                File.WriteAllText(path, "1");
        }
    });

    VethEndStatus? TryStatus(VethSide side)
    {
        if (!NetworkNamespace.Exists(NamespaceOf(side)))
            return null;
        string json = ExternalCommand.RunChecked("ip", "-n", NamespaceOf(side), "-d", "-j", "addr", "show");
        return VethEndStatus.Parse(NamespaceOf(side), InterfaceOf(side), json);
    }

    bool DeleteNamespaces()
    {
        bool deleted = false;
        foreach (VethSide side in Sides)
        {
            if (NetworkNamespace.Exists(NamespaceOf(side)))
            {
                ExternalCommand.RunChecked("ip", "netns", "del", NamespaceOf(side));
                deleted = true;
            }
        }
        return deleted;
    }

    // On a failed build: the first error is the one to report, not a second one from the cleanup.
    void DeleteNamespacesQuietly()
    {
        foreach (VethSide side in Sides)
            ExternalCommand.Run("ip", ["netns", "del", NamespaceOf(side)]);
    }

    string MacOf(VethSide side) => side == VethSide.A ? MacA : MacB;

    IPAddress AddressOf(VethSide side) => side == VethSide.A ? AddressA : AddressB;
}
