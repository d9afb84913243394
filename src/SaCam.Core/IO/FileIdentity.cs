using System.Runtime.InteropServices;

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

    private static string Resolve(string existing)
    {
        if (!OperatingSystem.IsWindows())
        {
            var real = PosixStat.RealPath(existing);
            if (real is not null) return real;
        }
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

/// <summary>stat(2) and realpath(3) through libc on Linux (x64, arm64) and macOS; elsewhere nothing, and callers
/// fall back to paths.</summary>
internal static unsafe partial class PosixStat
{
    internal readonly record struct Result(ulong Device, ulong Inode, FileKind Kind);

    // glibc >= 2.33 exports stat itself; its struct stat starts with st_dev and st_ino (8 bytes each) on x86_64
    // and on the generic layout of aarch64. st_mode sits at 24 (x86_64) or 16 (aarch64). On macOS (64-bit inodes)
    // st_dev is 4 bytes, st_mode 2 bytes at 4, st_ino 8 bytes at 8.
    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int NativeStat(string path, byte* buffer);

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial nint NativeRealPath(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);

    private static bool _unavailable;

    public static bool TryStat(string path, out Result result)
    {
        result = default;
        if (_unavailable || !(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) return false;
        bool x64 = RuntimeInformation.ProcessArchitecture == Architecture.X64;
        bool arm64 = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;
        if (OperatingSystem.IsLinux() && !x64 && !arm64) return false;
        var buffer = stackalloc byte[256];
        try
        {
            if (NativeStat(path, buffer) != 0) return false;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            _unavailable = true;
            return false;
        }
        ulong dev, ino;
        uint mode;
        if (OperatingSystem.IsMacOS())
        {
            dev = *(uint*)buffer;
            mode = *(ushort*)(buffer + 4);
            ino = *(ulong*)(buffer + 8);
        }
        else
        {
            dev = *(ulong*)buffer;
            ino = *(ulong*)(buffer + 8);
            mode = *(uint*)(buffer + (x64 ? 24 : 16));
        }
        result = new Result(dev, ino, (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0x1000 => FileKind.Fifo,
            0xC000 => FileKind.Socket,
            _ => FileKind.Other,
        });
        return true;
    }

    public static string? RealPath(string path)
    {
        if (_unavailable) return null;
        try
        {
            nint resolved = NativeRealPath(path, 0);
            if (resolved == 0) return null;
            try { return Marshal.PtrToStringUTF8(resolved); }
            finally { Free(resolved); }
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            _unavailable = true;
            return null;
        }
    }
}
