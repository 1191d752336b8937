namespace P2PRegistry.Testing.FileSystem;

/// <summary>Damage on disk, as a bad sector or a crash leaves it.</summary>
public static class FileDamage
{
    /// <summary>Flips bits of the byte at <paramref name="offset"/> in place (the file keeps its length).</summary>
    public static void FlipByte(string path, long offset)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        var one = new byte[1];
        RandomAccess.Read(file, one, offset);
        one[0] ^= 0x5A;
        RandomAccess.Write(file, one, offset);
    }
}
