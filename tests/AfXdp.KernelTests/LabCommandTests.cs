using AfXdp.Testing;

namespace AfXdp.KernelTests;

/// <summary>`afxdp lab up|status|down`, run as a user would: the built CLI in its own process.</summary>
public sealed class LabCommandTests
{
    public LabCommandTests() => KernelTest.RequireRoot();

    [Fact]
    public void Lab_up_status_and_down()
    {
        try
        {
            CommandResult up = KernelTest.Afxdp("lab", "up");
            Assert.True(up.Succeeded, up.Error);
            Assert.Contains("afxlabA  afxa0  02:00:00:00:0a:01  UP   10.99.255.1/24", up.Output);

            CommandResult status = KernelTest.Afxdp("lab", "status");
            Assert.True(status.Succeeded, status.Error);
            Assert.Contains("afxlabB  afxb0  02:00:00:00:0b:01  UP   10.99.255.2/24", status.Output);
            Assert.Contains("xdp none", status.Output);

            CommandResult down = KernelTest.Afxdp("lab", "down");
            Assert.True(down.Succeeded, down.Error);
            Assert.DoesNotContain("afxlabA", KernelTest.NetworkNamespaces());

            CommandResult after = KernelTest.Afxdp("lab", "status");
            Assert.Equal(1, after.ExitCode);
            Assert.Contains("not up", after.Error);
        }
        finally
        {
            VethLab.Down();
        }
    }

    [Fact]
    public void A_refused_option_is_a_message_and_exit_code_2()
    {
        CommandResult up = KernelTest.Afxdp("lab", "up", "--mtu", "70000");

        Assert.Equal(2, up.ExitCode);
        Assert.StartsWith("afxdp lab up: VethLabOptions.Mtu = 70000: a veth MTU lies between 68 and 65535.", up.Error);
        Assert.DoesNotContain("   at ", up.Error); // a message, not a stack trace
    }
}
