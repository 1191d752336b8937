using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text;

namespace P2PRegistry.Testing.Logging;

/// <summary>
/// Every secret the tests of this run hand to our programs (push and upstream passwords, htpasswd users' passwords,
/// bearer tokens the kit's <c>TokenIssuer</c> mints, TLS private keys), registered by the kit where it creates or
/// passes them. <see cref="Processes.ManagedProcess"/> checks each output line of our components (Origin, Agent,
/// Tracker) against them with <see cref="FindIn"/> and fails the test that owns a process which printed one.
/// A check is a few ordinal <c>Contains</c> calls: the forms are computed once, when a secret is registered.
/// </summary>
public static class TestSecrets
{
    /// <summary>Shorter values would match innocent text (a password "x" is in every line); they are not registered.</summary>
    public const int MinimumLength = 6;

    private static readonly object s_gate = new();
    private static readonly HashSet<string> s_known = new(StringComparer.Ordinal);
    private static readonly ConcurrentQueue<string> s_leaks = new();
    private static ImmutableArray<SecretForm> s_forms = [];
    private static long s_linesChecked;
    private static int s_processesChecked;

    static TestSecrets()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => WriteSummary();
    }

    /// <summary>How many secrets are registered.</summary>
    public static int Count
    {
        get
        {
            lock (s_gate)
            {
                return s_known.Count;
            }
        }
    }

    /// <summary>
    /// Registers a secret our programs are given; <paramref name="username"/> (when the secret is a password) adds the
    /// HTTP Basic form <c>base64(user:secret)</c>. <paramref name="label"/> names it in failure messages (never the
    /// secret itself). Values shorter than <see cref="MinimumLength"/> are ignored. Idempotent.
    /// </summary>
    public static void Register(string secret, string label, string? username = null)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (secret.Length < MinimumLength)
        {
            return;
        }

        lock (s_gate)
        {
            if (!s_known.Add(username is null ? secret : $"{username}\n{secret}"))
            {
                return;
            }

            var builder = s_forms.ToBuilder();
            foreach (var form in SecretForms.Of(secret, username is null ? [] : [username]))
            {
                if (!builder.Any(f => f.Text == form.Text))
                {
                    builder.Add(form with { Label = label });
                }
            }

            s_forms = builder.ToImmutable();
        }
    }

    /// <summary>Registers every base64 line of a PEM private key's body: a log that prints the key prints one of them.</summary>
    public static void RegisterPrivateKeyPem(string pem, string label)
    {
        foreach (var line in pem.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!line.StartsWith("-----", StringComparison.Ordinal) && line.Length >= 16)
            {
                lock (s_gate)
                {
                    if (s_known.Add(line))
                    {
                        s_forms = s_forms.Add(new SecretForm(line, "as is", Mask(line), label));
                    }
                }
            }
        }
    }

    /// <summary>
    /// Registers what a command line hands to one of our programs: the value of every <c>--…Password=</c>,
    /// <c>--…Secret=</c> or <c>--…Token=</c> argument (paired with its sibling <c>…Username=</c> for HTTP Basic) and the
    /// password in any URL's user info (<c>scheme://user:password@host</c>).
    /// </summary>
    public static void RegisterFromArguments(IEnumerable<string> arguments)
    {
        var list = arguments.ToList();
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var argument in list)
        {
            var equals = argument.IndexOf('=', StringComparison.Ordinal);
            if (argument.StartsWith("--", StringComparison.Ordinal) && equals > 2)
            {
                values[argument[2..equals]] = argument[(equals + 1)..];
            }
        }

        foreach (var (key, value) in values)
        {
            var colon = key.LastIndexOf(':');
            var name = key[(colon + 1)..];
            if (name.Equals("Password", StringComparison.OrdinalIgnoreCase)
                || name.EndsWith("Secret", StringComparison.OrdinalIgnoreCase)
                || name.EndsWith("Token", StringComparison.OrdinalIgnoreCase))
            {
                values.TryGetValue(key[..(colon + 1)] + "Username", out var username);
                Register(value, $"--{key}", username);
            }
        }

        foreach (var argument in list)
        {
            foreach (var word in argument.Split('=', ' ', ','))
            {
                if (Uri.TryCreate(word, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':', StringComparison.Ordinal))
                {
                    var (user, password) = SplitUserInfo(uri.UserInfo);
                    Register(password, $"user info of {uri.Scheme}://…@{uri.Authority}", user);
                }
            }
        }
    }

    /// <summary>The first registered secret <paramref name="line"/> holds, in any of its forms, or null.</summary>
    public static SecretForm? FindIn(string line)
    {
        var forms = s_forms;
        Interlocked.Increment(ref s_linesChecked);
        foreach (var form in forms)
        {
            if (line.Contains(form.Text, StringComparison.Ordinal))
            {
                return form;
            }
        }

        return null;
    }

    /// <summary>Records a leak for the run's summary (a hint, never the secret).</summary>
    public static void ReportLeak(string hint) => s_leaks.Enqueue(hint);

    internal static void CountProcess() => Interlocked.Increment(ref s_processesChecked);

    /// <summary>One line for the whole test run: what was checked and every leak found.</summary>
    public static string Summary()
    {
        var leaks = s_leaks.ToArray();
        var head = $"secret check: {Interlocked.Read(ref s_linesChecked)} output lines of {Volatile.Read(ref s_processesChecked)} processes of ours checked against {Count} secrets; {leaks.Length} leak(s)";
        return leaks.Length == 0 ? head : head + ":" + Environment.NewLine + string.Join(Environment.NewLine, leaks.Select(l => "  " + l));
    }

    internal static string Mask(string secret) => secret.Length <= 2 ? "**" : $"{secret[0]}…{secret[^1]} ({secret.Length} chars)";

    private static (string? User, string Password) SplitUserInfo(string userInfo)
    {
        var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
        return (Uri.UnescapeDataString(userInfo[..colon]), Uri.UnescapeDataString(userInfo[(colon + 1)..]));
    }

    // The summary goes to stderr and, when P2P_SECRET_SCAN_SUMMARY names a file, is appended to it (one test host per
    // test project, so a whole run appends one block per project).
    private static void WriteSummary()
    {
        if (Volatile.Read(ref s_processesChecked) == 0)
        {
            return;
        }

        var summary = Summary();
        Console.Error.WriteLine(summary);
        var file = Environment.GetEnvironmentVariable("P2P_SECRET_SCAN_SUMMARY");
        if (!string.IsNullOrEmpty(file))
        {
            try
            {
                File.AppendAllText(file, $"{DateTime.UtcNow:O} {AppDomain.CurrentDomain.FriendlyName}: {summary}{Environment.NewLine}", Encoding.UTF8);
            }
            catch (IOException)
            {
                // A summary is not worth failing the test host's exit for.
            }
        }
    }
}
