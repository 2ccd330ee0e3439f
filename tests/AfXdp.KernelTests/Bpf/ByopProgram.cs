using System.Runtime.InteropServices;
using AfXdp.Testing;

namespace AfXdp.KernelTests.Bpf;

/// <summary>An XDP program and XSKMAP written in C, the way libbpf users write them ("bring your own program").</summary>
internal static class ByopProgram
{
    /// <summary>The name the kernel gives the program (its function name).</summary>
    public const string Name = "byop_redirect";

    const string Source = """
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>

        struct {
            __uint(type, BPF_MAP_TYPE_XSKMAP);
            __uint(max_entries, 4);
            __type(key, __u32);
            __type(value, __u32);
        } byop_xsks SEC(".maps");

        SEC("xdp")
        int byop_redirect(struct xdp_md *ctx)
        {
            return bpf_redirect_map(&byop_xsks, ctx->rx_queue_index, XDP_PASS);
        }

        char _license[] SEC("license") = "GPL";
        """;

    /// <summary>Compiles the C program above with clang, as a libbpf user would.</summary>
    public static string Compile(string directory)
    {
        string source = Path.Combine(directory, "byop.c"), objectFile = Path.Combine(directory, "byop.o");
        File.WriteAllText(source, Source);
        string multiarch = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
        CommandResult clang = ExternalCommand.Run("clang", ["-O2", "-g", "-target", "bpf", $"-I/usr/include/{multiarch}", "-c", source, "-o", objectFile]);
        Assert.True(clang.Succeeded, $"clang -target bpf failed (./test.sh installs clang and libbpf-dev): {clang.Error}");
        return objectFile;
    }
}
