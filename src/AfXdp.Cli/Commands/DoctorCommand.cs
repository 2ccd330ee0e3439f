using System.CommandLine;
using AfXdp.Diagnostics;

namespace AfXdp.Cli.Commands;

/// <summary><c>afxdp doctor [-i IF] [-q QUEUE]</c>: why AF_XDP would or would not work here, and what to do.</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var iface = new Option<string?>("--interface", "-i") { Description = "also check this interface: driver, queues, XDP modes, zero-copy, partial checksums (veth), attached programs" };
        var queue = CliOptions.Queue("the queue you mean to bind");
        var command = new Command("doctor",
            "Check the kernel, privileges, memlock limit, BPF and, with -i, the interface (driver, queues, XDP modes, zero-copy, partial checksums on veth, attached programs); " +
            "print OK/WARN/FAIL with what to do. Exit code 1 when something would fail. With -i it attaches an XDP_PASS program and binds a socket " +
            "for a moment, which briefly reconfigures the queue on some NICs.")
        { iface, queue };
        command.SetAction(r => Run(r.GetValue(iface), r.GetValue(queue)));
        return command;
    }

    static int Run(string? interfaceName, uint queue)
    {
        Console.WriteLine(interfaceName is null ? "afxdp doctor" : $"afxdp doctor: {interfaceName} queue {queue}");
        IReadOnlyList<DoctorCheck> checks = Doctor.Run(interfaceName, queue);
        int width = checks.Max(c => c.Name.Length);
        foreach (DoctorCheck check in checks)
        {
            Console.WriteLine($"{Label(check.Status),-5} {check.Name.PadRight(width)}  {check.Detail}");
            if (check.Fix is not null && check.Status != CheckStatus.Ok)
                Console.WriteLine($"{"",-5} {"".PadRight(width)}  fix: {check.Fix}");
        }
        int failures = checks.Count(c => c.Status == CheckStatus.Fail), warnings = checks.Count(c => c.Status == CheckStatus.Warn);
        Console.WriteLine($"{failures} failure(s), {warnings} warning(s): {(failures == 0 ? "AF_XDP should work" + (interfaceName is null ? " (add -i IF to check an interface)" : "") : "AF_XDP would fail, see FAIL above")}");
        return failures == 0 ? 0 : 1;
    }

    /// <summary>OK, WARN or FAIL, as doctor prints them.</summary>
    internal static string Label(CheckStatus status) => status switch
    {
        CheckStatus.Ok => "OK",
        CheckStatus.Warn => "WARN",
        _ => "FAIL",
    };
}
