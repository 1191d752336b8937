using P2PRegistry.Testing.Blobs;

namespace P2PRegistry.Agent.Tests.Support;

/// <summary>The agent's data folder layout, which only the agent's tests know.</summary>
internal static class TestBlobInstall
{
    /// <summary>Puts the blob into an agent's data folder as a finished download would (cache file and MetaInfo).</summary>
    public static void InstallInto(this TestBlob blob, string dataPath, byte[]? actualContent = null)
    {
        Directory.CreateDirectory(Path.Combine(dataPath, "cache", "sha256"));
        Directory.CreateDirectory(Path.Combine(dataPath, "metainfo"));
        File.WriteAllBytes(Path.Combine(dataPath, "cache", "sha256", blob.Digest.Hex), actualContent ?? blob.Content);
        File.WriteAllBytes(Path.Combine(dataPath, "metainfo", blob.Digest.Hex), blob.MetaInfo.Encoded.ToArray());
    }
}
