using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using AfXdp.Cli.Apps;
using AfXdp.Device;
using AfXdp.Interop;
using AfXdp.Testing;
using AfXdp.Net;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>`afxdp capture` and <see cref="PcapCapture"/>: what the socket receives, read back from the pcap file.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CaptureTests
{
    [Fact]
    public async Task Afxdp_capture_writes_the_frames_it_received_byte_for_byte_with_nanosecond_timestamps()
    {
        // B sends known frames from an AF_XDP socket; `afxdp capture` runs on A.
        using var bed = new XskTestBed(attach: null, new XskSocketOptions { RxRingSize = 0 });
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
        using var bed = new XskTestBed(XdpAttachMode.Drv, new XskSocketOptions { MultiBuffer = true, TxRingSize = 0 }, new VethLabOptions { Mtu = 9000 });
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
        using var bed = new XskTestBed(XdpAttachMode.Skb, new XskSocketOptions { TxRingSize = 0 });
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
        using var bed = new XskTestBed(XdpAttachMode.Drv, new XskSocketOptions { TxRingSize = 0, MultiBuffer = true });
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

    const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>A run that fails before the capture starts: no such interface, or a queue the socket cannot bind.</summary>
    [Theory]
    [InlineData("afxdp-none0", 0, "afxdp: if_nametoindex(\"afxdp-none0\") failed: ENODEV")]
    [InlineData("{if}", 5, "afxdp: RxSocket({if}, queue 5) failed: EINVAL")]
    public void A_run_that_fails_before_capturing_leaves_an_existing_target_as_it_was_and_creates_no_file(string interfaceName, int queue, string error)
    {
        using VethLab lab = VethLab.Create();
        DirectoryInfo directory = Directory.CreateTempSubdirectory("afxdp-capture-");
        try
        {
            string existing = Path.Combine(directory.FullName, "old.pcap"), absent = Path.Combine(directory.FullName, "new.pcap");
            File.WriteAllText(existing, "an earlier capture");
            File.SetUnixFileMode(existing, (UnixFileMode)0b110_100_000); // 0640
            string name = interfaceName.Replace("{if}", lab.InterfaceB);
            foreach (string target in (string[])[existing, absent])
            {
                CommandResult run = KernelTest.AfxdpIn(lab, VethSide.B, "capture", "-i", name, "-q", queue.ToString(), "-w", target, "-d", "5");
                Assert.True(run.ExitCode == 1, $"exit code {run.ExitCode}: {run.Output}{run.Error}");
                Assert.StartsWith(error.Replace("{if}", lab.InterfaceB), run.Error);
            }

            Assert.Equal("an earlier capture", File.ReadAllText(existing));
            Assert.Equal((UnixFileMode)0b110_100_000, File.GetUnixFileMode(existing));
            Assert.Equal(["old.pcap"], directory.EnumerateFileSystemInfos().Select(f => f.Name));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The attack of issue 20: in a shared sticky directory (as /tmp), a link at the capture's path points at a root-owned
    /// 0600 file. The capture replaces the link by rename; the file it pointed to keeps its content and mode.
    /// </summary>
    [Fact]
    public void A_symlink_planted_at_the_target_is_replaced_by_the_capture_and_the_file_it_points_to_is_untouched()
    {
        using VethLab lab = VethLab.Create();
        DirectoryInfo shared = Directory.CreateTempSubdirectory("afxdp-shared-"), elsewhere = Directory.CreateTempSubdirectory("afxdp-victim-");
        try
        {
            shared.UnixFileMode = (UnixFileMode)0b1_111_111_111; // 1777, as /tmp
            string victim = Path.Combine(elsewhere.FullName, "victim");
            File.WriteAllText(victim, "root's secret");
            File.SetUnixFileMode(victim, OwnerReadWrite);
            string target = Path.Combine(shared.FullName, "capture.pcap");
            File.CreateSymbolicLink(target, victim);

            (int exit, string output) = RunCapture(lab, 3, $"exec {KernelTest.DotnetHost} {KernelTest.CliPath()} capture -i {lab.InterfaceB} -w {target} -n 3 -d 30");

            Assert.True(exit == 0, output);
            Assert.Equal("root's secret", File.ReadAllText(victim));
            Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(victim));
            Assert.Null(new FileInfo(target).LinkTarget);
            Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(target));
            Assert.Equal(3, Records(target));
            Assert.Equal(["capture.pcap"], shared.EnumerateFileSystemInfos().Select(f => f.Name));
        }
        finally
        {
            shared.Delete(recursive: true);
            elsewhere.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_new_capture_file_is_mode_0600_under_umask_000()
    {
        using VethLab lab = VethLab.Create();
        DirectoryInfo directory = Directory.CreateTempSubdirectory("afxdp-capture-");
        try
        {
            string target = Path.Combine(directory.FullName, "capture.pcap");
            (int exit, string output) = RunCapture(lab, 2, $"umask 000 && exec {KernelTest.DotnetHost} {KernelTest.CliPath()} capture -i {lab.InterfaceB} -w {target} -n 2 -d 30");

            Assert.True(exit == 0, output);
            Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(target));
            Assert.Equal(2, Records(target));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>SIGINT and SIGTERM end the capture as its limits do: what was written so far takes the target's name.</summary>
    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public void A_capture_ended_by_a_signal_is_renamed_into_place_with_the_packets_written_so_far(string signal)
    {
        // A signal ignored when a process starts stays ignored in its children, and .NET leaves it so: then
        // the capture cannot see it. A shell without job control starts `cmd &` with SIGINT ignored.
        ulong ignored = Convert.ToUInt64(File.ReadLines("/proc/self/status").Single(l => l.StartsWith("SigIgn:", StringComparison.Ordinal))[7..].Trim(), 16);
        int number = signal == "INT" ? 2 : 15;
        Assert.True((ignored & (1UL << (number - 1))) == 0,
            $"SIG{signal} is ignored in this test process (SigIgn {ignored:x}), so no child it starts can be stopped by it: the tests were started as a background job of a shell without job control; run them in the foreground or with `set -m`.");
        using VethLab lab = VethLab.Create();
        DirectoryInfo directory = Directory.CreateTempSubdirectory("afxdp-capture-");
        try
        {
            string target = Path.Combine(directory.FullName, "capture.pcap");
            File.WriteAllText(target, "an earlier capture");
            using var capture = ShellIn(lab, $"exec {KernelTest.DotnetHost} {KernelTest.CliPath()} capture -i {lab.InterfaceB} -w {target} -d 60");
            Assert.True(KernelTest.Eventually(() => capture.Lines.Any(l => l.Contains("capturing")) || capture.Process.HasExited, TimeSpan.FromSeconds(30)), capture.Text);
            XskTestBed.SendFromA(lab, 4, port: 7044);
            // Written beside the target; the target stays the earlier capture until the capture ends.
            Assert.True(KernelTest.Eventually(() => directory.GetFiles(".capture.pcap.*") is [var partial] && Records(partial.FullName) == 4, TimeSpan.FromSeconds(10)), capture.Text);
            Assert.Equal("an earlier capture", File.ReadAllText(target));

            ExternalCommand.Run("kill", [$"-{signal}", capture.Process.Id.ToString()]);

            Assert.True(capture.Process.WaitForExit(TimeSpan.FromSeconds(15)), capture.Text);
            Assert.True(capture.Process.ExitCode == 0, capture.Text);
            Assert.Equal(4, Records(target));
            Assert.Equal(["capture.pcap"], directory.EnumerateFileSystemInfos().Select(f => f.Name));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Capture_to_standard_output_streams_pcap_that_tcpdump_reads_from_a_pipe()
    {
        // No skip without tcpdump: the shell fails naming it (tcpdump: not found) and the count below is 0.
        using VethLab lab = VethLab.Create();
        (int exit, string output) = RunCapture(lab, 5,
            $"{KernelTest.DotnetHost} {KernelTest.CliPath()} capture -i {lab.InterfaceB} -w - -n 5 -d 30 | tcpdump -r - -n");

        Assert.True(exit == 0, output);
        Assert.Contains($"capturing {lab.InterfaceB} queue 0 to standard output:", output);
        Assert.Contains("wrote 5 packets", output);
        string line = $@"IP {Regex.Escape(lab.AddressA.ToString())}\.\d+ > {Regex.Escape(lab.AddressB.ToString())}\.7044: UDP, length 26";
        Assert.Equal(5, Regex.Matches(output, line).Count);
    }

    /// <summary>Runs <paramref name="script"/> in B's namespace; once it prints its "capturing" line, A sends <paramref name="packets"/> datagrams. Its exit code and both streams.</summary>
    static (int ExitCode, string Output) RunCapture(VethLab lab, int packets, string script)
    {
        using var capture = ShellIn(lab, script);
        Assert.True(KernelTest.Eventually(() => capture.Lines.Any(l => l.Contains("capturing")) || capture.Process.HasExited, TimeSpan.FromSeconds(30)), capture.Text);
        XskTestBed.SendFromA(lab, packets, port: 7044);
        Assert.True(capture.Process.WaitForExit(TimeSpan.FromSeconds(30)), capture.Text);
        capture.Process.WaitForExit(); // the output handlers drain
        return (capture.Process.ExitCode, capture.Text);
    }

    static ShellRun ShellIn(VethLab lab, string script)
    {
        var start = new System.Diagnostics.ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in (string[])["netns", "exec", lab.NamespaceOf(VethSide.B), "sh", "-c", script])
            start.ArgumentList.Add(arg);
        return new ShellRun(start);
    }

    /// <summary>A shell started in a lab, both of its streams gathered line by line; killed on Dispose if still running.</summary>
    sealed class ShellRun : IDisposable
    {
        readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

        public ShellRun(System.Diagnostics.ProcessStartInfo start)
        {
            Process = new System.Diagnostics.Process { StartInfo = start };
            Process.OutputDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
            Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
            Process.Start();
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
        }

        public System.Diagnostics.Process Process { get; }

        public IEnumerable<string> Lines => _lines;

        public string Text => string.Join('\n', _lines);

        public void Dispose()
        {
            if (!Process.HasExited)
                Process.Kill(entireProcessTree: true);
            Process.Dispose();
        }
    }

    /// <summary>The records in the pcap file at <paramref name="path"/>.</summary>
    static int Records(string path)
    {
        using var reader = new PcapReader(File.OpenRead(path));
        int records = 0;
        while (reader.TryReadPacket(out _))
            records++;
        return records;
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
