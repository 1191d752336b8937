using System.Reflection.PortableExecutable;

namespace P2PRegistry.Testing.Assemblies;

/// <summary>
/// What kind of program file a path is: a native ELF executable (its first four bytes are 0x7F 'E' 'L' 'F', as a
/// Native AOT publish writes the agent) or a managed assembly (a PE file with CLI metadata, which needs the .NET
/// runtime to run).
/// </summary>
public static class ProgramImage
{
    private static ReadOnlySpan<byte> ElfMagic => [0x7F, (byte)'E', (byte)'L', (byte)'F'];

    public static bool IsElf(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        return stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length && head.SequenceEqual(ElfMagic);
    }

    public static bool IsManagedAssembly(string path)
    {
        using var stream = File.OpenRead(path);
        try
        {
            using var pe = new PEReader(stream);
            return pe.HasMetadata;
        }
        catch (BadImageFormatException)
        {
            // Not a PE file at all (an ELF executable, a JSON file).
            return false;
        }
    }
}
