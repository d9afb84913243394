using System.Security.Cryptography;
using System.Text;

namespace SaCam.Medical;

/// <summary>
/// Identifies a medical source in outputs without its path (hospital paths hold patient names): a salted hash of the
/// full path, stable on one machine (so two runs on one series match) and not reversible by guessing names elsewhere.
/// The salt is made once per user, in ~/.config/sacam/salt (mode 0600).
/// </summary>
public static class SourceLabel
{
    public static string Hash(string path) => HashOf(Path.GetFullPath(path));

    /// <summary>The same for a source that is not a path (a DICOMweb series URL, whose UIDs identify a patient).</summary>
    public static string HashOf(string key)
    {
        var salt = Salt();
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(salt + "\n" + key));
        return Convert.ToHexString(bytes, 0, 6).ToLowerInvariant();
    }

    private static string Salt()
    {
        var folder = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "sacam");
        var file = Path.Combine(folder, "salt");
        try
        {
            if (File.Exists(file)) return File.ReadAllText(file).Trim();
            Directory.CreateDirectory(folder);
            var salt = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            File.WriteAllText(file, salt);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            return salt;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "sacam-unsalted"; // a read-only home: still no path in outputs, only a weaker hash
        }
    }
}
