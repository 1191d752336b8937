using P2PRegistry.Agent.Registry;

namespace P2PRegistry.Agent.Tests.Registry;

public sealed class UpstreamRepositoryTests
{
    [Theory]
    [InlineData("busybox", "docker.io", "library/busybox")]
    [InlineData("busybox", "index.docker.io", "library/busybox")]
    [InlineData("busybox", "registry-1.docker.io", "library/busybox")]
    [InlineData("library/busybox", "docker.io", "library/busybox")]
    [InlineData("team/app", "docker.io", "team/app")]
    [InlineData("busybox", "registry.lab:5000", "busybox")]
    [InlineData("busybox", "ghcr.io", "busybox")]
    public void UpstreamRepository_AddsLibraryOnlyForOnePartDockerHubNames(string name, string ns, string expected) =>
        Assert.Equal(expected, MirrorHandler.UpstreamRepository(name, ns));
}
