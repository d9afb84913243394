namespace SaCam.Plugins;

/// <summary>A plugin that cannot be used, with the file and the reason.</summary>
public sealed class PluginLoadException(string plugin, string message, Exception? inner = null)
    : Exception($"Plugin '{plugin}': {message}", inner)
{
    public string Plugin { get; } = plugin;
}
