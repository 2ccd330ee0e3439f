using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Engine;
using AfXdp.KernelTests.Engine;
using AfXdp.KernelTests.Xsk;
using AfXdp.Testing;
using AfXdp.Metrics;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Metrics;

/// <summary>The Meter "AfXdp", read as dotnet-counters and OpenTelemetry read it: with a MeterListener.</summary>
public sealed class MetricsTests
{
    public MetricsTests() => KernelTest.RequireRoot();

    [Fact]
    public void An_engine_publishes_its_counters_kernel_statistics_and_ring_occupancy()
    {
        using VethLab lab = VethLab.Create();
        using var meters = new AfXdpListener();
        using (XdpEngine engine = lab.Run(VethSide.B, () => new XdpEngine(EngineTests.Options(lab))))
        {
            engine.Start(_ => new PacketReflector());
            EngineTests.SendFlowsAndCollectEchoes(lab, flows: 4, perFlow: 25);

            Assert.True(KernelTest.Eventually(() => meters.Read("afxdp.tx.packets", lab.InterfaceB) == 100, TimeSpan.FromSeconds(2)));
            Assert.Equal(100, meters.Read("afxdp.rx.packets", lab.InterfaceB));
            Assert.Equal(engine.Queues[0].Counters.RxBytes, meters.Read("afxdp.rx.bytes", lab.InterfaceB));
            Assert.Equal(engine.Queues[0].Counters.RxBytes, meters.Read("afxdp.tx.bytes", lab.InterfaceB)); // reflected: same sizes
            Assert.True(meters.Read("afxdp.wakeups", lab.InterfaceB) > 0); // copy mode: every TX batch needs a sendto
            foreach (string kernel in (string[])["rx_dropped", "rx_invalid_descs", "tx_invalid_descs", "rx_ring_full", "rx_fill_ring_empty_descs", "tx_ring_empty_descs"])
                Assert.NotNull(meters.Read($"afxdp.xsk.{kernel}", lab.InterfaceB));
            Assert.Equal(0, meters.Read("afxdp.xsk.tx_invalid_descs", lab.InterfaceB));
            // The worker handed every free frame to the FILL ring; the kernel has taken none since the last packet.
            Assert.True(meters.Read("afxdp.ring.occupancy", lab.InterfaceB, ring: "fill") > 0);
            Assert.Equal(0, meters.Read("afxdp.ring.occupancy", lab.InterfaceB, ring: "rx"));
            Assert.Equal(0, meters.Read("afxdp.ring.occupancy", lab.InterfaceB, ring: "completion"));
        }
        Assert.Null(meters.Read("afxdp.rx.packets", lab.InterfaceB)); // a disposed engine is no longer observed
    }

    [Fact]
    public void The_kernel_s_drop_counters_reach_the_instruments()
    {
        using VethLab lab = VethLab.Create();
        // A bound, registered socket whose FILL ring is never filled: the kernel drops every frame.
        (Umem umem, XskSocket socket, XskRedirectProgram program) = lab.Run(VethSide.B, () =>
        {
            var u = new Umem(new UmemOptions { FrameCount = 1024, FillRingSize = 512, CompletionRingSize = 512 });
            var s = new RxSocket(u, lab.InterfaceB, 0, new XskSocketOptions());
            var p = XskRedirectProgram.Attach(lab.InterfaceB, XdpAttachMode.Drv);
            p.Register(s);
            return (u, s, p);
        });
        using var meters = new AfXdpListener();
        try
        {
            using (AfXdpMetrics.Track(socket))
            {
                XskTestBed.SendFromA(lab, 20, port: 7500);
                Assert.True(KernelTest.Eventually(() => meters.Read("afxdp.xsk.rx_dropped", lab.InterfaceB) == 20, TimeSpan.FromSeconds(2)),
                    $"rx_dropped = {meters.Read("afxdp.xsk.rx_dropped", lab.InterfaceB)}");
                Assert.True(meters.Read("afxdp.xsk.rx_fill_ring_empty_descs", lab.InterfaceB) > 0);
                Assert.Equal(0, meters.Read("afxdp.rx.packets", lab.InterfaceB));
            }
        }
        finally
        {
            program.Dispose();
            socket.Dispose();
            umem.Dispose();
        }
    }

    /// <summary>Listens to the Meter "AfXdp" and keeps the last value of each (instrument, interface, ring).</summary>
    sealed class AfXdpListener : IDisposable
    {
        readonly MeterListener _listener = new();
        readonly ConcurrentDictionary<(string Instrument, string Interface, string Ring), long> _values = new();

        public AfXdpListener()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == AfXdpMetrics.MeterName)
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                string iface = "", ring = "";
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    if (tag.Key == "network.interface.name")
                        iface = (string)tag.Value!;
                    else if (tag.Key == "afxdp.ring")
                        ring = (string)tag.Value!;
                }
                _values[(instrument.Name, iface, ring)] = value;
            });
            _listener.Start();
        }

        /// <summary>Collects all observable instruments now and returns one value; null when nothing was measured for it.</summary>
        public long? Read(string instrument, string iface, string ring = "")
        {
            _values.Clear();
            _listener.RecordObservableInstruments();
            return _values.TryGetValue((instrument, iface, ring), out long value) ? value : null;
        }

        public void Dispose() => _listener.Dispose();
    }
}
