using SaCam.Plugins;

[assembly: SaCamPlugin(PluginContract.Version)]

namespace SaCam.Plugin.EigenCam;

/// <summary>Adds method id <c>eigencam</c>.</summary>
public sealed class EigenCamPlugin : ISaCamPlugin
{
    public string Name => "EigenCAM";

    public void Register(IPluginRegistry registry) => registry.AddMethod("eigencam", () => new EigenCam());
}
