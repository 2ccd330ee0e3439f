using AfXdp.Xsk;

namespace AfXdp.Tests.Xsk;

/// <summary>The TimeSpan overloads (PollRx, PollTx, Receive) turned into poll(2)'s milliseconds.</summary>
public sealed class PollTimeoutTests
{
    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(0.1, 1)]
    [InlineData(1.5, 2)]
    [InlineData(250.0, 250)]
    public void APositiveTimeoutIsRoundedUpToWholeMilliseconds(double milliseconds, int expected) =>
        Assert.Equal(expected, XskDoorbell.PollMilliseconds(TimeSpan.FromMilliseconds(milliseconds), "timeout"));

    [Fact]
    public void InfiniteTimeSpanWaitsWithoutLimit() =>
        Assert.Equal(-1, XskDoorbell.PollMilliseconds(Timeout.InfiniteTimeSpan, "timeout"));

    [Theory]
    [InlineData(-2.0)]
    [InlineData(-0.5)]
    [InlineData(3_000_000_000.0)]
    public void ATimeoutPollCannotTakeIsRefusedNamingTheParameter(double milliseconds)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => XskDoorbell.PollMilliseconds(TimeSpan.FromMilliseconds(milliseconds), "timeout"));
        Assert.Equal("timeout", e.ParamName);
    }
}
