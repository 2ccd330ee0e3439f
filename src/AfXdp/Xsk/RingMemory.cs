using AfXdp.Interop;

namespace AfXdp.Xsk;

/// <summary>Where one mapped ring lives: the shared indices, the flags word and the entry array.</summary>
internal readonly unsafe struct RingMemory(uint* producer, uint* consumer, uint* flags, void* entries, uint size)
{
    public readonly uint* Producer = producer;
    public readonly uint* Consumer = consumer;
    public readonly uint* Flags = flags;
    public readonly void* Entries = entries;
    public readonly uint Size = size;

    public static RingMemory At(byte* map, in xdp_ring_offset offsets, uint size) =>
        new((uint*)(map + offsets.producer), (uint*)(map + offsets.consumer), (uint*)(map + offsets.flags), map + offsets.desc, size);
}
