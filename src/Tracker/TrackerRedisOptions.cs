namespace P2PRegistry.Tracker;

/// <summary>The Redis shared by tracker replicas, section <c>Tracker:Redis</c> (used when <c>Tracker:PeerStore=Redis</c>).</summary>
internal sealed class TrackerRedisOptions
{
    /// <summary>A StackExchange.Redis configuration string: <c>host:port[,host:port…][,password=…][,ssl=true][,asyncTimeout=ms]</c>.</summary>
    public string Configuration { get; set; } = string.Empty;

    /// <summary>Prepended to every key, so one Redis can hold several clusters' peers apart.</summary>
    public string KeyPrefix { get; set; } = "p2pregistry:";

    public IEnumerable<string> Validate(string section)
    {
        if (string.IsNullOrWhiteSpace(Configuration))
        {
            yield return $"{section}:Configuration must name the Redis server (a StackExchange.Redis configuration string, e.g. redis:6379) when Tracker:PeerStore is Redis.";
        }
        else
        {
            string? error = null;
            try
            {
                if (StackExchange.Redis.ConfigurationOptions.Parse(Configuration).EndPoints.Count == 0)
                {
                    error = $"{section}:Configuration names no endpoint (host:port).";
                }
            }
            catch (ArgumentException ex)
            {
                // The message names the bad key, never the password (which may be in the string).
                error = $"{section}:Configuration is not a valid StackExchange.Redis configuration string: {ex.Message}";
            }

            if (error is not null)
            {
                yield return error;
            }
        }

        if (string.IsNullOrEmpty(KeyPrefix) || KeyPrefix.Length > 64 || KeyPrefix.Any(char.IsWhiteSpace))
        {
            yield return $"{section}:KeyPrefix must be 1..64 characters without spaces, e.g. p2pregistry:, got '{KeyPrefix}'.";
        }
    }
}
