using System.Text.RegularExpressions;

namespace P2PRegistry.Origin.Diagnostics;

/// <summary>
/// What of a URL or a setting may appear in a log line, an error body or a start-up message: never the
/// <c>user:password@</c> of a URL, never a query (a CDN redirect's signature is a credential too).
/// </summary>
internal static partial class Redact
{
    public const string Hidden = "***";

    /// <summary><c>scheme://host:port/path</c> of <paramref name="url"/>: no user info, query or fragment.</summary>
    public static string Url(Uri url) => url.IsAbsoluteUri
        ? $"{url.Scheme}://{url.Authority}{url.AbsolutePath}"
        : UserInfo(url.OriginalString.Split('?', 2)[0]);

    /// <summary><paramref name="text"/> with the user info of every URL in it (<c>//user:password@</c>) replaced by <see cref="Hidden"/>.</summary>
    public static string UserInfo(string? text) => text is null ? "" : UserInfoPattern().Replace(text, "//" + Hidden + "@");

    // "//" then anything up to an '@' that comes before the end of the authority (the next '/', '?', '#' or whitespace).
    [GeneratedRegex(@"//[^/?#\s@]*@", RegexOptions.CultureInvariant)]
    private static partial Regex UserInfoPattern();
}
