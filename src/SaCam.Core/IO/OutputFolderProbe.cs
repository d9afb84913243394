using System.Runtime.InteropServices;

namespace SaCam.Core.IO;

/// <summary>
/// Checks, before a run loads anything, that an output can be made where the user asked: every existing part of its
/// path is a folder (not "out.txt/x.jsonl"), and the nearest existing folder takes a new file. Asking the folder is
/// the only test that answers for root, read-only mounts and virtual file systems alike (root may write into a
/// 0555 folder; /proc refuses new files with "no such file"), so a probe file is created there and removed at once.
/// Without this the run would load the model and fail at its first write with the OS's words for it.
/// </summary>
internal static class OutputFolderProbe
{
    /// <summary>Throws <see cref="OutputRefusedException"/> naming the output, the folder and what is wrong.</summary>
    public static void Check(string what, string path, bool folder)
    {
        var full = Path.GetFullPath(path);
        var start = folder ? full : Path.GetDirectoryName(full);
        for (var dir = start; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            var id = FileIdentity.Of(dir);
            if (!id.Exists) continue;
            if (id.Kind != FileKind.Directory)
                throw new OutputRefusedException($"{what} '{path}' cannot be made: '{dir}' is {FileIdentity.Describe(id.Kind)}, not a folder.");
            if (Why(dir) is { } why)
                throw new OutputRefusedException($"{what} '{path}' cannot be written: folder '{dir}' {why}. Choose another output.");
            return;
        }
    }

    /// <summary>Why no file can be created in <paramref name="dir"/>, or null when one can.</summary>
    private static string? Why(string dir)
    {
        if (!OperatingSystem.IsLinux()) return null; // the open(2) flags below are Linux's
        var probe = Path.Combine(dir, $".sacam-probe.{Environment.ProcessId}.{Guid.NewGuid():N}");
        int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, Convert.ToInt32("600", 8));
        if (fd >= 0)
        {
            close(fd);
            unlink(probe);
            return null;
        }
        int errno = Marshal.GetLastPInvokeError();
        return errno switch
        {
            EROFS => "is on a read-only file system",
            EACCES or EPERM => "does not let this user create files (permission denied)",
            ENOENT or ENOTDIR => "does not take new files (a virtual file system such as /proc or /sys)",
            ENOSPC or EDQUOT => "is on a full disk (or over quota)",
            _ => $"refuses new files ({Marshal.GetPInvokeErrorMessage(errno)})",
        };
    }

    private const int EPERM = 1, ENOENT = 2, EACCES = 13, ENOTDIR = 20, ENOSPC = 28, EROFS = 30, EDQUOT = 122;
    private const int O_WRONLY = 1, O_CREAT = 0x40, O_EXCL = 0x80;

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int unlink([MarshalAs(UnmanagedType.LPUTF8Str)] string path);
}
