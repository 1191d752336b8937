namespace P2PRegistry.Agent.Registry;

/// <summary>
/// How long a blob miss may wait for its source before the agent answers 404 (docs/operations.md, "When a miss is a
/// 404"). <c>Agent:MissTimeout</c> is the answer when no source exists, or when that cannot be known in time because
/// no tracker is reachable; a source that exists but is slow (a MetaInfo request at a reachable tracker, an announce
/// not answered yet, peers handed out and still connecting) is waited for up to <c>Agent:SourceTimeout</c>. Each
/// budget is counted from the start of its phase: the MetaInfo from the request, the first source from the download's start.
/// </summary>
internal sealed class MissRule(TimeSpan missTimeout, TimeSpan sourceTimeout)
{
    /// <summary>The wait for a source known to exist: never shorter than the miss timeout.</summary>
    public TimeSpan Patient { get; } = sourceTimeout > missTimeout ? sourceTimeout : missTimeout;

    public TimeSpan MissTimeout { get; } = missTimeout;

    /// <summary>No MetaInfo (and no word from the origin) yet.</summary>
    public MissBudget WhileResolving(bool trackerReachable) => trackerReachable
        ? new(Patient, $"the tracker did not answer for the MetaInfo within {Seconds(Patient)} s")
        : new(MissTimeout, "no MetaInfo in time and no tracker reachable");

    /// <summary>
    /// The download started; no peer is connected and no piece is there yet. <paramref name="peersHandedOut"/>: peers
    /// the last answered announce listed, null before any answer.
    /// </summary>
    public MissBudget WhileAwaitingSource(int? peersHandedOut, bool trackerReachable) => peersHandedOut switch
    {
        > 0 => new(Patient, $"no peer connected within {Seconds(Patient)} s"),
        not null => new(MissTimeout, "no peer serves it"),
        null when trackerReachable => new(Patient, $"the tracker did not answer the announce within {Seconds(Patient)} s"),
        null => new(MissTimeout, "no peer serves it and no tracker reachable"),
    };

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>How long the phase may take (from its start), and what the 404 says when it runs out.</summary>
internal readonly record struct MissBudget(TimeSpan Limit, string Reason);
