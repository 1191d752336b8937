using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace P2PRegistry.Origin.Tests;

/// <summary>Sums one counter of one origin instance (meters are scoped to that app's IMeterFactory).</summary>
public sealed class CounterProbe : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _total;

    /// <param name="tag">When given, only measurements carrying this tag with this value count.</param>
    public CounterProbe(OriginServer origin, string instrumentName, (string Key, string Value)? tag = null)
    {
        var factory = origin.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Name == instrumentName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (tag is not { } wanted || HasTag(tags, wanted.Key, wanted.Value))
            {
                Interlocked.Add(ref _total, value);
            }
        });
        _listener.Start();
    }

    public long Total => Interlocked.Read(ref _total);

    private static bool HasTag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key, string value)
    {
        foreach (var pair in tags)
        {
            if (pair.Key == key && Equals(pair.Value, value))
            {
                return true;
            }
        }

        return false;
    }

    public void Dispose() => _listener.Dispose();
}
