using System.Text;

namespace P2PRegistry.Integration.Tests.Harness;

/// <summary>
/// The kit-wide secret check: a fake component of ours (a shell script run through ManagedProcess and marked as ours)
/// that prints a registered secret — as is, URL-encoded, in HTTP Basic, or one handed to it on its command line —
/// fails its StopAsync without printing the secret; one that does not print it, and a third-party program that does,
/// pass. Only <c>sh</c> from the base system: a unit test.
/// </summary>
public sealed class TestSecretsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("as is")]
    [InlineData("URL-encoded")]
    [InlineData("HTTP Basic")]
    public async Task StopAsync_OurComponentPrintedARegisteredSecret_ThrowsNamingProcessAndLineNotTheSecret(string kind)
    {
        var secret = $"pw {Guid.NewGuid():N}!";
        TestSecrets.Register(secret, "test password", "bot");
        var printed = kind switch
        {
            "as is" => secret,
            "URL-encoded" => Uri.EscapeDataString(secret),
            _ => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"bot:{secret}")),
        };

        var process = ManagedProcess.Start(FakeComponent("echo starting; echo \"value: $1\"; echo done", [printed]));
        await process.WaitForExitAsync(Timeout);

        var leak = await Assert.ThrowsAsync<SecretLeakedException>(() => process.StopAsync());
        Assert.Contains("fake-origin", leak.Message, StringComparison.Ordinal);
        Assert.Contains("output line 2", leak.Message, StringComparison.Ordinal);
        Assert.Contains($"({kind})", leak.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(printed, leak.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, leak.Message, StringComparison.Ordinal);
        Assert.Single(process.SecretLeaks);
        // The line itself is withheld from the buffer the failure messages show; the clean lines are there.
        Assert.DoesNotContain(printed, process.RecentOutput().Replace(process.CommandLine, "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("done", process.RecentOutput(), StringComparison.Ordinal);
        Assert.Contains("fake-origin", TestSecrets.Summary(), StringComparison.Ordinal);

        // Reported once: DisposeAsync after the failed StopAsync does not throw again.
        await process.DisposeAsync();
    }

    [Fact]
    public async Task StopAsync_OurComponentPrintedNoSecret_Passes()
    {
        var secret = $"pw-{Guid.NewGuid():N}";
        TestSecrets.Register(secret, "test password", "bot");

        // The secret is on its command line (and so in the kit's own "[harness] started" line): only what the program
        // prints is checked.
        var process = ManagedProcess.Start(FakeComponent("echo starting; echo credentials rejected for bot; echo done", ["--Origin:Upstreams:0:Password=" + secret]));
        await process.WaitForExitAsync(Timeout);

        await process.StopAsync();
        Assert.Empty(process.SecretLeaks);
        Assert.Contains("credentials rejected", process.RecentOutput(), StringComparison.Ordinal);
        await process.DisposeAsync();
    }

    [Fact]
    public async Task StopAsync_OurComponentEchoedAPasswordFromItsCommandLine_Throws()
    {
        // Not registered by the test: a --…Password= argument (and a URL's user info) is registered when the process starts.
        var secret = $"pw-{Guid.NewGuid():N}";
        var process = ManagedProcess.Start(FakeComponent("echo \"upstream is $1\"", [$"--Origin:Upstreams:0:Url=http://bot:{secret}@127.0.0.1:1/", "https://127.0.0.1:1/"]));
        await process.WaitForExitAsync(Timeout);

        var leak = await Assert.ThrowsAsync<SecretLeakedException>(() => process.StopAsync());
        Assert.Contains("user info", leak.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, leak.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StopAsync_AThirdPartyProgramPrintedASecret_IsNotChecked()
    {
        var secret = $"pw-{Guid.NewGuid():N}";
        TestSecrets.Register(secret, "test password");
        var process = ManagedProcess.Start(new ManagedProcessOptions("sh", ["-c", "echo \"$1\"", "sh", secret]) { Name = "htpasswd-like" });
        await process.WaitForExitAsync(Timeout);

        Assert.False(process.ChecksForSecrets);
        await process.StopAsync();
        Assert.Contains(secret, process.RecentOutput().Replace(process.CommandLine, "", StringComparison.Ordinal), StringComparison.Ordinal);
        await process.DisposeAsync();
    }

    [Theory]
    [InlineData("dotnet", "/repo/src/Origin/bin/Release/net10.0/P2PRegistry.Origin.dll", true)]
    [InlineData("dotnet", "/repo/src/Tracker/bin/Release/net10.0/P2PRegistry.Tracker.dll", true)]
    [InlineData("dotnet", "/tmp/other.dll", false)]
    [InlineData("docker-registry", "serve", false)]
    [InlineData("sh", "P2PRegistry.Origin.dll", false)]
    public void ChecksForSecrets_ByDefault_OnlyForOurPrograms(string file, string firstArgument, bool expected)
    {
        Assert.Equal(expected, new ManagedProcessOptions(file, [firstArgument]).ChecksForSecrets);
    }

    [Fact]
    public void RegisterFromArguments_PasswordWithSiblingUsername_FindsTheBasicForm_IgnoresOtherSettings()
    {
        var secret = $"pw-{Guid.NewGuid():N}";
        TestSecrets.RegisterFromArguments(["/x/P2PRegistry.Origin.dll", "--Origin:Push:Username=pusher-x", $"--Origin:Push:Password={secret}", "--Origin:Push:HtpasswdFile=/tmp/some-file-name"]);

        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"pusher-x:{secret}"));
        Assert.Equal("HTTP Basic", TestSecrets.FindIn($"Authorization: Basic {basic}")?.Kind);
        Assert.Equal("as is", TestSecrets.FindIn($"password {secret} rejected")?.Kind);
        Assert.Null(TestSecrets.FindIn("reading /tmp/some-file-name"));
    }

    [Fact]
    public void Register_TooShort_IsIgnored_ItWouldMatchInnocentText()
    {
        TestSecrets.Register("x", "one letter");
        Assert.Null(TestSecrets.FindIn("x marks the spot"));
    }

    private static ManagedProcessOptions FakeComponent(string script, IEnumerable<string> arguments) =>
        new("sh", ["-c", script, "sh", .. arguments]) { Name = "fake-origin", CheckForSecrets = true };
}
