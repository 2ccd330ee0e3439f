using System.Buffers.Binary;
using System.Net.Sockets;
using System.Net;
using System.Text.RegularExpressions;
using AfXdp.Net;
using AfXdp.TestShared;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Readme;

/// <summary>
/// The README's receive loop and the guide's turn-around loop (docs/guide/concepts.md), compiled here and run
/// against a veth lab. Each example's lines between its region markers must appear in its document as they are
/// here (the test fails naming the example), so the docs show code that builds and works.
/// </summary>
public sealed partial class ReadmeExampleTests
{
    static void ReceiveExample(string interfaceName, Action<string> log, CancellationToken stop)
    {
        #region receive
        using var umem = new Umem();
        using var socket = new RxSocket(umem, interfaceName, queueId: 0);
        using var program = XskRedirectProgram.Attach(interfaceName);
        program.Register(socket);
        socket.Fill.Populate(0, socket.Fill.Size);
        while (!stop.IsCancellationRequested)
        {
            RxBatch batch = socket.Rx.Receive(64, timeoutMs: 100);
            foreach (RxFrame frame in batch)
                log($"{frame.Length} bytes from {new MacAddress(frame.Data[6..12])}");
            batch.Recycle();
        }
        #endregion
    }

    static long TurnAroundExample(string interfaceName, CancellationToken stop)
    {
        using var umem = new Umem();
        using var socket = new RxTxSocket(umem, interfaceName, queueId: 0);
        using var program = XskRedirectProgram.Attach(interfaceName);
        program.Register(socket);
        socket.Fill.Populate(0, socket.Fill.Size);
        #region turn-around
        while (!stop.IsCancellationRequested)
        {
            socket.Completion.Recycle();                 // sent frames back to the FILL ring
            RxBatch batch = socket.Rx.Receive(64, timeoutMs: 100);
            foreach (RxFrame frame in batch)
            {
                if (EthernetFrame.TryCreate(frame.Data, out EthernetFrame ethernet))
                    ethernet.SwapMacs();                 // modify in place
            }
            batch.Transmit(socket.Tx);                   // onto TX; a syscall only if the kernel asks
        }
        #endregion
        return socket.Counters.TxPackets;
    }

    [Fact]
    public async Task The_receive_example_receives_what_A_sends()
    {
        using VethLab lab = VethLab.Create();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var lines = new List<string>();
        Task receiver = lab.RunAsync(VethSide.B, () => ReceiveExample(lab.InterfaceB, line =>
        {
            lock (lines)
            {
                lines.Add(line);
                if (lines.Count == 20)
                    stop.Cancel();
            }
        }, stop.Token));
        await SendUntil(lab, () => { lock (lines) return lines.Count >= 20 || stop.IsCancellationRequested; });
        await receiver;
        lock (lines)
        {
            Assert.True(lines.Count >= 20, $"{lines.Count} frames received");
            Assert.All(lines, line => Assert.Equal($"74 bytes from {lab.MacA}", line));
        }
    }

    [Fact]
    public async Task The_turn_around_example_sends_every_frame_back()
    {
        const int Wanted = 20;
        using VethLab lab = VethLab.Create();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Task<long> forwarder = lab.RunAsync(VethSide.B, () => TurnAroundExample(lab.InterfaceB, stop.Token));
        using var listening = new ManualResetEventSlim();
        Task<Echoes> echoes = lab.RunAsync(VethSide.A, () => CaptureEchoes(lab, Wanted, listening, TimeSpan.FromSeconds(15)));
        Assert.True(listening.Wait(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken), "A's capture socket did not open");
        await SendUntil(lab, () => echoes.IsCompleted);
        (Dictionary<uint, byte[]> sent, List<(uint Number, byte[] Frame)> returned) = await echoes;
        stop.Cancel();
        long completed = await forwarder;

        // Frames sent before the forwarder was up went to B's stack; from the first that came back on, every
        // frame comes back, once, in order, as sent but for the swapped MACs.
        Assert.True(returned.Count == Wanted, $"{returned.Count} of {Wanted} frames came back to A");
        uint first = returned[0].Number;
        Assert.Equal(Enumerable.Range(0, Wanted).Select(i => first + (uint)i), returned.Select(r => r.Number));
        foreach ((uint number, byte[] frame) in returned)
        {
            byte[] original = sent[number];
            byte[] expected = [.. original.AsSpan(6, 6), .. original.AsSpan(0, 6), .. original.AsSpan(12)];
            Assert.True(expected.AsSpan().SequenceEqual(frame), $"frame {number} came back as {Convert.ToHexString(frame)}, sent {Convert.ToHexString(original)}");
        }
        Assert.True(completed >= Wanted, $"{completed} frames completed");
    }

