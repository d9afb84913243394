using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using SaCam.Client;

namespace SaCam.Serve;

/// <summary>
/// The file a session's slots live in, made by the server: in /dev/shm on Linux (memory, not disk), else the temp
/// folder (macOS), mode 0600 so that other local users cannot read frames. Every byte is written before the file is
/// mapped: a sparse file on a full tmpfs maps without complaint and then kills the process with SIGBUS on the first
/// touch (Docker gives /dev/shm 64 MB), while a write reports ENOSPC, and the server falls back (another folder, then
/// the TCP transport). Deleted when the session ends; files of dead servers are swept at start.
/// </summary>
internal sealed unsafe class SharedFile : IDisposable
{
    private const string Prefix = "sacam-";
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;

    private SharedFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* pointer, long bytes)
    {
        Path = path;
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
            try
            {
                Fill(path, bytes);
                var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, bytes, MemoryMappedFileAccess.ReadWrite);
                var view = map.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.ReadWrite);
                byte* pointer = null;
                view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
                reasons = string.Join("; ", failures);
                return new SharedFile(path, map, view, pointer + view.PointerOffset, bytes);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failures.Add($"{folder}: {e.Message}");
                TryDelete(path);
            }
        }
        reasons = string.Join("; ", failures);
        return null;
    }

    private static void Fill(string path, long bytes)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.ReadWrite };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        var zeros = new byte[1 << 20];
        for (long done = 0; done < bytes; done += zeros.Length)
            stream.Write(zeros, 0, (int)Math.Min(zeros.Length, bytes - done));
        stream.Flush(flushToDisk: false);
    }

    /// <summary>Removes shared files left by servers that no longer run (a SIGKILL gives them no chance).</summary>
    public static void SweepDeadServers(string? preferredFolder)
    {
        foreach (var folder in Folders(preferredFolder).Distinct())
        {
            if (!Directory.Exists(folder)) continue;
            foreach (var file in Directory.EnumerateFiles(folder, $"{Prefix}*.shm"))
            {
                var name = System.IO.Path.GetFileNameWithoutExtension(file)[Prefix.Length..];
                if (int.TryParse(name.Split('-')[0], out int pid) && !ProcessAlive(pid)) TryDelete(file);
            }
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
    }
}
