namespace P2PRegistry.Integration.Tests.Origin;

/// <summary>
/// The images every end-to-end class pushes, built once per test run (umoci over 64 MiB takes seconds) into one
/// OCI layout that is deleted when the run ends (<see cref="IntegrationTestFramework"/>).
/// </summary>
public sealed class TestImages
{
    /// <summary>The large image: busybox layer + a 64 MiB random layer (seed 1).</summary>
    public const int BigRandomMiB = 64;
    public const int SmallRandomMiB = 1;

    private static readonly Lazy<Task<TestImages>> s_instance = new(BuildAsync);
    private static TempDirectory? s_directory;


    private TestImages(OciImage big, OciImageIndex multiPlatform)
    {
        Big = big;
        MultiPlatform = multiPlatform;
    }

    /// <summary>Two layers, the second over 64 MiB of incompressible data; tag <c>big</c>.</summary>
    public OciImage Big { get; }

    /// <summary>An index over linux/amd64 (seed 2) and linux/arm64 (seed 3), 1 MiB random layer each; tag <c>multi</c>.</summary>
    public OciImageIndex MultiPlatform { get; }

    public OciImage SmallAmd64 => MultiPlatform.Images[0];

    public static Task<TestImages> GetAsync() => s_instance.Value;

    /// <summary>
    /// A test host killed before its end-of-run cleanup (a crash, a cancelled run) leaves its layout behind;
    /// the next run removes the layouts of test hosts that no longer run.
    /// </summary>
    private static void DeleteLeftoversOfEndedRuns()
    {
        foreach (var directory in Directory.EnumerateDirectories(Path.GetTempPath(), "images-*-*"))
        {
            var parts = Path.GetFileName(directory).Split('-');
            if (parts.Length == 3 && int.TryParse(parts[1], out var pid) && pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
            {
                try
                {
                    Directory.Delete(directory, recursive: true);
                }
                catch (IOException)
                {
                    // Another run is deleting it too.
                }
            }
        }
    }

    /// <summary>Deletes the layout at the end of the run (no test may use it afterwards).</summary>
    internal static void DeleteIfBuilt()
    {
        var directory = Interlocked.Exchange(ref s_directory, null);
        if (directory is null)
        {
            return;
        }

        // The test host is torn down moments after the run ends, often in the middle of an in-process delete;
        // an rm started now finishes even then (it is not part of the host), and takes milliseconds.
        using var rm = System.Diagnostics.Process.Start("rm", ["-rf", directory.Path]);
        rm.WaitForExit(TimeSpan.FromSeconds(10));
    }

    private static async Task<TestImages> BuildAsync()
    {
        DeleteLeftoversOfEndedRuns();
        var directory = new TempDirectory($"images-{Environment.ProcessId}");
        s_directory = directory;
        var layout = directory.Combine("layout");
        var big = await OciImageBuilder.BuildAsync(layout, "big", BigRandomMiB, seed: 1);
        var amd64 = await OciImageBuilder.BuildAsync(layout, "multi-amd64", SmallRandomMiB, seed: 2, architecture: "amd64");
        var arm64 = await OciImageBuilder.BuildAsync(layout, "multi-arm64", SmallRandomMiB, seed: 3, architecture: "arm64");
        var multi = await OciImageBuilder.BuildIndexAsync(layout, "multi", [amd64, arm64]);
        return new TestImages(big, multi);
    }
}
