using AfXdp.Interop;

namespace AfXdp.Xsk;

/// <summary>A socket shape that receives (<see cref="RxSocket"/>, <see cref="RxTxSocket"/>), for code that takes either.</summary>
public interface IRxSocket
{
    /// <summary>Received frames.</summary>
    RxRing Rx { get; }
}

/// <summary>A socket shape that sends (<see cref="TxSocket"/>, <see cref="RxTxSocket"/>), for code that takes either.</summary>
public interface ITxSocket
{
    /// <summary>Frames to send.</summary>
    TxRing Tx { get; }
}

/// <summary>An AF_XDP socket that receives: an RX ring (<see cref="XskSocketOptions.RxRingSize"/>), no TX ring.</summary>
public sealed class RxSocket : XskSocket, IRxSocket
{
    /// <summary>Creates the socket and binds it to <paramref name="queueId"/> of <paramref name="interfaceName"/>.</summary>
    public RxSocket(Umem umem, string interfaceName, uint queueId, XskSocketOptions? options = null)
        : base(umem, Device.NetDevice.IndexOf(interfaceName), interfaceName, queueId, options, rx: true, tx: false) => Rx = RxRing!;

    /// <summary>Creates the socket and binds it to <paramref name="queueId"/> of the interface with index <paramref name="interfaceIndex"/>.</summary>
    public RxSocket(Umem umem, int interfaceIndex, uint queueId, XskSocketOptions? options = null)
        : base(umem, interfaceIndex, null, queueId, options, rx: true, tx: false) => Rx = RxRing!;

    internal RxSocket(Umem umem, SafeFd socket, bool ownsSocket, int interfaceIndex, string interfaceName, uint queueId, XskSocketOptions options)
        : base(umem, socket, ownsSocket, interfaceIndex, interfaceName, queueId, options, rx: true, tx: false) => Rx = RxRing!;

    /// <summary>Received frames: <c>Rx.Receive(max)</c>.</summary>
    public RxRing Rx { get; }
}

/// <summary>An AF_XDP socket that sends: a TX ring (<see cref="XskSocketOptions.TxRingSize"/>), no RX ring.</summary>
public sealed class TxSocket : XskSocket, ITxSocket
{
    /// <summary>Creates the socket and binds it to <paramref name="queueId"/> of <paramref name="interfaceName"/>.</summary>
    public TxSocket(Umem umem, string interfaceName, uint queueId, XskSocketOptions? options = null)
        : base(umem, Device.NetDevice.IndexOf(interfaceName), interfaceName, queueId, options, rx: false, tx: true) => Tx = TxRing!;

    /// <summary>Creates the socket and binds it to <paramref name="queueId"/> of the interface with index <paramref name="interfaceIndex"/>.</summary>
    public TxSocket(Umem umem, int interfaceIndex, uint queueId, XskSocketOptions? options = null)
        : base(umem, interfaceIndex, null, queueId, options, rx: false, tx: true) => Tx = TxRing!;

    internal TxSocket(Umem umem, SafeFd socket, bool ownsSocket, int interfaceIndex, string interfaceName, uint queueId, XskSocketOptions options)
        : base(umem, socket, ownsSocket, interfaceIndex, interfaceName, queueId, options, rx: false, tx: true) => Tx = TxRing!;

    /// <summary>Frames to send: <c>Tx.Send(...)</c>, <c>Tx.Kick()</c>.</summary>
    public TxRing Tx { get; }
}

/// <summary>An AF_XDP socket that receives and sends: both rings, for responders and forwarders.</summary>
public sealed class RxTxSocket : XskSocket, IRxSocket, ITxSocket
{
    /// <summary>Creates the socket and binds it to <paramref name="queueId"/> of <paramref name="interfaceName"/>.</summary>
    public RxTxSocket(Umem umem, string interfaceName, uint queueId, XskSocketOptions? options = null)
        : base(umem, Device.NetDevice.IndexOf(interfaceName), interfaceName, queueId, options, rx: true, tx: true) => (Rx, Tx) = (RxRing!, TxRing!);

    /// <summary>Creates the socket and binds it to <paramref name="queueId"/> of the interface with index <paramref name="interfaceIndex"/>.</summary>
    public RxTxSocket(Umem umem, int interfaceIndex, uint queueId, XskSocketOptions? options = null)
        : base(umem, interfaceIndex, null, queueId, options, rx: true, tx: true) => (Rx, Tx) = (RxRing!, TxRing!);

    internal RxTxSocket(Umem umem, SafeFd socket, bool ownsSocket, int interfaceIndex, string interfaceName, uint queueId, XskSocketOptions options)
        : base(umem, socket, ownsSocket, interfaceIndex, interfaceName, queueId, options, rx: true, tx: true) => (Rx, Tx) = (RxRing!, TxRing!);

    /// <summary>Received frames: <c>Rx.Receive(max)</c>.</summary>
    public RxRing Rx { get; }

    /// <summary>Frames to send: <c>Tx.Send(...)</c>, <c>Tx.Kick()</c>, or <c>batch.Transmit(Tx)</c>.</summary>
    public TxRing Tx { get; }
}
