using AfXdp.Testing;

namespace AfXdp.KernelTests;

/// <summary>One lab shared by the tests of a class that only read it or send through it.</summary>
public sealed class LabFixture : IDisposable
{
    public LabFixture()
    {
        KernelTest.RequireRoot();
        Lab = VethLab.Create();
    }

    public VethLab Lab { get; }

    public void Dispose() => Lab.Dispose();
}
