using Tomlyn.Model;
using Tomlyn.Serialization;

namespace P2PRegistry.Agent.NodeSetup;

/// <summary>Reads containerd's config.toml as Tomlyn's untyped model through generated code (no reflection: Native AOT).</summary>
[TomlSerializable(typeof(TomlTable))]
internal sealed partial class ContainerdTomlContext : TomlSerializerContext;
