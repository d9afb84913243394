// A stand-in for the UnityEditor types the package's Editor scripts use, with Unity's signatures.
using System;

namespace UnityEditor
{
    [AttributeUsage(AttributeTargets.Class)]
    public sealed class InitializeOnLoadAttribute : Attribute { }

    public static class AssemblyReloadEvents
    {
        public delegate void AssemblyReloadCallback();
        public static event AssemblyReloadCallback? beforeAssemblyReload;
        /// <summary>Test hook: Unity is about to reload scripts.</summary>
        public static void RaiseBeforeAssemblyReload() => beforeAssemblyReload?.Invoke();
    }

    public static class EditorApplication
    {
        public static event Action? quitting;
        public static void RaiseQuitting() => quitting?.Invoke();
    }

    public enum BuildTarget { StandaloneOSX = 2, StandaloneWindows64 = 19, StandaloneLinux64 = 24, Android = 13, iOS = 9 }
}

namespace UnityEditor.Build
{
    public interface IOrderedCallback
    {
        int callbackOrder { get; }
    }

    public interface IPostprocessBuildWithReport : IOrderedCallback
    {
        void OnPostprocessBuild(Reporting.BuildReport report);
    }
}

namespace UnityEditor.Build.Reporting
{
    public struct BuildSummary
    {
        public BuildTarget platform { get; set; }
        public string outputPath { get; set; }
    }

    public class BuildReport
    {
        public BuildSummary summary { get; set; }
    }
}
