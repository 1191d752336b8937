using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using P2PRegistry.Hosting.Security;
using P2PRegistry.Origin.Authorization;
using P2PRegistry.Origin.Configuration;
using P2PRegistry.Origin.Storage;

namespace P2PRegistry.Origin.Cluster;

internal static class ClusterServices
{
    /// <summary>Client addresses whose failed cluster authentications are counted at once (the table's bound).</summary>
    private const int MaxTrackedClients = 10_000;

    /// <summary>The cluster pieces; with <c>Origin:Cluster:Members</c> empty, <see cref="OriginCluster"/> is disabled and nothing runs.</summary>
    public static IServiceCollection AddOriginCluster(this IServiceCollection services)
    {
        services.AddSingleton<ClusterMetrics>();
        services.AddSingleton(sp =>
        {
            var origin = sp.GetRequiredService<IOptions<OriginOptions>>().Value;
            var options = origin.Cluster;
            ClusterClient? client = null;
            ClusterSecret? secret = null;
            if (options.Enabled)
            {
                secret = string.IsNullOrEmpty(options.SecretFile) ? null : new ClusterSecret(ClusterSecret.Read(options.SecretFile));
                var time = sp.GetRequiredService<TimeProvider>();
                var members = new ClusterMembers(options.Members, options.Self!, options.ReplicationFactor, time, options.DownTime);
                var tls = origin.Tls.HasClientCertificate || !string.IsNullOrEmpty(origin.Tls.CaPath) ? sp.GetRequiredService<ComponentTls>() : null;
                var logger = sp.GetRequiredService<ILogger<OriginCluster>>();
                client = new ClusterClient(members, secret, tls, options.RequestTimeout, logger);
                if (secret is not null && options.AllowInsecureSecret && options.HttpMembers.Any())
                {
                    ClusterLog.InsecureSecret(logger, string.Join(", ", options.HttpMembers));
                }

                ClusterLog.Started(logger, members.Members[members.Self], members.Count, string.Join(", ", members.Members), members.ReplicationFactor,
                    string.Join(" + ", new[] { options.SecretFile is null ? null : "secret", tls is null ? null : "origin certificate" }.OfType<string>()));
            }

            var failedAttempts = new FailedAttemptLimiter(options.MaxFailedAttempts, options.FailureWindow, MaxTrackedClients, sp.GetRequiredService<TimeProvider>());
            return new OriginCluster(sp.GetRequiredService<BlobStore>(), client, secret, sp.GetRequiredService<ClusterMetrics>(), failedAttempts, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<OriginCluster>>());
        });
        services.AddHostedService<RepairService>();
        return services;
    }
}
