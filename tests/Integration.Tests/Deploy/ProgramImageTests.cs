using P2PRegistry.Testing.Assemblies;

namespace P2PRegistry.Integration.Tests.Deploy;

/// <summary>The checks <see cref="NativeAotAgentTests"/> applies to the published agent, on files known either way.</summary>
public sealed class ProgramImageTests
{
    [Fact]
    public void IsElf_TheRunningHost_True_TheTestAssembly_False()
    {
        Assert.True(ProgramImage.IsElf(Environment.ProcessPath!));
        Assert.False(ProgramImage.IsElf(typeof(ProgramImageTests).Assembly.Location));
    }

    [Fact]
    public void IsManagedAssembly_TheTestAssembly_True_TheRunningHost_False()
    {
        Assert.True(ProgramImage.IsManagedAssembly(typeof(ProgramImageTests).Assembly.Location));
        Assert.False(ProgramImage.IsManagedAssembly(Environment.ProcessPath!));
    }
}
