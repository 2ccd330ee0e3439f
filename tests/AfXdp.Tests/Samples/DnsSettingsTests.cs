using DnsResponder;

namespace AfXdp.Tests.Samples;

/// <summary>The DNS sample's own settings (section "Dns"): a line per value out of range, naming the option and the key.</summary>
public sealed class DnsSettingsTests
{
    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.Empty(new DnsSettings().Validate());
    }

    [Fact]
    public void Each_value_out_of_range_is_a_line_naming_its_option_and_key()
    {
        var settings = new DnsSettings { DurationSeconds = 86401, Threads = 0, PrometheusPort = 70000 };
        Assert.Equal(
            [
                "--duration (Dns:DurationSeconds = 86401) must be from 0 to 86400 seconds",
                "--threads (Dns:Threads = 0) must be from 1 to 256",
                "--prometheus-port (Dns:PrometheusPort = 70000) must be from 1 to 65535",
            ],
            settings.Validate());
        Assert.Single(new DnsSettings { DurationSeconds = double.NaN }.Validate());
    }
}
