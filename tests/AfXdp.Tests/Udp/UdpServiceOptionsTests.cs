using System.Net;
using AfXdp.Udp;

namespace AfXdp.Tests.Udp;

public sealed class UdpServiceOptionsTests
{
    static readonly UdpServiceOptions Ok = new() { Interface = "eth0", Endpoints = [new IPEndPoint(IPAddress.Parse("192.0.2.1"), 53)] };

    [Fact]
    public void Good_options_pass() => Ok.Validate();

    [Fact]
    public void Each_bad_value_is_named_with_its_cause()
    {
        static string Refused(UdpServiceOptions options) => Assert.ThrowsAny<ArgumentException>(options.Validate).Message;

        Assert.Contains("UdpServiceOptions.Endpoints = []", Refused(Ok with { Endpoints = [] }));
        Assert.Contains("port 0", Refused(Ok with { Endpoints = [new IPEndPoint(IPAddress.Parse("192.0.2.1"), 0)] }));
        Assert.Contains("listed twice", Refused(Ok with { Endpoints = [.. Ok.Endpoints, .. Ok.Endpoints] }));
        Assert.Contains("UdpServiceOptions.BatchSize = 0", Refused(Ok with { BatchSize = 0 }));
        Assert.Contains("UdpServiceOptions.SpinTime", Refused(Ok with { SpinTime = TimeSpan.FromTicks(-1) }));
        Assert.Contains("UdpServiceOptions.Coalesce = 00:00:00.0110000", Refused(Ok with { Coalesce = TimeSpan.FromMilliseconds(11) }));
        Assert.Contains("UdpServiceOptions.Coalesce", Refused(Ok with { Coalesce = TimeSpan.FromTicks(-1) }));
        Assert.Contains("UdpServiceOptions.NeighbourLifetime", Refused(Ok with { NeighbourLifetime = TimeSpan.Zero }));
    }

    [Fact]
    public void Spinning_forever_and_the_longest_coalescing_are_allowed() =>
        (Ok with { SpinTime = Timeout.InfiniteTimeSpan, Coalesce = TimeSpan.FromMilliseconds(10) }).Validate();
}
