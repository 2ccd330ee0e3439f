using System.Net.Sockets;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.DevicePlugin;
using AfXdp.Engine;
using AfXdp.Xsk;
using AfXdp.Udp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using AfXdp.Hosting;

namespace AfXdp.Tests.Docs;

/// <summary>
/// The C# blocks of docs/guide/*.md and docs/hosting.md, each between region markers, so that the build compiles
/// them; <see cref="GuideExampleTests"/> checks that the documents show them line for line. They are compiled, not
/// run: each needs an interface (the README's loops and the UDP example are also run, by the kernel tests).
/// </summary>
internal static class GuideExamples
{
    internal static void Steering(RxSocket socket)
    {
        #region steering
        using var program = XskRedirectProgram.Attach("eth0", filter: PacketFilter.Parse("udp dst port 4791"));
        program.Register(socket);
        SteeringCounters c = program.ReadCounters();   // redirected, not_matched, no_socket
        #endregion
        GC.KeepAlive(c);
    }

    internal static void BringYourOwnProgram(RxSocket socket)
    {
        #region own-program
        using BpfProgram prog = BpfProgram.FromId(NetDevice.Get("eth0").Xdp.First.Id);  // or BpfProgram.OpenPinned("/sys/fs/bpf/...")
        using XskMap xsks = XskMap.OfProgram(prog);                                    // or XskMap.Open(BpfMap.OpenPinned(path))
        xsks.Register(socket);
        #endregion
    }

    internal static void Engine()
    {
        #region engine
        // Workers pinned to CPUs 0 and 1.
        using var engine = new XdpEngine(new XdpEngineOptions { Interface = "eth0", Cores = [0, 1] });
        engine.Start(queue => new Echo());               // one handler per queue, on that queue's thread
        #endregion
    }

    #region engine-handler
    sealed class Echo : IPacketHandler
    {
        public void Handle(XdpQueue queue, Span<Packet> packets)
        {
            foreach (ref Packet p in packets)
                if (PacketReflector.Reflect(p.Data)) p.Transmit();   // or p.Drop(), p.Forward(other), p.Hold()
        }
    }
    #endregion

    internal static async Task AsyncReceive(RxSocket socket, Action<Span<byte>> Process, CancellationToken token)
    {
        #region async
        using var receiver = new XskAsyncReceiver(socket.Rx);   // spins up to 50 µs, then waits on a shared epoll thread
        while (!token.IsCancellationRequested)
        {
            RxBatch batch = await receiver.ReceiveAsync(token);
            foreach (RxFrame frame in batch)
                Process(frame.Data);
            batch.Recycle();                                     // frames to FILL, slots to RX
        }
        #endregion
    }

    internal static void Handoff(Socket client, Socket connection)
    {
        #region handoff
        // privileged, in the interface's namespace
        using var umem = Umem.CreateShareable(new UmemOptions { FrameCount = 4096 });   // memfd, MAP_SHARED
        using var socket = new RxSocket(umem, "eth0", 0);
        using var program = XskRedirectProgram.Attach("eth0");                         // keep it alive while the child runs
        program.Register(socket);
        XskHandoff.Send(client, umem, socket);                                          // memfd + socket fds (SCM_RIGHTS) + layout

        // unprivileged: no capability at all
        using XskHandoffResult received = XskHandoff.Receive(connection);              // maps the memfd and the rings
        var mine = (RxSocket)received.Sockets[0];                                      // same shape as sent: Fill.Populate, Rx.Receive
        #endregion
        GC.KeepAlive(mine);
    }

    internal static void DevicePlugin(RxSocket socket)
    {
        #region device-plugin
        using XskMap map = XskMapSource.Parse("uds").Open("eth0");       // or "pin", "uds:PATH", "pin:PATH"
        // = DevicePluginClient.GetXskMap(DevicePluginProtocol.DefaultSocketPath("eth0"), "eth0")
        map.Register(socket);                                            // XSKMAP[queue] = socket; the plugin's program redirects to it
        #endregion
    }

    internal static void Hosting(string[] args)
    {
        #region hosting
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddUdpService<MyHandler>(builder.Configuration.GetSection("AfXdp"));   // a MyHandler per queue
        builder.Services.AddHealthChecks().AddUdpService();
        builder.Build().Run();
        #endregion
    }

    sealed class MyHandler : IUdpHandler
    {
        public void Handle(UdpBatch batch)
        {
        }
    }
}
