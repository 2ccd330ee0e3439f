using AfXdp.Xsk;

namespace AfXdp.Tests.Xsk;

public class ConfigTests
{
    [Fact]
    public void DefaultsAreValid()
    {
        new UmemOptions().Validate();
        new XskSocketOptions().Validate(rx: true, tx: true, "RxTxSocket");
    }

    [Theory]
    [InlineData(3000u, false, "FrameSize = 3000")]
    [InlineData(1024u, true, "FrameSize = 1024")]
    [InlineData(8192u, true, "FrameSize = 8192")]
    public void BadFrameSizesAreRejectedBeforeAnySyscall(uint frameSize, bool unaligned, string named)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new UmemOptions { FrameSize = frameSize, UnalignedChunks = unaligned }.Validate());
        Assert.Contains(named, e.Message);
        Assert.Equal("FrameSize", e.ParamName);
        Assert.Contains("Fix:", e.Message);
    }

    [Fact]
    public void UnalignedModeAcceptsOddFrameSizes() => new UmemOptions { FrameSize = 3000, UnalignedChunks = true }.Validate();

    [Theory]
    [InlineData(0u)]
    [InlineData(1000u)]
    [InlineData(3u)]
    [InlineData(1u << 25)]
    public void RingSizesMustBePowersOfTwo(uint size)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new UmemOptions { FillRingSize = size }.Validate());
        Assert.Equal("FillRingSize", e.ParamName);
        Assert.Contains($"FillRingSize = {size}", e.Message);
        Assert.Contains("power of two", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new XskSocketOptions { CompletionRingSize = size });
    }

    [Fact]
    public void HeadroomMustLeaveRoomForAPacket()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new UmemOptions { FrameSize = 2048, Headroom = 1345 }.Validate());
        Assert.Contains("Headroom = 1345", e.Message);
        new UmemOptions { FrameSize = 2048, Headroom = 1344 }.Validate();
        Assert.Throws<ArgumentOutOfRangeException>(() => new UmemOptions { Headroom = uint.MaxValue, TxMetadataLength = 8 }.Validate());
    }

    [Theory]
    [InlineData(12u)]
    [InlineData(256u)]
    public void TxMetadataLengthMustBeAMultipleOfEightBelow256(uint length) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new UmemOptions { TxMetadataLength = length }.Validate());

    [Fact]
    public void EachShapeNeedsItsRingsAndValuesAreCheckedWhenBuilt()
    {
        var e = Assert.Throws<ArgumentException>(() => new XskSocketOptions { RxRingSize = 0, TxRingSize = 0 }.Validate(rx: true, tx: false, "RxSocket"));
        Assert.Contains("a socket that receives needs an RX ring", e.Message);
        new XskSocketOptions { RxRingSize = 0 }.Validate(rx: false, tx: true, "TxSocket");
        // Checked when built: the bad value throws in its initializer, before any socket exists.
        Assert.Equal("RxRingSize", Assert.Throws<ArgumentOutOfRangeException>(() => new XskSocketOptions { RxRingSize = 100 }).ParamName);
        Assert.Equal("value", Assert.Throws<ArgumentOutOfRangeException>(() => new XskSocketOptions { BusyRetryTimeout = TimeSpan.FromSeconds(-1) }).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new XskSocketOptions { BindMode = (XdpBindMode)7 });
    }

    [Fact]
    public void ZeroFramesAreRejected() =>
        Assert.Contains("FrameCount = 0", Assert.Throws<ArgumentOutOfRangeException>(() => new UmemOptions { FrameCount = 0 }.Validate()).Message);

    [Theory]
    [InlineData(16u)]
    [InlineData(4096u)]
    public void TxBudgetMustLieBetween32AndTheTxRingSize(uint budget)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new XskSocketOptions { TxRingSize = 2048, TxBudget = budget }.Validate(rx: false, tx: true, "TxSocket"));
        Assert.Contains($"TxBudget = {budget}", e.Message);
        Assert.Contains("from 32 to the TX ring size (2048)", e.Message);
        new XskSocketOptions { TxRingSize = 2048, TxBudget = 2048 }.Validate(rx: false, tx: true, "TxSocket");
    }

    [Fact]
    public void ANegativeSendBufferIsRejected() =>
        Assert.Contains("SendBufferSize = -1", Assert.Throws<ArgumentOutOfRangeException>(() => new XskSocketOptions { SendBufferSize = -1 }).Message);
}
