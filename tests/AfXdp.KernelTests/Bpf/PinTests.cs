using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Interop;
using AfXdp.KernelTests.Xsk;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Bpf;

/// <summary>
/// Pins in bpffs, and programs made by other tools: each test runs in a mount namespace of its own
/// whose /sys/fs/bpf starts unmounted, as under `ip netns exec`.
/// </summary>
public sealed class PinTests
{
    public PinTests() => KernelTest.RequireRoot();

    internal static bool ProgramExists(uint id)
    {
        try
        {
            BpfProgram.FromId(id).Dispose();
            return true;
        }
        catch (AfXdpException e) when (e.Errno == Errno.ENOENT)
        {
            return false;
        }
    }

    [Fact]
    public void Pinned_maps_and_programs_outlive_their_handles_and_open_by_path() => PrivateMounts.Run(() =>
    {
        const string dir = "/sys/fs/bpf/afxdp_test";
        Assert.False(BpfFs.IsBpfFs(BpfFs.DefaultMount));
        uint mapId, programId;
        using (ArrayMap<ulong> map = ArrayMap<ulong>.Create("afxdp_pinned", 2))
        using (BpfProgram program = BpfProgram.LoadXdp(ProgramSpec.FromAssembler("afxdp_pinned", new Assembler().Mov64(Register.R0, 2).Exit())))
        {
            map[1] = 77;
            map.Pin($"{dir}/map");
            Assert.True(BpfFs.IsBpfFs(BpfFs.DefaultMount), "pinning under /sys/fs/bpf mounts bpffs there");
            program.Pin($"{dir}/prog");
            (mapId, programId) = (map.Id, program.Id);

            AfXdpException twice = Assert.Throws<AfXdpException>(() => program.Pin($"{dir}/prog"));
            Assert.Equal(Errno.EEXIST, twice.Errno);
            Assert.Contains($"something is already pinned at {dir}/prog", twice.Message);
            AfXdpException notBpfFs = Assert.Throws<AfXdpException>(() => program.Pin("/tmp/afxdp_pin"));
            Assert.Contains("/tmp is not a directory on a BPF file system", notBpfFs.Message);
        }
        Assert.True(ProgramExists(programId), "the pin keeps the program loaded");

        using (ArrayMap<ulong> map = ArrayMap<ulong>.Open(BpfMap.OpenPinned($"{dir}/map")))
        using (BpfProgram program = BpfProgram.OpenPinned($"{dir}/prog"))
        {
            Assert.Equal(mapId, map.Id);
            Assert.Equal(77UL, map[1]);
            Assert.Equal(programId, program.Id);
            Assert.Equal("afxdp_pinned", program.Name);
            Assert.Equal(XdpAction.Pass, program.TestRun(new byte[64]));
            CommandResult show = ExternalCommand.Run("bpftool", ["prog", "show", "pinned", $"{dir}/prog"]);
            Assert.Contains($"{programId}: xdp  name afxdp_pinned", show.Output);
        }

        AfXdpException kind = Assert.Throws<AfXdpException>(() => BpfProgram.OpenPinned($"{dir}/map"));
        Assert.Contains("the object is a bpf-map, not a bpf-prog", kind.Message);
        AfXdpException missing = Assert.Throws<AfXdpException>(() => BpfMap.OpenPinned($"{dir}/nothing"));
        Assert.Equal(Errno.ENOENT, missing.Errno);
        Assert.Contains($"nothing is pinned at {dir}/nothing.", missing.Message);

        Assert.True(BpfFs.Unpin($"{dir}/prog"));
        Assert.True(BpfFs.Unpin($"{dir}/map"));
        Assert.False(BpfFs.Unpin($"{dir}/map"));
        Assert.True(KernelTest.Eventually(() => !ProgramExists(programId), TimeSpan.FromSeconds(5)), $"program {programId} still loaded after unpinning");
    });

    [Fact]
    public void Opening_a_pin_where_bpffs_is_not_mounted_says_so() => PrivateMounts.Run(() =>
    {
        AfXdpException e = Assert.Throws<AfXdpException>(() => BpfProgram.OpenPinned("/sys/fs/bpf/afxdp/prog"));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Contains("/sys/fs/bpf is not even mounted in this mount namespace", e.Message);
    });

    [Theory]
    [InlineData(XdpAttachMode.Skb)]
    [InlineData(XdpAttachMode.Drv)]
    public void A_program_and_XSKMAP_loaded_by_bpftool_feed_our_socket(XdpAttachMode mode)
    {
        string work = Directory.CreateTempSubdirectory("afxdp-byop-").FullName;
        try
        {
            string objectFile = ByopProgram.Compile(work);
            using var bed = new XskTestBed(attach: null, new XskSocketOptions { TxRingSize = 0 });
            (BpfProgram program, XskMap xsks) = PrivateMounts.Run(() =>
            {
                BpfFs.EnsureMounted();
                Directory.CreateDirectory("/sys/fs/bpf/byop");
                CommandResult load = ExternalCommand.Run("bpftool", ["prog", "load", objectFile, "/sys/fs/bpf/byop/prog", "type", "xdp", "pinmaps", "/sys/fs/bpf/byop"]);
                Assert.True(load.Succeeded, load.Error);
                using (XskMap pinned = XskMap.Open(BpfMap.OpenPinned("/sys/fs/bpf/byop/byop_xsks")))
                    Assert.Equal(4u, pinned.Slots);
                var opened = BpfProgram.OpenPinned("/sys/fs/bpf/byop/prog");
                return (opened, XskMap.OfProgram(opened));
            });
            using (program)
            using (xsks)
            {
                // The mount namespace (and with it the pins) is gone: our handles keep both alive.
                Assert.Equal(ByopProgram.Name, program.Name);
                Assert.Equal("byop_xsks", xsks.Name);
                using XdpLink link = bed.Lab.Run(VethSide.B, () => XdpLink.Attach(program, NetDevice.IndexOf(bed.Lab.InterfaceB), mode));
                xsks.Register(bed.Socket);
                bed.SendFromA(100, port: 7011);
                List<byte[]> frames = XskTestBed.Receive(bed.Socket, 100, TimeSpan.FromSeconds(5));
                Assert.Equal(100, frames.Count(f => XskTestBed.UdpPayload(f, out int port) is not null && port == 7011));
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
