using AfXdp.Testing;

namespace AfXdp.KernelTests;

/// <summary>Golden tests of the `ip -d -j addr show` parser: output captured from iproute2 6.1 on Linux 6.18.</summary>
public sealed class VethEndStatusTests
{
    // The persistent lab's side A with a generic XDP program attached (ip link set afxa0 xdpgeneric obj ...).
    const string GenericXdp = """
        [{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00","promiscuity":0,"allmulti":0,"min_mtu":0,"max_mtu":0,"num_tx_queues":1,"num_rx_queues":1,"gso_max_size":65536,"gso_max_segs":65535,"tso_max_size":524280,"tso_max_segs":65535,"gro_max_size":65536,"addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo","valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":2,"link_index":2,"ifname":"afxa0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"xdp":{"mode":2,"prog":{"id":112,"name":"xdp_pass","tag":"614b434cd8324ecc","jited":1,"load_time":671279308953,"created_by_uid":0},"attached":[{"mode":2,"prog":{"id":112,"name":"xdp_pass","tag":"614b434cd8324ecc","jited":1,"load_time":671279308953,"created_by_uid":0}}]},"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"02:00:00:00:0a:01","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":0,"promiscuity":0,"allmulti":0,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"veth"},"num_tx_queues":1,"num_rx_queues":1,"gso_max_size":65536,"gso_max_segs":65535,"tso_max_size":524280,"tso_max_segs":65535,"gro_max_size":65536,"addr_info":[{"family":"inet","local":"10.99.255.1","prefixlen":24,"scope":"global","label":"afxa0","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]
        """;

    // A veth end that is down, with a native XDP program and two queues (ip link set p1 xdpdrv obj ...).
    const string NativeXdp = """
        [{"ifindex":2,"link":"p0","ifname":"p1","flags":["BROADCAST","MULTICAST"],"mtu":1500,"xdp":{"mode":1,"prog":{"id":106,"name":"xdp_pass","tag":"614b434cd8324ecc","jited":1,"load_time":354671598509,"created_by_uid":0},"attached":[{"mode":1,"prog":{"id":106,"name":"xdp_pass","tag":"614b434cd8324ecc","jited":1,"load_time":354671598509,"created_by_uid":0}}]},"qdisc":"noop","operstate":"DOWN","group":"default","txqlen":1000,"link_type":"ether","address":"b2:44:f5:e6:88:7a","broadcast":"ff:ff:ff:ff:ff:ff","promiscuity":0,"allmulti":0,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"veth"},"num_tx_queues":2,"num_rx_queues":2,"gso_max_size":65536,"gso_max_segs":65535,"tso_max_size":524280,"tso_max_segs":65535,"gro_max_size":65536,"addr_info":[]}]
        """;

    [Fact]
    public void Reads_state_addresses_and_a_generic_program()
    {
        VethEndStatus end = VethEndStatus.Parse("afxlabA", "afxa0", GenericXdp)!;

        Assert.Equal(("02:00:00:00:0a:01", "UP", 1500, 1, 1), (end.Mac, end.OperState, end.Mtu, end.RxQueues, end.TxQueues));
        Assert.Equal(["10.99.255.1/24"], end.Addresses);
        Assert.Equal("10.99.255.1", end.Ipv4Address);
        Assert.Equal((0u, 112u, 0u), (end.Xdp.DrvProgramId, end.Xdp.SkbProgramId, end.Xdp.HwProgramId));
    }

    [Fact]
    public void Reads_a_native_program_on_a_down_end_without_addresses()
    {
        VethEndStatus end = VethEndStatus.Parse("probe", "p1", NativeXdp)!;

        Assert.Equal(("DOWN", 2, 2), (end.OperState, end.RxQueues, end.TxQueues));
        Assert.Empty(end.Addresses);
        Assert.Null(end.Ipv4Address);
        Assert.Equal(106u, end.Xdp.DrvProgramId);
        Assert.Equal(0u, end.Xdp.SkbProgramId);
    }

    [Fact]
    public void An_interface_that_is_not_listed_is_null()
    {
        Assert.Null(VethEndStatus.Parse("afxlabA", "afxb0", GenericXdp));
        Assert.Null(VethEndStatus.Parse("afxlabA", "afxa0", "[]"));
    }
}
