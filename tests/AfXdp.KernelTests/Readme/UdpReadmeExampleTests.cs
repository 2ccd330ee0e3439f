using System.Net.Sockets;
using System.Net;
using System.Text;
using AfXdp.KernelTests.Samples;
using AfXdp.TestShared;
using AfXdp.Testing;
using AfXdp.Udp;

namespace AfXdp.KernelTests.Readme;

/// <summary>The README's UDP service example, compiled here, run against a kernel UDP client, and shown in the README as it is here.</summary>
public sealed partial class ReadmeExampleTests
{
    static void UdpExample(string interfaceName, IPAddress address, CancellationToken stop)
    {
        #region udp
        using var service = new UdpService(new UdpServiceOptions { Interface = interfaceName, Endpoints = [new IPEndPoint(address, 7007)] });
        service.Run(batch =>
        {
            foreach (Datagram d in batch)
            {
                Ascii.ToUpperInPlace(d.Payload, out int length);   // rewrite in place
                d.Reply(length);                                   // back to d.Remote, from d.Local
            }
        }, stop);
        #endregion
    }

    [Fact]
    public async Task The_udp_example_answers_a_kernel_socket()
    {
        using VethLab lab = VethLab.Create();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Task service = lab.RunAsync(VethSide.B, () => UdpExample(lab.InterfaceB, lab.AddressB, stop.Token));
        string reply = await lab.RunAsync(VethSide.A, () =>
        {
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 500 };
            var buffer = new byte[64];
            // Until the service is up: the first datagrams may reach the kernel, which has no socket on the port.
            for (int attempt = 0; attempt < 40; attempt++)
            {
                client.SendTo("hello, udp"u8.ToArray(), new IPEndPoint(lab.AddressB, 7007));
                try
                {
                    return Encoding.ASCII.GetString(buffer, 0, client.Receive(buffer));
                }
                catch (SocketException)
                {
                }
            }
            return "";
        });
        stop.Cancel();
        await service;
        Assert.Equal("HELLO, UDP", reply);
    }

    [Fact]
    public void The_README_shows_the_udp_example_as_compiled()
    {
        string[] code = Region(File.ReadAllText(Repository.PathOf("tests", "AfXdp.KernelTests", "Readme", "UdpReadmeExampleTests.cs")), "udp");
        Assert.True(code.Length <= 10, $"{code.Length} lines");
        string[] readme = [.. File.ReadAllText(Repository.PathOf("README.md")).Split('\n').Select(l => l.TrimEnd())];
        int start = Array.IndexOf(readme, code[0]);
        Assert.True(start >= 0 && code.Select((l, i) => start + i < readme.Length && readme[start + i] == l).All(x => x),
            $"README.md does not show the udp example as compiled in {nameof(ReadmeExampleTests)}; its first line: {code[0]}");
    }
}
