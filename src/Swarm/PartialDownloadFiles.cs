using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Swarm;

/// <summary>
/// The files a download leaves on disk, for a caller that cleans up after downloads it will not resume: the data file
/// at the path the download was started with, and beside it the record of its verified pieces that lets
/// <see cref="SwarmEngine.StartDownloadAsync"/> resume it. Only this library knows how that record is named and kept.
/// </summary>
public static class PartialDownloadFiles
{
    // The record is replaced through a temp file beside it; a crash can leave that behind.
    private const string RecordTempSuffix = PieceStore.BitfieldSuffix + DurableFiles.TempSuffix;

    /// <summary>
    /// The downloads in <paramref name="folder"/>, each once, by the path of its data file (which may be gone, leaving
    /// only its record of verified pieces). Any other file in the folder is listed as a data file without a record.
    /// </summary>
    public static IEnumerable<string> EnumerateDataFiles(string folder)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            var data = file.EndsWith(RecordTempSuffix, StringComparison.Ordinal) ? file[..^RecordTempSuffix.Length]
                : file.EndsWith(PieceStore.BitfieldSuffix, StringComparison.Ordinal) ? file[..^PieceStore.BitfieldSuffix.Length]
                : file;
            if (seen.Add(data))
            {
                yield return data;
            }
        }
    }

    /// <summary>
    /// When the download at <paramref name="path"/> was last written: its data file's time, or its record's when the
    /// data file is gone, or the temp file of its record a crash left when that is all there is; null when none is there.
    /// </summary>
    public static DateTime? LastWriteTimeUtc(string path)
    {
        if (File.Exists(path))
        {
            return File.GetLastWriteTimeUtc(path);
        }

        var record = path + PieceStore.BitfieldSuffix;
        if (File.Exists(record))
        {
            return File.GetLastWriteTimeUtc(record);
        }

        return File.Exists(path + RecordTempSuffix) ? File.GetLastWriteTimeUtc(path + RecordTempSuffix) : null;
    }

    /// <summary>The bytes the download at <paramref name="path"/> holds on disk: its data file, its record and a temp file of that record.</summary>
    public static long Length(string path)
    {
        var total = 0L;
        foreach (var file in new[] { path, path + PieceStore.BitfieldSuffix, path + RecordTempSuffix })
        {
            var info = new FileInfo(file);
            if (info.Exists)
            {
                total += info.Length;
            }
        }

        return total;
    }

    /// <summary>
    /// Deletes the download at <paramref name="path"/>: its data file, its record of verified pieces and a temp file of
    /// that record a crash left. Returns the
    /// files deleted. Never call it for a download that is running.
    /// </summary>
    public static int Delete(string path)
    {
        var deleted = 0;
        foreach (var file in new[] { path, path + PieceStore.BitfieldSuffix, path + RecordTempSuffix })
        {
            if (File.Exists(file))
            {
                File.Delete(file);
                deleted++;
            }
        }

        return deleted;
    }
}
