namespace P2PRegistry.Distribution;

/// <summary>
/// Validates repository names and tags against the OCI distribution grammars:
/// name component <c>[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*</c>, components joined by <c>/</c>, total ≤ 255;
/// tag <c>[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}</c>.
/// </summary>
/// <remarks>
/// A valid name can never hold <c>..</c>, <c>%</c>, an empty segment or a leading <c>_</c>, so it is safe as
/// a relative path under the store and cannot collide with the store's own <c>_layers</c>/<c>_manifests</c>.
/// </remarks>
public static class RepositoryName
{
    public const int MaxLength = 255;
    public const int MaxTagLength = 128;

    public static bool IsValid(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || name.Length > MaxLength)
        {
            return false;
        }

        foreach (var range in name.Split('/'))
        {
            if (!IsValidComponent(name[range]))
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsValidTag(ReadOnlySpan<char> tag)
    {
        if (tag.IsEmpty || tag.Length > MaxTagLength)
        {
            return false;
        }

        if (!(char.IsAsciiLetterOrDigit(tag[0]) || tag[0] == '_'))
        {
            return false;
        }

        foreach (var c in tag[1..])
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsValidComponent(ReadOnlySpan<char> component)
    {
        // Alphanumeric runs separated by exactly ".", "_", "__" or one or more "-".
        var i = 0;
        while (true)
        {
            var start = i;
            while (i < component.Length && IsLowerAlnum(component[i]))
            {
                i++;
            }

            if (i == start)
            {
                return false;
            }

            if (i == component.Length)
            {
                return true;
            }

            var separator = component[i];
            var run = 0;
            while (i < component.Length && component[i] == separator)
            {
                i++;
                run++;
            }

            var ok = separator switch
            {
                '.' => run == 1,
                '_' => run <= 2,
                '-' => true,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }
    }

    private static bool IsLowerAlnum(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);
}
