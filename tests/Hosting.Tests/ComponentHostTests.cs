namespace P2PRegistry.Hosting.Tests;

// Changes a process-wide environment variable: restored at once, and nothing else in this assembly reads it.
public sealed class ComponentHostTests
{
    [Fact]
    public void PreferInlineSocketCompletions_Unset_TurnsThemOn_ButKeepsWhatTheOperatorSet()
    {
        var before = Environment.GetEnvironmentVariable(ComponentHost.InlineSocketCompletionsVariable);
        try
        {
            Environment.SetEnvironmentVariable(ComponentHost.InlineSocketCompletionsVariable, null);
            ComponentHost.PreferInlineSocketCompletions();
            Assert.Equal("1", Environment.GetEnvironmentVariable(ComponentHost.InlineSocketCompletionsVariable));

            Environment.SetEnvironmentVariable(ComponentHost.InlineSocketCompletionsVariable, "0");
            ComponentHost.PreferInlineSocketCompletions();
            Assert.Equal("0", Environment.GetEnvironmentVariable(ComponentHost.InlineSocketCompletionsVariable));
        }
        finally
        {
            Environment.SetEnvironmentVariable(ComponentHost.InlineSocketCompletionsVariable, before);
        }
    }
}
