namespace AfXdp.Tests;

public sealed class CapabilityNeedTests
{
    [Fact]
    public void GrantFix_puts_setcap_on_the_apps_executable_not_the_shared_dotnet_host_and_gives_the_systemd_and_setpriv_forms()
    {
        string fix = CapabilityNeed.GrantFix([AfXdp.Device.Privileges.CAP_NET_RAW, AfXdp.Device.Privileges.CAP_BPF]);
        Assert.Equal("run as root, or grant them all at once: `setcap cap_net_raw,cap_bpf+ep` on the app's own executable " +
            "(the apphost `bin/.../MyApp` or the published or NativeAOT binary, not the shared `dotnet` host, which would give them to every .NET program), " +
            "AmbientCapabilities=CAP_NET_RAW CAP_BPF in a systemd unit, or `setpriv --inh-caps +net_raw,+bpf --ambient-caps +net_raw,+bpf` for a child.", fix);
    }

    [Theory]
    [InlineData(new string[0], "")]
    [InlineData(new[] { "A" }, "A")]
    [InlineData(new[] { "A", "B" }, "A and B")]
    [InlineData(new[] { "A", "B", "C" }, "A, B and C")]
    public void Join_lists_as_a_sentence_does(string[] items, string expected) => Assert.Equal(expected, CapabilityNeed.Join(items));
}
