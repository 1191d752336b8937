namespace P2PRegistry.Agent.Cache;

/// <summary>
/// Usage of the file system holding a path: <see cref="DriveInfo"/> on the path itself, which on Linux is statvfs(2) of
/// that path (the mount it is on, whatever mounts sit above or below it). <see cref="UsedBytes"/> counts what is not
/// available to an unprivileged writer (the root reserve of ext4 included), as the kubelet's percent does.
/// </summary>
internal readonly record struct DiskUsage(long SizeBytes, long AvailableBytes)
{
    public long UsedBytes => SizeBytes - AvailableBytes;

    public double UsedPercent => SizeBytes > 0 ? 100.0 * UsedBytes / SizeBytes : 0;

    public static DiskUsage Of(string path)
    {
        var drive = new DriveInfo(Path.GetFullPath(path));
        return new DiskUsage(drive.TotalSize, drive.AvailableFreeSpace);
    }
}
