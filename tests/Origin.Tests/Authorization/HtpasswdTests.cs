using P2PRegistry.Origin.Authorization;

namespace P2PRegistry.Origin.Tests.Authorization;

public sealed class HtpasswdTests
{
    // Written by `htpasswd -nbB alice wonderland` (apache2-utils 2.4.71): the format docker-registry reads.
    private const string AliceLine = "alice:$2y$05$rO4JxrjV0iSv2TEumNXGtuOoqQOrzDJnz1TEGRYO328hGFJBB8Tqm";

    [Fact]
    public void Parse_BcryptLines_CommentsAndBlankLinesSkipped_CrLfAccepted()
    {
        var bob = BCrypt.Net.BCrypt.HashPassword("builder", BCrypt.Net.BCrypt.GenerateSalt(4, 'b'));
        var users = Htpasswd.Parse($"# push users\r\n{AliceLine}\r\n\r\n   \nbob:{bob}\n", "users.htpasswd");

        Assert.Equal(["alice", "bob"], users.Keys.Order(StringComparer.Ordinal));
        Assert.True(BCrypt.Net.BCrypt.Verify("builder", users["bob"]));
        Assert.True(BCrypt.Net.BCrypt.Verify("wonderland", users["alice"]));
    }

    [Theory]
    [InlineData("carol:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", 3, "carol", "does not have a bcrypt hash")]
    [InlineData("carol:$apr1$abcdefgh$0123456789012345678901", 3, "carol", "does not have a bcrypt hash")]
    [InlineData("carol:plaintextpassword", 3, "carol", "does not have a bcrypt hash")]
    [InlineData("carol:$2y$03$rO4JxrjV0iSv2TEumNXGtuOoqQOrzDJnz1TEGRYO328hGFJBB8Tqm", 3, "carol", "does not have a bcrypt hash")]
    [InlineData("carol:$2y$05$rO4JxrjV0iSv2TEumNXGtuOoqQOrzDJnz1TEGRYO328hGFJBB8Tq", 3, "carol", "does not have a bcrypt hash")]
    [InlineData("no colon here", 3, null, "expected 'user:hash'")]
    [InlineData(":$2y$05$rO4JxrjV0iSv2TEumNXGtuOoqQOrzDJnz1TEGRYO328hGFJBB8Tqm", 3, null, "user name is empty")]
    [InlineData(" carol:$2y$05$rO4JxrjV0iSv2TEumNXGtuOoqQOrzDJnz1TEGRYO328hGFJBB8Tqm", 3, null, "surrounding spaces")]
    [InlineData(AliceLine, 3, "alice", "listed twice")]
    public void Parse_BadLine_NamesFileAndLine_NeverEchoesTheHash(string badLine, int lineNumber, string? user, string problem)
    {
        var text = $"# users\n{AliceLine}\n{badLine}\n";
        var ex = Assert.Throws<FormatException>(() => Htpasswd.Parse(text, "/etc/p2p/users.htpasswd"));

        Assert.StartsWith($"htpasswd file '/etc/p2p/users.htpasswd' line {lineNumber}: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
        if (user is not null)
        {
            Assert.Contains($"'{user}'", ex.Message, StringComparison.Ordinal);
        }

        var colon = badLine.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0 && badLine.Length - colon > 4)
        {
            Assert.DoesNotContain(badLine[(colon + 1)..], ex.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("rO4JxrjV0iSv2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EmptyFile_NoUsers()
    {
        Assert.Empty(Htpasswd.Parse("", "empty"));
        Assert.Empty(Htpasswd.Parse("# nobody yet\n\n", "empty"));
    }
}
