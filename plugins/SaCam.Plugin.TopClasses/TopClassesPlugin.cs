using SaCam.Plugins;

[assembly: SaCamPlugin(PluginContract.Version)]

namespace SaCam.Plugin.TopClasses;

/// <summary>Adds object target kind <c>top</c>: <c>--target top:K</c>.</summary>
public sealed class TopClassesPlugin : ISaCamPlugin
{
    public string Name => "Top classes";

    public void Register(IPluginRegistry registry) => registry.AddObjectTarget("top", new TopClasses());
}
