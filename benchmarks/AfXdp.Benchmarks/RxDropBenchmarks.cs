using AfXdp.Xsk;
using BenchmarkDotNet.Attributes;

namespace AfXdp.Benchmarks;

/// <summary>rxdrop: RX peek, the addresses straight back to FILL, RX release.</summary>
public class RxDropBenchmarks : RingStepBenchmarks
{
    [Params(64u, 16u)]
    public uint Batch { get; set; }

    protected override uint BatchSize => Batch;

    [Benchmark(Baseline = true, OperationsPerInvoke = Packets)]
    public ulong Libxdp() => NativeRingSteps.RxDrop(Native, Batch, Iterations);

    [Benchmark(OperationsPerInvoke = Packets)]
    public ulong AfXdp()
    {
        SimulatedXsk xsk = Managed;
        var rx = xsk.Rx;
        var fill = xsk.Fill;
        uint batch = Batch;
        ulong packets = 0;
        for (uint i = Iterations; i > 0; i--)
        {
            SimulatedXsk.KernelProduce(xsk.RxMemory, batch);
            SimulatedXsk.KernelConsumeAll(xsk.FillMemory);
            uint received = rx.Peek(batch, out uint rxIndex);
            if (fill.Reserve(received, out uint fillIndex) == received)
            {
                RingSlots<ulong> slots = fill.Slots;
                RingEntries<XdpDescriptor> entries = rx.Entries;
                for (uint k = 0; k < received; k++)
                    slots[fillIndex + k] = entries[rxIndex + k].Address;
                fill.Submit(received);
            }
            rx.Release(received);
            packets += received;
        }
        return packets;
    }

    /// <summary>The same step through the batch verbs every caller uses: Receive, then Recycle (counters included).</summary>
    [Benchmark(OperationsPerInvoke = Packets)]
    public ulong AfXdpVerbs()
    {
        SimulatedXsk xsk = Managed;
        RxRing rx = xsk.Rx;
        uint batch = Batch;
        ulong packets = 0;
        for (uint i = Iterations; i > 0; i--)
        {
            SimulatedXsk.KernelProduce(xsk.RxMemory, batch);
            SimulatedXsk.KernelConsumeAll(xsk.FillMemory);
            RxBatch received = rx.Receive(batch);
            received.Recycle();
            packets += received.Count;
        }
        return packets;
    }
}
