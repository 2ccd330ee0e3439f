using System.Runtime.InteropServices;
using AfXdp.Xsk;

namespace AfXdp.Tests.Xsk;

/// <summary>The frame ledger on fake ring memory, playing the kernel's side by hand.</summary>
public sealed unsafe class FrameLedgerTests : IDisposable
{
    const uint Size = 8;
    const uint FrameSize = 2048;

    /// <summary>One ring's shared memory: producer, consumer, flags, entries.</summary>
    sealed class FakeRing : IDisposable
    {
        readonly uint* _memory = (uint*)NativeMemory.AllocZeroed(4 * sizeof(uint) + Size * 16);

        public RingMemory Memory => new(_memory, _memory + 1, _memory + 2, _memory + 4, Size);

        public ref uint Producer => ref _memory[0];

        public ref uint Consumer => ref _memory[1];

        public ulong* Addresses => (ulong*)(_memory + 4);

        public XdpDescriptor* Descriptors => (XdpDescriptor*)(_memory + 4);

        public void Dispose() => NativeMemory.Free(_memory);
    }

    readonly FakeRing _fillMemory = new(), _completionMemory = new(), _rxMemory = new(), _txMemory = new();
    readonly FillRing _fill;
    readonly CompletionRing _completion;
    readonly RxRing _rx;
    readonly TxRing _tx;
    readonly FrameLedger _ledger = new(new UmemOptions { FrameCount = 16, FrameSize = FrameSize });

    public FrameLedgerTests()
    {
        _fill = new FillRing(_fillMemory.Memory);
        _completion = new CompletionRing(_completionMemory.Memory);
        _rx = new RxRing(_rxMemory.Memory);
        _tx = new TxRing(_txMemory.Memory);
        // What Watch(socket) does for a socket's rings, all starting at index 0 here.
        foreach (object ring in new object[] { _fill, _completion, _rx, _tx })
            _ledger.Find(ring, 0);
    }

    public void Dispose()
    {
        _fillMemory.Dispose();
        _completionMemory.Dispose();
        _rxMemory.Dispose();
        _txMemory.Dispose();
    }

    static ulong Frame(uint frame) => frame * FrameSize;

    void Fill(params uint[] frames)
    {
        Assert.Equal((uint)frames.Length, _fill.Reserve((uint)frames.Length, out uint index));
        for (int i = 0; i < frames.Length; i++)
            _fill[index + (uint)i] = Frame(frames[i]);
        _ledger.SubmitFill(_fill, index, (uint)frames.Length);
    }

    void Send(params uint[] frames)
    {
        Assert.Equal((uint)frames.Length, _tx.Reserve((uint)frames.Length, out uint index));
        for (int i = 0; i < frames.Length; i++)
            _tx[index + (uint)i] = new XdpDescriptor { Address = Frame(frames[i]), Length = 60 };
        _ledger.SubmitTx(_tx, index, (uint)frames.Length);
    }

    /// <summary>The kernel takes <paramref name="count"/> FILL entries and delivers them to RX, 256 bytes in.</summary>
    void KernelReceives(uint count)
    {
        for (uint i = 0; i < count; i++)
        {
            ulong address = _fillMemory.Addresses[(_fillMemory.Consumer + i) % Size];
            _rxMemory.Descriptors[(_rxMemory.Producer + i) % Size] = new XdpDescriptor { Address = address + 256, Length = 60 };
        }
        _fillMemory.Consumer += count;
        _rxMemory.Producer += count;
    }

    /// <summary>The kernel takes <paramref name="count"/> TX descriptors and completes them.</summary>
    void KernelSends(uint count)
    {
        for (uint i = 0; i < count; i++)
            _completionMemory.Addresses[(_completionMemory.Producer + i) % Size] = _txMemory.Descriptors[(_txMemory.Consumer + i) % Size].Address;
        _txMemory.Consumer += count;
        _completionMemory.Producer += count;
    }

    [Fact]
    public void Every_frame_starts_with_the_application()
    {
        Assert.Equal(new FrameCensus(Free: 16, 0, 0, 0, 0, 0, 0), _ledger.Census());
        Assert.Equal(FrameOwner.Application, _ledger.OwnerOf(Frame(15)));
        Assert.Empty(_ledger.Leaks());
    }