    [Theory]
    [InlineData("receive", "README.md")]
    [InlineData("turn-around", "docs/guide/concepts.md")]
    public void The_document_shows_the_example_as_compiled(string region, string document)
    {
        string[] code = Region(File.ReadAllText(SourcePath()), region);
        Assert.True(code.Length is > 4 and <= 16, $"{region}: {code.Length} lines");
        int loop = Array.FindIndex(code, l => l.StartsWith("while", StringComparison.Ordinal));
        Assert.True(loop >= 0 && code.Length - loop - 2 <= 10, $"{region}: the loop's body has more than 10 lines");
        string readme = File.ReadAllText(Repository.PathOf(document.Split('/')));
        string[] readmeLines = [.. readme.Split('\n').Select(l => l.TrimEnd())];
        int start = Array.IndexOf(readmeLines, code[0]);
        while (start >= 0 && !code.Select((l, i) => start + i < readmeLines.Length && readmeLines[start + i] == l).All(x => x))
            start = Array.IndexOf(readmeLines, code[0], start + 1);
        Assert.True(start >= 0, $"{document} does not show the {region} example as compiled in {nameof(ReadmeExampleTests)}; its first line: {code[0]}");
    }

    static string[] Region(string source, string name)
    {
        Match m = Regex.Match(source, $@"#region {Regex.Escape(name)}\r?\n(?<body>.*?)\n\s*#endregion", RegexOptions.Singleline);
        Assert.True(m.Success, $"no region {name}");
        string[] lines = m.Groups["body"].Value.Split('\n').Select(l => l.TrimEnd()).ToArray();
        int indent = lines.Where(l => l.Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return [.. lines.Select(l => l.Length >= indent ? l[indent..] : l)];
    }

    static string SourcePath() => Repository.PathOf("tests", "AfXdp.KernelTests", "Readme", "ReadmeExampleTests.cs");

    /// <summary>
    /// A's kernel sends 32-byte UDP datagrams to B (74-byte frames) every 10 ms until <paramref name="done"/>, for
    /// at most 15 s; each payload starts with its number (big-endian, from 0), so that each frame can be told apart.
    /// </summary>
    static Task SendUntil(VethLab lab, Func<bool> done) => lab.RunAsync(VethSide.A, () =>
    {
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var destination = new IPEndPoint(lab.AddressB, 7020);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        byte[] payload = new byte[32];
        for (uint number = 0; !done() && clock.Elapsed < TimeSpan.FromSeconds(15); number++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(payload, number);
            udp.SendTo(payload, destination);
            Thread.Sleep(10);
        }
    });

    /// <summary>The datagrams A sent to B's port 7020 by number, and those that came back (B's MAC as source) in arrival order.</summary>
    readonly record struct Echoes(Dictionary<uint, byte[]> Sent, List<(uint Number, byte[] Frame)> Returned);

    /// <summary>
    /// Watches A's interface (AF_PACKET sees A's own frames going out too) until <paramref name="wanted"/> frames
    /// came back or <paramref name="timeout"/> passed; sets <paramref name="listening"/> once the socket is open.
    /// </summary>
    static Echoes CaptureEchoes(VethLab lab, int wanted, ManualResetEventSlim listening, TimeSpan timeout)
    {
        using var raw = new Socket(AddressFamily.Packet, SocketType.Raw, (ProtocolType)IPAddress.HostToNetworkOrder((short)0x0003));
        raw.ReceiveTimeout = 200;
        listening.Set();
        byte[] buffer = new byte[2048];
        byte[] macA = new byte[MacAddress.Length], macB = new byte[MacAddress.Length];
        MacAddress.Parse(lab.MacA).WriteTo(macA);
        MacAddress.Parse(lab.MacB).WriteTo(macB);
        var echoes = new Echoes([], []);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (echoes.Returned.Count < wanted && clock.Elapsed < timeout)
        {
            int n;
            try
            {
                n = raw.Receive(buffer);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
                continue;
            }
            // IPv4 without options, UDP to port 7020, the payload's number after the 42 bytes of headers.
            if (n < 46 || buffer[12] != 0x08 || buffer[13] != 0x00 || buffer[23] != 17 || (buffer[36] << 8 | buffer[37]) != 7020)
                continue;
            uint number = BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(42));
            byte[] frame = buffer[..n];
            if (frame.AsSpan(6, 6).SequenceEqual(macA))
                echoes.Sent[number] = frame;
            else if (frame.AsSpan(6, 6).SequenceEqual(macB))
                echoes.Returned.Add((number, frame));
        }
        return echoes;
    }
}
