using System.Net.Sockets;
using System.Text;
using AfXdp.Testing;

namespace AfXdp.KernelTests.Samples;

/// <summary>
/// The sample's systemd readiness (Microsoft.Extensions.Hosting.Systemd, docs/systemd/afxdp-dns.service with Type=notify),
/// without systemd: this VM's PID 1 is not systemd, so the test plays the service manager's part of the sd_notify protocol.
/// The library takes a process for a systemd service when its parent is named systemd, or when it is PID 1 with NOTIFY_SOCKET
/// set (a container under systemd); `unshare --pid --fork` makes the sample PID 1 of a PID namespace, and NOTIFY_SOCKET names a
/// datagram socket the test reads.
/// </summary>
public sealed class DnsResponderSystemdTests
{
    public DnsResponderSystemdTests() => KernelTest.RequireRoot();

    [Fact]
    public void Under_a_notify_socket_the_sample_sends_READY_once_started_answers_dig_and_sends_STOPPING_on_SIGTERM()
    {
        using VethLab lab = VethLab.Create();
        string directory = Directory.CreateTempSubdirectory("afxdp-notify-").FullName;
        try
        {
            string path = Path.Combine(directory, "notify");
            using var manager = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified) { ReceiveTimeout = 30_000 };
            manager.Bind(new UnixDomainSocketEndPoint(path));
            using var responder = ServiceProcess.Start(lab, VethSide.B, new Dictionary<string, string> { ["NOTIFY_SOCKET"] = path },
                ["unshare", "--pid", "--fork", KernelTest.DotnetHost, ServiceProcess.DnsResponderPath, .. DnsResponderTests.Arguments(lab, "xdp")]);
            Assert.True(responder.Serving, responder.Output);
            Assert.Equal("READY=1", Receive(manager));
            // Under systemd the console log takes the journal's form: "<6>" is syslog's info level, which journald reads.
            Assert.Matches(@"<6>AfXdp\.Hosting\.UdpServiceRunner\[2300\] Serving ", responder.Output);

            CommandResult answer = DnsResponderTests.Dig(lab, "www.example.com", "A");
            Assert.Matches(@"www\.example\.com\.\s+300\s+IN\s+A\s+192\.0\.2\.10", answer.Output);

            // `unshare --fork` waits for its child, the sample, and exits with its status: the signal goes to the sample.
            int sample = int.Parse(File.ReadAllText($"/proc/{responder.Id}/task/{responder.Id}/children").Trim());
            (int exitCode, string output) = responder.Stop(sample);
            Assert.Equal("STOPPING=1", Receive(manager));
            Assert.Equal(0, exitCode);
            Assert.Matches(@"<6>DnsResponder\.DnsRun\[2401\] xdp: answered 1 queries .* noerror=1 ", output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    static string Receive(Socket manager)
    {
        byte[] buffer = new byte[4096];
        return Encoding.ASCII.GetString(buffer, 0, manager.Receive(buffer)).Trim();
    }
}
