using AfXdp.Engine;

namespace AfXdp.Tests.Engine;

public sealed class EngineOptionsTests
{
    [Fact]
    public void Bad_options_are_refused_before_any_syscall()
    {
        var ok = new XdpEngineOptions { Interface = "lo" };
        Assert.Contains("Queues", Assert.ThrowsAny<ArgumentException>(() => (ok with { Queues = [] }).Validate()).Message);
        Assert.Contains("listed twice", Assert.ThrowsAny<ArgumentException>(() => (ok with { Queues = [1, 1] }).Validate()).Message);
        Assert.Contains("one core per queue", Assert.ThrowsAny<ArgumentException>(() => (ok with { Queues = [0, 1], Cores = [0] }).Validate()).Message);
        Assert.Contains("CPU number", Assert.ThrowsAny<ArgumentException>(() => (ok with { Cores = [-1] }).Validate()).Message);
        Assert.Contains("FramesPerQueue", Assert.ThrowsAny<ArgumentException>(() => (ok with { FramesPerQueue = 1024 }).Validate()).Message);
        Assert.Contains("power of two", Assert.ThrowsAny<ArgumentException>(() => (ok with { RingSize = 1000 }).Validate()).Message);
        Assert.Contains("Coalesce = 00:00:00.0110000", Assert.ThrowsAny<ArgumentException>(() => (ok with { Coalesce = TimeSpan.FromMilliseconds(11) }).Validate()).Message);
        Assert.Contains("Coalesce", Assert.ThrowsAny<ArgumentException>(() => (ok with { Coalesce = TimeSpan.FromTicks(-1) }).Validate()).Message);
    }
}
