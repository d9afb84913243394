using SaCam.App.Specs;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Plugins;
using SaCam.Imaging;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;

namespace SaCam.App.Building;

/// <summary>
/// What a <see cref="StreamSpec"/> loads once and shares between streams: the model, the target, the layer and how
/// overlays are drawn. Each stream gets its own explainer (<see cref="CreateExplainer"/>), with a method instance of
/// its own, since a per-stream method's caches belong to one stream.
/// </summary>
public sealed class LoadedStream : IDisposable
{
    private readonly PluginCatalog _catalog;
    private readonly IRunFeedback _feedback;

    private LoadedStream(StreamSpec spec, IExplainableModel model, IExplanationTarget? target, PluginCatalog catalog, IRunFeedback feedback)
    {
        Spec = spec;
        Model = model;
        Target = target;
        _catalog = catalog;
        _feedback = feedback;
        Render = new RenderOptions
        {
            Hud = spec.Hud,
            Overlay = new OverlayOptions { ColorMap = ColorMaps.Parse(spec.ColorMap), ContourLevel = 0.5, PeakMarker = true },
            // Object targets draw each object's box, track, label and score over the combined map, as video runs do.
            Extra = FrameExplainers.ExplainsObjects(spec.Target, catalog) ? [new ObjectBoxesOverlay()] : [],
        };
    }

    public StreamSpec Spec { get; }
    public IExplainableModel Model { get; }
    public IExplanationTarget? Target { get; }
    public string? Layer => Spec.Layer;
    public RenderOptions Render { get; }

    /// <summary>Checks what can be checked without loading the model (an unknown method id, a bad colour map).</summary>
    public static PluginCatalog Check(StreamSpec spec)
    {
        spec.Validated();
        var catalog = PluginCatalogs.Load(spec.Plugins);
        MethodFactory.Check(spec.Method, catalog);
        return catalog;
    }

    public static LoadedStream Load(StreamSpec spec, IRunFeedback feedback, IProgress<DownloadProgress>? download = null)
    {
        var catalog = Check(spec);
        var model = ModelLoader.Load(spec.Model, feedback, download);
        try
        {
            IExplanationTarget? target = null;
            if (FrameExplainers.ExplainsObjects(spec.Target, catalog)) FrameExplainers.CheckObjects(spec.Target, spec.Method, model, catalog);
            else target = Targets.Create(spec.Target, model, catalog);
            return new LoadedStream(spec, model, target, catalog, feedback);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>A fresh method for one stream (null: classify only); the caller owns it.</summary>
    public ICamMethod? CreateMethod() => MethodFactory.Create(Spec.Method, _catalog, _feedback);

    /// <summary>A fresh explainer for one stream (per object for object targets, each stream with its own tracker);
    /// disposing it disposes its methods, not the shared model.</summary>
    public IFrameExplainer CreateExplainer() => FrameExplainers.Create(Spec.Target, Spec.Method, Layer, Model, Target, _catalog, _feedback);

    public void Dispose()
    {
        (Target as IDisposable)?.Dispose();
        Model.Dispose();
    }
}
