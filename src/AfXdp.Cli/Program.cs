using System.CommandLine;
using System.CommandLine.Help;
using AfXdp.Cli;
using AfXdp.Cli.Commands;

// A Command named "afxdp", not a RootCommand: System.CommandLine 2.0 names the root after the
// assembly (AfXdp.Cli), whether it runs as the dotnet tool, the NativeAOT binary or `dotnet run`.
var root = new Command("afxdp", "AF_XDP for .NET: demo, benchmarks, echo, capture, engine and diagnostics over AF_XDP sockets.")
{
    new HelpOption(),
    new VersionOption(),
};
root.Subcommands.Add(LabCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(EchoCommand.Create());
root.Subcommands.Add(CaptureCommand.Create());
root.Subcommands.Add(DetachCommand.Create());
root.Subcommands.Add(DoctorCommand.Create());
root.Subcommands.Add(EngineCommand.Create());
root.Subcommands.Add(HandoffRxCommand.Create());
root.Subcommands.Add(NapiCommand.Create());
root.Subcommands.Add(PluginCommand.Create());
root.SetAction(_ =>
{
    Console.Error.WriteLine($"afxdp: name a command: {string.Join(", ", root.Subcommands.Select(c => c.Name))} (`afxdp --help` describes them)");
    return AfXdp.Cli.CommandLine.UsageError;
});

return CommandLine.Run(root, args);
