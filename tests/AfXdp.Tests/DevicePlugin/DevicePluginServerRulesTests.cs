using AfXdp.DevicePlugin;
using AfXdp.Cli.DevicePlugin;

namespace AfXdp.Tests.DevicePlugin;

/// <summary>The server's rules that need no kernel: its timeouts, what it logs of a client's text, which directories it takes.</summary>
public class DevicePluginServerRulesTests
{
    [Theory]
    [InlineData(99)]
    [InlineData(0)]
    [InlineData(-1)]
    public void Timeouts_under_100_ms_are_out_of_range(int milliseconds)
    {
        TimeSpan value = TimeSpan.FromMilliseconds(milliseconds);
        var idle = Assert.Throws<ArgumentOutOfRangeException>(() => new DevicePluginServerOptions { IdleTimeout = value });
        var exchange = Assert.Throws<ArgumentOutOfRangeException>(() => new DevicePluginServerOptions { ExchangeTimeout = value });
        Assert.Equal("IdleTimeout", idle.ParamName);
        Assert.Equal("ExchangeTimeout", exchange.ParamName);
        Assert.StartsWith("IdleTimeout must be from 100 ms to 1 day", idle.Message);
    }

    [Fact]
    public void Timeouts_from_100_ms_to_a_day_are_taken_and_longer_ones_refused()
    {
        var options = new DevicePluginServerOptions { IdleTimeout = TimeSpan.FromMilliseconds(100), ExchangeTimeout = TimeSpan.FromDays(1) };
        Assert.Equal((TimeSpan.FromMilliseconds(100), TimeSpan.FromDays(1)), (options.IdleTimeout, options.ExchangeTimeout));
        Assert.Equal((TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60)), (new DevicePluginServerOptions().IdleTimeout, new DevicePluginServerOptions().ExchangeTimeout));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DevicePluginServerOptions { ExchangeTimeout = Timeout.InfiniteTimeSpan });
        Assert.Throws<ArgumentOutOfRangeException>(() => new DevicePluginServerOptions { IdleTimeout = TimeSpan.FromDays(1) + TimeSpan.FromTicks(1) });
    }

    [Theory]
    [InlineData("/connect,pod-1", "/connect,pod-1")]
    [InlineData("a\nb\r\tc", @"a\nb\r\tc")]
    [InlineData("\u001b[31mred\u0000\u007f", @"\x1b[31mred\x00\x7f")]
    [InlineData("c1 \u0085\u009b", @"c1 \x85\x9b")]                      // C1 controls: NEL, CSI
    [InlineData("\u202egnp.exe \u2028\u200b", @"\u202egnp.exe \u2028\u200b")] // reordering, separators, invisible format characters
    [InlineData(@"\x1b", @"\\x1b")]                                       // a backslash is escaped, so an escape is never forged
    [InlineData("pöd-ü", "pöd-ü")]
    public void Client_text_is_logged_with_control_characters_escaped(string text, string logged) =>
        Assert.Equal(logged, DevicePluginServer.Printable(text));

    [Theory]
    [InlineData(0u, 0b111_101_101u, true, true)]     // root's 0755
    [InlineData(0u, 0b111_000_000u, true, true)]     // root's 0700
    [InlineData(0u, 0b1_111_111_111u, false, true)]  // /tmp above the socket's directory
    [InlineData(0u, 0b1_111_111_111u, true, false)]  // ... but not as the socket's own
    [InlineData(0u, 0b111_111_101u, false, false)]   // group-writable
    [InlineData(0u, 0b111_101_111u, false, false)]   // world-writable, not sticky
    [InlineData(65534u, 0b111_101_101u, false, false)] // a user's
    [InlineData(65534u, 0b1_111_111_111u, false, false)] // a user's sticky directory
    public void Directories_must_be_roots_and_closed_to_others_but_for_a_sticky_one_above(uint owner, uint mode, bool last, bool taken)
    {
        var check = () => TrustedDirectory.Check("/d", owner, mode, "the socket", last);
        if (taken)
            check();
        else
            Assert.StartsWith("directory /d: owner uid ", Assert.Throws<AfXdpException>(check).Message);
    }
}
