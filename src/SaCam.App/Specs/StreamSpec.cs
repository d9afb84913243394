namespace SaCam.App.Specs;

/// <summary>
/// An explainer for a stream of frames pushed by a host (an engine through `sacam serve`, or a .NET program through
/// ExplainerHost): the model, method, target and layer, and how overlays are drawn. Each stream gets its own method
/// instance (a per-stream method's caches belong to one stream).
/// </summary>
public sealed record StreamSpec
{
    public ModelSpec Model { get; init; } = new();
    public MethodSpec Method { get; init; } = new();
    public TargetSpec Target { get; init; } = TargetSpec.TopClass;
    public string? Layer { get; init; }
    public string ColorMap { get; init; } = "jet";
    /// <summary>Draw the statistics line (fps, latency) into overlays.</summary>
    public bool Hud { get; init; } = true;
    public string? Plugins { get; init; }

    public StreamSpec Validated()
    {
        Model.Validate();
        Method.Validate();
        Target.Validate();
        Imaging.ColorMaps.Parse(ColorMap);
        return this;
    }
}
