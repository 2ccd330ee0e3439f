using System.Net;
using System.Xml.Linq;
using AfXdp.Device;
using AfXdp.Hosting;
using AfXdp.TestShared;
using AfXdp.Udp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AfXdp.Tests.Hosting;

/// <summary>UdpServiceSettings bound from configuration and mapped to UdpServiceOptions, with a line per wrong value; the package's place above the library.</summary>
public sealed class UdpServiceSettingsTests
{
    static UdpServiceSettings Bind(params (string Key, string Value)[] values)
    {
        // A later value of a key replaces an earlier one, as a later configuration source does.
        var pairs = new Dictionary<string, string?>();
        foreach ((string key, string value) in values)
            pairs["AfXdp:" + key] = value;
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(pairs).Build();
        var settings = new UdpServiceSettings();
        configuration.GetSection("AfXdp").Bind(settings);
        return settings;
    }

    [Fact]
    public void Configuration_values_map_to_the_options_and_unset_ones_keep_the_library_defaults()
    {
        UdpServiceSettings settings = Bind(("Interface", "eth0"), ("Endpoints:0", "10.0.0.1:53"), ("Endpoints:1", "10.0.0.2:5353"),
            ("AttachMode", "Skb"), ("Coalesce", "00:00:00.0002"), ("Cores:0", "1"));
        (UdpServiceOptions options, var map) = settings.ToOptions("AfXdp");
        Assert.Equal("eth0", options.Interface);
        Assert.Equal([IPEndPoint.Parse("10.0.0.1:53"), IPEndPoint.Parse("10.0.0.2:5353")], options.Endpoints);
        Assert.Equal(XdpAttachMode.Skb, options.AttachMode);
        Assert.Equal(TimeSpan.FromMicroseconds(200), options.Coalesce);
        Assert.Equal([1], options.Cores!);
        var defaults = new UdpServiceOptions { Interface = "x", Endpoints = [] };
        Assert.Equal(defaults.SpinTime, options.SpinTime);
        Assert.Equal(defaults.BatchSize, options.BatchSize);
        Assert.Null(map);
    }

    [Fact]
    public void An_xskmap_source_is_parsed()
    {
        (_, var map) = Bind(("Interface", "eth0"), ("Endpoints:0", "10.0.0.1:53"), ("XskMap", "pin:/sys/fs/bpf/x")).ToOptions("AfXdp");
        Assert.Equal("pin:/sys/fs/bpf/x", map!.ToString());
    }

    [Theory]
    [InlineData("Endpoints:0", "10.0.0.1", "AfXdp:Endpoints:0 = \"10.0.0.1\": not an IPv4 or [IPv6] address and port; write e.g. \"10.0.0.1:53\" or \"[fd00::1]:53\".")]
    [InlineData("Endpoints:0", "fd00::1", "AfXdp:Endpoints:0 = \"fd00::1\": not an IPv4 or [IPv6] address and port; write e.g. \"10.0.0.1:53\" or \"[fd00::1]:53\".")]
    [InlineData("Endpoints:0", "10.0.0.1:0", "AfXdp:Endpoints:0 = \"10.0.0.1:0\": not an IPv4 or [IPv6] address and port; write e.g. \"10.0.0.1:53\" or \"[fd00::1]:53\".")]
    [InlineData("StopTimeout", "00:00:00", "AfXdp:StopTimeout = 00:00:00: shutdown must give the workers time to stop; use e.g. \"00:00:05\".")]
    public void A_wrong_value_is_one_line_naming_the_key_the_value_and_the_fix(string key, string value, string expected)
    {
        var settings = Bind(("Interface", "eth0"), ("Endpoints:0", "10.0.0.1:53"), (key, value));
        var e = Assert.Throws<OptionsValidationException>(() => settings.ToOptions("AfXdp"));
        Assert.Equal([expected], e.Failures);
    }

    [Fact]
    public void Missing_interface_and_endpoints_are_each_told_with_their_environment_variable()
    {
        var e = Assert.Throws<OptionsValidationException>(() => Bind().ToOptions("AfXdp:Dns"));
        Assert.Equal(2, e.Failures.Count());
        Assert.Contains("AfXdp:Dns:Interface is not set", e.Failures.First());
        Assert.Contains("AfXdp__Dns__Interface=eth0", e.Failures.First());
        Assert.Contains("AfXdp__Dns__Endpoints__0=10.0.0.1:53", e.Failures.Last());
    }

    [Fact]
    public void The_library_s_own_checks_are_told_under_the_section()
    {
        var e = Assert.Throws<OptionsValidationException>(() => Bind(("Interface", "eth0"), ("Endpoints:0", "10.0.0.1:53"), ("BatchSize", "0")).ToOptions("AfXdp"));
        Assert.StartsWith("AfXdp: UdpServiceOptions.BatchSize = 0", Assert.Single(e.Failures));
    }

    [Fact]
    public void The_core_library_depends_on_no_package_and_the_hosting_package_only_on_the_library()
    {
        XDocument core = XDocument.Load(Repository.PathOf("src", "AfXdp", "AfXdp.csproj"));
        Assert.Empty(RunTime(core));
        Assert.Empty(core.Descendants("ProjectReference"));
        XDocument hosting = XDocument.Load(Repository.PathOf("src", "AfXdp.Hosting", "AfXdp.Hosting.csproj"));
        Assert.Equal(["../AfXdp/AfXdp.csproj"], hosting.Descendants("ProjectReference").Select(r => (string)r.Attribute("Include")!));
        Assert.All(RunTime(hosting), r => Assert.StartsWith("Microsoft.Extensions.", (string)r.Attribute("Include")!));
    }

    /// <summary>Package references a consumer of the package gets: all but build-time ones (PrivateAssets="all", the analyzers).</summary>
    static IEnumerable<XElement> RunTime(XDocument project) =>
        project.Descendants("PackageReference").Where(r => (string?)r.Attribute("PrivateAssets") != "all");
}
