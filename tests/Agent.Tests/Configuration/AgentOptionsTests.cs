using Microsoft.Extensions.Options;
using P2PRegistry.Agent.Configuration;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Agent.Tests.Configuration;

public sealed class AgentOptionsTests
{
    [Fact]
    public void Defaults_AreValid_AndNodeLocal()
    {
        var options = new AgentOptions();
        Assert.Empty(options.Validate());
        Assert.Equal("http://127.0.0.1:5050", options.RegistryUrl);
        Assert.Equal(TimeSpan.FromSeconds(1), options.MissTimeout);

        // The kubelet's image GC defaults; no capacity of its own: the file system bounds the agent.
        Assert.Equal(85, options.Gc.HighThresholdPercent);
        Assert.Equal(80, options.Gc.LowThresholdPercent);
        Assert.Equal(TimeSpan.FromMinutes(2), options.Gc.MinimumAge);
        Assert.Equal(TimeSpan.FromMinutes(1), options.Gc.Interval);
        Assert.Equal(0, options.CacheCapacityBytes);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("01:00:00.001")]
    [InlineData("60.00:00:00")]
    public void Validate_RangeIdleTimeoutNotPositiveOrAboveAnHour_Refused(string value)
    {
        var errors = new AgentOptions { RangeIdleTimeout = TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture) }.Validate().ToList();

        Assert.Contains(errors, e => e.StartsWith("Agent:RangeIdleTimeout", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_RangeIdleTimeoutOfAnHour_Accepted() =>
        Assert.Empty(new AgentOptions { RangeIdleTimeout = TimeSpan.FromHours(1) }.Validate());

    [Fact]
    public void Validate_ZoneAndRackLabels_AcceptedWhenLabelValues()
    {
        Assert.Empty(new AgentOptions { Zone = "eu-west-1a", Rack = "r07" }.Validate());
        Assert.Empty(new AgentOptions { Zone = "eu-west-1a" }.Validate());
    }

    [Fact]
    public void Validate_BadZoneOrRack_NamesKeyAndReason()
    {
        var errors = new AgentOptions { Zone = new string('z', 64), Rack = "rack 1" }.Validate().ToList();

        Assert.Contains(errors, e => e.StartsWith("Agent:Zone", StringComparison.Ordinal) && e.Contains("64 characters", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:Rack 'rack 1'", StringComparison.Ordinal) && e.Contains("' '", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_RackWithoutZone_Refused()
    {
        var errors = new AgentOptions { Rack = "r07" }.Validate().ToList();

        Assert.Contains(errors, e => e.StartsWith("Agent:Rack", StringComparison.Ordinal) && e.Contains("Agent:Zone", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_NamesEveryBadKeyAndValue()
    {
        var options = new AgentOptions
        {
            RegistryUrl = "http://localhost:5050",
            TrackerUrl = "grpc://tracker",
            PeerAddress = "somewhere",
            CacheLowWatermark = 0.7,
            Gc = new() { HighThresholdPercent = 80, LowThresholdPercent = 90, Interval = TimeSpan.Zero, MinimumAge = TimeSpan.FromSeconds(-1) },
            MissTimeout = TimeSpan.Zero,
            SourceTimeout = TimeSpan.FromMinutes(5),
            DefaultRegistry = "docker.io/library",
            StreamStallTimeout = TimeSpan.Zero,
            IdleSeedTimeout = TimeSpan.Zero,
            IdleTrimAfter = TimeSpan.FromMilliseconds(100),
            StartupWarmupTimeout = TimeSpan.FromMinutes(2),
        };
        var errors = options.Validate().ToList();
        Assert.Contains(errors, e => e.StartsWith("Agent:RegistryUrl", StringComparison.Ordinal) && e.Contains("localhost", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:TrackerUrl", StringComparison.Ordinal) && e.Contains("grpc://tracker", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:PeerAddress", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:CacheLowWatermark (0.7) is no longer read: set Agent:Gc:LowThresholdPercent", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:Gc:LowThresholdPercent", StringComparison.Ordinal) && e.Contains("(80), got 90", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:Gc:Interval", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:Gc:MinimumAge", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:MissTimeout", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:DefaultRegistry", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:SourceTimeout", StringComparison.Ordinal) && e.Contains("00:05:00", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:StreamStallTimeout", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:IdleTrimAfter", StringComparison.Ordinal) && e.Contains("00:00:00.1", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:IdleSeedTimeout", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:StartupWarmupTimeout", StringComparison.Ordinal) && e.Contains("00:02:00", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_MutualTlsOnHttpRegistryUrl_FailsNamingTheKeys()
    {
        using var authority = new P2PRegistry.Testing.Security.TestCertificateAuthority();
        var leaf = authority.Issue("agent");
        var options = new AgentOptions
        {
            Tls = new() { CertificatePath = leaf.CertificatePath, KeyPath = leaf.KeyPath, CaPath = authority.CaPath, RequireClientCertificate = true },
        };
        var error = Assert.Single(options.Validate());
        Assert.Contains("Agent:Tls:RequireClientCertificate", error, StringComparison.Ordinal);
        Assert.Contains("Agent:RegistryUrl 'http://127.0.0.1:5050'", error, StringComparison.Ordinal);
        options.RegistryUrl = "https://127.0.0.1:5050";
        Assert.Empty(options.Validate());
    }

    [Fact]
    public async Task Start_WithBadSetting_FailsWithTheKey()
    {
        using var dir = new TempDirectory("agent-options");
        // Program runs Build and start inside ComponentHost.RunAsync, which prints these failures and exits 2.
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var app = AgentApp.Build(["--Agent:RegistryUrl=http://127.0.0.1:0", "--Agent:PeerPort=0", $"--Agent:DataPath={dir.Path}", "--Agent:CacheCapacityBytes=-1", "--Agent:CacheHighWatermark=0.9", "--Agent:Gc:HighThresholdPercent=101"]);
            await app.StartAsync();
        });
        Assert.Contains(failure.Failures, f => f.Contains("Agent:CacheCapacityBytes", StringComparison.Ordinal));
        Assert.Contains(failure.Failures, f => f.Contains("Agent:CacheHighWatermark (0.9) is no longer read: set Agent:Gc:HighThresholdPercent", StringComparison.Ordinal));
        Assert.Contains(failure.Failures, f => f.Contains("Agent:Gc:HighThresholdPercent must be 1…100, got 101", StringComparison.Ordinal));
    }
}
