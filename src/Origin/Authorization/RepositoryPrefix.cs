namespace P2PRegistry.Origin.Authorization;

/// <summary>
/// A repository prefix a push user is allowed under. It matches at path-component boundaries: <c>team</c> and
/// <c>team/</c> both cover <c>team</c> and <c>team/app</c>, never <c>teamster/app</c>. <c>*</c> covers everything.
/// </summary>
internal readonly record struct RepositoryPrefix
{
    public const string Everything = "*";

    private RepositoryPrefix(string value) => Value = value;

    /// <summary>Without trailing slash; <see cref="Everything"/> for all repositories.</summary>
    public string Value { get; }

    public static RepositoryPrefix All { get; } = new(Everything);

    /// <summary>Null if <paramref name="text"/> is neither <c>*</c> nor a repository name (with an optional trailing <c>/</c>).</summary>
    public static RepositoryPrefix? TryParse(string? text)
    {
        if (text == Everything)
        {
            return All;
        }

        var trimmed = text?.EndsWith('/') == true ? text[..^1] : text;
        return trimmed is { Length: > 0 } && RepositoryName.IsValid(trimmed) ? new RepositoryPrefix(trimmed) : null;
    }

    public bool Covers(string repository) =>
        Value == Everything
        || (repository.StartsWith(Value, StringComparison.Ordinal)
            && (repository.Length == Value.Length || repository[Value.Length] == '/'));

    public override string ToString() => Value;
}
