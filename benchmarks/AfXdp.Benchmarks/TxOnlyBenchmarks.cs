using AfXdp.Xsk;
using BenchmarkDotNet.Attributes;

namespace AfXdp.Benchmarks;

/// <summary>txonly: COMPLETION peek and release, then TX reserve, write 64 descriptors, submit.</summary>
public class TxOnlyBenchmarks : RingStepBenchmarks
{
    const uint Batch = 64;

    protected override uint BatchSize => Batch;

    [Benchmark(Baseline = true, OperationsPerInvoke = Packets)]
    public ulong Libxdp() => NativeRingSteps.TxOnly(Native, Batch, Iterations);

    [Benchmark(OperationsPerInvoke = Packets)]
    public ulong AfXdp()
    {
        SimulatedXsk xsk = Managed;
        var completion = xsk.Completion;
        var tx = xsk.Tx;
        ulong packets = 0;
        for (uint i = Iterations; i > 0; i--)
        {
            SimulatedXsk.KernelProduce(xsk.CompletionMemory, SimulatedXsk.KernelConsumeAll(xsk.TxMemory));
            uint completed = completion.Peek(Batch, out _);
            completion.Release(completed);
            if (tx.Reserve(Batch, out uint txIndex) == Batch)
            {
                RingSlots<XdpDescriptor> slots = tx.Slots;
                for (uint k = 0; k < Batch; k++)
                    slots[txIndex + k] = new XdpDescriptor { Address = SimulatedXsk.FrameAddress(txIndex + k), Length = SimulatedXsk.FrameSize };
                tx.Submit(Batch);
                packets += Batch;
            }
        }
        return packets;
    }
}