    [Fact]
    public void A_frame_is_followed_through_every_owner_and_back()
    {
        Fill(3);
        Assert.Equal(FrameOwner.Fill, _ledger.OwnerOf(Frame(3)));
        _fillMemory.Consumer++; // taken by the kernel, no packet yet
        Assert.Equal(FrameOwner.Kernel, _ledger.OwnerOf(Frame(3)));
        _fillMemory.Consumer--;
        KernelReceives(1);
        Assert.Equal(FrameOwner.Rx, _ledger.OwnerOf(Frame(3) + 100));

        Assert.Equal(1u, _ledger.PeekRx(_rx, 8, out uint rxIndex));
        Assert.Equal(Frame(3) + 256, _rx[rxIndex].Address);
        Assert.Equal(FrameOwner.Application, _ledger.OwnerOf(Frame(3)));
        Assert.Equal(new FrameCensus(Free: 15, Held: 1, 0, 0, 0, 0, 0), _ledger.Census());
        Send(3); // forwarded as it is
        _ledger.ReleaseRx(_rx, 1);
        Assert.Equal(FrameOwner.Tx, _ledger.OwnerOf(Frame(3)));
        _txMemory.Consumer++;
        Assert.Equal(FrameOwner.Kernel, _ledger.OwnerOf(Frame(3)));
        _txMemory.Consumer--;
        KernelSends(1);
        Assert.Equal(FrameOwner.Completion, _ledger.OwnerOf(Frame(3)));
        Assert.Single(_ledger.Leaks());

        Assert.Equal(1u, _ledger.PeekCompletion(_completion, 8, out _));
        _ledger.ReleaseCompletion(_completion, 1);
        Assert.Equal(FrameOwner.Application, _ledger.OwnerOf(Frame(3)));
        _ledger.Free(Frame(3));
        Assert.Equal(new FrameCensus(Free: 16, 0, 0, 0, 0, 0, 0), _ledger.Census());
        _ledger.Dispose();
    }

    [Fact]
    public void A_double_submit_to_the_FILL_ring_throws_naming_the_frame()
    {
        Fill(5);
        var e = Assert.Throws<FrameLedgerException>(() => Fill(5));
        Assert.Equal(5u, e.Frame);
        Assert.Equal(FrameOwner.Fill, e.Owner);
        Assert.Contains("frame 5 is already given to a FILL ring (in a FILL ring): a double submit", e.Message);
        Assert.Equal(0, e.Errno);
    }

    [Fact]
    public void A_frame_reused_before_its_completion_throws()
    {
        Send(7);
        var again = Assert.Throws<FrameLedgerException>(() => Send(7));
        Assert.Contains("its completion has not been taken yet (in a TX ring)", again.Message);
        Assert.Contains("or send it twice", again.Message);
        KernelSends(1); // sent, the completion not yet reaped
        var refill = Assert.Throws<FrameLedgerException>(() => Fill(7));
        Assert.Equal(FrameOwner.Completion, refill.Owner);
        Assert.Contains("reuse a sent frame only after PeekCompletion returned its address", refill.Message);
    }

    [Fact]
    public void A_frame_in_the_FILL_ring_cannot_be_sent()
    {
        Fill(2);
        Assert.Contains("the kernel may receive a packet into it while it is being sent", Assert.Throws<FrameLedgerException>(() => Send(2)).Message);
    }

    [Fact]
    public void The_kernel_returning_a_frame_it_was_never_given_throws()
    {
        _rxMemory.Descriptors[0] = new XdpDescriptor { Address = Frame(9), Length = 60 };
        _rxMemory.Producer = 1;
        var e = Assert.Throws<FrameLedgerException>(() => _ledger.PeekRx(_rx, 8, out _));
        Assert.Contains("the kernel delivered a frame the ledger never gave to a FILL ring: frame 9 is free with the application", e.Message);
    }

