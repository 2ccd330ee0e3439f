using System.Runtime.InteropServices;
using AfXdp.Interop;
using AfXdp.Xsk;

namespace AfXdp.Tests.Interop;

/// <summary>Every kernel struct must match include/uapi/linux/{if_xdp,bpf}.h byte for byte.</summary>
public unsafe class StructLayoutTests
{
    static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);

    [Fact]
    public void IfXdpStructsHaveKernelSizes()
    {
        Assert.Equal(16, sizeof(sockaddr_xdp));
        Assert.Equal(32, sizeof(xdp_ring_offset));
        Assert.Equal(128, sizeof(xdp_mmap_offsets));
        Assert.Equal(32, sizeof(xdp_umem_reg));
        Assert.Equal(48, sizeof(xdp_statistics));
        Assert.Equal(4, sizeof(xdp_options));
        Assert.Equal(16, sizeof(XdpDescriptor));
    }

    [Fact]
    public void TxMetadataMatchesStructXskTxMetadata()
    {
        // struct xsk_tx_metadata { __u64 flags; union { struct { __u16 csum_start, csum_offset; __u64 launch_time; } request;
        //                                              struct { __u64 tx_timestamp; } completion; }; }
        Assert.Equal(24, sizeof(XskTxMetadata));
        Assert.Equal(XskTxMetadata.Size, sizeof(XskTxMetadata));
        Assert.Equal(0, Offset<XskTxMetadata>(nameof(XskTxMetadata.Requests)));
        Assert.Equal(8, Offset<XskTxMetadata>(nameof(XskTxMetadata.ChecksumStart)));
        Assert.Equal(10, Offset<XskTxMetadata>(nameof(XskTxMetadata.ChecksumOffset)));
        Assert.Equal(16, Offset<XskTxMetadata>(nameof(XskTxMetadata.LaunchTime)));
        Assert.Equal(8, Offset<XskTxMetadata>(nameof(XskTxMetadata.TxTimestamp)));
        Assert.Equal(1ul, (ulong)TxMetadataRequests.Timestamp);
        Assert.Equal(2ul, (ulong)TxMetadataRequests.Checksum);
        Assert.Equal(4ul, (ulong)TxMetadataRequests.LaunchTime);
    }

    [Fact]
    public void IfXdpFieldOffsets()
    {
        Assert.Equal(2, Offset<sockaddr_xdp>(nameof(sockaddr_xdp.sxdp_flags)));
        Assert.Equal(4, Offset<sockaddr_xdp>(nameof(sockaddr_xdp.sxdp_ifindex)));
        Assert.Equal(8, Offset<sockaddr_xdp>(nameof(sockaddr_xdp.sxdp_queue_id)));
        Assert.Equal(12, Offset<sockaddr_xdp>(nameof(sockaddr_xdp.sxdp_shared_umem_fd)));
        Assert.Equal(8, Offset<xdp_ring_offset>(nameof(xdp_ring_offset.consumer)));
        Assert.Equal(16, Offset<xdp_ring_offset>(nameof(xdp_ring_offset.desc)));
        Assert.Equal(24, Offset<xdp_ring_offset>(nameof(xdp_ring_offset.flags)));
        Assert.Equal(32, Offset<xdp_mmap_offsets>(nameof(xdp_mmap_offsets.tx)));
        Assert.Equal(64, Offset<xdp_mmap_offsets>(nameof(xdp_mmap_offsets.fr)));
        Assert.Equal(96, Offset<xdp_mmap_offsets>(nameof(xdp_mmap_offsets.cr)));
        Assert.Equal(16, Offset<xdp_umem_reg>(nameof(xdp_umem_reg.chunk_size)));
        Assert.Equal(20, Offset<xdp_umem_reg>(nameof(xdp_umem_reg.headroom)));
        Assert.Equal(24, Offset<xdp_umem_reg>(nameof(xdp_umem_reg.flags)));
        Assert.Equal(28, Offset<xdp_umem_reg>(nameof(xdp_umem_reg.tx_metadata_len)));
        Assert.Equal(8, Offset<xdp_statistics>(nameof(xdp_statistics.rx_invalid_descs)));
        Assert.Equal(16, Offset<xdp_statistics>(nameof(xdp_statistics.tx_invalid_descs)));
        Assert.Equal(24, Offset<xdp_statistics>(nameof(xdp_statistics.rx_ring_full)));
        Assert.Equal(32, Offset<xdp_statistics>(nameof(xdp_statistics.rx_fill_ring_empty_descs)));
        Assert.Equal(40, Offset<xdp_statistics>(nameof(xdp_statistics.tx_ring_empty_descs)));
        Assert.Equal(8, Offset<XdpDescriptor>(nameof(XdpDescriptor.Length)));
        Assert.Equal(12, Offset<XdpDescriptor>(nameof(XdpDescriptor.Options)));
    }

    [Fact]
    public void BpfAttrLayouts()
    {
        Assert.Equal(72, sizeof(bpf_attr_map_create));
        Assert.Equal(28, Offset<bpf_attr_map_create>(nameof(bpf_attr_map_create.map_name)));
        Assert.Equal(44, Offset<bpf_attr_map_create>(nameof(bpf_attr_map_create.map_ifindex)));
        Assert.Equal(64, Offset<bpf_attr_map_create>(nameof(bpf_attr_map_create.map_extra)));

        Assert.Equal(32, sizeof(bpf_attr_map_elem));
        Assert.Equal(8, Offset<bpf_attr_map_elem>(nameof(bpf_attr_map_elem.key)));
        Assert.Equal(16, Offset<bpf_attr_map_elem>(nameof(bpf_attr_map_elem.value)));
        Assert.Equal(24, Offset<bpf_attr_map_elem>(nameof(bpf_attr_map_elem.flags)));

        Assert.Equal(144, sizeof(bpf_attr_prog_load));
        Assert.Equal(8, Offset<bpf_attr_prog_load>(nameof(bpf_attr_prog_load.insns)));
        Assert.Equal(16, Offset<bpf_attr_prog_load>(nameof(bpf_attr_prog_load.license)));
        Assert.Equal(24, Offset<bpf_attr_prog_load>(nameof(bpf_attr_prog_load.log_level)));
        Assert.Equal(32, Offset<bpf_attr_prog_load>(nameof(bpf_attr_prog_load.log_buf)));
        Assert.Equal(48, Offset<bpf_attr_prog_load>(nameof(bpf_attr_prog_load.prog_name)));
        Assert.Equal(68, Offset<bpf_attr_prog_load>(nameof(bpf_attr_prog_load.expected_attach_type)));
        Assert.Equal(120, Offset<bpf_attr_prog_load>(nameof(bpf_attr_prog_load.fd_array)));
        Assert.Equal(140, Offset<bpf_attr_prog_load>(nameof(bpf_attr_prog_load.log_true_size)));

        Assert.Equal(4, Offset<bpf_attr_link_create>(nameof(bpf_attr_link_create.target_ifindex)));
        Assert.Equal(8, Offset<bpf_attr_link_create>(nameof(bpf_attr_link_create.attach_type)));
        Assert.Equal(12, Offset<bpf_attr_link_create>(nameof(bpf_attr_link_create.flags)));

        Assert.Equal(16, sizeof(bpf_attr_info));
        Assert.Equal(8, Offset<bpf_attr_info>(nameof(bpf_attr_info.info)));
        Assert.Equal(64, Offset<bpf_prog_info>(nameof(bpf_prog_info.name)));
        Assert.Equal(80, Offset<bpf_prog_info>(nameof(bpf_prog_info.ifindex)));
        Assert.Equal(16, Offset<bpf_link_info>(nameof(bpf_link_info.xdp_ifindex)));
        Assert.Equal(12, Offset<bpf_attr_obj>(nameof(bpf_attr_obj.file_flags)));
        Assert.Equal(8, sizeof(AfXdp.Bpf.Instruction));

        Assert.Equal(80, sizeof(bpf_attr_test_run));
        Assert.Equal(16, Offset<bpf_attr_test_run>(nameof(bpf_attr_test_run.data_in)));
        Assert.Equal(32, Offset<bpf_attr_test_run>(nameof(bpf_attr_test_run.repeat)));
        Assert.Equal(48, Offset<bpf_attr_test_run>(nameof(bpf_attr_test_run.ctx_in)));
        Assert.Equal(64, Offset<bpf_attr_test_run>(nameof(bpf_attr_test_run.flags)));
        Assert.Equal(72, Offset<bpf_attr_test_run>(nameof(bpf_attr_test_run.batch_size)));
        Assert.Equal(88, sizeof(bpf_map_info));
        Assert.Equal(24, Offset<bpf_map_info>(nameof(bpf_map_info.name)));
        Assert.Equal(48, Offset<bpf_map_info>(nameof(bpf_map_info.netns_dev)));
        Assert.Equal(80, Offset<bpf_map_info>(nameof(bpf_map_info.map_extra)));
        Assert.Equal(8, Offset<bpf_prog_info>(nameof(bpf_prog_info.tag)));
        Assert.Equal(24, Offset<bpf_prog_info>(nameof(bpf_prog_info.jited_prog_insns)));
        Assert.Equal(32, Offset<bpf_prog_info>(nameof(bpf_prog_info.xlated_prog_insns)));
        Assert.Equal(52, Offset<bpf_prog_info>(nameof(bpf_prog_info.nr_map_ids)));
        Assert.Equal(56, Offset<bpf_prog_info>(nameof(bpf_prog_info.map_ids)));
        Assert.Equal(8, Offset<bpf_link_info>(nameof(bpf_link_info.prog_id)));
    }

    [Fact]
    public void EthtoolLayouts()
    {
        Assert.Equal(196, sizeof(ethtool_drvinfo));
        Assert.Equal(4, Offset<ethtool_drvinfo>(nameof(ethtool_drvinfo.driver)));
        Assert.Equal(68, Offset<ethtool_drvinfo>(nameof(ethtool_drvinfo.fw_version)));
        Assert.Equal(176, Offset<ethtool_drvinfo>(nameof(ethtool_drvinfo.n_priv_flags)));
        Assert.Equal(36, sizeof(ethtool_channels));
        Assert.Equal(32, Offset<ethtool_channels>(nameof(ethtool_channels.combined_count)));
        Assert.Equal(40, sizeof(ifreq_data)); // struct ifreq: IFNAMSIZ + a 24-byte union
        Assert.Equal(16, Offset<ifreq_data>(nameof(ifreq_data.ifr_data)));
    }
}
