using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using AfXdp.Apps;
using AfXdp.Device;
using AfXdp.Interop;
using AfXdp.Testing;
using AfXdp.Net;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>`afxdp capture` and <see cref="PcapCapture"/>: what the socket receives, read back from the pcap file.</summary>
public sealed class CaptureTests
{
    [Fact]
    public async Task Afxdp_capture_writes_the_frames_it_received_byte_for_byte_with_nanosecond_timestamps()
    {
        // B sends known frames from an AF_XDP socket; `afxdp capture` runs on A.
        using var bed = new XskTestBed(attach: null, new XskSocketConfig { RxRingSize = 0 });
        string path = Path.Combine(Path.GetTempPath(), $"afxdp-capture-{Guid.NewGuid():N}.pcap");
        using System.Diagnostics.Process capture = KernelTest.StartAfxdpIn(bed.Lab, VethSide.A,
            "capture", "-i", bed.Lab.InterfaceA, "-w", path, "-n", "50", "-d", "30", "-a", "drv");
        try
        {
            string? banner = await capture.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken).AsTask()
                .WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
            Assert.Contains($"capturing {bed.Lab.InterfaceA} queue 0 to {path}: afxdp_redirect (prog id", banner);
            Assert.Contains("these frames no longer reach the kernel", banner);
            long before = Sys.ClockNanoseconds(Sys.CLOCK_REALTIME);
            UdpFrameBuilder builder = bed.FramesToA(7040);
            var sent = new List<byte[]>();
            bed.Transmit(bed.Socket, 50, (i, frame) =>
            {
                int length = builder.Write(frame, XskTestBed.Payload(i));
                sent.Add(frame[..length].ToArray());
                return length;
            });

            Assert.True(capture.WaitForExit(TimeSpan.FromSeconds(20)), "capture did not stop after 50 packets");
            long after = Sys.ClockNanoseconds(Sys.CLOCK_REALTIME);
            Assert.Equal(0, capture.ExitCode);
            Assert.Matches(@"wrote 50 packets \(3400 bytes\) in [\d.]+ s to .*; kernel drops: rx_dropped=0", capture.StandardOutput.ReadToEnd());

            using var reader = new PcapReader(File.OpenRead(path));
            Assert.True(reader.HasNanosecondTimestamps);
            Assert.Equal(1u, reader.LinkType);
            long previous = 0;
            for (int i = 0; i < sent.Count; i++)
            {
                Assert.True(reader.TryReadPacket(out PcapPacket packet), $"record {i} missing");
                Assert.Equal(sent[i], packet.Data);
                Assert.Equal(sent[i].Length, packet.OriginalLength);
                Assert.InRange(packet.UnixTimeNanoseconds, Math.Max(before, previous), after);
                previous = packet.UnixTimeNanoseconds;
            }
            Assert.False(reader.TryReadPacket(out _));
        }
        finally
        {
            if (!capture.HasExited)
                capture.Kill();
            File.Delete(path);
        }
    }

    [Fact]
    public void A_jumbo_frame_received_as_a_chain_is_one_record()
    {
        using var bed = new XskTestBed(XdpAttachMode.Drv, new XskSocketConfig { MultiBuffer = true, TxRingSize = 0 }, new VethLabOptions { Mtu = 9000 });
        using var file = new MemoryStream();
        using var writer = new PcapWriter(file, leaveOpen: true);
        var capture = new PcapCapture(bed.Socket.Rx, writer);
        byte[] payload = new byte[8000];
        new Random(9).NextBytes(payload);

        SendFromA(bed, payload, 7041);
        Assert.True(KernelTest.Eventually(() => { capture.CaptureBatch(timeoutMs: 50); return capture.Packets == 1; }, TimeSpan.FromSeconds(5)));

        file.Position = 0;
        using var reader = new PcapReader(file, leaveOpen: true);
        Assert.True(reader.TryReadPacket(out PcapPacket packet));
        Assert.Equal(14 + 20 + 8 + 8000, packet.Data.Length);
        Assert.Equal(payload, packet.Data[(14 + 20 + 8)..]);
        Assert.False(reader.TryReadPacket(out _));
    }

    [Fact]
    public void Tcpdump_reads_the_file_with_its_nanosecond_timestamps()
    {
        // No skip without tcpdump: ExternalCommand fails naming it and its package ("tcpdump is missing: apt-get install tcpdump").
        using var bed = new XskTestBed(XdpAttachMode.Skb, new XskSocketConfig { TxRingSize = 0 });
        string path = Path.Combine(Path.GetTempPath(), $"afxdp-capture-{Guid.NewGuid():N}.pcap");
        try
        {
            using (var writer = new PcapWriter(File.Create(path)))
            {
                var capture = new PcapCapture(bed.Socket.Rx, writer);
                bed.SendFromA(5, 7042);
                Assert.True(KernelTest.Eventually(() => { capture.CaptureBatch(timeoutMs: 50); return capture.Packets == 5; }, TimeSpan.FromSeconds(5)));
            }

            CommandResult tcpdump = ExternalCommand.Run("tcpdump", ["-r", path, "-n", "--nano", "-tt"]);

            Assert.True(tcpdump.Succeeded, tcpdump.Output + tcpdump.Error);
            Assert.Contains("link-type EN10MB (Ethernet)", tcpdump.Error);
            string line = $@"^\d{{10}}\.\d{{9}} IP {Regex.Escape(bed.Lab.AddressA.ToString())}\.\d+ > {Regex.Escape(bed.Lab.AddressB.ToString())}\.7042: UDP, length 26$";
            Assert.Equal(5, Regex.Matches(tcpdump.Output, line, RegexOptions.Multiline).Count);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task The_capture_loop_allocates_nothing()
    {
        using var bed = new XskTestBed(XdpAttachMode.Drv, new XskSocketConfig { TxRingSize = 0, MultiBuffer = true });
        using var file = new MemoryStream(capacity: 16 << 20); // room for every record: writing never grows it
        using var writer = new PcapWriter(file, leaveOpen: true);
        var capture = new PcapCapture(bed.Socket.Rx, writer);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Task sender = bed.Lab.RunAsync(VethSide.A, () =>
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            var destination = new IPEndPoint(bed.Lab.AddressB, 7043);
            byte[] payload = new byte[32];
            for (int i = 0; i < 2_000_000 && !stop.IsCancellationRequested; i++)
                udp.SendTo(payload, destination);
        });
        try
        {
            Assert.Equal(2_000, Capture(capture, 2_000)); // warm-up: JIT, tiering
            long before = GC.GetAllocatedBytesForCurrentThread();
            long captured = Capture(capture, 50_000);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(50_000, captured);
            Assert.Equal(0, allocated);
        }
        finally
        {
            stop.Cancel();
            await sender;
        }
    }

    /// <summary>Captures <paramref name="count"/> packets; bounded by 15 s.</summary>
    static long Capture(PcapCapture capture, long count)
    {
        long target = capture.Packets + count, deadline = System.Diagnostics.Stopwatch.GetTimestamp() + 15 * System.Diagnostics.Stopwatch.Frequency;
        while (capture.Packets < target && System.Diagnostics.Stopwatch.GetTimestamp() < deadline)
            capture.CaptureBatch(timeoutMs: 10, target - capture.Packets);
        return capture.Packets - (target - count);
    }

    static void SendFromA(XskTestBed bed, byte[] payload, int port) => bed.Lab.Run(VethSide.A, () =>
    {
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.SendTo(payload, new IPEndPoint(bed.Lab.AddressB, port));
    });
}
