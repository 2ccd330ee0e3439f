using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Interop;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>Bad arguments to the public API, each answered by a typed exception that names the call, never a crash or a hang.</summary>
public sealed class BadInputTests
{
    static T Throws<T>(VethLab lab, Action action) where T : Exception => lab.Run(VethSide.B, () => Assert.ThrowsAny<T>(action));

    [Fact]
    public void Null_empty_undefined_and_out_of_range_arguments_are_refused()
    {
        using VethLab lab = VethLab.Create();
        lab.Run(VethSide.B, () =>
        {
            using var umem = new Umem(new UmemOptions { FrameCount = 64 });
            Assert.Throws<ArgumentNullException>(() => new RxTxSocket(null!, lab.InterfaceB, 0));
            Assert.ThrowsAny<ArgumentException>(() => new RxTxSocket(umem, "", 0));
            Assert.ThrowsAny<ArgumentException>(() => new RxTxSocket(umem, null!, 0));
            Assert.Contains("interface names have at most 15 bytes", Assert.Throws<ArgumentException>(() => new RxTxSocket(umem, new string('x', 16), 0)).Message);
            Assert.Contains("interface index -1", Assert.Throws<ArgumentOutOfRangeException>(() => new RxTxSocket(umem, -1, 0)).Message);
            Assert.Contains($"queue {uint.MaxValue} is not in use", Assert.Throws<AfXdpException>(() => new RxTxSocket(umem, lab.InterfaceB, uint.MaxValue)).Message);
            // A bind that fails in the kernel leaves the UMEM's own descriptor holding rings that cannot be set again.
            using var failed = new Umem(new UmemOptions { FrameCount = 64 });
            Assert.Throws<AfXdpException>(() => new RxTxSocket(failed, lab.InterfaceB, 0, new XskSocketOptions { BindMode = XdpBindMode.ZeroCopy }));
            Assert.Contains($"the UMEM's first socket failed to set up (bind({lab.InterfaceB}, queue 0))",
                Assert.Throws<AfXdpException>(() => new RxTxSocket(failed, lab.InterfaceB, 0)).Message);

            using var fresh = new Umem(new UmemOptions { FrameCount = 64 });
            using var socket = new RxTxSocket(fresh, lab.InterfaceB, 0);
            Assert.Throws<ArgumentOutOfRangeException>(() => socket.PollRx(-2));
            Assert.Contains("timeoutMicroseconds: -1", Assert.Throws<ArgumentOutOfRangeException>(() => socket.EnableBusyPoll(-1, 64)).Message);
            Assert.Contains("budget: 0", Assert.Throws<ArgumentOutOfRangeException>(() => socket.EnableBusyPoll(20, 0)).Message);
            Assert.Contains("budget: 65536", Assert.Throws<ArgumentOutOfRangeException>(() => socket.EnableBusyPoll(20, 65536)).Message);

            Assert.Throws<ArgumentNullException>(() => XskRedirectProgram.Attach((string)null!));
            Assert.Throws<ArgumentNullException>(() => XskRedirectProgram.Attach((NetDevice)null!));
            using BpfProgram program = BpfProgram.LoadXdp(ProgramSpec.FromAssembler("afxdp_pass", new Assembler().Mov64(Register.R0, 2).Exit()));
            Assert.Contains("mode: 3", Assert.Throws<ArgumentOutOfRangeException>(() => XdpLink.Attach(program, socket.InterfaceIndex, (XdpAttachMode)3)).Message);
            Assert.Throws<ArgumentNullException>(() => XdpLink.Attach(null!, socket.InterfaceIndex, XdpAttachMode.Skb));
            Assert.Contains("interface indices start at 1", Assert.Throws<ArgumentOutOfRangeException>(() => XdpLink.Attach(program, 0, XdpAttachMode.Skb)).Message);
            Assert.Throws<ArgumentNullException>(() => BpfProgram.LoadXdp(null!));
            Assert.Throws<ArgumentNullException>(() => ProgramSpec.FromAssembler("afxdp_x", null!));
            Assert.Throws<ArgumentNullException>(() => new Assembler().LoadMap(Register.R1, null!));
            Assert.Equal(Errno.ENOENT, Assert.Throws<AfXdpException>(() => BpfProgram.FromId(uint.MaxValue)).Errno);
            Assert.Contains("MaxEntries = 0", Assert.Throws<ArgumentException>(() => BpfMap.Create(MapSpec.XskMap("afxdp_xsks", 0))).Message);
            Assert.Equal(Errno.EINVAL, Assert.Throws<AfXdpException>(() => BpfMap.Create(new MapSpec("afxdp_bad", MapType.XskMap, 0, 4, 1))).Errno);
        });
        Assert.Throws<ArgumentNullException>(() => lab.Run(VethSide.B, (Action)null!));
        Assert.Throws<ArgumentNullException>(() => NetworkNamespace.Run(lab.NamespaceB, (Func<int>)null!));
    }

    /// <summary>2^32 - 1 frames of 4 KiB, 16 TiB: refused by mmap at once, not an out-of-memory kill while populating.</summary>
    [Fact]
    public void A_UMEM_larger_than_memory_is_ENOMEM_at_once()
    {
        KernelTest.RequireRoot();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = Assert.Throws<AfXdpException>(() => new Umem(new UmemOptions { FrameCount = uint.MaxValue }).Dispose());
        Assert.Equal(Errno.ENOMEM, e.Errno);
        Assert.Contains("the UMEM could not be allocated", e.Message);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }

    /// <summary>A disposed object's descriptor reads as -1: calls fail with EBADF and say it was disposed, instead of reaching a reused descriptor.</summary>
    [Fact]
    public void Objects_used_after_Dispose_fail_with_EBADF()
    {
        using VethLab lab = VethLab.Create();
        lab.Run(VethSide.B, () =>
        {
            var umem = new Umem(new UmemOptions { FrameCount = 64 });
            var socket = new RxTxSocket(umem, lab.InterfaceB, 0);
            XskRedirectProgram program = XskRedirectProgram.Attach(lab.InterfaceB, XdpAttachMode.Skb);
            program.Register(socket);
            socket.Dispose();
            socket.Dispose();
            umem.Dispose();
            umem.Dispose();

            foreach (Action call in new Action[] { () => _ = socket.Statistics, () => socket.WakeupTx(), () => socket.WakeupRx(), () => socket.PollRx(10) })
            {
                AfXdpException e = Assert.ThrowsAny<AfXdpException>(call);
                Assert.Equal(Errno.EBADF, e.Errno);
                Assert.Contains("was disposed", e.Message);
            }
            Assert.Equal(Errno.EBADF, Assert.ThrowsAny<AfXdpException>(() => program.Register(socket)).Errno);
            Assert.Throws<ObjectDisposedException>(() => new RxTxSocket(umem, lab.InterfaceB, 0));
            program.Dispose();
            program.Dispose();
        });
    }

    /// <summary>A ring keeps its mapping alive: the socket may be collected while someone still reads its RX ring.</summary>
    [Fact]
    public void A_ring_outlives_its_collected_socket()
    {
        using VethLab lab = VethLab.Create();
        (RxRing rx, FillRing fill) = lab.Run(VethSide.B, () =>
        {
            var umem = new Umem(new UmemOptions { FrameCount = 64 });
            var socket = new RxTxSocket(umem, lab.InterfaceB, 0);
            return (socket.Rx, socket.Fill);
        });
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.Equal(0u, rx.Peek(64, out _));
        Assert.Equal(64u, fill.Reserve(64, out _));
    }
}
