namespace AfXdp.Bpf;

/// <summary>
/// Offsets of the fields of struct xdp_md (include/uapi/linux/bpf.h), the context an XDP program finds in r1;
/// the verifier rewrites loads at these offsets into reads of the kernel's xdp_buff.
/// </summary>
internal static class XdpMd
{
    /// <summary>The first byte of the frame.</summary>
    public const short Data = 0;

    /// <summary>One past the frame's last byte: every packet load must be bounds-checked against it.</summary>
    public const short DataEnd = 4;

    /// <summary>The index of the RX queue the frame arrived on: the XSKMAP key of its socket.</summary>
    public const short RxQueueIndex = 16;
}
