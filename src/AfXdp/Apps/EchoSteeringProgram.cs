using System.Buffers.Binary;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Xsk;

namespace AfXdp.Apps;

/// <summary>
/// The steering program of an echo responder (<see cref="EchoResponder"/>): it redirects to the
/// queue's AF_XDP socket only what the responder answers for one IPv4 address, and passes
/// everything else to the kernel stack (XDP_PASS):
/// <list type="bullet">
/// <item>ARP requests whose target is the address;</item>
/// <item>ICMP echo requests to the address;</item>
/// <item>UDP datagrams to the address and the echo port.</item>
/// </list>
/// Only untagged frames and IPv4 headers without options, not fragmented, are taken; the rest
/// (VLAN-tagged, IP options, fragments) goes to the kernel. A stand-in until the general steering
/// program generator exists.
/// </summary>
public static class EchoSteeringProgram
{
    /// <summary>The name `bpftool prog show` and `ip link` print.</summary>
    public const string ProgramName = "afxdp_echo";

    const int XDP_PASS = 2;

    // Frame offsets: Ethernet header (14), then ARP or IPv4 (RFC 826, RFC 791).
    const short EtherTypeOffset = 12;
    const short ArpOperationOffset = 14 + 6;
    const short ArpTargetIpOffset = 14 + 24;
    const short IpVersionAndLengthOffset = 14;
    const short IpFlagsAndFragmentOffset = 14 + 6;
    const short IpProtocolOffset = 14 + 9;
    const short IpDestinationOffset = 14 + 16;
    const short IcmpTypeOffset = 14 + 20;
    const short UdpDestinationPortOffset = 14 + 20 + 2;
    // Ethernet + ARP (14 + 28) and Ethernet + IPv4 without options + ICMP or UDP header (14 + 20 + 8)
    // are both 42 bytes: one bounds check covers every load below.
    const int MinimumFrameLength = 42;
    const int Ipv4WithoutOptions = 0x45;
    const ushort MoreFragmentsAndOffsetMask = 0x3FFF;

    /// <summary>
    /// The instructions: ARP requests for, ICMP echo requests to and UDP datagrams on
    /// <paramref name="udpPort"/> to <paramref name="address"/> (most significant byte first, as
    /// <see cref="Net.Ipv4Packet.Destination"/>) go to bpf_redirect_map(&amp;xsks, rx_queue_index, XDP_PASS).
    /// </summary>
    public static ProgramSpec Spec(IBpfMapReference xskMap, uint address, ushort udpPort) => ProgramSpec.FromAsm(ProgramName, new Asm()
        .Mov64(Reg.R6, Reg.R1)
        .Load(Size.W, Reg.R2, Reg.R1, XdpMd.Data)
        .Load(Size.W, Reg.R3, Reg.R1, XdpMd.DataEnd)
        .Mov64(Reg.R4, Reg.R2)
        .Alu64(AluOp.Add, Reg.R4, MinimumFrameLength)
        .JumpIf(JumpOp.Gt, Reg.R4, Reg.R3, "pass")
        // r7 = the address as a packet load reads it; lddw, because a 32-bit immediate would be sign-extended.
        .LoadImm64(Reg.R7, Loaded(address))
        .Load(Size.H, Reg.R5, Reg.R2, EtherTypeOffset)
        .JumpIf(JumpOp.Eq, Reg.R5, Loaded((ushort)Net.EtherType.Arp), "arp")
        .JumpIf(JumpOp.Ne, Reg.R5, Loaded((ushort)Net.EtherType.Ipv4), "pass")
        .Load(Size.B, Reg.R5, Reg.R2, IpVersionAndLengthOffset)
        .JumpIf(JumpOp.Ne, Reg.R5, Ipv4WithoutOptions, "pass")
        .Load(Size.W, Reg.R5, Reg.R2, IpDestinationOffset)
        .JumpIf(JumpOp.Ne, Reg.R5, Reg.R7, "pass")
        .Load(Size.H, Reg.R5, Reg.R2, IpFlagsAndFragmentOffset)
        .JumpIf(JumpOp.Set, Reg.R5, Loaded(MoreFragmentsAndOffsetMask), "pass")
        .Load(Size.B, Reg.R5, Reg.R2, IpProtocolOffset)
        .JumpIf(JumpOp.Eq, Reg.R5, (int)Net.IpProtocol.Icmp, "icmp")
        .JumpIf(JumpOp.Ne, Reg.R5, (int)Net.IpProtocol.Udp, "pass")
        .Load(Size.H, Reg.R5, Reg.R2, UdpDestinationPortOffset)
        .JumpIf(JumpOp.Ne, Reg.R5, Loaded(udpPort), "pass")
        .Jump("redirect")
        .Label("icmp")
        .Load(Size.B, Reg.R5, Reg.R2, IcmpTypeOffset)
        .JumpIf(JumpOp.Ne, Reg.R5, (int)Net.IcmpV4Type.EchoRequest, "pass")
        .Jump("redirect")
        .Label("arp")
        .Load(Size.H, Reg.R5, Reg.R2, ArpOperationOffset)
        .JumpIf(JumpOp.Ne, Reg.R5, Loaded((ushort)Net.ArpOperation.Request), "pass")
        .Load(Size.W, Reg.R5, Reg.R2, ArpTargetIpOffset)
        .JumpIf(JumpOp.Ne, Reg.R5, Reg.R7, "pass")
        .Label("redirect")
        .RedirectToQueueSocket(Reg.R6, xskMap)
        .Exit()
        .Label("pass")
        .Mov64(Reg.R0, XDP_PASS)
        .Exit());

    /// <summary>Loads <see cref="Spec"/> with a fresh XSKMAP and attaches it to <paramref name="device"/>; register the socket on the result.</summary>
    public static XskRedirectProgram Attach(NetDevice device, uint address, ushort udpPort, XdpAttachMode mode = XdpAttachMode.Auto, bool replaceExisting = false) =>
        XskRedirectProgram.Attach(device, mode, replaceExisting, spec: map => Spec(map, address, udpPort));

    // A packet load (BPF_LDX) reads memory in host byte order; these give the value it reads for
    // bytes that hold the field in network byte order.
    static ushort Loaded(ushort networkValue) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(networkValue) : networkValue;

    static uint Loaded(uint networkValue) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(networkValue) : networkValue;
}
