namespace P2PRegistry.Testing.Processes;

/// <summary>A program exited with a non-zero code, or ran past its timeout; the message carries its command line and output.</summary>
public sealed class ProcessFailedException : Exception
{
    public ProcessFailedException(ProcessResult result)
        : base(result.Describe())
    {
        Result = result;
    }

    public ProcessFailedException(string message, ProcessResult result)
        : base(message + Environment.NewLine + result.Describe())
    {
        Result = result;
    }

    public ProcessResult Result { get; }
}
