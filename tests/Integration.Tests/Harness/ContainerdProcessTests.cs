namespace P2PRegistry.Integration.Tests.Harness;

[Trait("Category", TestCategories.Integration)]
public sealed class ContainerdProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task DisposeAsync_SomethingStillMountedUnderItsRoot_UnmountsStopsAndDeletes()
    {
        var containerd = await ContainerdProcess.StartAsync(output.WriteLine);
        var directory = containerd.Directory;
        var pid = containerd.Process.Id;
        try
        {
            var version = await containerd.Ctr("version");
            Assert.Contains("Server:", version.StandardOutput, StringComparison.Ordinal);

            // A mount a test forgot (as a failed `ctr images mount` leaves behind).
            var target = Directory.CreateDirectory(Path.Combine(containerd.Root, "left-mounted")).FullName;
            await ProcessRunner.RunOrThrowAsync("mount", ["-t", "tmpfs", "tmpfs", target]);
            Assert.Contains(target, File.ReadAllText("/proc/self/mountinfo"), StringComparison.Ordinal);
        }
        finally
        {
            await containerd.DisposeAsync();
        }

        Assert.DoesNotContain(directory, File.ReadAllText("/proc/self/mountinfo"), StringComparison.Ordinal);
        Assert.False(Directory.Exists(directory));
        Assert.False(Directory.Exists($"/proc/{pid}"));
    }
}
