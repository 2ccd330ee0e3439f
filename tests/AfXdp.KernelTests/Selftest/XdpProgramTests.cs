using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Testing;
using AfXdp.Xsk;
using static AfXdp.Bpf.Register;

namespace AfXdp.KernelTests.Selftest;

/// <summary>xskxceiver's XDP program scenarios: the program replaced under bound sockets, and a program that drops half.</summary>
public sealed class XdpProgramTests
{
    const int Small = TestFrame.MinimumLength;

    /// <summary>Detach the redirect program and attach a new one while both sockets stay bound: traffic resumes.</summary>
    [Theory, AttachModes]
    public async Task Traffic_continues_after_the_program_is_replaced_under_bound_sockets(XdpAttachMode mode)
    {
        using var pair = new XskPair(mode);
        Task<List<ReceivedPacket>> receiving = pair.StartReceiving(256);
        pair.Send(pair.Stream(256, Small));
        pair.AssertPackets(await receiving, [.. Enumerable.Range(0, 256)], _ => Small);

        uint old = pair.ReplaceProgram();
        uint replacement = pair.Program!.Program.Id;
        Assert.NotEqual(old, replacement);
        Assert.Equal(replacement, pair.Lab.Run(VethSide.B, () => NetDevice.Get(pair.Lab.InterfaceB)).Xdp.ProgramIn(mode));

        receiving = pair.StartReceiving(256);
        pair.Send(pair.Stream(256, Small));
        pair.AssertPackets(await receiving, [.. Enumerable.Range(0, 256)], _ => Small);
        Assert.Equal(default, pair.Receiver.Statistics);
    }

    /// <summary>
    /// An XDP program built with the Assembler builder that counts frames in an array map (atomic fetch-and-add) and
    /// drops every second one: exactly the even packets arrive and the counter saw every packet.
    /// </summary>
    [Theory, AttachModes]
    public async Task A_program_that_drops_every_second_frame_lets_exactly_the_other_half_through(XdpAttachMode mode)
    {
        using var pair = new XskPair(mode, new XskPairOptions { RedirectProgram = false });
        using BpfMap counter = BpfMap.Create(new MapSpec("afxdp_count", MapType.Array, 4, 8, 1));
        using BpfMap xsks = BpfMap.Create(MapSpec.XskMap("afxdp_xsks", 1));
        using BpfProgram program = BpfProgram.LoadXdp(DropEverySecond(counter, xsks));
        using XdpLink link = pair.Lab.Run(VethSide.B, () => XdpLink.Attach(program, pair.Receiver.InterfaceIndex, mode));
        xsks.Update(0, (uint)pair.Receiver.Fd);

        const int count = 257;
        int[] even = [.. Enumerable.Range(0, count).Where(i => i % 2 == 0)];
        Task<List<ReceivedPacket>> receiving = pair.StartReceiving(even.Length);
        pair.Send(pair.Stream(count, Small));
        pair.AssertPackets(await receiving, even, _ => Small);
        var seen = new byte[8];
        Assert.True(counter.TryLookup(new byte[4], seen));
        Assert.Equal((ulong)count, BitConverter.ToUInt64(seen));
        Assert.Equal(default, pair.Receiver.Statistics);
    }

    /// <summary>r1 = fetch_add(&amp;counter[0], 1); odd → XDP_DROP, even → bpf_redirect_map(&amp;xsks, rx_queue_index, XDP_PASS).</summary>
    static ProgramSpec DropEverySecond(BpfMap counter, BpfMap xsks)
    {
        const int XDP_DROP = 1;
        // lock r1 = fetch_add(*(u64 *)(r0 + 0), r1): BPF_STX | BPF_ATOMIC | BPF_DW with BPF_ADD | BPF_FETCH, the old value lands in r1.
        var fetchAdd = new Instruction(Opcode.Stx | Opcode.Atomic | (byte)AccessSize.DoubleWord, (byte)R0 | (byte)R1 << 4, 0, (int)AluOperation.Add | 1);
        return ProgramSpec.FromAssembler("afxdp_drop_half", new Assembler()
            .Mov64(R6, R1)
            .Store(AccessSize.Word, R10, -4, 0)
            .Mov64(R2, R10)
            .Alu64(AluOperation.Add, R2, -4)
            .LoadMap(R1, counter)
            .Call(BpfHelper.MapLookupElem)
            .JumpIf(JumpCondition.Equal, R0, 0, "redirect")
            .Mov64(R1, 1)
            .Emit(fetchAdd)
            .Alu64(AluOperation.And, R1, 1)
            .JumpIf(JumpCondition.NotEqual, R1, 0, "drop")
            .Label("redirect")
            .RedirectToQueueSocket(R6, xsks)
            .Exit()
            .Label("drop")
            .Mov64(R0, XDP_DROP)
            .Exit());
    }
}
