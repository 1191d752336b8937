using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace P2PRegistry.Agent.Memory;

/// <summary>
/// Gives memory back to the node once the agent has had no blob download in progress for <c>Agent:IdleTrimAfter</c>: a
/// pull leaves the GC heap and the pools sized for it (piece buffers, socket and pipe buffers) while the agent then sits
/// idle for minutes or hours next to the node's workloads. Trims once per idle stretch (the next download re-arms it);
/// seeding goes on meanwhile. Looks four times per <c>IdleTrimAfter</c>, so a trim comes 1–1.25 of it after the last
/// download ended.
/// </summary>
internal sealed partial class IdleMemoryTrimmer : BackgroundService
{
    private readonly Func<int> _activeDownloads;
    private readonly Action _trim;
    private readonly TimeSpan _after;
    private readonly TimeProvider _time;
    private readonly ILogger<IdleMemoryTrimmer> _logger;

    // Made with the trimmer, so its period counts from construction, whenever the host gets to ExecuteAsync.
    private readonly PeriodicTimer? _timer;
    private long? _idleSince;
    private bool _trimmed;
    private int _trims;

    /// <param name="activeDownloads">Blob downloads in progress now.</param>
    /// <param name="trim">Gives memory back (<see cref="TrimProcessMemory"/> outside tests).</param>
    /// <param name="after">How long without a download before the trim; zero: never.</param>
    public IdleMemoryTrimmer(Func<int> activeDownloads, Action trim, TimeSpan after, TimeProvider time, ILogger<IdleMemoryTrimmer> logger)
    {
        if (after != TimeSpan.Zero)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(after, TimeSpan.FromSeconds(1));
        }

        _activeDownloads = activeDownloads;
        _trim = trim;
        _after = after;
        _time = time;
        _logger = logger;
        _timer = after == TimeSpan.Zero ? null : new PeriodicTimer(after / 4, time);
    }

    /// <summary>Trims done since start.</summary>
    public int Trims => Volatile.Read(ref _trims);

    /// <summary>
    /// A full, compacting, aggressive collection; then the pools' own trimming (run after a full collection: the shared
    /// array pool drops buffers unused for a minute) and a second collection for what they let go. The GC decommits what
    /// it freed, so the working set shrinks.
    /// </summary>
    public static void TrimProcessMemory()
    {
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
        if (_activeDownloads() > 0)
        {
            _idleSince = null;
            _trimmed = false;
            return;
        }

        _idleSince ??= _time.GetTimestamp();
        if (_trimmed || _time.GetElapsedTime(_idleSince.Value) < _after)
        {
            return;
        }

        var before = Environment.WorkingSet;
        var started = _time.GetTimestamp();
        _trim();
        _trimmed = true;
        Interlocked.Increment(ref _trims);
        Trimmed(_logger, _after, before >> 20, Environment.WorkingSet >> 20, _time.GetElapsedTime(started).TotalMilliseconds);
    }

    [LoggerMessage(120, LogLevel.Information, "No download for {Idle}: memory trimmed, working set {BeforeMiB} → {AfterMiB} MiB in {Milliseconds:0.0} ms")]
    private static partial void Trimmed(ILogger logger, TimeSpan idle, long beforeMiB, long afterMiB, double milliseconds);
}
