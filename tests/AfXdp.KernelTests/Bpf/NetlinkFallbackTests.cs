using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Interop;
using AfXdp.Testing;

namespace AfXdp.KernelTests.Bpf;

/// <summary>
/// <see cref="XdpLink"/>'s netlink IFLA_XDP fallback, for kernels without bpf_link for XDP (before 5.9),
/// forced on this one (the internal <c>linksSupported: false</c> answers BPF_LINK_CREATE as such a kernel
/// does): the program is attached and detached through netlink, and a refusal carries the kernel's
/// extended-ack text.
/// </summary>
public sealed class NetlinkFallbackTests
{
    public NetlinkFallbackTests() => KernelTest.RequireRoot();

    static BpfProgram LoadPass(string name) => BpfProgram.LoadXdp(ProgramSpec.FromAssembler(name, new Assembler().Mov64(Register.R0, 2).Exit()));

    [Theory]
    [InlineData(XdpAttachMode.Skb)]
    [InlineData(XdpAttachMode.Drv)]
    public void Without_bpf_links_the_program_is_attached_and_detached_through_netlink_on_a_veth(XdpAttachMode mode)
    {
        using VethLab lab = VethLab.Create();
        lab.Run(VethSide.B, () =>
        {
            using BpfProgram program = LoadPass("afxdp_nl_first"), other = LoadPass("afxdp_nl_other");
            int ifindex = NetDevice.Get(lab.InterfaceB).Index;
            XdpLink link = XdpLink.Attach(program, ifindex, mode, replaceExisting: false, linksSupported: false);
            try
            {
                Assert.False(link.IsBpfLink);
                Assert.Equal(0u, link.LinkId);
                Assert.Equal(mode, link.Mode);
                Assert.True(link.IsAttached());
                NetDevice device = NetDevice.Get(ifindex);
                Assert.Equal(program.Id, device.Xdp.ProgramIn(mode));
                Assert.Empty(XdpLinkInfo.On(device)); // no bpf_link holds it: netlink did
                // A second program is refused, naming the first and that netlink attached it.
                XdpProgramConflictException conflict = Assert.Throws<XdpProgramConflictException>(
                    () => XdpLink.Attach(other, ifindex, mode, replaceExisting: false, linksSupported: false));
                Assert.Equal(program.Id, conflict.ProgramId);
                Assert.Contains("(by netlink)", conflict.Message);
            }
            finally
            {
                link.Dispose();
            }
            Assert.False(link.IsAttached());
            Assert.False(NetDevice.Get(ifindex).Xdp.Any);
        });
    }

    [Fact]
    public void A_refused_netlink_attachment_carries_the_kernel_s_extended_ack_text()
    {
        using VethLab lab = VethLab.Create();
        lab.Run(VethSide.B, () =>
        {
            using BpfProgram program = LoadPass("afxdp_nl_lo");
            int loopback = NetDevice.Get("lo").Index;
            // lo has no ndo_bpf: dev_xdp_attach (net/core/dev.c) refuses native mode with EOPNOTSUPP and says why.
            AfXdpException e = Assert.Throws<AfXdpException>(
                () => XdpLink.Attach(program, loopback, XdpAttachMode.Drv, replaceExisting: false, linksSupported: false));
            Assert.Equal(Errno.EOPNOTSUPP, e.Errno);
            Assert.StartsWith("netlink RTM_SETLINK(IFLA_XDP", e.Call);
            Assert.Equal("the kernel says: Underlying driver does not support XDP in native mode.", e.Cause);
            Assert.False(NetDevice.Get(loopback).Xdp.Any);
        });
    }
}
