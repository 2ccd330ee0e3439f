using System.Runtime.InteropServices;

namespace AfXdp.Cli.Commands;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM run <c>stop</c> instead of ending the process, so a command leaves through
/// its own teardown and detaches what it attached. Held for the command's run: <c>using var signals = new StopSignals(cancel.Cancel);</c>
/// </summary>
internal sealed class StopSignals : IDisposable
{
    readonly PosixSignalRegistration interrupt, terminate;

    public StopSignals(Action stop)
    {
        interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop(); });
        terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop(); });
    }

    public void Dispose()
    {
        interrupt.Dispose();
        terminate.Dispose();
    }
}
