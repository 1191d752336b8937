using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace P2PRegistry.Agent.Tests.Support;

/// <summary>Keeps every log line of an app (category, event id, message) for assertions.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<(string Category, EventId Id, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public bool Contains(int eventId, string? fragment = null) =>
        Entries.Any(e => e.Id.Id == eventId && e.Category.StartsWith("P2PRegistry.Agent", StringComparison.Ordinal) && (fragment is null || e.Message.Contains(fragment, StringComparison.Ordinal)));

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((category, eventId, formatter(state, exception)));
    }
}
