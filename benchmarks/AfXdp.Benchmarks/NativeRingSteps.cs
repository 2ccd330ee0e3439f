using System.Runtime.InteropServices;

namespace AfXdp.Benchmarks;

/// <summary>native/ring_steps.c: the same steps with libxdp's inline ring verbs, each call a whole loop.</summary>
internal static unsafe partial class NativeRingSteps
{
    const string Library = "afxdp_bench_native";

    [LibraryImport(Library, EntryPoint = "afxdp_bench_create")]
    internal static partial nint Create(uint ringSize, byte* frame);

    [LibraryImport(Library, EntryPoint = "afxdp_bench_destroy")]
    internal static partial void Destroy(nint bench);

    [LibraryImport(Library, EntryPoint = "afxdp_bench_rxdrop")]
    internal static partial ulong RxDrop(nint bench, uint batch, uint iterations);

    [LibraryImport(Library, EntryPoint = "afxdp_bench_txonly")]
    internal static partial ulong TxOnly(nint bench, uint batch, uint iterations);

    [LibraryImport(Library, EntryPoint = "afxdp_bench_l2fwd")]
    internal static partial ulong L2Fwd(nint bench, uint batch, uint iterations);
}
