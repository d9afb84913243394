using Mono.Unix.Native;

namespace SaCam.Core.IO;

/// <summary>What kind of thing a path names.</summary>
public enum FileKind { Missing, Regular, Directory, CharacterDevice, BlockDevice, Fifo, Socket, Other }

/// <summary>
/// The identity of a file as the operating system sees it: its real path (every symbolic link resolved) and, on
/// Linux and macOS, its device and inode numbers, so that two names of one file (a symbolic or a hard link, a
/// relative and an absolute path, a bind mount) compare equal. Comparing path strings misses all of these.
/// </summary>
public readonly record struct FileIdentity(string RealPath, FileKind Kind, ulong Device, ulong Inode)
{
    public bool Exists => Kind != FileKind.Missing;

    /// <summary>The same file: same device and inode where the system gives them, else the same real path.</summary>
    public bool SameFileAs(FileIdentity other)
    {
        if (Exists && other.Exists && Inode != 0 && other.Inode != 0) return Device == other.Device && Inode == other.Inode;
        return string.Equals(RealPath, other.RealPath, OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()
            ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }

    public static FileIdentity Of(string path)
    {
        string real = RealPathOf(path);
        if (PosixStat.TryStat(real, out var stat)) return new FileIdentity(real, stat.Kind, stat.Device, stat.Inode);
        if (Directory.Exists(real)) return new FileIdentity(real, FileKind.Directory, 0, 0);
        if (File.Exists(real)) return new FileIdentity(real, FileKind.Regular, 0, 0);
        return new FileIdentity(real, FileKind.Missing, 0, 0);
    }

    /// <summary>The absolute path with every symbolic link in it resolved (for a path that does not exist yet: its
    /// nearest existing folder resolved, the rest appended).</summary>
    public static string RealPathOf(string path)
    {
        var full = Path.GetFullPath(path);
        var missing = new Stack<string>();
        var current = full;
        while (!File.Exists(current) && !Directory.Exists(current))
        {
            var parent = Path.GetDirectoryName(current);
            if (parent is null) return full;
            missing.Push(Path.GetFileName(current));
            current = parent;
        }
        var resolved = Resolve(current);
        while (missing.Count > 0) resolved = Path.Combine(resolved, missing.Pop());
        return resolved;
    }

    private static string Resolve(string existing) =>
        OperatingSystem.IsWindows() ? ResolveFinalTarget(existing) : SymbolicLinks.ResolveEveryComponent(existing);

    private static string ResolveFinalTarget(string existing)
    {
        FileSystemInfo info = Directory.Exists(existing) ? new DirectoryInfo(existing) : new FileInfo(existing);
        return info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName;
    }

    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Regular => "a regular file",
        FileKind.Directory => "a folder",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Fifo => "a named pipe",
        FileKind.Socket => "a socket",
        FileKind.Missing => "missing",
        _ => "not a regular file",
    };
}

/// <summary>stat(2) through Mono.Unix (Linux, macOS), which maps struct stat for each platform
/// itself; elsewhere nothing, and callers fall back to paths. Its native part, or a missing one, fails at first use:
/// then this says "unavailable" for good and paths alone decide.</summary>
internal static class PosixStat
{
    internal readonly record struct Result(ulong Device, ulong Inode, FileKind Kind);

    private static bool _unavailable;

    public static bool TryStat(string path, out Result result)
    {
        result = default;
        if (_unavailable || !(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) return false;
        try
        {
            if (Syscall.stat(path, out var stat) != 0) return false;
            result = new Result(stat.st_dev, stat.st_ino, KindOf(stat.st_mode));
            return true;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException or TypeInitializationException)
        {
            _unavailable = true;
            return false;
        }
    }

    private static FileKind KindOf(FilePermissions mode) => (mode & FilePermissions.S_IFMT) switch
    {
        FilePermissions.S_IFREG => FileKind.Regular,
        FilePermissions.S_IFDIR => FileKind.Directory,
        FilePermissions.S_IFCHR => FileKind.CharacterDevice,
        FilePermissions.S_IFBLK => FileKind.BlockDevice,
        FilePermissions.S_IFIFO => FileKind.Fifo,
        FilePermissions.S_IFSOCK => FileKind.Socket,
        _ => FileKind.Other,
    };
}
