using AfXdp.Bpf;

namespace AfXdp.Xsk;

/// <summary>Puts sockets into XSKMAPs: the Bpf layer knows slots and descriptors, this side knows sockets.</summary>
public static class XskMapExtensions
{
    /// <summary>XSKMAP[socket's queue] = socket: the program's redirects for that queue reach the socket.</summary>
    public static void Register(this XskMap map, XskSocket socket)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(socket);
        map.Register(socket.QueueId, socket.Fd);
    }
}
