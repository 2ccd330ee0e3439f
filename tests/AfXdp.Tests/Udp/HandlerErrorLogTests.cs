using AfXdp.Udp;

namespace AfXdp.Tests.Udp;

/// <summary>A handler's exceptions reach the log once per type, whichever thread throws them.</summary>
public sealed class HandlerErrorLogTests
{
    static Exception Thrown(Exception e)
    {
        try
        {
            throw e;
        }
        catch (Exception caught)
        {
            return caught;
        }
    }

    [Fact]
    public void The_first_exception_of_each_type_is_told_with_where_it_came_from_and_its_stack()
    {
        var lines = new List<string>();
        var log = new HandlerErrorLog(r => { Assert.Equal(UdpServiceReportKind.HandlerException, r.Kind); lines.Add(r.Message); });
        Assert.True(log.Report(Thrown(new InvalidOperationException("first")), "UdpService(b, 10.99.0.2:53) queue 0", "Handle threw"));
        Assert.False(log.Report(Thrown(new InvalidOperationException("second")), "UdpService(b, 10.99.0.2:53) queue 1", "Handle threw"));
        Assert.True(log.Report(Thrown(new ArgumentException("other")), "UdpService(b, 10.99.0.2:53) queue 0", "Idle threw"));
        Assert.Equal(2, lines.Count);
        Assert.StartsWith("UdpService(b, 10.99.0.2:53) queue 0: the handler's Handle threw; only the first InvalidOperationException is told, each is counted (afxdp.udp.handler_errors): System.InvalidOperationException: first", lines[0]);
        Assert.Contains($"at {typeof(HandlerErrorLogTests).FullName}.{nameof(Thrown)}", lines[0]);
        Assert.StartsWith("UdpService(b, 10.99.0.2:53) queue 0: the handler's Idle threw; only the first ArgumentException is told", lines[1]);
    }

    [Fact]
    public void Many_threads_throwing_the_same_type_tell_it_once()
    {
        int told = 0;
        var log = new HandlerErrorLog(_ => Interlocked.Increment(ref told));
        Parallel.For(0, 10_000, i => log.Report(new TimeoutException(), $"queue {i % 4}", "Handle threw"));
        Assert.Equal(1, told);
    }

    [Fact]
    public void Without_a_log_nothing_is_told() => Assert.False(new HandlerErrorLog(null).Report(new InvalidOperationException(), "queue 0", "Handle threw"));
}
