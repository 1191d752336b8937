using Xunit.Abstractions;

namespace P2PRegistry.Testing.Logging;

/// <summary>
/// Forwards output lines of processes that outlive one test (class fixtures) to whichever test is running now,
/// so xunit shows a failed test the daemon logs written during it.
/// </summary>
public sealed class TestOutputSink
{
    private volatile ITestOutputHelper? _current;

    /// <summary>Set from each test's constructor; lines go to that test until the next one attaches.</summary>
    public void Attach(ITestOutputHelper? output) => _current = output;

    public void WriteLine(string line)
    {
        try
        {
            _current?.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test that was attached has finished; its output is closed.
        }
    }
}
