using P2PRegistry.Testing.Processes;

namespace P2PRegistry.Testing.Registries;

/// <summary>
/// Writes an htpasswd file with the real <c>htpasswd -B</c> (apache2-utils): bcrypt entries in the format
/// docker-registry and the origin read.
/// </summary>
public static class Htpasswd
{
    /// <summary>Creates <paramref name="path"/> with one bcrypt line per user (cost 5, htpasswd's default for -B).</summary>
    public static async Task<string> WriteAsync(string path, IEnumerable<(string User, string Password)> users, CancellationToken cancellationToken = default)
    {
        var create = true;
        foreach (var (user, password) in users)
        {
            Logging.TestSecrets.Register(password, $"htpasswd password of {user}", user);
            // -b takes the password from the command line: test passwords only.
            List<string> arguments = create ? ["-B", "-b", "-c", path, user, password] : ["-B", "-b", path, user, password];
            var result = await ProcessRunner.RunAsync("htpasswd", arguments, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"htpasswd failed for user {user} (exit {result.ExitCode}): {result.StandardError}");
            }

            create = false;
        }

        return path;
    }
}
