using System.CommandLine;
using AfXdp;
using AfXdp.Cli.Commands;

var root = new RootCommand("AF_XDP for .NET");
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

try
{
    // Our own handler below: a kernel or tool failure is a message and exit code 2, not a stack trace.
    return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (AfXdpException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
