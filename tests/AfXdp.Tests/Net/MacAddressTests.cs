using AfXdp.Net;
using CsCheck;

namespace AfXdp.Tests.Net;

public class MacAddressTests
{
    [Fact]
    public void Parse_and_ToString_round_trip_in_lower_case()
    {
        MacAddress address = MacAddress.Parse("02:00:00:00:0A:01");

        Assert.Equal("02:00:00:00:0a:01", address.ToString());
        Assert.True(address.IsLocallyAdministered);
        Assert.False(address.IsMulticast);
        Assert.False(address.IsBroadcast);
    }

    [Fact]
    public void Vendor_multicast_and_broadcast_bits_are_read_from_the_first_octet()
    {
        Assert.False(MacAddress.Parse("00:1b:21:3a:4f:10").IsLocallyAdministered);
        Assert.True(MacAddress.Parse("33:33:ff:00:00:02").IsMulticast);
        Assert.True(MacAddress.Broadcast.IsBroadcast);
        Assert.True(MacAddress.Broadcast.IsMulticast);
        Assert.Equal("ff:ff:ff:ff:ff:ff", MacAddress.Broadcast.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("02:00:00:00:0a")]
    [InlineData("02:00:00:00:0a:01:")]
    [InlineData("02-00-00-00-0a-01")]
    [InlineData("02:00:00:00:0a:0g")]
    [InlineData("02:00:00:00:0a:1")]
    [InlineData(" 2:00:00:00:0a:01")]
    [InlineData("+2:00:00:00:0a:01")]
    [InlineData("0200:00:00:0a:01:")]
    public void TryParse_rejects_what_is_not_six_colon_separated_hex_octets(string text)
    {
        Assert.False(MacAddress.TryParse(text, out _));
        Assert.Throws<FormatException>(() => MacAddress.Parse(text));
    }

    [Fact]
    public void Reading_or_writing_fewer_than_six_bytes_throws()
    {
        Assert.Throws<ArgumentException>(() => new MacAddress(new byte[5]));
        Assert.Throws<ArgumentException>(() => MacAddress.Broadcast.WriteTo(new byte[5]));
    }

    [Fact]
    public void Bytes_text_and_equality_agree_for_any_address()
    {
        Gen.Byte.Array[MacAddress.Length].Sample(bytes =>
        {
            var address = new MacAddress(bytes);
            var written = new byte[MacAddress.Length];
            address.WriteTo(written);

            Assert.Equal(bytes, written);
            Assert.Equal(address, MacAddress.Parse(address.ToString()));
            Assert.Equal(Convert.ToHexStringLower(bytes), address.ToString().Replace(":", ""));
            Assert.Equal((bytes[0] & 2) != 0, address.IsLocallyAdministered);
        });
    }
}
