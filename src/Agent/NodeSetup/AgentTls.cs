namespace P2PRegistry.Agent.NodeSetup;

/// <summary>
/// How containerd reaches an https agent: the CA bundle it verifies the agent's certificate against, and the client
/// certificate and key it presents when the agent requires one (mutual TLS). Paths as containerd sees them on the node.
/// </summary>
internal sealed record AgentTls(string? CaPath, string? ClientCertificatePath, string? ClientKeyPath);
