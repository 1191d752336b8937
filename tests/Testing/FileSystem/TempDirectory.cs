namespace P2PRegistry.Testing.FileSystem;

/// <summary>A fresh directory under /tmp that deletes itself (and everything in it) on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "p2pr")
    {
        // Short on purpose: unix socket paths (containerd's) must stay under 108 bytes.
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid().ToString("N")[..10]}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>The path of <paramref name="relative"/> inside this directory (not created).</summary>
    public string Combine(params string[] relative) => System.IO.Path.Combine([Path, .. relative]);

    /// <summary>Creates (if needed) and returns a subdirectory.</summary>
    public string CreateSubdirectory(params string[] relative)
    {
        var path = Combine(relative);
        Directory.CreateDirectory(path);
        return path;
    }

    public void Dispose()
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (Directory.Exists(Path))
                {
                    Directory.Delete(Path, recursive: true);
                }

                return;
            }
            catch (IOException) when (attempt < 3)
            {
                // A process that just stopped may still be closing files in here.
                Thread.Sleep(200);
            }
        }
    }

    public override string ToString() => Path;
}
