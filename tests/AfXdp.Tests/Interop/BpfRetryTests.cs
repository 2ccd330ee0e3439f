using AfXdp.Interop;

namespace AfXdp.Tests.Interop;

/// <summary>The bpf(2) choke point's retry, over a fake call that answers as scripted.</summary>
public unsafe class BpfRetryTests
{
    /// <summary>Answers each call with the next errno of <see cref="Script"/> (0: success, returning 3), and records what it was given.</summary>
    readonly struct ScriptedCall : Sys.IBpfCall
    {
        [ThreadStatic] public static Queue<int>? Script;
        [ThreadStatic] public static List<(int Command, uint FirstField, int Size)>? Calls;

        public static nint Invoke(int command, void* attr, int size, out int errno)
        {
            Calls!.Add((command, *(uint*)attr, size));
            errno = Script!.Dequeue();
            return errno == 0 ? 3 : -1;
        }
    }

    static (int Result, int Errno, int Calls) Run(params int[] answers)
    {
        ScriptedCall.Script = new Queue<int>(answers);
        ScriptedCall.Calls = [];
        var attr = new bpf_attr_get_id { id = 42 };
        int result = Sys.Bpf<ScriptedCall, bpf_attr_get_id>(Sys.BPF_LINK_GET_NEXT_ID, ref attr, out int errno);
        Assert.All(ScriptedCall.Calls, call => Assert.Equal((Sys.BPF_LINK_GET_NEXT_ID, 42u, sizeof(bpf_attr_get_id)), call));
        return (result, errno, ScriptedCall.Calls.Count);
    }

    [Fact]
    public void A_call_interrupted_by_signals_is_made_again_until_it_succeeds() =>
        Assert.Equal((3, 0, 3), Run(Errno.EINTR, Errno.EINTR, 0));

    [Fact]
    public void A_verifier_that_asks_again_with_EAGAIN_is_asked_again() =>
        Assert.Equal((3, 0, 2), Run(Errno.EAGAIN, 0));

    [Fact]
    public void Other_errors_are_returned_at_once() =>
        Assert.Equal((-1, Errno.EPERM, 1), Run(Errno.EPERM, 0));

    [Fact]
    public void Endless_interruptions_end_after_five_retries_with_EINTR() =>
        Assert.Equal((-1, Errno.EINTR, 6), Run([.. Enumerable.Repeat(Errno.EINTR, 7)]));

    [Fact]
    public void A_success_on_the_last_retry_counts() =>
        Assert.Equal((3, 0, 6), Run([.. Enumerable.Repeat(Errno.EAGAIN, 5), 0]));
}
