using System.Net;
using System.Net.Sockets;
using System.Text;
using AfXdp.Testing;
using AfXdp.TestShared;

namespace AfXdp.KernelTests.Samples;

/// <summary>
/// templates/afxdp-udp as a user takes it: `dotnet new install` of the folder, `dotnet new afxdp-udp`, `dotnet build`, the
/// service run in a lab with its settings from the environment, and a real client's datagram answered. The template cache
/// is a throwaway DOTNET_CLI_HOME, so the user's own `dotnet new` list is not touched. The project references the AfXdp
/// and AfXdp.Hosting packages, as a user's does: packed from this checkout's build into a folder feed, restored into a
/// throwaway packages folder (the machine's is a read-only fallback for the rest), so no stale or local build of them
/// lands in the machine's NuGet cache.
/// </summary>
public sealed class UdpTemplateTests
{
    const int Port = 7070;
#if DEBUG
    const string Configuration = "Debug";
#else
    const string Configuration = "Release";
#endif
    static readonly TimeSpan BuildTime = TimeSpan.FromMinutes(8);

    public UdpTemplateTests() => KernelTest.RequireRoot();

    [Fact]
    public void A_project_from_dotnet_new_afxdp_udp_builds_serves_in_a_lab_answers_ping_with_pong_and_ignores_the_rest()
    {
        string directory = Directory.CreateTempSubdirectory("afxdp-template-").FullName;
        try
        {
            string home = Path.Combine(directory, "cli-home"), project = Path.Combine(directory, "PingService");
            string template = Repository.PathOf("templates", "afxdp-udp");
            CommandResult Dotnet(params string[] args) =>
                ExternalCommand.Run("env", [$"DOTNET_CLI_HOME={home}", "DOTNET_NOLOGO=1", "DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1", KernelTest.DotnetHost, .. args], BuildTime);

            string feed = Path.Combine(directory, "feed");
            foreach (string package in (string[])["AfXdp", "AfXdp.Hosting"])
            {
                CommandResult pack = Dotnet("pack", Repository.PathOf("src", package), "-c", Configuration, "--no-build", "-o", feed);
                Assert.True(pack.Succeeded, pack.Output + pack.Error);
            }
            string machinePackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <config><add key="globalPackagesFolder" value="{Path.Combine(directory, "packages")}" /></config>
                  <packageSources><add key="afxdp-checkout" value="{feed}" /></packageSources>
                  <fallbackPackageFolders><add key="machine" value="{machinePackages}" /></fallbackPackageFolders>
                </configuration>
                """);

            CommandResult install = Dotnet("new", "install", template);
            Assert.True(install.Succeeded, install.Output + install.Error);
            CommandResult create = Dotnet("new", "afxdp-udp", "-n", "PingService", "-o", project);
            Assert.True(create.Succeeded, create.Output + create.Error);
            Assert.Contains("<PackageReference Include=\"AfXdp.Hosting\" Version=\"0.1.0\" />", File.ReadAllText(Path.Combine(project, "PingService.csproj")));
            Assert.Contains("class PingHandler", File.ReadAllText(Path.Combine(project, "PingHandler.cs")));
            CommandResult build = Dotnet("build", project, "-o", Path.Combine(directory, "bin"));
            Assert.True(build.Succeeded, build.Output + build.Error);
            Assert.True(Directory.Exists(Path.Combine(directory, "packages", "afxdp.hosting", "0.1.0")), "AfXdp.Hosting was not restored from the checkout's feed");

            // --afxdp-source: the same project on a checkout's projects instead of the packages.
            string fromSource = Path.Combine(directory, "FromSource");
            CommandResult source = Dotnet("new", "afxdp-udp", "-n", "FromSource", "-o", fromSource, "--afxdp-source", Repository.Root);
            Assert.True(source.Succeeded, source.Output + source.Error);
            string[] references = [.. System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(Path.Combine(fromSource, "FromSource.csproj")), "<ProjectReference Include=\"([^\"]+)\"").Select(m => m.Groups[1].Value)];
            Assert.Equal(2, references.Length);
            Assert.All(references, r => Assert.True(File.Exists(r), $"{r} does not exist"));

            using VethLab lab = VethLab.Create();
            var settings = new Dictionary<string, string>
            {
                ["AfXdp__Interface"] = lab.InterfaceB,
                ["AfXdp__Endpoints__0"] = $"{lab.AddressB}:{Port}",
            };
            using (var service = ServiceProcess.Start(lab, VethSide.B, settings, [KernelTest.DotnetHost, Path.Combine(directory, "bin", "PingService.dll")]))
            {
                Assert.True(service.Serving, service.Output);
                using Socket client = lab.Run(VethSide.A, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
                client.Connect(new IPEndPoint(lab.AddressB, Port));
                client.ReceiveTimeout = 5000;
                client.Send("ping from the lab"u8);
                byte[] reply = new byte[1500];
                Assert.Equal("pong from the lab", Encoding.ASCII.GetString(reply, 0, client.Receive(reply)));
                // Not a request: no answer, so two such services never keep a datagram going.
                client.Send("pong from the lab"u8);
                client.ReceiveTimeout = 1000;
                Assert.Equal(SocketError.TimedOut, Assert.Throws<SocketException>(() => client.Receive(reply)).SocketErrorCode);
                // The health publisher's first report comes 5 s after the start (HealthCheckPublisherOptions.Delay).
                Assert.True(SpinWait.SpinUntil(() => service.Output.Contains("[2330] Health Healthy"), TimeSpan.FromSeconds(20)), service.Output);

                (int exitCode, string output) = service.Stop();
                Assert.Equal(0, exitCode);
                Assert.Matches(@"\[2301\] Stopped serving on \S+: received=2 sent=1 ", output);
            }
            Assert.True(Dotnet("new", "uninstall", template).Succeeded);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
