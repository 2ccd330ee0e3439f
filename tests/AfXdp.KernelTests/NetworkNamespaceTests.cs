using System.Net;
using System.Net.Sockets;
using AfXdp.Interop;
using AfXdp.Testing;

namespace AfXdp.KernelTests;

public sealed class NetworkNamespaceTests(LabFixture fixture) : IClassFixture<LabFixture>
{
    [Fact]
    public void Run_enters_the_namespace_on_another_thread_and_leaves_the_caller_where_it_was()
    {
        string before = KernelTest.CurrentNetworkNamespace();
        int caller = Environment.CurrentManagedThreadId;

        (string inside, int thread, bool pooled) = NetworkNamespace.Run(fixture.Lab.NamespaceA,
            () => (KernelTest.CurrentNetworkNamespace(), Environment.CurrentManagedThreadId, Thread.CurrentThread.IsThreadPoolThread));

        Assert.NotEqual(before, inside);
        Assert.NotEqual(caller, thread);
        Assert.False(pooled);
        Assert.Equal(before, KernelTest.CurrentNetworkNamespace());
        Assert.Equal(inside, NetworkNamespace.Run(fixture.Lab.NamespaceA, KernelTest.CurrentNetworkNamespace));
        Assert.NotEqual(inside, NetworkNamespace.Run(fixture.Lab.NamespaceB, KernelTest.CurrentNetworkNamespace));
    }

    [Fact]
    public async Task RunAsync_runs_on_a_dedicated_thread_inside_the_namespace()
    {
        string before = KernelTest.CurrentNetworkNamespace();
        string expected = NetworkNamespace.Run(fixture.Lab.NamespaceB, KernelTest.CurrentNetworkNamespace);

        (string inside, bool pooled) = await NetworkNamespace.RunAsync(fixture.Lab.NamespaceB,
                () => (KernelTest.CurrentNetworkNamespace(), Thread.CurrentThread.IsThreadPoolThread))
            .WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal(expected, inside);
        Assert.False(pooled);
        Assert.Equal(before, KernelTest.CurrentNetworkNamespace());
    }

    [Fact]
    public async Task The_body_exception_is_rethrown_with_its_own_stack()
    {
        var thrown = Assert.Throws<InvalidOperationException>(() => NetworkNamespace.Run(fixture.Lab.NamespaceA, () => FailInside()));
        Assert.Contains(nameof(FailInside), thrown.StackTrace);

        var thrownAsync = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            NetworkNamespace.RunAsync(fixture.Lab.NamespaceA, () => FailInside())
                .WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        Assert.Contains(nameof(FailInside), thrownAsync.StackTrace);
    }

    [Fact]
    public void A_missing_namespace_is_ENOENT_and_says_how_to_list_them()
    {
        var e = Assert.Throws<AfXdpException>(() => NetworkNamespace.Run("afx-no-such-namespace", () => { }));

        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Contains("/run/netns/afx-no-such-namespace", e.Message);
        Assert.Contains("ip netns list", e.Message);
    }

    [Fact]
    public void A_name_with_a_slash_is_refused_before_any_call()
    {
        var e = Assert.Throws<ArgumentException>(() => NetworkNamespace.Run("../etc", () => { }));

        Assert.Equal("name", e.ParamName);
    }

    [Fact]
    public async Task An_async_body_is_refused()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => NetworkNamespace.Run(fixture.Lab.NamespaceA, async () => await Task.Yield()));

        Assert.Contains("synchronous", e.Message);
    }

    // A body that queues to the thread pool can make the pool start a worker inside the namespace
    // (NetworkNamespace's remarks); what Run promises is that it adds no thread there itself, and that the
    // runtime's shared threads, which a body's timers and sockets need, are born outside.
    [Fact]
    public void A_body_leaves_no_thread_in_the_namespace_and_the_runtime_threads_are_outside()
    {
        string home = KernelTest.CurrentNetworkNamespace();
        string inside = NetworkNamespace.Run(fixture.Lab.NamespaceA, () =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(fixture.Lab.AddressA, 0));
            Task.Delay(20).Wait(); // fired by the runtime's timer thread
            return KernelTest.CurrentNetworkNamespace();
        });

        List<(string Name, string NetworkNamespace)> threads = KernelTest.ThreadNetworkNamespaces();
        Assert.NotEqual(home, inside);
        Assert.DoesNotContain(threads, t => t.NetworkNamespace == inside);
        string[] shared = [".NET Timer", ".NET TP Gate", ".NET SigHandler", ".NET Sockets"];
        Assert.All(shared, name => Assert.Contains((name, home), threads));
    }

    static int FailInside() => throw new InvalidOperationException("thrown inside the namespace");
}
