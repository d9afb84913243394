using SaCam.Core.Methods;
using SaCam.Plugins;

// Built for a contract this host does not have yet.
[assembly: SaCamPlugin(PluginContract.Version + 1)]

namespace SaCam.Plugin.FromTheFuture;

public sealed class FutureMethodPlugin : ISaCamPlugin
{
    public string Name => "from the future";

    public void Register(IPluginRegistry registry) => registry.AddMethod("gradcam-next", () => new GradCam());
}
