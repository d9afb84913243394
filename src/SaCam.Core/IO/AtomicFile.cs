namespace SaCam.Core.IO;

/// <summary>
/// Writes a whole file or nothing: the bytes go to a temporary file beside the target, are flushed to the disk,
/// and only then take the target's name (a rename, atomic on one file system). A reader never sees half a file, a
/// failed write (disk full) leaves the old file as it was and says so, and a path that is not a regular file (a
/// device, a pipe, a folder) is never replaced: renaming over /dev/full would swap the device for a plain file.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        var target = FileIdentity.Of(path);
        if (target.Exists && target.Kind != FileKind.Regular)
            throw new OutputRefusedException($"'{path}' is {FileIdentity.Describe(target.Kind)}, not a regular file: refusing to replace it.");
        var dir = Path.GetDirectoryName(target.RealPath)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(target.RealPath)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, target.RealPath, overwrite: true);
        }
        catch (IOException e) when (e is not OutputRefusedException)
        {
            TryDelete(tmp);
            throw new IOException($"Writing '{path}' failed: {e.Message}", e);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>An output the run must not write: it is an input, another output, or not a regular file. A usage
/// error: the command line asks for something that would destroy data.</summary>
public sealed class OutputRefusedException(string message) : IOException(message);

/// <summary>An output another run is writing right now.</summary>
public sealed class OutputInUseException(string message) : IOException(message);
