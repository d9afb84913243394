using System.Collections.Concurrent;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using SaCam.Client;

namespace SaCam.Serve;

/// <summary>
/// The file a session's slots live in, made by the server: in /dev/shm on Linux (memory, not disk), else the temp
/// folder (macOS), mode 0600 so that other local users cannot read frames. Every byte is written before the file is
/// mapped: a sparse file on a full tmpfs maps without complaint and then kills the process with SIGBUS on the first
/// touch (Docker gives /dev/shm 64 MB), while a write reports ENOSPC, and the server falls back (another folder, then
/// the TCP transport). Deleted when the session ends (and by the server on its way out); files of dead servers are
/// swept at start. A live file is claimed with a shared flock for its whole life, and a sweep deletes only files whose
/// owner's pid is gone AND whose claim it can take exclusively: a pid alone misleads when servers run in different
/// PID namespaces over one /dev/shm (containers, sandboxes), where a live server's pid is "gone" to the other.
/// </summary>
internal sealed unsafe class SharedFile : IDisposable
{
    private const string Prefix = "sacam-";
    private const int LockShared = 1, LockExclusive = 2, LockNonBlocking = 4;
    /// <summary>The files this process made and has not removed yet.</summary>
    private static readonly ConcurrentDictionary<string, byte> Live = new();
    private readonly FileStream _claim;
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;

    private SharedFile(string path, FileStream claim, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* pointer, long bytes)
    {
        Path = path;
        _claim = claim;
        _map = map;
        _view = view;
        _base = pointer;
        Bytes = bytes;
    }

    public string Path { get; }
    public long Bytes { get; }
    public byte* Base => _base;

    /// <summary>Folders to try, in order: the one asked for, /dev/shm on Linux, the temp folder.</summary>
    public static IEnumerable<string> Folders(string? preferred)
    {
        if (preferred is not null) yield return preferred;
        if (OperatingSystem.IsLinux() && Directory.Exists("/dev/shm")) yield return "/dev/shm";
        yield return System.IO.Path.GetTempPath();
    }

    /// <summary>Makes, fills and maps a file of <paramref name="bytes"/> in the first folder that has room;
    /// null (with the reasons) when none has.</summary>
    public static SharedFile? Create(string? preferredFolder, long bytes, out string reasons)
    {
        var failures = new List<string>();
        foreach (var folder in Folders(preferredFolder).Distinct())
        {
            var path = System.IO.Path.Combine(folder, $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid():N}.shm");
            FileStream? claim = null;
            try
            {
                claim = Fill(path, bytes);
                Live[path] = 0;
                var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, bytes, MemoryMappedFileAccess.ReadWrite);
                var view = map.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.ReadWrite);
                byte* pointer = null;
                view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
                reasons = string.Join("; ", failures);
                return new SharedFile(path, claim, map, view, pointer + view.PointerOffset, bytes);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failures.Add($"{folder}: {e.Message}");
                claim?.Dispose();
                TryDelete(path);
            }
        }
        reasons = string.Join("; ", failures);
        return null;
    }

    /// <summary>Creates and fills the file; returns it still open, holding the file's claim (a shared flock) for as
    /// long as the file lives.</summary>
    private static FileStream Fill(string path, long bytes)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.ReadWrite };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var stream = new FileStream(path, options);
        try
        {
            if (!OperatingSystem.IsWindows() && flock(stream.SafeFileHandle.DangerousGetHandle().ToInt32(), LockShared | LockNonBlocking) != 0)
                throw new IOException($"{path} could not be claimed (flock: errno {Marshal.GetLastPInvokeError()})");
            var zeros = new byte[1 << 20];
            for (long done = 0; done < bytes; done += zeros.Length)
                stream.Write(zeros, 0, (int)Math.Min(zeros.Length, bytes - done));
            stream.Flush(flushToDisk: false);
            return stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Removes shared files left by servers that no longer run (a SIGKILL gives them no chance): the owner's
    /// pid is gone and nobody holds the file's claim.</summary>
    public static void SweepDeadServers(string? preferredFolder)
    {
        foreach (var folder in Folders(preferredFolder).Distinct())
        {
            if (!Directory.Exists(folder)) continue;
            foreach (var file in Directory.EnumerateFiles(folder, $"{Prefix}*.shm"))
            {
                var name = System.IO.Path.GetFileNameWithoutExtension(file)[Prefix.Length..];
                if (int.TryParse(name.Split('-')[0], out int pid) && !ProcessAlive(pid)) DeleteIfUnclaimed(file);
            }
        }
    }

    /// <summary>Deletes <paramref name="file"/> while holding its claim exclusively; leaves it when someone still holds
    /// it (a live server, whatever its pid looks like from here) or it cannot be opened (another user's).</summary>
    internal static bool DeleteIfUnclaimed(string file)
    {
        if (OperatingSystem.IsWindows())
        {
            TryDelete(file);
            return true;
        }
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (flock(stream.SafeFileHandle.DangerousGetHandle().ToInt32(), LockExclusive | LockNonBlocking) != 0) return false;
            File.Delete(file);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Removes every file this process still has (the server exits; sessions in the middle of an explanation
    /// keep their mapping, which outlives the name).</summary>
    public static void RemoveAll()
    {
        foreach (var path in Live.Keys)
        {
            TryDelete(path);
            Live.TryRemove(path, out _);
        }
    }

    public static bool ProcessAlive(int pid)
    {
        if (!OperatingSystem.IsWindows()) return kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() == 1; // EPERM: alive, not ours
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    [DllImport("libc", SetLastError = true)]
    private static extern int flock(int fd, int operation);

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    public void Dispose()
    {
        if (_base == null) return;
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
        TryDelete(Path);
        Live.TryRemove(Path, out _);
        _claim.Dispose();
    }
}
