using AfXdp.Engine;

namespace AfXdp.Tests.Engine;

public sealed class FrameQueueTests
{
    [Fact]
    public void Entries_come_out_in_order_until_the_queue_is_full_and_again_after_it_drains()
    {
        var queue = new FrameQueue(4);
        for (int lap = 0; lap < 3; lap++)
        {
            for (uint i = 0; i < 4; i++)
                Assert.True(queue.TryEnqueue(i * 4096, i + 60, (ushort)i));
            Assert.False(queue.TryEnqueue(99, 99, 9));
            Assert.True(queue.HasItems);
            for (uint i = 0; i < 4; i++)
            {
                Assert.True(queue.TryDequeue(out ulong address, out uint length, out ushort source));
                Assert.Equal((i * 4096, i + 60, (ushort)i), (address, length, source));
            }
            Assert.False(queue.HasItems);
            Assert.False(queue.TryDequeue(out _, out _, out _));
        }
    }

    [Fact]
    public void Concurrent_producers_lose_and_duplicate_nothing()
    {
        const int producers = 4, perProducer = 200_000;
        var queue = new FrameQueue(256);
        var seen = new int[producers * perProducer];
        var threads = Enumerable.Range(0, producers).Select(p => new Thread(() =>
        {
            for (int i = 0; i < perProducer; i++)
            {
                while (!queue.TryEnqueue((ulong)(p * perProducer + i), (uint)i, (ushort)p))
                    Thread.SpinWait(1);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        var lastFrom = Enumerable.Repeat(-1L, producers).ToArray();
        for (int taken = 0; taken < producers * perProducer;)
        {
            if (!queue.TryDequeue(out ulong address, out uint length, out ushort source))
                continue;
            seen[address]++;
            Assert.True(length > lastFrom[source], "one producer's entries stay in order");
            lastFrom[source] = length;
            taken++;
        }
        threads.ForEach(t => t.Join());
        Assert.All(seen, count => Assert.Equal(1, count));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void The_capacity_is_a_power_of_two(int capacity) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new FrameQueue(capacity));
}
