using SaCam.Plugins;

namespace SaCam.App.Building;

/// <summary>The catalog of methods, targets, sources, sinks and overlays for a run: the built-ins plus a plugin folder.</summary>
public static class PluginCatalogs
{
    public const string EnvironmentVariable = "SACAM_PLUGINS";

    /// <summary>The built-ins, plus the plugins of <paramref name="folder"/> (or of $SACAM_PLUGINS when null).</summary>
    public static PluginCatalog Load(string? folder)
    {
        folder ??= Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrWhiteSpace(folder) ? PluginCatalog.BuiltInOnly() : PluginCatalog.Load(folder);
    }
}
