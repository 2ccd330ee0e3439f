using AfXdp.Cli.Apps;
using AfXdp.Net;
using Microsoft.Win32.SafeHandles;

namespace AfXdp.Cli.Commands;

/// <summary>
/// Where <c>afxdp capture</c> writes: a <see cref="CaptureFile"/> (a new 0600 file renamed onto the target when the
/// capture ends), or standard output for <c>-w -</c>. Records are buffered and flushed after every batch; when a
/// write to a file fails (a full disk), the file is cut back to the last flush, so that what was written stays a
/// readable pcap of whole records. Failures are <see cref="AfXdpException"/>s naming the output.
/// </summary>
internal sealed class PcapFile : IDisposable
{
    /// <summary>The name <c>-w</c> takes for standard output, as tcpdump's does.</summary>
    public const string StandardOutput = "-";

    readonly CaptureFile? _file;
    // Unbuffered, under a buffer of our own: after a failed write the buffer is dropped, never disposed,
    // so the failed bytes are never written again (a FileStream would retry when closed).
    readonly BufferedStream _buffer;
    long _committed;
    long _packets;
    bool _failed;

    PcapFile(string name, CaptureFile? file, Stream output)
    {
        Name = name;
        _file = file;
        _buffer = new BufferedStream(output, 1 << 16);
        Writer = new PcapWriter(_buffer, leaveOpen: true);
    }

    /// <summary>The target's full path, or "standard output".</summary>
    public string Name { get; }

    /// <summary>True for <c>-w -</c>: the pcap goes to stdout, so the command's own lines go to stderr.</summary>
    public bool IsStandardOutput => _file is null;

    /// <summary>Where the capture writes its records.</summary>
    public PcapWriter Writer { get; }

    /// <summary>Creates the new file beside <paramref name="path"/> (or takes stdout for "-") and writes the pcap header to it.</summary>
    public static PcapFile Create(string path)
    {
        // fd 1 as a FileStream, not Console.OpenStandardOutput(), which ignores EPIPE: when the reader goes away, the capture stops.
        if (path == StandardOutput)
            return Started(new PcapFile("standard output", null, new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0)));
        CaptureFile file = CaptureFile.Create(path);
        try
        {
            return Started(new PcapFile(file.Path, file, file.Stream));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    static PcapFile Started(PcapFile file)
    {
        try
        {
            file.Commit(0);
            return file;
        }
        catch (IOException e)
        {
            throw file.Failed(e);
        }
    }

    /// <summary>Writes the records so far (<paramref name="packets"/> in all) to the output.</summary>
    public void Commit(long packets)
    {
        Writer.Flush();
        _committed = _file?.Stream.Position ?? 0;
        _packets = packets;
    }

    /// <summary>After a write failed: cuts a file back to the last commit and returns the error to throw.</summary>
    public AfXdpException Failed(IOException e)
    {
        _failed = true;
        if (_file is null)
            return new AfXdpException($"capture to {Name}", 0, $"writing failed: {e.Message}; {_packets} packets were written before.",
                "keep the reader of standard output (`tshark -r -`, `tcpdump -r -`) running until the capture ends, or bound it with -n or -d.");
        string kept = $"it holds the {_packets} packets written before, whole and readable";
        try
        {
            // Through the descriptor: the new file is ours, wherever its name is now.
            RandomAccess.SetLength(_file.Stream.SafeFileHandle, _committed);
        }
        catch (IOException cut)
        {
            kept = $"it could not be cut back to its last whole record ({_committed} bytes, {_packets} packets): {cut.Message}";
        }
        return new AfXdpException($"capture to {Name}", 0, $"writing failed: {e.Message}; {kept}.",
            "free space on that file system (`df`) or write elsewhere, and bound the capture with -n or -d.");
    }

    /// <summary>
    /// Ends the capture, however it ended (a limit, Ctrl-C, SIGTERM, a failure): writes what is buffered and renames
    /// the file onto the target, since a capture cut short is still worth reading.
    /// </summary>
    public void Complete()
    {
        if (!_failed)
            Writer.Flush();
        _file?.Complete();
    }

    /// <summary>Closes the output; a file not completed is removed (the target is untouched). After a failure the buffer is dropped.</summary>
    public void Dispose()
    {
        if (_file is not null)
            _file.Dispose();
        else if (!_failed)
            _buffer.Dispose();
    }
}
