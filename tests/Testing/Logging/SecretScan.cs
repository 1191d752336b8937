using System.Collections.Concurrent;

namespace P2PRegistry.Testing.Logging;

/// <summary>
/// Collects everything processes wrote (pass <see cref="Collect"/> as their <c>OnOutputLine</c>) and any other text a
/// test saw (<see cref="Add"/>: error bodies, exception messages), then fails if a secret appears in it:
/// <c>AssertNoneOf(password)</c> also looks for the secret's Base64 forms in HTTP Basic (<c>user:secret</c>) and
/// URL-encoded, since a leak rarely prints the bare string. Bounded: keeps the first 200,000 lines.
/// </summary>
public sealed class SecretScan
{
    private const int MaxLines = 200_000;
    private readonly ConcurrentQueue<(string Source, string Line)> _lines = new();

    public int Count => _lines.Count;

    /// <summary>What was collected, in order, with its source.</summary>
    public IEnumerable<(string Source, string Line)> Lines => _lines;

    /// <summary>
    /// An <c>OnOutputLine</c> callback that records the line under <paramref name="source"/> and passes it on. The kit's
    /// own <c>[harness]</c> lines are not the process's output (one repeats the command line, secrets and all) and are
    /// passed on unrecorded.
    /// </summary>
    public Action<string> Collect(string source, Action<string>? next = null) => line =>
    {
        if (!IsHarnessLine(line))
        {
            Add(source, line);
        }

        next?.Invoke(line);
    };

    // "[harness] …", or "[origin] [harness] …" when the process's name prefixes its lines.
    private static bool IsHarnessLine(string line)
    {
        var rest = line.AsSpan();
        if (rest.StartsWith("[") && !rest.StartsWith("[harness]"))
        {
            var close = rest.IndexOf("] ");
            rest = close < 0 ? rest : rest[(close + 2)..];
        }

        return rest.StartsWith("[harness]");
    }

    public void Add(string source, string text)
    {
        if (_lines.Count < MaxLines)
        {
            _lines.Enqueue((source, text));
        }
    }

    /// <summary>
    /// Throws naming the source and line of the first secret found. <paramref name="usernames"/> are combined with
    /// each secret as HTTP Basic credentials would be.
    /// </summary>
    public void AssertNoneOf(IEnumerable<string> secrets, IEnumerable<string>? usernames = null)
    {
        var needles = new List<(string Secret, SecretForm Form)>();
        foreach (var secret in secrets)
        {
            ArgumentException.ThrowIfNullOrEmpty(secret);
            needles.AddRange(SecretForms.Of(secret, usernames ?? []).Select(form => (secret, form)));
        }

        if (_lines.IsEmpty)
        {
            throw new InvalidOperationException("SecretScan saw no output at all: nothing was scanned.");
        }

        foreach (var (source, line) in _lines)
        {
            foreach (var (secret, form) in needles)
            {
                if (line.Contains(form.Text, StringComparison.Ordinal))
                {
                    throw new SecretLeakedException($"secret {form.Hint} ({form.Kind}) found in {source}: {line.Replace(form.Text, "<SECRET>", StringComparison.Ordinal).Replace(secret, "<SECRET>", StringComparison.Ordinal)}");
                }
            }
        }
    }
}

public sealed class SecretLeakedException : Exception
{
    public SecretLeakedException(string message)
        : base(message)
    {
    }

    public SecretLeakedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
