using AfXdp.Bpf;
using AfXdp.Lab;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>Nothing stays attached: not after Dispose, not after the holder dies by SIGKILL.</summary>
public sealed class DetachTests
{
    static XdpAttachment XdpOf(VethLab lab) => lab.Run(VethSide.B, () => NetDevice.Get(lab.InterfaceB).Xdp);

    static bool ProgramExists(uint id)
    {
        try
        {
            BpfProgram.FromId(id).Dispose();
            return true;
        }
        catch (AfXdpException e) when (e.Errno == AfXdp.Interop.Errno.ENOENT)
        {
            return false;
        }
    }

    [Theory]
    [InlineData(XdpAttachMode.Skb)]
    [InlineData(XdpAttachMode.Drv)]
    public void Dispose_detaches_the_program_and_frees_it(XdpAttachMode mode)
    {
        using VethLab lab = VethLab.Create();
        XskRedirectProgram program = lab.Run(VethSide.B, () => XskRedirectProgram.Attach(lab.InterfaceB, mode));
        uint id = program.Program.Id;
        Assert.Equal(id, XdpOf(lab).ProgramIn(mode));
        program.Dispose();
        program.Dispose(); // idempotent
        Assert.False(XdpOf(lab).Any);
        Assert.True(KernelTest.Eventually(() => !ProgramExists(id), TimeSpan.FromSeconds(5)), $"program {id} still loaded");
    }

    [Theory]
    [InlineData("skb")]
    [InlineData("drv")]
    public void A_process_killed_by_SIGKILL_leaves_nothing_attached(string mode)
    {
        using VethLab lab = VethLab.Create();
        using System.Diagnostics.Process child = KernelTest.StartAfxdpIn(lab, VethSide.B, "bench", "-i", lab.InterfaceB, "-m", "rxdrop", "-a", mode, "-d", "60");
        try
        {
            Assert.True(KernelTest.Eventually(() => XdpOf(lab).Any || child.HasExited, TimeSpan.FromSeconds(20)), "the child never attached");
            Assert.False(child.HasExited, child.HasExited ? child.StandardError.ReadToEnd() : "");
            uint id = XdpOf(lab).First.Id;
            Assert.Equal(XskRedirectProgram.ProgramName, BpfProgram.NameOf(id));

            child.Kill(); // SIGKILL: no finalizer, no Dispose runs
            Assert.True(child.WaitForExit(10_000));
            Assert.Equal(137, child.ExitCode);
            Assert.True(KernelTest.Eventually(() => !XdpOf(lab).Any, TimeSpan.FromSeconds(5)), "still attached after SIGKILL");
            Assert.True(KernelTest.Eventually(() => !ProgramExists(id), TimeSpan.FromSeconds(5)), $"program {id} still loaded after SIGKILL");
        }
        finally
        {
            if (!child.HasExited)
                child.Kill();
        }
    }
}
