#nullable enable
using UnityEditor;

namespace SaCam.Unity.Editor
{
    /// <summary>
    /// Before Unity reloads scripts (a code change, entering Play mode with domain reload), every SaCamOverlay's client
    /// stops: its thread would otherwise run on in an unloaded domain. A client stops within about 200 ms; the server
    /// it started keeps running when keepServerAliveInEditor is set, so the next Play session finds the model loaded.
    /// </summary>
    [InitializeOnLoad]
    public static class SaCamReloadGuard
    {
        static SaCamReloadGuard()
        {
            AssemblyReloadEvents.beforeAssemblyReload += SaCamOverlay.StopAll;
            EditorApplication.quitting += SaCamOverlay.StopAll;
        }
    }
}