    [Theory]
    [InlineData(16 * FrameSize)]
    [InlineData(ulong.MaxValue)]
    [InlineData((1UL << 48) | 64)] // an unaligned-mode offset on an aligned UMEM
    public void Addresses_outside_the_UMEM_throw(ulong address)
    {
        Assert.Equal(1u, _tx.Reserve(1, out uint index));
        _tx[index] = new XdpDescriptor { Address = address, Length = 60 };
        var e = Assert.Throws<FrameLedgerException>(() => _ledger.SubmitTx(_tx, index, 1));
        Assert.Equal(uint.MaxValue, e.Frame);
        Assert.Contains("is outside the UMEM (32768 bytes", e.Message);
        Assert.Throws<FrameLedgerException>(() => _ledger.Free(address));
    }

    [Fact]
    public void Submitting_at_an_index_the_ledger_did_not_see_coming_throws()
    {
        Fill(1);
        Assert.Equal(1u, _fill.Reserve(1, out uint index));
        _fill[index] = Frame(2);
        Assert.Contains("the ring's next unsubmitted slot is 1, not 5", Assert.Throws<FrameLedgerException>(() => _ledger.SubmitFill(_fill, index + 4, 1)).Message);
        Assert.Throws<FrameLedgerException>(() => _ledger.ReleaseRx(_rx, 1));
    }

    [Fact]
    public void Dispose_reports_held_and_unfinished_frames()
    {
        Fill(0, 1);
        KernelReceives(2);
        Assert.Equal(2u, _ledger.PeekRx(_rx, 8, out _));
        _ledger.ReleaseRx(_rx, 2);
        Send(1);

        var e = Assert.Throws<FrameLedgerException>(_ledger.Dispose);
        Assert.Contains("with 2 of 16 frames unaccounted for", e.Message);
        Assert.Contains("frame 0 (0x0): held by the application, never given to a ring or freed [Application]", e.Message);
        Assert.Contains("frame 1 (0x800): sent, its completion not yet taken from the COMPLETION ring [Tx]", e.Message);
        _ledger.Dispose(); // reported once
    }

    [Fact]
    public void Frames_given_to_the_FILL_ring_are_not_leaks()
    {
        Fill(0, 1, 2);
        KernelReceives(1);
        Assert.Equal(new FrameCensus(Free: 13, 0, Fill: 2, 0, Rx: 1, 0, 0), _ledger.Census());
        _ledger.Dispose();
    }

    [Fact]
    public void Unaligned_buffers_belong_to_the_frame_they_start_in()
    {
        var ledger = new FrameLedger(new UmemOptions { FrameCount = 16, FrameSize = FrameSize, UnalignedChunks = true });
        Assert.Equal(1u, _tx.Reserve(2, out uint index) / 2);
        _tx[index] = new XdpDescriptor { Address = Frame(4) + 2000, Length = 60 }; // straddles into frame 5
        _tx[index + 1] = new XdpDescriptor { Address = Frame(4) + 10, Length = 60 };
        var e = Assert.Throws<FrameLedgerException>(() => ledger.SubmitTx(_tx, index, 2));
        Assert.Equal(4u, e.Frame);
        _tx.Cancel(2);
    }

    [Fact]
    public void The_ledger_verbs_allocate_nothing()
    {
        // l2fwd through the ledger: four frames received, forwarded, completed and freed per round.
        void Round()
        {
            _fill.Reserve(4, out uint fillIndex);
            for (uint i = 0; i < 4; i++)
                _fill[fillIndex + i] = Frame(i);
            _ledger.SubmitFill(_fill, fillIndex, 4);
            KernelReceives(4);
            uint n = _ledger.PeekRx(_rx, 8, out uint rxIndex);
            _tx.Reserve(n, out uint txIndex);
            for (uint i = 0; i < n; i++)
                _tx[txIndex + i] = _rx[rxIndex + i];
            _ledger.SubmitTx(_tx, txIndex, n);
            _ledger.ReleaseRx(_rx, n);
            KernelSends(n);
            n = _ledger.PeekCompletion(_completion, 8, out _);
            _ledger.ReleaseCompletion(_completion, n);
            for (uint frame = 0; frame < 4; frame++)
                _ledger.Free(Frame(frame));
        }
        Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            Round();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(new FrameCensus(Free: 16, 0, 0, 0, 0, 0, 0), _ledger.Census());
    }
}
