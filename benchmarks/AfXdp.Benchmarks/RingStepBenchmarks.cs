using BenchmarkDotNet.Attributes;

namespace AfXdp.Benchmarks;

/// <summary>
/// One xdpsock step, run <see cref="Packets"/>/batch times per invocation against both the library's
/// rings and the C baseline, each over its own copy of the same memory layout.
/// </summary>
[MemoryDiagnoser]
public abstract unsafe class RingStepBenchmarks
{
    /// <summary>Packets per invocation: every reported time is per packet.</summary>
    protected const int Packets = 64 * 1024;

    SimulatedXsk? _managed;
    nint _native;

    protected SimulatedXsk Managed => _managed!;
    protected nint Native => _native;
    protected abstract uint BatchSize { get; }
    protected uint Iterations => Packets / BatchSize;

    [GlobalSetup]
    public void Setup()
    {
        _managed = new SimulatedXsk();
        fixed (byte* frame = SimulatedXsk.Frame())
        {
            try
            {
                _native = NativeRingSteps.Create(SimulatedXsk.RingSize, frame);
            }
            catch (DllNotFoundException e)
            {
                throw new InvalidOperationException(
                    "libafxdp_bench_native.so was not built: apt-get install libxdp-dev, then rebuild.", e);
            }
        }
        if (_native == 0)
            throw new OutOfMemoryException("afxdp_bench_create could not allocate its rings.");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _managed?.Dispose();
        NativeRingSteps.Destroy(_native);
    }
}
