#nullable enable
using System;
using System.IO;
using UnityEngine;

namespace SaCam.Unity
{
    /// <summary>
    /// Where the `sacam` server comes from: the path given, else the SACAM_SERVER variable, else the publish the
    /// build post-processor placed beside the player (PLAYER_Data/../sacam/), else `sacam` on PATH (build/install.sh
    /// puts it in ~/.local/bin). Returns the first that exists, or the first candidate, so that the client's error
    /// names a path.
    /// </summary>
    public static class SaCamServerLocator
    {
        public const string Variable = "SACAM_SERVER";

        public static string ExecutableName => Application.platform == RuntimePlatform.WindowsPlayer || Application.platform == RuntimePlatform.WindowsEditor ? "sacam.exe" : "sacam";

        public static string Find(string configured)
        {
            if (!string.IsNullOrEmpty(configured)) return configured;
            var fromEnvironment = Environment.GetEnvironmentVariable(Variable);
            if (!string.IsNullOrEmpty(fromEnvironment)) return fromEnvironment!;
            var besidePlayer = Path.Combine(Path.GetDirectoryName(Application.dataPath) ?? ".", "sacam", ExecutableName);
            if (File.Exists(besidePlayer)) return besidePlayer;
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
            {
                if (dir.Length == 0) continue;
                var candidate = Path.Combine(dir, ExecutableName);
                if (File.Exists(candidate)) return candidate;
            }
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            var installed = Path.Combine(home, ".local", "bin", ExecutableName);
            return File.Exists(installed) ? installed : besidePlayer;
        }

        /// <summary>The file through which Play sessions in one Editor find the server kept running: one per set of
        /// server arguments (another model is another server), in the project's Library/ folder.</summary>
        public static string EditorStateFile(string arguments)
        {
            uint hash = 2166136261;
            foreach (char c in arguments) hash = (hash ^ c) * 16777619;
            var library = Path.Combine(Path.GetDirectoryName(Application.dataPath) ?? ".", "Library", "SaCam");
            return Path.Combine(library, "server-" + hash.ToString("x8") + ".txt");
        }
    }
}
