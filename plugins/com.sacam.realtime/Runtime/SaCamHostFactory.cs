#nullable enable
using SaCam.Core;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Realtime;
using SaCam.Video.Host;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;

namespace SaCam.Unity
{
    /// <summary>Builds an <see cref="ExplainerHost"/> from the settings a component exposes in the inspector.</summary>
    public static class SaCamHostFactory
    {
        public static ExplainerHost Create(string model, string method, float budgetMs, string device)
        {
            // A game runs for hours with one small pass per frame: the streaming profile keeps memory flat.
            NativeRuntime.Configure(NativeProfile.Streaming);
            var loaded = ModelCatalog.Load(model, DeviceSelector.Parse(device));
            ICamMethod camMethod = method == "sacam-rt"
                ? new RealtimeSaCam(new RealtimeSaCamOptions { BudgetMs = budgetMs > 0 ? budgetMs : (double?)null })
                : MethodRegistry.Create(method);
            var explainer = new FrameExplainer(loaded, camMethod);
            return new ExplainerHost(explainer, new FrameRenderer(new RenderOptions { Hud = false }), owned: new System.IDisposable[] { explainer, loaded });
        }
    }
}
