using System.Diagnostics;
using System.Net.Sockets;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>The unprivileged data path: UMEM and sockets handed to a child without capabilities (SCM_RIGHTS).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class HandoffTests
{
    static readonly XskSocketOptions RxOnly = new() { TxRingSize = 0, FillRingSize = 512, CompletionRingSize = 512 };

    public HandoffTests() => KernelTest.RequireRoot();

    [Fact]
    public async Task A_child_with_no_capability_and_another_uid_receives_on_handed_over_sockets()
    {
        using VethLab lab = VethLab.Create(new VethLabOptions { RxQueues = 2, TxQueues = 2 });
        (Umem umem, XskSocket first, XskSocket second, XskRedirectProgram program) = lab.Run(VethSide.B, () =>
        {
            Umem u = Umem.CreateShareable(new UmemOptions { FrameCount = 2048, FillRingSize = 512, CompletionRingSize = 512 });
            var q0 = new RxSocket(u, lab.InterfaceB, 0, RxOnly);
            var q1 = new RxSocket(u, lab.InterfaceB, 1, RxOnly);
            var p = XskRedirectProgram.Attach(lab.InterfaceB, XdpAttachMode.Drv);
            p.Register(q0);
            p.Register(q1);
            return (u, q0, q1, p);
        });
        string path = Path.Combine(Path.GetTempPath(), $"afxdp-handoff-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        File.SetUnixFileMode(path, (UnixFileMode)0b110_110_110); // the child runs as nobody
        listener.Listen();
        // setpriv: uid/gid 65534, no supplementary groups, empty inheritable, ambient and bounding sets.
        using Process child = Process.Start(new ProcessStartInfo("setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--",
             "env", "HOME=/tmp", KernelTest.DotnetHost, KernelTest.CliPath(), "handoff-rx", "--connect", path, "--count", "200", "--timeout", "20"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            using Socket connection = await listener.AcceptAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
            XskHandoff.Send(connection, umem, first, second);
            connection.ReceiveTimeout = 20_000;
            Assert.Equal(1, connection.Receive(new byte[1])); // the child mapped everything and filled its FILL rings

            XskTestBed.SendFromA(lab, 200, port: 7400, sourcePorts: 32);

            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(30)), "the child did not finish");
            string output = await child.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            string error = await child.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            Assert.True(child.ExitCode == 0, output + error);
            Assert.Contains("received 2 socket(s) on a 2048-frame UMEM", output);
            Assert.Contains("(65534), CapEff 0000000000000000", output);
            Assert.Contains("received 200 of 200 frames without privileges", output);
            Assert.Contains("q0 ", output);
            Assert.Contains("q1 ", output);
            Assert.Contains($"-> {lab.AddressB}:7400 \"afxdp test datagram 000199\"", output);
        }
        finally
        {
            if (!child.HasExited)
                child.Kill();
            program.Dispose();
            first.Dispose();
            second.Dispose();
            umem.Dispose();
            File.Delete(path);
        }
    }

    [Fact]
    public void Only_a_shareable_UMEM_can_be_sent()
    {
        using var bed = new XskTestBed(attach: null, new XskSocketOptions { TxRingSize = 0 });
        using var pair = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var e = Assert.Throws<ArgumentException>(() => XskHandoff.Send(pair, bed.Umem, bed.Socket));
        Assert.Contains("Umem.CreateShareable", e.Message);
    }
}
