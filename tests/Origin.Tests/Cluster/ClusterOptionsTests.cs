using P2PRegistry.Origin.Cluster;

namespace P2PRegistry.Origin.Tests.Cluster;

public sealed class ClusterOptionsTests : IDisposable
{
    private readonly string _secretFile = Path.Combine(Path.GetTempPath(), $"p2preg-cluster-secret-{Guid.NewGuid():N}");

    public ClusterOptionsTests() => File.WriteAllText(_secretFile, "a-secret-of-enough-length\n");

    public void Dispose() => File.Delete(_secretFile);

    private ClusterOptions Valid() => new()
    {
        Members = ["http://127.0.0.1:5001", "http://127.0.0.1:5002/", "http://127.0.0.1:5003"],
        Self = "http://127.0.0.1:5002",
        ReplicationFactor = 2,
        SecretFile = _secretFile,
        AllowInsecureSecret = true,
    };

    [Fact]
    public void Validate_NoMembers_IsTheSingleOrigin()
    {
        var options = new ClusterOptions();
        Assert.False(options.Enabled);
        Assert.Empty(options.Validate(hasClientCertificateTrust: false));
    }

    [Fact]
    public void Validate_ThreeMembersSelfWithTrailingSlashDifference_IsValid()
    {
        Assert.Empty(Valid().Validate(hasClientCertificateTrust: false));
    }

    public static TheoryData<string, string> Problems() => new()
    {
        { "self-not-member", "Origin:Cluster:Self" },
        { "self-missing", "Origin:Cluster:Self" },
        { "r-too-big", "Origin:Cluster:ReplicationFactor" },
        { "r-zero", "Origin:Cluster:ReplicationFactor" },
        { "duplicate", "Origin:Cluster:Members:2" },
        { "path", "Origin:Cluster:Members:0" },
        { "scheme", "Origin:Cluster:Members:0" },
        { "no-secret", "Origin:Cluster:SecretFile" },
        { "missing-secret-file", "Origin:Cluster:SecretFile" },
        { "short-secret", "Origin:Cluster:SecretFile" },
        { "repair-interval", "Origin:Cluster:RepairInterval" },
        { "self-without-members", "Origin:Cluster:Self" },
        { "tombstone-retention-short", "Origin:Cluster:TombstoneRetention" },
        { "tombstone-retention-long", "Origin:Cluster:TombstoneRetention" },
        { "secret-over-http", "Origin:Cluster:AllowInsecureSecret" },
        { "failed-attempts", "Origin:Cluster:MaxFailedAttempts" },
    };

    [Theory]
    [MemberData(nameof(Problems))]
    public void Validate_BadSetting_NamesTheKey(string problem, string key)
    {
        var options = Valid();
        switch (problem)
        {
            case "self-not-member": options.Self = "http://127.0.0.1:5009"; break;
            case "self-missing": options.Self = null; break;
            case "tombstone-retention-short": options.TombstoneRetention = TimeSpan.FromSeconds(30); break;
            case "tombstone-retention-long": options.TombstoneRetention = TimeSpan.FromDays(400); break;
            case "r-too-big": options.ReplicationFactor = 4; break;
            case "r-zero": options.ReplicationFactor = 0; break;
            case "duplicate": options.Members[2] = "http://127.0.0.1:5001/"; break;
            case "path": options.Members[0] = "http://127.0.0.1:5001/v2"; break;
            case "scheme": options.Members[0] = "ftp://127.0.0.1:5001"; break;
            case "no-secret": options.SecretFile = null; break;
            case "missing-secret-file": options.SecretFile = _secretFile + ".absent"; break;
            case "short-secret": File.WriteAllText(_secretFile, "short\n"); break;
            case "repair-interval": options.RepairInterval = TimeSpan.Zero; break;
            case "self-without-members": options.Members.Clear(); break;
            case "secret-over-http": options.AllowInsecureSecret = false; break;
            case "failed-attempts": options.MaxFailedAttempts = 0; break;
        }

        var failures = options.Validate(hasClientCertificateTrust: false).ToList();
        Assert.Contains(failures, f => f.Contains(key, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_NoSecretButClientCertificateTrust_IsValid()
    {
        var options = Valid();
        options.SecretFile = null;
        Assert.Empty(options.Validate(hasClientCertificateTrust: true));
    }

    [Fact]
    public async Task Start_SelfNotAMember_FailsNamingTheKey()
    {
        var ex = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => OriginServer.StartAsync(
        [
            "--Origin:Cluster:Members:0=http://127.0.0.1:5001",
            "--Origin:Cluster:Members:1=http://127.0.0.1:5002",
            "--Origin:Cluster:Self=http://127.0.0.1:5003",
            $"--Origin:Cluster:SecretFile={_secretFile}",
            "--Origin:Cluster:AllowInsecureSecret=true",
        ]));
        Assert.Contains("Origin:Cluster:Self", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SecretWithHttpsMembersOnly_NeedsNoOptIn()
    {
        var options = Valid();
        options.AllowInsecureSecret = false;
        options.Members = ["https://a.example:5001", "https://b.example:5002"];
        options.Self = "https://a.example:5001";
        Assert.Empty(options.Validate(hasClientCertificateTrust: false));
    }

    [Fact]
    public async Task Start_SecretFileWithHttpMembers_IsRefusedUnlessAllowedExplicitly()
    {
        string[] cluster =
        [
            "--Origin:Cluster:Members:0=http://127.0.0.1:5001",
            "--Origin:Cluster:Members:1=http://127.0.0.1:5002",
            "--Origin:Cluster:Self=http://127.0.0.1:5001",
            $"--Origin:Cluster:SecretFile={_secretFile}",
            "--Origin:Cluster:RepairInterval=01:00:00",
        ];
        var ex = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => OriginServer.StartAsync(cluster));
        Assert.Contains("Origin:Cluster:AllowInsecureSecret", ex.Message, StringComparison.Ordinal);
        Assert.Contains("http://127.0.0.1:5002", ex.Message, StringComparison.Ordinal);

        await using var allowed = await OriginServer.StartAsync([.. cluster, "--Origin:Cluster:AllowInsecureSecret=true"]);
        Assert.True(allowed.Services.GetService(typeof(OriginCluster)) is OriginCluster { Enabled: true });
    }

    [Fact]
    public void Secret_Matches_OnlyTheExactValue()
    {
        var secret = new ClusterSecret("a-secret-of-enough-length");
        Assert.True(secret.Matches("a-secret-of-enough-length"));
        Assert.False(secret.Matches("a-secret-of-enough-lengtH"));
        Assert.False(secret.Matches("a-secret-of-enough-length "));
        Assert.False(secret.Matches(""));
        Assert.False(secret.Matches(null));
    }
}
