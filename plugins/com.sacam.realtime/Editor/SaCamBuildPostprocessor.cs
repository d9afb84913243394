#nullable enable
using System;
using System.IO;
using UnityEditor;
using UnityEditor.Build;
using UnityEditor.Build.Reporting;
using UnityEngine;

namespace SaCam.Unity.Editor
{
    /// <summary>
    /// After a standalone build, copies a `sacam` publish (the server and its libtorch, ~1 GB) into a sacam/ folder
    /// beside the player, where SaCamServerLocator looks first in a player. The publish comes from the
    /// SACAM_PUBLISH_DIR variable (a `dotnet publish src/SaCam.Cli -c Release -r RID -o DIR` for the player's platform),
    /// else from ~/.local/lib/sacam (build/install.sh). Without either the build succeeds with a warning saying what to do.
    /// </summary>
    public sealed class SaCamBuildPostprocessor : IPostprocessBuildWithReport
    {
        public const string Variable = "SACAM_PUBLISH_DIR";

        public int callbackOrder => 0;

        public void OnPostprocessBuild(BuildReport report)
        {
            var target = report.summary.platform;
            if (target != BuildTarget.StandaloneLinux64 && target != BuildTarget.StandaloneWindows64 && target != BuildTarget.StandaloneOSX) return;
            string? publish = PublishFolder();
            if (publish == null)
            {
                Debug.LogWarning("SaCam: no sacam publish to place beside the player. Set " + Variable + " to a `dotnet publish src/SaCam.Cli -c Release -r <rid> -o DIR` " +
                                 "for " + target + ", or run build/install.sh; otherwise players need SACAM_SERVER set.");
                return;
            }
            string player = report.summary.outputPath;
            string playerFolder = target == BuildTarget.StandaloneOSX ? Path.GetDirectoryName(player) ?? player : Path.GetDirectoryName(player) ?? ".";
            string destination = Path.Combine(playerFolder, "sacam");
            CopyFolder(publish, destination);
            Debug.Log("SaCam: placed the server from " + publish + " in " + destination);
        }

        private static string? PublishFolder()
        {
            var configured = Environment.GetEnvironmentVariable(Variable);
            if (!string.IsNullOrEmpty(configured) && Directory.Exists(configured)) return configured;
            var installed = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "lib", "sacam");
            return Directory.Exists(installed) ? installed : null;
        }

        private static void CopyFolder(string from, string to)
        {
            Directory.CreateDirectory(to);
            foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)), true);
            foreach (var dir in Directory.GetDirectories(from)) CopyFolder(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
    }
}
