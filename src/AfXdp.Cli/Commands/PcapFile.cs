using AfXdp.Net;

namespace AfXdp.Cli.Commands;

/// <summary>
/// The pcap file <c>afxdp capture</c> writes. Records are buffered and flushed after every batch; when a
/// write fails (a full disk), the file is cut back to the last flush, so that what was written stays
/// a readable pcap of whole records. Failures are <see cref="AfXdpException"/>s naming the file.
/// </summary>
internal sealed class PcapFile : IDisposable
{
    readonly string _path;
    // Unbuffered, under a buffer of our own: after a failed write the file is closed underneath the
    // buffer, so the failed bytes are never written again (a FileStream would retry when closed).
    readonly FileStream _file;
    readonly BufferedStream _buffer;
    long _committed;
    long _packets;
    bool _failed;

    PcapFile(string path, FileStream file)
    {
        _path = path;
        _file = file;
        _buffer = new BufferedStream(file, 1 << 16);
        Writer = new PcapWriter(_buffer, leaveOpen: true);
    }

    /// <summary>Where the capture writes its records.</summary>
    public PcapWriter Writer { get; }

    /// <summary>Creates (or empties) the file and writes the pcap header to it.</summary>
    public static PcapFile Create(string path)
    {
        FileStream? stream = null;
        try
        {
            stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0);
            var file = new PcapFile(path, stream);
            file.Commit(0);
            return file;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stream?.Dispose();
            throw new AfXdpException($"capture to {path}", 0, $"the file cannot be written: {e.Message}",
                "write to a directory you may write to and that has space (`df`); as root, check `mount` for a read-only file system.");
        }
    }

    /// <summary>Writes the records so far (<paramref name="packets"/> in all) to the file.</summary>
    public void Commit(long packets)
    {
        Writer.Flush();
        _committed = _buffer.Position;
        _packets = packets;
    }

    /// <summary>After a write failed: closes the file, cuts it back to the last commit and returns the error to throw.</summary>
    public AfXdpException Failed(IOException e)
    {
        _failed = true;
        _file.Dispose();
        string kept = $"it holds the {_packets} packets written before, whole and readable";
        try
        {
            using var handle = File.OpenHandle(_path, FileMode.Open, FileAccess.Write);
            RandomAccess.SetLength(handle, _committed);
        }
        catch (Exception cut) when (cut is IOException or UnauthorizedAccessException)
        {
            kept = $"it could not be cut back to its last whole record ({_committed} bytes, {_packets} packets): {cut.Message}";
        }
        return new AfXdpException($"capture to {_path}", 0, $"writing failed: {e.Message}; {kept}.",
            "free space on that file system (`df`) or write elsewhere, and bound the capture with -n or -d.");
    }

    /// <summary>Writes what is buffered and closes the file; after a failure the file is closed already and the buffer is dropped.</summary>
    public void Dispose()
    {
        if (_failed)
            return;
        Writer.Dispose();
        _buffer.Dispose();
    }
}
