using System.Text.RegularExpressions;
using AfXdp.Device;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>
/// A UMEM on 2 MiB huge pages (<see cref="UmemOptions.HugePages"/>). Each test sets vm.nr_hugepages to what it
/// needs and puts the old value back; a machine that cannot give the pages fails the test, naming how many it gave.
/// </summary>
public sealed partial class HugePageTests : IDisposable
{
    const string NrHugePages = "/proc/sys/vm/nr_hugepages";
    // 1024 frames of 4096 bytes: 4 MiB, two huge pages.
    const uint Frames = 1024;
    const long Pages = 2;
    readonly string _saved;
    readonly long _inUse;

    public HugePageTests()
    {
        KernelTest.RequireRoot();
        _saved = File.ReadAllText(NrHugePages).Trim();
        _inUse = InUse();
    }

    /// <summary>
    /// Waits for the UMEM's pages to come back (the kernel unpins them in deferred work after the socket's
    /// close, xdp_umem_release_deferred), so that the next test counts from the same pool, then restores it.
    /// </summary>
    public void Dispose()
    {
        bool released = KernelTest.Eventually(() => InUse() <= _inUse, TimeSpan.FromSeconds(5));
        File.WriteAllText(NrHugePages, _saved);
        Assert.True(released, $"{InUse() - _inUse} huge pages still in use 5 s after the UMEM was disposed");
    }

    static long InUse() => Meminfo("HugePages_Total") - Meminfo("HugePages_Free");

    [GeneratedRegex(@"^(\w+):\s+(\d+)", RegexOptions.Multiline)]
    private static partial Regex MeminfoLine();

    /// <summary>A HugePages_* count of /proc/meminfo.</summary>
    static long Meminfo(string field) => long.Parse(MeminfoLine().Matches(File.ReadAllText("/proc/meminfo")).Single(m => m.Groups[1].Value == field).Groups[2].Value);

    /// <summary>Sets the pool so that exactly <paramref name="free"/> huge pages are free (the ones in use stay).</summary>
    void KeepFree(long free)
    {
        File.WriteAllText(NrHugePages, (_inUse + free).ToString());
        long got = Meminfo("HugePages_Free");
        Assert.True(got == free, $"asked the kernel for {free} free 2 MiB huge pages ({NrHugePages} = {_inUse + free}), it gave {got}: memory too fragmented?");
    }

    static UmemOptions Config(HugePages hugePages, bool shareable = false) =>
        new() { FrameCount = Frames, FillRingSize = 512, CompletionRingSize = 512, HugePages = hugePages, Shareable = shareable };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_UMEM_on_huge_pages_takes_them_and_receives_frames(bool shareable)
    {
        KeepFree(Pages);
        using var bed = new XskTestBed(XdpAttachMode.Skb, umemConfig: Config(HugePages.Required, shareable));
        Assert.True(bed.Umem.UsesHugePages);
        Assert.Equal(0, Meminfo("HugePages_Free")); // MAP_POPULATE: both pages are the UMEM's from the start

        const int Count = 20;
        bed.SendFromA(Count, 9);
        List<byte[]> frames = XskTestBed.Receive(bed.Socket, Count, TimeSpan.FromSeconds(5));
        Assert.Equal(Enumerable.Range(0, Count).Select(i => System.Text.Encoding.ASCII.GetString(XskTestBed.Payload(i))),
            frames.Select(f => XskTestBed.UdpPayload(f, out _)));
    }

    [Fact]
    public void Required_huge_pages_that_are_not_free_are_an_error_naming_the_fix_and_IfAvailable_falls_back()
    {
        KeepFree(Pages - 1);
        AfXdpException e = Assert.Throws<AfXdpException>(() => new Umem(Config(HugePages.Required)));
        Assert.Contains("not enough free 2 MiB huge pages", e.Cause);
        Assert.Contains($"`echo {Pages} > {NrHugePages}`", e.Fix);

        using var umem = new Umem(Config(HugePages.IfAvailable));
        Assert.False(umem.UsesHugePages);
        Assert.Equal(Pages - 1, Meminfo("HugePages_Free"));
    }
}
