using P2PRegistry.Testing.Containerd;
using P2PRegistry.Testing.Processes;

namespace P2PRegistry.Testing.Images;

/// <summary>
/// A base image made from Debian's packages, for building Dockerfiles where no public base image can be pulled:
/// <c>debootstrap --variant=minbase</c> (plus what .NET's <c>runtime-deps</c> image adds: ca-certificates, libssl3,
/// tzdata) into a root file system that is cached under <see cref="CacheRoot"/> and shared by every test and run on
/// the machine (built once, under a file lock), then imported into a <see cref="Buildah"/> store as
/// <c>FROM scratch</c> + <c>COPY</c>. debootstrap downloads from deb.debian.org.
/// </summary>
public static class DebianBaseImage
{
    public const string Suite = "bookworm";

    public static readonly IReadOnlyList<string> Packages = ["ca-certificates", "libssl3", "tzdata"];

    public static string CacheRoot => Path.Combine(Path.GetTempPath(), "p2pregistry-debootstrap");

    /// <summary>The cached root file system, made first if no test made it before.</summary>
    public static async Task<string> EnsureRootFileSystemAsync(CancellationToken cancellationToken = default)
    {
        var name = $"{Suite}-minbase-{string.Join('+', Packages)}";
        var rootfs = Path.Combine(CacheRoot, name);
        var complete = rootfs + ".complete";
        if (File.Exists(complete))
        {
            return rootfs;
        }

        Directory.CreateDirectory(CacheRoot);
        await using var fileLock = await AcquireLockAsync(rootfs + ".lock", TimeSpan.FromMinutes(15), cancellationToken).ConfigureAwait(false);
        if (File.Exists(complete))
        {
            return rootfs;
        }

        // A half-made tree from an interrupted run is started over; the marker is written only after the rename.
        var staging = $"{rootfs}.staging-{Guid.NewGuid().ToString("N")[..8]}";
        try
        {
            if (Directory.Exists(rootfs))
            {
                await ContainerdProcess.UnmountUnderAsync(rootfs).ConfigureAwait(false);
                Directory.Delete(rootfs, recursive: true);
            }

            await ProcessRunner.RunOrThrowAsync(
                "debootstrap",
                ["--variant=minbase", "--include=" + string.Join(',', Packages), Suite, staging, "http://deb.debian.org/debian"],
                TimeSpan.FromMinutes(10),
                cancellationToken).ConfigureAwait(false);
            Trim(staging);
            Directory.Move(staging, rootfs);
            await File.WriteAllTextAsync(complete, DateTime.UtcNow.ToString("O"), cancellationToken).ConfigureAwait(false);
            return rootfs;
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                // A debootstrap that failed half-way can leave /proc or /sys mounted in the tree: never delete through them.
                await ContainerdProcess.UnmountUnderAsync(staging).ConfigureAwait(false);
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>Imports the cached root file system into <paramref name="buildah"/>'s store as <paramref name="tag"/>.</summary>
    public static async Task ImportAsync(Buildah buildah, string tag, CancellationToken cancellationToken = default)
    {
        var rootfs = await EnsureRootFileSystemAsync(cancellationToken).ConfigureAwait(false);
        var dockerfile = Path.Combine(Path.GetTempPath(), $"debian-base-{Guid.NewGuid():N}.Dockerfile");
        try
        {
            await File.WriteAllTextAsync(dockerfile, "FROM scratch\nCOPY . /\nCMD [\"/bin/sh\"]\n", cancellationToken).ConfigureAwait(false);
            await buildah.BuildAsync(dockerfile, rootfs, tag, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(dockerfile);
        }
    }

    /// <summary>What a slim image leaves out: downloaded packages, package lists, documentation, translations.</summary>
    private static void Trim(string rootfs)
    {
        foreach (var folder in new[] { "var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale" })
        {
            var path = Path.Combine(rootfs, folder);
            if (!Directory.Exists(path))
            {
                continue;
            }

            foreach (var entry in new DirectoryInfo(path).EnumerateFileSystemInfos())
            {
                if (entry is DirectoryInfo directory && directory.LinkTarget is null)
                {
                    directory.Delete(recursive: true);
                }
                else if (entry.Name is not ("partial" or "lock"))
                {
                    entry.Delete();
                }
            }
        }
    }

    /// <summary>An exclusive lock on a file (flock under FileShare.None), waited for up to <paramref name="timeout"/>.</summary>
    private static async Task<FileStream> AcquireLockAsync(string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
