using P2PRegistry.Testing.Assemblies;

namespace P2PRegistry.Integration.Tests.Deploy;

/// <summary>The check that <see cref="ContainerImageTests"/> applies to the published agent, on assemblies known either way.</summary>
public sealed class ReadyToRunImageTests
{
    [Fact]
    public void IsReadyToRun_FrameworkCoreLibrary_True() =>
        Assert.True(ReadyToRunImage.IsReadyToRun(typeof(object).Assembly.Location));

    [Fact]
    public void IsReadyToRun_IlOnlyTestAssembly_False() =>
        Assert.False(ReadyToRunImage.IsReadyToRun(typeof(ReadyToRunImageTests).Assembly.Location));
}
