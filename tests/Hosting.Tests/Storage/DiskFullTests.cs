using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Hosting.Storage;
using Xunit;

namespace P2PRegistry.Hosting.Tests.Storage;

public sealed class DiskFullTests
{
    [Theory]
    [InlineData(28)] // ENOSPC
    [InlineData(122)] // EDQUOT
    public void Is_TheErrnoOfAFullDisk_True(int errno) =>
        Assert.True(DiskFull.Is(new IOException("write failed", errno)));

    [Fact]
    public void Is_AFullDiskWrappedInAnotherException_True() =>
        Assert.True(DiskFull.Is(new InvalidDataException("download failed", new IOException("write failed", 28))));

    [Fact]
    public void Is_AnotherIoErrorWithSpaceLeft_False()
    {
        Assert.False(DiskFull.Is(new IOException("EIO", 5)));
        Assert.False(DiskFull.Is(new IOException("EIO", 5), Path.GetTempPath()));
        Assert.False(DiskFull.Is(new InvalidOperationException("not I/O")));
        Assert.False(DiskFull.Is(null));
    }

    [Fact]
    public void Is_AnIoErrorWithoutErrno_WhenLessThanTheBytesItNeededAreFree_True()
    {
        // A failed preallocation carries no errno: it is a full disk when its size does not fit.
        var free = new DriveInfo(Path.GetTempPath()).AvailableFreeSpace;
        var plain = new IOException("Failed to create the file with allocation size");
        Assert.True(DiskFull.Is(plain, Path.GetTempPath(), neededBytes: free + 1024L * 1024 * 1024));
        Assert.False(DiskFull.Is(plain, Path.GetTempPath(), neededBytes: 4096));
    }

    [Fact]
    public void NoSpace_IsRecognisedWithoutAPath()
    {
        var inner = new IOException("preallocation failed");
        var exception = DiskFull.NoSpace("no room", inner);
        Assert.True(DiskFull.Is(exception));
        Assert.Same(inner, exception.InnerException);
    }

    [Fact]
    public void ShouldLog_OncePerPeriodPerPath_CountingWhatWasNotLogged()
    {
        var time = new FakeTimeProvider();
        var reports = new DiskFullReports(time, TimeSpan.FromMinutes(1));

        Assert.True(reports.ShouldLog("download", out var suppressed));
        Assert.Equal(0, suppressed);
        Assert.False(reports.ShouldLog("download", out _));
        Assert.False(reports.ShouldLog("download", out _));
        // Another path has its own line.
        Assert.True(reports.ShouldLog("manifest", out _));

        time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(reports.ShouldLog("download", out _));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(reports.ShouldLog("download", out suppressed));
        Assert.Equal(3, suppressed);
        Assert.False(reports.ShouldLog("download", out _));
    }
}
