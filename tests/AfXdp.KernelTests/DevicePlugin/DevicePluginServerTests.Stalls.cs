using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AfXdp.Bpf;
using AfXdp.DevicePlugin;
using AfXdp.Interop;
using AfXdp.Testing;
using AfXdp.Cli.DevicePlugin;

namespace AfXdp.KernelTests.DevicePlugin;

/// <summary>The attacks of one client on the others: a passed socket whose close blocks, a slow drip of requests, a crowd of silent clients, escapes for the log.</summary>
public sealed partial class DevicePluginServerTests
{
    Socket Raw()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified) { ReceiveTimeout = 5000, SendTimeout = 5000 };
        socket.Connect(new UnixDomainSocketEndPoint(SocketPath));
        return socket;
    }

    /// <summary>The real client: its map within a second, however the others behave.</summary>
    void ARealClientGetsItsMapPromptly()
    {
        var clock = Stopwatch.StartNew();
        using XskMap received = DevicePluginClient.GetXskMap(SocketPath, Interface, "pod", Short);
        Assert.Equal(_map.Id, received.Id);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the real client waited {clock.Elapsed.TotalMilliseconds:0} ms");
    }

    /// <summary>
    /// A TCP connection inside the lab whose sender has unsent data (the receiver reads nothing), with SO_LINGER
    /// <paramref name="lingerSeconds"/>: the last close of the sender waits for that data, up to the linger time.
    /// </summary>
    static (Socket Sender, Socket Receiver) LingeringTcp(VethLab lab, Socket listener, int lingerSeconds)
    {
        Socket sender = lab.Run(VethSide.A, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { SendBufferSize = 4096 });
        sender.Connect(listener.LocalEndPoint!);
        Socket receiver = listener.Accept();
        sender.Blocking = false;
        byte[] chunk = new byte[4096];
        while (sender.Send(chunk, SocketFlags.None, out SocketError error) > 0 || error != SocketError.WouldBlock) { }
        sender.LingerState = new LingerOption(true, lingerSeconds);
        return (sender, receiver);
    }

    /// <summary>close(2) on the descriptor itself, as a server would, not .NET's Dispose.</summary>
    static void CloseRaw(Socket socket)
    {
        Sys.Close((int)socket.SafeHandle.DangerousGetHandle());
        socket.SafeHandle.SetHandleAsInvalid();
    }

    [Fact]
    public void A_passed_tcp_socket_lingering_40_s_holds_up_neither_its_client_nor_the_next_and_is_reset()
    {
        using VethLab lab = VethLab.Create();
        using Socket listener = lab.Run(VethSide.B, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 });
        listener.Bind(new IPEndPoint(lab.AddressB, 0));
        listener.Listen();

        // The setting is real: closing such a socket ourselves, with a 2 s linger, takes the 2 s.
        (Socket probe, Socket probeReceiver) = LingeringTcp(lab, listener, 2);
        var clock = Stopwatch.StartNew();
        CloseRaw(probe);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.5), $"close took {clock.Elapsed.TotalMilliseconds:0} ms: the data was not left unsent");
        probeReceiver.Dispose();

        (DevicePluginServer server, Task running) = Start(new DevicePluginServerOptions { IdleTimeout = TimeSpan.FromSeconds(3) });
        (Socket sender, Socket receiver) = LingeringTcp(lab, listener, 40);
        using (receiver)
        using (Socket attacker = Raw())
        {
            Assert.Equal("/host_ok", Exchange(attacker, "/connect,pod"));
            Assert.True(Sys.SendWithDescriptors((int)attacker.SafeHandle.DangerousGetHandle(), "/config_busy_poll,20,64"u8, [(int)sender.SafeHandle.DangerousGetHandle()]) > 0);
            CloseRaw(sender);
            clock.Restart();
            Assert.Equal("/nak", Receive(attacker));
            Assert.Equal("0.1", Exchange(attacker, "/version"));
            ARealClientGetsItsMapPromptly();
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"{clock.Elapsed.TotalMilliseconds:0} ms for the answers after the pass");
            // SO_LINGER {1, 0}: the lab's receiver sees the connection reset, not the 40 s wait's orderly end.
            receiver.ReceiveTimeout = 5000;
            byte[] buffer = new byte[65536];
            var reset = Assert.Throws<SocketException>(() => { while (receiver.Receive(buffer) > 0) { } });
            Assert.Equal(SocketError.ConnectionReset, reset.SocketErrorCode);
        }
        Stop(server, running);
    }

    [Fact]
    public void A_client_dripping_version_inside_the_idle_timeout_is_cut_at_the_exchange_deadline_while_others_are_served()
    {
        (DevicePluginServer server, Task running) = Start(new DevicePluginServerOptions { IdleTimeout = TimeSpan.FromMilliseconds(1500), ExchangeTimeout = TimeSpan.FromSeconds(3) });
        using Socket drip = Raw();
        var clock = Stopwatch.StartNew();
        Assert.Equal("/host_ok", Exchange(drip, "/connect,pod"));
        int answered = 0;
        try
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(10) && Exchange(drip, "/version") == "0.1")
            {
                answered++;
                if (answered == 2)
                    ARealClientGetsItsMapPromptly();
                // Well inside the 1.5 s idle timeout: a loaded machine may add hundreds of ms to a round, and an idle cut is not what this tests.
                Thread.Sleep(300);
            }
        }
        catch (SocketException)
        {
            // cut while sending: the same end
        }
        // Cut at the 3 s exchange deadline (plus up to one 300 ms drip and a poll slice), after more than two idle timeouts' worth of answers.
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(4));
        Assert.InRange(answered, 4, 11);
        Stop(server, running);
        Assert.Contains("client 1: still talking after 3 s, the limit of a whole exchange, dropped", _log);
    }

    [Fact]
    public void Twenty_silent_clients_do_not_keep_a_real_one_from_its_map()
    {
        (DevicePluginServer server, Task running) = Start();
        var silent = Enumerable.Range(0, 20).Select(_ => Raw()).ToList();
        try
        {
            ARealClientGetsItsMapPromptly();
            Assert.Equal(21, server.Clients);
            Assert.All(silent, s => Assert.True(s.Connected));
        }
        finally
        {
            silent.ForEach(s => s.Dispose());
        }
        Stop(server, running);
    }

    [Fact]
    public void Control_characters_a_client_sends_reach_the_log_escaped()
    {
        (DevicePluginServer server, Task running) = Start();
        using (Socket client = Raw())
        {
            Assert.Equal("/host_ok", Exchange(client, "/connect,pod\n\u001b[2Jclient 9: /fin\r\u007f\u009b\u202e"));
            Assert.Equal("/nak", Exchange(client, "/x\tyz\\n"));
        }
        Stop(server, running);
        Assert.Contains(@"client 1: /connect,pod\n\x1b[2Jclient 9: /fin\r\x7f\x9b\u202e -> /host_ok", _log);
        Assert.Contains(@"client 1: /x\tyz\\n -> /nak", _log);
        Assert.All(_log, line => Assert.DoesNotContain(line, c => char.IsControl(c) || c == '\u202e'));
    }

    static string Receive(Socket socket)
    {
        byte[] answer = new byte[128];
        return Encoding.ASCII.GetString(answer, 0, socket.Receive(answer));
    }
}
