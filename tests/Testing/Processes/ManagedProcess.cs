using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using P2PRegistry.Testing.Logging;

namespace P2PRegistry.Testing.Processes;

/// <summary>
/// A long-running program started for a test: its output is captured (ring buffer, optional log file), it is
/// ready when its <see cref="Readiness"/> probe passes, and it is always stopped by its PID — on
/// <see cref="StopAsync"/>, <see cref="Kill"/>, <see cref="DisposeAsync"/>, or when the test host exits.
/// </summary>
public sealed class ManagedProcess : IAsyncDisposable
{
    // Every process still running, so a test host that exits (even after a failed test) kills them all.
    private static readonly ConcurrentDictionary<int, Process> s_live = new();

    private readonly Process _process;
    private readonly ManagedProcessOptions _options;
    private readonly Queue<string> _recent = new();
    private readonly StreamWriter? _log;
    private readonly object _gate = new();
    private readonly bool _checkForSecrets;
    private readonly ConcurrentQueue<string> _leaks = new();
    private long _outputLines;
    private int _leakReported;
    private int _disposed;

    static ManagedProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAllLive();
    }

    private ManagedProcess(Process process, ManagedProcessOptions options, StreamWriter? log)
    {
        _process = process;
        _options = options;
        _log = log;
        Name = options.Name ?? Path.GetFileName(options.FileName);
        CommandLine = Processes.CommandLine.Format(options.FileName, options.Arguments);
        _checkForSecrets = options.ChecksForSecrets;
    }

    public string Name { get; }

    public string CommandLine { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    public string? LogFile => _options.LogFile;

    /// <summary>Whether output lines are checked against <see cref="TestSecrets"/>.</summary>
    public bool ChecksForSecrets => _checkForSecrets;

    /// <summary>Where the process printed a registered secret so far: process, line number and a masked hint each.</summary>
    public IReadOnlyCollection<string> SecretLeaks => _leaks.ToArray();

    /// <summary>Starts the program and waits until it is ready; on failure the process is stopped and the exception shows its output.</summary>
    public static async Task<ManagedProcess> StartAsync(ManagedProcessOptions options, CancellationToken cancellationToken = default)
    {
        var process = Start(options);
        try
        {
            await process.WaitUntilReadyAsync(options.Readiness, options.ReadyTimeout, cancellationToken).ConfigureAwait(false);
            return process;
        }
        catch (Exception ex)
        {
            try
            {
                await process.DisposeAsync().ConfigureAwait(false);
            }
            catch (SecretLeakedException leak)
            {
                // A program that failed to start and printed a secret on the way: the leak is the finding.
                throw new SecretLeakedException(leak.Message, ex);
            }

            throw;
        }
    }

    /// <summary>Starts the program without waiting for readiness.</summary>
    public static ManagedProcess Start(ManagedProcessOptions options)
    {
        var startInfo = new ProcessStartInfo(options.FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = options.WorkingDirectory ?? string.Empty,
        };
        foreach (var argument in options.Arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in options.Environment)
        {
            startInfo.Environment[key] = value;
        }

        StreamWriter? log = null;
        if (options.LogFile is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.LogFile))!);
            log = new StreamWriter(options.LogFile, append: true, Encoding.UTF8) { AutoFlush = true };
        }

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var managed = new ManagedProcess(process, options, log);
        if (managed._checkForSecrets)
        {
            // Whatever the command line or environment hands our program counts as a secret it must not print.
            TestSecrets.RegisterFromArguments(options.Arguments);
            TestSecrets.RegisterFromArguments(options.Environment
                .Where(e => e.Value is not null)
                .Select(e => $"--{e.Key.Replace("__", ":", StringComparison.Ordinal)}={e.Value}"));
            TestSecrets.CountProcess();
        }

        process.OutputDataReceived += (_, e) => managed.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) => managed.OnOutput(e.Data);
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            log?.Dispose();
            process.Dispose();
            throw new InvalidOperationException($"Cannot start `{managed.CommandLine}`: {ex.Message}", ex);
        }

        s_live[process.Id] = process;
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        managed.OnLine($"[harness] started pid {process.Id}: {managed.CommandLine}");
        return managed;
    }

    /// <summary>The latest output lines (stdout and stderr interleaved as they arrived).</summary>
    public string RecentOutput()
    {
        lock (_gate)
        {
            return string.Join(Environment.NewLine, _recent);
        }
    }

    /// <summary>A description for failure messages: name, PID, state and the latest output.</summary>
    public string Describe()
    {
        var state = _process.HasExited ? $"exited with {_process.ExitCode}" : "running";
        var log = LogFile is null ? string.Empty : $" (full log: {LogFile})";
        return $"{Name} (pid {Id}, {state}) `{CommandLine}`{log}{Environment.NewLine}--- latest output ---{Environment.NewLine}{RecentOutput()}";
    }

    /// <summary>Polls <paramref name="readiness"/> until it passes; throws with the output if the process exits first or time runs out.</summary>
    public async Task WaitUntilReadyAsync(Readiness readiness, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                await WaitForOutputAsync().ConfigureAwait(false);
                throw new InvalidOperationException($"{Name} exited before it was ready ({readiness}).{Environment.NewLine}{Describe()}");
            }

            using (var probeTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                probeTimeout.CancelAfter(TimeSpan.FromSeconds(5));
                try
                {
                    if (await readiness.ProbeAsync(probeTimeout.Token).ConfigureAwait(false))
                    {
                        OnLine($"[harness] ready after {stopwatch.ElapsedMilliseconds} ms: {readiness}");
                        return;
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // A probe that hung counts as "not yet".
                }
            }

            if (stopwatch.Elapsed > timeout)
            {
                throw new TimeoutException($"{Name} was not ready ({readiness}) within {timeout}.{Environment.NewLine}{Describe()}");
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for the process to exit by itself.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(source.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{Name} did not exit within {timeout}.{Environment.NewLine}{Describe()}");
        }

        return _process.ExitCode;
    }

    /// <summary>
    /// SIGTERM, then SIGKILL (with its children) if it has not exited after the grace period. Idempotent. Then, for a
    /// process whose output is checked (<see cref="ManagedProcessOptions.CheckForSecrets"/>), throws
    /// <see cref="SecretLeakedException"/> (once) if it printed a registered secret: the test that owns it fails.
    /// </summary>
    public async Task StopAsync(TimeSpan? gracePeriod = null)
    {
        await StopProcessAsync(gracePeriod).ConfigureAwait(false);
        ThrowIfSecretLeaked();
    }

    /// <summary>Throws <see cref="SecretLeakedException"/> naming where (never what) the first time a leak is seen.</summary>
    public void ThrowIfSecretLeaked()
    {
        if (!_leaks.IsEmpty && Interlocked.Exchange(ref _leakReported, 1) == 0)
        {
            throw new SecretLeakedException($"{Name} (pid {Id}) printed a secret the test handed it ({_leaks.Count} line(s); full log: {LogFile ?? "none"}):{Environment.NewLine}{string.Join(Environment.NewLine, _leaks)}");
        }
    }

    private async Task StopProcessAsync(TimeSpan? gracePeriod)
    {
        if (_process.HasExited)
        {
            await WaitForOutputAsync().ConfigureAwait(false);
            Forget();
            return;
        }

        Signals.Send(_process.Id, Signals.SigTerm);
        using var grace = new CancellationTokenSource(gracePeriod ?? _options.StopGracePeriod);
        try
        {
            await _process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
            OnLine($"[harness] exited with {_process.ExitCode} after SIGTERM");
        }
        catch (OperationCanceledException)
        {
            OnLine("[harness] still running after the grace period: SIGKILL");
            Kill();
            await WaitForOutputAsync().ConfigureAwait(false);
        }

        Forget();
    }

    /// <summary>SIGKILL now, with its children — a crash, as far as the program can tell. Returns once it has exited.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }

        if (!_process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            throw new InvalidOperationException($"{Name} (pid {Id}) survived SIGKILL for 30 s.");
        }

        OnLine("[harness] killed (SIGKILL)");
        Forget();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                _log?.Dispose();
            }

            _process.Dispose();
        }
    }

    private async Task WaitForOutputAsync()
    {
        // After exit, this waits until both redirected streams hit end of file, so the last lines are captured.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // A grandchild holds the pipes open; the captured output is what we have.
        }
    }

    private void Forget() => s_live.TryRemove(new KeyValuePair<int, Process>(_process.Id, _process));

    // A line the program wrote (not one of the kit's own "[harness]" lines, which repeat the command line).
    private void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        var number = Interlocked.Increment(ref _outputLines);
        if (_checkForSecrets && TestSecrets.FindIn(line) is { } form)
        {
            // The hint names process, line and which secret in which form: the secret itself is never printed, and
            // the line is withheld from the ring buffer and the test output (it would print the secret there).
            var hint = $"{Name} (pid {_process.Id}) output line {number}: {form}";
            if (_leaks.Count < 20)
            {
                _leaks.Enqueue(hint);
            }

            TestSecrets.ReportLeak(hint);
            OnLine($"[harness] output line {number} withheld: it holds a secret ({form})");
            return;
        }

        OnLine(line);
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _recent.Enqueue(line);
            while (_recent.Count > _options.RecentLineCount)
            {
                _recent.Dequeue();
            }

            try
            {
                _log?.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
            }
            catch (ObjectDisposedException)
            {
                // Late output after dispose.
            }
        }

        try
        {
            _options.OnOutputLine?.Invoke($"[{Name}] {line}");
        }
        catch (InvalidOperationException)
        {
            // xunit's output helper throws once its test has finished; a line is not worth failing for.
        }
    }

    private static void KillAllLive()
    {
        foreach (var process in s_live.Values)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Exited meanwhile.
            }
        }
    }
}
