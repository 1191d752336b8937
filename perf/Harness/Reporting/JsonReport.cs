using System.Text.Json;
using System.Text.Json.Serialization;

namespace P2PRegistry.Harness.Reporting;

/// <summary>report.json: the same figures for machines (camelCase, nulls kept so absent figures are explicit).</summary>
internal static class JsonReport
{
    private static readonly JsonSerializerOptions s_options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Render(HarnessReport report) => JsonSerializer.Serialize(report, s_options);
}
