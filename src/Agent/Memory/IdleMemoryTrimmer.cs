using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using P2PRegistry.Swarm;

namespace P2PRegistry.Agent.Memory;

/// <summary>
/// Gives memory back to the node once the agent has had no blob download in progress for <c>Agent:IdleTrimAfter</c>: a
/// pull leaves the GC heap and the pools sized for it (piece buffers, socket and pipe buffers) while the agent then sits
/// idle for minutes or hours next to the node's workloads. Trims once per idle stretch (the next download re-arms it);
/// seeding goes on meanwhile. Looks <see cref="LooksPerIdleTime"/> times per <c>IdleTrimAfter</c>, so a trim comes
/// 1–1.125 of it after the last download ended (a look is a counter read).
/// </summary>
internal sealed partial class IdleMemoryTrimmer : BackgroundService
{
    /// <summary>Looks per idle time: a trim comes at most two looks (an eighth of the idle time) after it is due.</summary>
    internal const int LooksPerIdleTime = 16;

    private readonly Func<(int Active, long Started)> _downloads;
    private readonly Action _markIdle;
    private readonly Action _trim;
    private readonly TimeSpan _after;
    private readonly TimeProvider _time;
    private readonly ILogger<IdleMemoryTrimmer> _logger;

    // Made with the trimmer, so its period counts from construction, whenever the host gets to ExecuteAsync.
    private readonly PeriodicTimer? _timer;
    private long? _idleSince;
    private long _lastStarted;
    private bool _trimmed;
    private int _trims;

    /// <param name="downloads">Blob downloads in progress now, and started since the agent started (a download that began
    /// and ended between two looks re-arms the trim too).</param>
    /// <param name="markIdle">Runs when an idle stretch begins (<see cref="MarkIdle"/> outside tests).</param>
    /// <param name="trim">Gives memory back (<see cref="TrimProcessMemory"/> outside tests).</param>
    /// <param name="after">How long without a download before the trim; zero: never.</param>
    public IdleMemoryTrimmer(Func<(int Active, long Started)> downloads, Action markIdle, Action trim, TimeSpan after, TimeProvider time, ILogger<IdleMemoryTrimmer> logger)
    {
        if (after != TimeSpan.Zero)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(after, TimeSpan.FromSeconds(1));
        }

        _downloads = downloads;
        _markIdle = markIdle;
        _trim = trim;
        _after = after;
        _time = time;
        _logger = logger;
        _timer = after == TimeSpan.Zero ? null : new PeriodicTimer(after / LooksPerIdleTime, time);
    }

    /// <summary>Trims done since start.</summary>
    public int Trims => Volatile.Read(ref _trims);

    /// <summary>
    /// A full collection as an idle stretch begins: the shared array pool stamps the buffers it holds at a full
    /// collection and drops, at a later one, those unused for a minute since — the trim, at least a minute later, frees them.
    /// </summary>
    public static void MarkIdle() => GC.Collect();

    /// <summary>
    /// Drops the swarm's piece arrays kept for reuse (after a pull, tens of MiB that the shared array pool would keep
    /// for many minutes); then a full, compacting, aggressive collection, the pools' own trimming (run after a full
    /// collection) and a second collection for what they let go. The GC decommits what it freed, so the working set
    /// shrinks.
    /// </summary>
    public static void TrimProcessMemory()
    {
        SwarmEngine.ReleasePieceBuffers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_timer is not { } timer)
        {
            return;
        }

        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                Tick();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override void Dispose()
    {
        _timer?.Dispose();
        base.Dispose();
    }

    private void Tick()
    {
        var (active, started) = _downloads();
        if (active > 0 || started != _lastStarted)
        {
            _lastStarted = started;
            _idleSince = null;
            _trimmed = false;
            return;
        }

        if (_idleSince is null)
        {
            _idleSince = _time.GetTimestamp();
            _markIdle();
        }

        if (_trimmed || _time.GetElapsedTime(_idleSince.Value) < _after)
        {
            return;
        }

        var before = Environment.WorkingSet;
        var trimStart = _time.GetTimestamp();
        _trim();
        _trimmed = true;
        Interlocked.Increment(ref _trims);
        Trimmed(_logger, _after, before >> 20, Environment.WorkingSet >> 20, _time.GetElapsedTime(trimStart).TotalMilliseconds);
    }

    [LoggerMessage(120, LogLevel.Information, "No download for {Idle}: memory trimmed, working set {BeforeMiB} → {AfterMiB} MiB in {Milliseconds:0.0} ms")]
    private static partial void Trimmed(ILogger logger, TimeSpan idle, long beforeMiB, long afterMiB, double milliseconds);
}
