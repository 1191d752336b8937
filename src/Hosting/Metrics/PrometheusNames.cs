using System.Text;

namespace P2PRegistry.Hosting.Metrics;

/// <summary>Maps OpenTelemetry-style instrument names and UCUM units to Prometheus metric names.</summary>
internal static class PrometheusNames
{
    public static string MetricName(string instrumentName, string? unit, bool isCounter)
    {
        var builder = new StringBuilder(instrumentName.Length + 16);
        foreach (var c in instrumentName)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? char.ToLowerInvariant(c) : '_');
        }

        var suffix = unit switch
        {
            "By" => "_bytes",
            "s" => "_seconds",
            "ms" => "_milliseconds",
            _ => "",
        };
        if (suffix.Length > 0 && !EndsWith(builder, suffix))
        {
            builder.Append(suffix);
        }

        if (isCounter && !EndsWith(builder, "_total"))
        {
            builder.Append("_total");
        }

        return builder.ToString();
    }

    public static string LabelName(string key)
    {
        var builder = new StringBuilder(key.Length);
        foreach (var c in key)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }

        if (builder.Length == 0 || char.IsAsciiDigit(builder[0]))
        {
            builder.Insert(0, '_');
        }

        return builder.ToString();
    }

    /// <summary>Label values escape backslash, double quote and line feed (exposition format 0.0.4).</summary>
    public static void AppendLabelValue(StringBuilder builder, string? value)
    {
        foreach (var c in value ?? "")
        {
            switch (c)
            {
                case '\\': builder.Append("\\\\"); break;
                case '"': builder.Append("\\\""); break;
                case '\n': builder.Append("\\n"); break;
                default: builder.Append(c); break;
            }
        }
    }

    private static bool EndsWith(StringBuilder builder, string suffix)
    {
        if (builder.Length < suffix.Length)
        {
            return false;
        }

        for (var i = 0; i < suffix.Length; i++)
        {
            if (builder[builder.Length - suffix.Length + i] != suffix[i])
            {
                return false;
            }
        }

        return true;
    }
}
