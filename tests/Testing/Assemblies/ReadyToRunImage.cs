using System.Reflection.PortableExecutable;

namespace P2PRegistry.Testing.Assemblies;

/// <summary>
/// Tells whether a managed assembly carries ReadyToRun (precompiled) code: its CLI header points at a managed native
/// header whose first four bytes are the READYTORUN_HEADER signature "RTR\0". An IL-only assembly has no such header.
/// </summary>
public static class ReadyToRunImage
{
    private const uint Signature = 0x00525452;

    public static bool IsReadyToRun(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var directory = pe.PEHeaders.CorHeader?.ManagedNativeHeaderDirectory;
        if (directory is not { Size: >= 4 } header)
        {
            return false;
        }

        var data = pe.GetSectionData(header.RelativeVirtualAddress);
        return data.Length >= 4 && data.GetReader().ReadUInt32() == Signature;
    }
}
