namespace P2PRegistry.Testing.Logging;

/// <summary>One searchable form of a secret: <c>Kind</c> is "as is", "URL-encoded" or "HTTP Basic"; <c>Hint</c> masks it.</summary>
public sealed record SecretForm(string Text, string Kind, string Hint, string Label = "")
{
    public override string ToString() => $"{Label} {Hint} ({Kind})".TrimStart();
}
