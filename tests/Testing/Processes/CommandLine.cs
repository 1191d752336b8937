using System.Text;

namespace P2PRegistry.Testing.Processes;

/// <summary>Renders a program and its arguments the way a shell user would paste them, for failure messages.</summary>
public static class CommandLine
{
    public static string Format(string fileName, IEnumerable<string> arguments)
    {
        var builder = new StringBuilder(Quote(fileName));
        foreach (var argument in arguments)
        {
            builder.Append(' ').Append(Quote(argument));
        }

        return builder.ToString();
    }

    private static string Quote(string value)
    {
        if (value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@,+%".Contains(c)))
        {
            return value;
        }

        return "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }
}
