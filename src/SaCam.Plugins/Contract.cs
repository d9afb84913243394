using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Video.Overlays;
using SaCam.Video.Sinks;
using SaCam.Video.Sources;

namespace SaCam.Plugins;

/// <summary>
/// The plugin contract's version. It changes only when <see cref="ISaCamPlugin"/> or <see cref="IPluginRegistry"/>
/// change incompatibly; a plugin declares the version it was built for with <see cref="SaCamPluginAttribute"/>, and
/// the host refuses any other with an error that names both.
/// </summary>
public static class PluginContract
{
    public const int Version = 1;
}

/// <summary>Marks an assembly as a SaCam plugin built against contract <see cref="ContractVersion"/>:
/// <c>[assembly: SaCamPlugin(PluginContract.Version)]</c>.</summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class SaCamPluginAttribute(int contractVersion) : Attribute
{
    public int ContractVersion { get; } = contractVersion;
}

/// <summary>
/// A plugin's entry point: a public class with a parameterless constructor. The host creates it once and calls
/// <see cref="Register"/>, in which the plugin adds what it brings.
/// </summary>
public interface ISaCamPlugin
{
    /// <summary>Shown by <c>sacam plugins</c>.</summary>
    string Name { get; }

    void Register(IPluginRegistry registry);
}

/// <summary>
/// What a plugin can add. Ids are case-insensitive and must not collide with built-in ones or another plugin's.
/// Factories are called by the host when a user names the id (on the command line or in code), with the text after
/// the first ':' as argument where there is one (e.g. <c>--sink csv:frames.csv</c>).
/// </summary>
public interface IPluginRegistry
{
    void AddMethod(string id, Func<ICamMethod> create);

    /// <summary>A target parsed from an argument, for a loaded model (e.g. <c>--target prototype:dog.npy</c>).</summary>
    void AddTarget(string id, Func<string, IExplainableModel, IExplanationTarget> create);

    /// <summary>A kind of object target (<c>--target KIND:ARGUMENT</c>): it names objects found on each image, as
    /// <c>det:</c> and <c>seg:</c> do, and each is explained on its own, with its own map, box and record.</summary>
    void AddObjectTarget(string kind, IObjectTargetKind objects);

    /// <summary>A source for specs that start with <c>scheme:</c>.</summary>
    void AddSource(string scheme, Func<string, IFrameSource> open);

    void AddSink(string id, Func<string, IFrameSink> create);

    void AddOverlay(string id, Func<string, IFrameOverlay> create);
}

/// <summary>
/// What a plugin's object target kind does: check its argument against a model once, before any frame, and find the
/// objects on each image. The host explains every object found (one forward for all of them), writes its map and
/// record, and follows it through video; a kind whose objects have boxes is tracked across frames by box overlap.
/// </summary>
public interface IObjectTargetKind
{
    /// <summary>Throws <see cref="ArgumentException"/> with one line naming what is wrong when the argument (the
    /// text after <c>KIND:</c>) does not fit the model; a run then fails before it writes anything.</summary>
    void Validate(string argument, IExplainableModel model);

    /// <summary>The objects on one image, at most <paramref name="maxObjects"/> (<c>--max-objects</c>); none is a
    /// valid answer. <paramref name="input"/> is the image as the model takes it, [1, C, H, W], on the model's device.</summary>
    IReadOnlyList<FoundObject> Find(string argument, IExplainableModel model, TorchSharp.torch.Tensor input, int maxObjects);
}

/// <summary>One object a plugin's kind found: the target each perturbed image is scored by (the host disposes it
/// if it is <see cref="IDisposable"/>), what it is, and where: <paramref name="Box"/> is x0, y0, x1, y1 in shares
/// (0..1) of the model's input, as detectors decode boxes; null for an object that is the whole image.</summary>
public sealed record FoundObject(IExplanationTarget Target, string? Label = null, int? Class = null, double Score = double.NaN, float[]? Box = null);
