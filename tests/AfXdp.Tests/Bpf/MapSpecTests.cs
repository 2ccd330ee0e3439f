using AfXdp.Bpf;

namespace AfXdp.Tests.Bpf;

public class MapSpecTests
{
    [Theory]
    [InlineData("0", 1)]
    [InlineData("0-1\n", 2)]
    [InlineData("0-3,6,8-9", 7)]
    [InlineData("0-127", 128)]
    public void PossibleCpuListsCount(string list, int count) => Assert.Equal(count, PossibleCpus.Parse(list));

    [Theory]
    [InlineData("")]
    [InlineData("3-1")]
    [InlineData("a-b")]
    [InlineData("0-1-2")]
    public void MalformedCpuListsAreRefused(string list) => Assert.Throws<FormatException>(() => PossibleCpus.Parse(list));

    [Fact]
    public void PerCpuTypesAreKnown()
    {
        Assert.True(new MapSpec("c", MapType.PerCpuArray, 4, 8, 1).IsPerCpu);
        Assert.True(new MapSpec("c", MapType.PerCpuHash, 4, 8, 1).IsPerCpu);
        Assert.False(MapSpec.XskMap("x", 4).IsPerCpu);
        Assert.Equal(new MapSpec("x", MapType.XskMap, 4, 4, 4), MapSpec.XskMap("x", 4));
    }
}
