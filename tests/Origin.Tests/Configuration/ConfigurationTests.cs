using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Options;
using P2PRegistry.Testing;

namespace P2PRegistry.Origin.Tests.Configuration;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("--Origin:MaxManifestBytes=-1", "Origin:MaxManifestBytes", "-1")]
    [InlineData("--Origin:MaxManifestBytes=0", "Origin:MaxManifestBytes", "0")]
    [InlineData("--Origin:MaxUploadBytes=0", "Origin:MaxUploadBytes", "0")]
    [InlineData("--Origin:UploadExpiry=00:00:00", "Origin:UploadExpiry", "00:00:00")]
    [InlineData("--Origin:Push:Username=someone", "Origin:Push:Password", "someone")]
    [InlineData("--Origin:Push:Password=orphan", "Origin:Push:Username", "")]
    [InlineData("--Origin:Push:PasswordFile=/nonexistent/secret", "Origin:Push:Username", "")]
    [InlineData("--Origin:Push:HtpasswdFile=/nonexistent/users.htpasswd", "Origin:Push:HtpasswdFile", "/nonexistent/users.htpasswd")]
    [InlineData("--Origin:Push:Users:bob:Prefixes:0=team/", "Origin:Push:HtpasswdFile", "Origin:Push:Users")]
    [InlineData("--Origin:Push:MaxFailedAttempts=0", "Origin:Push:MaxFailedAttempts", "0")]
    [InlineData("--Origin:Push:FailureWindow=00:00:00", "Origin:Push:FailureWindow", "00:00:00")]
    [InlineData("--Origin:Push:MaxTrackedClients=0", "Origin:Push:MaxTrackedClients", "0")]
    [InlineData("--Origin:RegistryNames:0=not a name", "Origin:RegistryNames:0", "not a name")]
    [InlineData("--Origin:RegistryNames:0=docker.io", "Origin:RegistryNames:0", "docker.io")]
    public async Task BadSetting_FailsStart_NamingKeyAndValue(string setting, string key, string value)
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => OriginServer.StartAsync([setting]));
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
        Assert.Contains(value, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MutualTlsWithOnlyHttpListener_FailsStart_NamingKeys()
    {
        using var authority = new P2PRegistry.Testing.Security.TestCertificateAuthority();
        var leaf = authority.Issue("origin");
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => OriginServer.StartAsync(
        [
            $"--Origin:Tls:CertificatePath={leaf.CertificatePath}",
            $"--Origin:Tls:KeyPath={leaf.KeyPath}",
            $"--Origin:Tls:CaPath={authority.CaPath}",
            "--Origin:Tls:RequireClientCertificate=true",
        ]));
        Assert.Contains("Origin:Tls:RequireClientCertificate", ex.Message, StringComparison.Ordinal);
        Assert.Contains("urls 'http://127.0.0.1:0'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnwritableStoragePath_FailsStart_NamingKey()
    {
        var file = Path.GetTempFileName();
        try
        {
            var storage = Path.Combine(file, "sub");
            var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => OriginServer.StartAsync(storagePath: storage));
            Assert.Contains("Origin:StoragePath", ex.Message, StringComparison.Ordinal);
            Assert.Contains(storage, ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task NotANumber_FailsStart_NamingKey()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => OriginServer.StartAsync(["--Origin:MaxUploadBytes=lots"]));
        Assert.Contains("Origin:MaxUploadBytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingStoragePath_IsCreated()
    {
        var storage = Path.Combine(OriginServer.NewStoragePath(), "deep", "er");
        try
        {
            await using var origin = await OriginServer.StartAsync(storagePath: storage);
            Assert.True(Directory.Exists(Path.Combine(storage, "blobs")));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(Path.GetDirectoryName(storage))!, recursive: true);
        }
    }

    [Fact]
    public async Task Process_BadSetting_ExitsNonZeroWithMessage()
    {
        var storage = OriginServer.NewStoragePath();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { OriginDll(), "--urls", "http://127.0.0.1:0", $"--Origin:StoragePath={storage}", "--Origin:MaxManifestBytes=-5" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        try
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            Assert.NotEqual(0, process.ExitCode);
            var message = await stderr;
            Assert.Contains("Origin:MaxManifestBytes", message, StringComparison.Ordinal);
            Assert.Contains("-5", message, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", message, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", await stdout, StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            if (Directory.Exists(storage))
            {
                Directory.Delete(storage, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Process_GoodSettings_AnswersV2()
    {
        var storage = OriginServer.NewStoragePath();
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { OriginDll(), "--urls", $"http://127.0.0.1:{port}", $"--Origin:StoragePath={storage}" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        try
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var status = HttpStatusCode.ServiceUnavailable;
            for (var i = 0; i < 300 && status != HttpStatusCode.OK && !process.HasExited; i++)
            {
                try
                {
                    using var response = await client.GetAsync($"http://127.0.0.1:{port}/v2/");
                    status = response.StatusCode;
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(100);
                }
            }

            Assert.Equal(HttpStatusCode.OK, status);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            if (Directory.Exists(storage))
            {
                Directory.Delete(storage, recursive: true);
            }
        }
    }

    /// <summary>
    /// The built origin beside this test project's configuration. (RepositoryPaths.Configuration reads the
    /// wrong folder level when AppContext.BaseDirectory ends with a separator, so it is not used here.)
    /// </summary>
    private static string OriginDll()
    {
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var path = Path.Combine(RepositoryPaths.Root, "src", "Origin", "bin", configuration, "net10.0", "P2PRegistry.Origin.dll");
        Assert.True(File.Exists(path), $"origin not built at {path}");
        return path;
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Theory]
    [InlineData("carol:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", "line 2", "carol")]
    [InlineData("", "Origin:Push:Users:nobody", "not a user")]
    public async Task BadHtpasswdSetup_FailsStart_NamingTheProblem(string secondLine, string expected, string alsoExpected)
    {
        using var directory = new P2PRegistry.Testing.FileSystem.TempDirectory("htpasswd");
        var file = directory.Combine("users.htpasswd");
        var hash = BCrypt.Net.BCrypt.HashPassword("pw", BCrypt.Net.BCrypt.GenerateSalt(4, 'y'));
        await File.WriteAllTextAsync(file, $"alice:{hash}\n{secondLine}");
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => OriginServer.StartAsync(
            [$"--Origin:Push:HtpasswdFile={file}", "--Origin:Push:Users:alice:Prefixes:0=team/", "--Origin:Push:Users:nobody:Prefixes:0=x/"]));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains(alsoExpected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(hash, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("W6ph5Mm5", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadPrefix_FailsStart_NamingKeyAndValue()
    {
        using var directory = new P2PRegistry.Testing.FileSystem.TempDirectory("htpasswd");
        var file = directory.Combine("users.htpasswd");
        await File.WriteAllTextAsync(file, $"alice:{BCrypt.Net.BCrypt.HashPassword("pw", BCrypt.Net.BCrypt.GenerateSalt(4, 'y'))}\n");
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => OriginServer.StartAsync(
            [$"--Origin:Push:HtpasswdFile={file}", "--Origin:Push:Users:alice:Prefixes:0=Team*"]));
        Assert.Contains("Origin:Push:Users:alice:Prefixes:0", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Team*", ex.Message, StringComparison.Ordinal);
    }
}
