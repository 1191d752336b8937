using System.Text;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Agent.NodeSetup;

/// <summary>
/// Installs and removes the agent's <c>hosts.toml</c> files in containerd's hosts directory, keeping what was there.
/// Next to each file it writes, one of two marks records the state before the first install:
/// <c>hosts.toml.p2pregistry-backup</c> (the previous file, byte for byte) or <c>hosts.toml.p2pregistry-created</c>
/// (there was no file; its text says whether the folder was made too). A mark is never overwritten, so installing
/// twice keeps the original. containerd reads only <c>hosts.toml</c> (and certificate files it names): the marks are
/// inert to it.
/// </summary>
internal sealed class HostsDirectory(string path)
{
    public const string FileName = "hosts.toml";
    public const string BackupSuffix = ".p2pregistry-backup";
    public const string CreatedSuffix = ".p2pregistry-created";
    private const string CreatedFolder = "folder";
    private const string CreatedFile = "file";

    public string Path { get; } = path;

    /// <summary>Writes one file per target; returns one line per target saying what was done.</summary>
    public IReadOnlyList<string> Install(IEnumerable<RegistryTarget> targets, Uri agent, TimeSpan dialTimeout, AgentTls? tls = null)
    {
        Directory.CreateDirectory(Path);
        var done = new List<string>();
        foreach (var target in targets)
        {
            var folder = System.IO.Path.Combine(Path, target.Host);
            var file = System.IO.Path.Combine(folder, FileName);
            var backup = file + BackupSuffix;
            var created = file + CreatedSuffix;
            string note;
            if (File.Exists(backup) || File.Exists(created))
            {
                note = "the original is kept from the first run";
            }
            else if (File.Exists(file) && !IsOurs(file))
            {
                File.Copy(file, backup);
                note = $"the previous file is kept as {FileName}{BackupSuffix}";
            }
            else if (!File.Exists(file))
            {
                var folderExisted = Directory.Exists(folder);
                Directory.CreateDirectory(folder);
                File.WriteAllText(created, folderExisted ? CreatedFile : CreatedFolder);
                note = "there was no file before";
            }
            else
            {
                // Ours, but its mark is gone: there is no original left to keep; --restore removes it.
                note = "replaced an earlier node-setup file that had no backup";
            }

            WriteAtomically(file, HostsToml.Render(target, agent, dialTimeout, tls));
            done.Add($"{target.Host}: wrote {file} ({note})");
        }

        return done;
    }

    /// <summary>
    /// Puts back every original this directory holds a mark for, removes the files node-setup made where there
    /// was none (and the folders it made, when empty), and removes its own files that have no mark.
    /// </summary>
    public IReadOnlyList<string> Restore()
    {
        var done = new List<string>();
        if (!Directory.Exists(Path))
        {
            done.Add($"{Path} does not exist: nothing to restore");
            return done;
        }

        foreach (var folder in Directory.EnumerateDirectories(Path).Order(StringComparer.Ordinal))
        {
            var host = System.IO.Path.GetFileName(folder);
            var file = System.IO.Path.Combine(folder, FileName);
            var backup = file + BackupSuffix;
            var created = file + CreatedSuffix;
            File.Delete(file + DurableFiles.TempSuffix);
            if (File.Exists(backup))
            {
                File.Move(backup, file, overwrite: true);
                File.Delete(created);
                done.Add($"{host}: put back the original {file}");
            }
            else if (File.Exists(created))
            {
                var madeFolder = File.ReadAllText(created).Trim() == CreatedFolder;
                File.Delete(file);
                File.Delete(created);
                if (madeFolder && !Directory.EnumerateFileSystemEntries(folder).Any())
                {
                    Directory.Delete(folder);
                    done.Add($"{host}: removed {folder} (node-setup made it)");
                }
                else
                {
                    done.Add($"{host}: removed {file} (there was none before)");
                }
            }
            else if (File.Exists(file) && IsOurs(file))
            {
                File.Delete(file);
                done.Add($"{host}: removed {file} (written by node-setup, no original recorded)");
            }
        }

        if (done.Count == 0)
        {
            done.Add($"{Path}: no file of node-setup found, nothing to restore");
        }

        return done;
    }

    /// <summary>containerd may read the file at any moment: it sees the old one or the new one, never half.</summary>
    private static void WriteAtomically(string file, string text) => DurableFiles.WriteAtomically(file, Encoding.UTF8.GetBytes(text));

    private static bool IsOurs(string file)
    {
        using var reader = new StreamReader(file);
        return reader.ReadLine() == HostsToml.Header;
    }
}
