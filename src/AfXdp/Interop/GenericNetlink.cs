using System.Buffers.Binary;
using System.Text;

namespace AfXdp.Interop;

/// <summary>A NETLINK_GENERIC socket: resolves a family by name, then asks it one command.</summary>
internal sealed class GenericNetlink : NetlinkSocket
{
    const int NETLINK_GENERIC = 16;
    const ushort GENL_ID_CTRL = 0x10;
    const byte CTRL_CMD_GETFAMILY = 3;
    const ushort CTRL_ATTR_FAMILY_ID = 1;
    const ushort CTRL_ATTR_FAMILY_NAME = 2;
    const int GenlmsghdrSize = 4;

    public GenericNetlink() : base(NETLINK_GENERIC, "NETLINK_GENERIC") { }

    /// <summary>The id of family <paramref name="name"/> (CTRL_CMD_GETFAMILY); ENOENT when the kernel has no such family.</summary>
    public ushort FamilyId(string name)
    {
        byte[] value = Encoding.ASCII.GetBytes(name + "\0");
        Dictionary<ushort, byte[]> answer = Request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, CTRL_ATTR_FAMILY_NAME, value, $"genetlink CTRL_CMD_GETFAMILY(\"{name}\")");
        return answer.TryGetValue(CTRL_ATTR_FAMILY_ID, out byte[]? id) && id.Length >= 2
            ? BinaryPrimitives.ReadUInt16LittleEndian(id)
            : throw new NetlinkException($"genetlink CTRL_CMD_GETFAMILY(\"{name}\")", Errno.ENOENT, "no family id in the answer");
    }

    /// <summary>Sends <paramref name="command"/> with one attribute and returns the attributes of the answer.</summary>
    public Dictionary<ushort, byte[]> Request(ushort family, byte command, byte version, ushort attribute, ReadOnlySpan<byte> value, string call)
    {
        int length = StartMessage(family, NLM_F_REQUEST, GenlmsghdrSize);
        // struct genlmsghdr: cmd, version, reserved.
        Buffer[NlmsghdrSize] = command;
        Buffer[NlmsghdrSize + 1] = version;
        length = PutAttribute(length, attribute, value);
        Dictionary<ushort, byte[]> attributes = [];
        Exchange(length, call, (type, payload) =>
        {
            if (type == family)
                attributes = ParseAttributes(payload[GenlmsghdrSize..]);
        });
        return attributes;
    }
}
