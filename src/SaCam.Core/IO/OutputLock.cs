using System.Security.Cryptography;
using System.Text;

namespace SaCam.Core.IO;

/// <summary>
/// An exclusive claim on an output path for the length of a run, so that a second run writing the same file (or
/// folder) is refused at once instead of both exiting 0 with a corrupt file. The claim is an advisory lock
/// (flock on Unix, a share-none handle on Windows) on a small file named by a hash of the output's real path, in a
/// folder of the temp directory; the operating system drops it when the process ends in any way, SIGKILL
/// included, so a crashed run never leaves a stale claim behind. It guards runs on one machine.
/// </summary>
public sealed class OutputLock : IDisposable
{
    private readonly FileStream _handle;
    private readonly string _lockPath;

    private OutputLock(FileStream handle, string lockPath)
    {
        _handle = handle;
        _lockPath = lockPath;
    }

    public static string LockFolder => Path.Combine(Path.GetTempPath(), "sacam-locks");

    /// <param name="what">How the user named the output, for the message (e.g. "--out 'a.mp4'").</param>
    public static OutputLock Acquire(string path, string what)
    {
        var real = FileIdentity.RealPathOf(path);
        var folder = LockFolder;
        Directory.CreateDirectory(folder);
        if (!OperatingSystem.IsWindows())
        {
            // Shared by every user of the machine, like /tmp itself.
            try { File.SetUnixFileMode(folder, (UnixFileMode)Convert.ToInt32("1777", 8)); }
            catch (UnauthorizedAccessException) { } // made by another user: already set
        }
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(real)))[..32];
        var lockPath = Path.Combine(folder, key + ".lock");
        try
        {
            var handle = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            File.WriteAllText(lockPath + ".owner", $"{Environment.ProcessId} {real}");
            return new OutputLock(handle, lockPath);
        }
        catch (IOException)
        {
            string owner = "";
            try { owner = File.ReadAllText(lockPath + ".owner").Split(' ', 2)[0]; }
            catch (IOException) { }
            throw new OutputInUseException($"{what} is being written by another sacam run{(owner.Length > 0 ? $" (pid {owner})" : "")}: " +
                "wait for it to finish, or choose another output.");
        }
    }

    public void Dispose()
    {
        try { File.Delete(_lockPath + ".owner"); }
        catch (IOException) { }
        _handle.Dispose();
    }
}
