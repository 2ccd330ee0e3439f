using System.CommandLine;
using AfXdp.Device;
using AfXdp.Xsk;

namespace AfXdp.Cli.Commands;

/// <summary><c>afxdp napi</c>: shows or sets a device's napi_defer_hard_irqs and gro_flush_timeout (the partners of preferred busy polling).</summary>
internal static class NapiCommand
{
    public static Command Create()
    {
        var iface = CliOptions.Interface("interface");
        var defer = CliOptions.OptionalNumber<int>("--defer-hard-irqs", "empty NAPI polls before the device's interrupt is re-enabled (0: no deferral)", 0, int.MaxValue);
        var timeout = CliOptions.OptionalNumber<long>("--gro-flush-timeout", "nanoseconds until the deferral timer schedules NAPI again (0: off)", 0, long.MaxValue);
        var command = new Command("napi",
            "Show or set the device's NAPI interrupt deferral (/sys/class/net/IF/napi_defer_hard_irqs and gro_flush_timeout); " +
            "pair it with preferred busy polling (bench -B, engine -B), e.g. --defer-hard-irqs 2 --gro-flush-timeout 200000.")
        {
            iface, defer, timeout,
        };
        command.SetAction(r =>
        {
            string name = r.GetRequiredValue(iface);
            NapiSettings current = NapiSettings.Read(name);
            if (r.GetValue(defer) is not null || r.GetValue(timeout) is not null)
            {
                NapiSettings.Write(name, new NapiSettings(r.GetValue(defer) ?? current.DeferHardIrqs, r.GetValue(timeout) ?? current.GroFlushTimeout));
                current = NapiSettings.Read(name);
            }
            Console.Out.WriteLine($"{name}: napi_defer_hard_irqs={current.DeferHardIrqs} gro_flush_timeout={current.GroFlushTimeout}");
            return 0;
        });
        return command;
    }
}
