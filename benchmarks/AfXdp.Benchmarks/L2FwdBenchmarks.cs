using AfXdp.Net;
using AfXdp.Xsk;
using BenchmarkDotNet.Attributes;

namespace AfXdp.Benchmarks;

/// <summary>l2fwd: RX peek, TX reserve, per frame swap the MACs and write the TX descriptor, TX submit, RX release.</summary>
public unsafe class L2FwdBenchmarks : RingStepBenchmarks
{
    const uint Batch = 64;

    protected override uint BatchSize => Batch;

    [Benchmark(Baseline = true, OperationsPerInvoke = Packets)]
    public ulong Libxdp() => NativeRingSteps.L2Fwd(Native, Batch, Iterations);

    [Benchmark(OperationsPerInvoke = Packets)]
    public ulong AfXdp()
    {
        SimulatedXsk xsk = Managed;
        var rx = xsk.Rx;
        var tx = xsk.Tx;
        byte* pool = xsk.Pool;
        ulong packets = 0;
        for (uint i = Iterations; i > 0; i--)
        {
            SimulatedXsk.KernelProduce(xsk.RxMemory, Batch);
            SimulatedXsk.KernelConsumeAll(xsk.TxMemory);
            uint received = rx.Peek(Batch, out uint rxIndex);
            if (tx.Reserve(received, out uint txIndex) == received)
            {
                RingEntries<XdpDescriptor> entries = rx.Entries;
                RingSlots<XdpDescriptor> slots = tx.Slots;
                for (uint k = 0; k < received; k++)
                {
                    XdpDescriptor descriptor = entries[rxIndex + k];
                    if (EthernetFrame.TryCreate(new Span<byte>(pool + descriptor.Address, (int)descriptor.Length), out var frame))
                        frame.SwapMacs();
                    slots[txIndex + k] = descriptor with { Options = 0 };
                }
                tx.Submit(received);
                packets += received;
            }
            rx.Release(received);
        }
        return packets;
    }
}
