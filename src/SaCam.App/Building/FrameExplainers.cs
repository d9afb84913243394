using SaCam.App.Specs;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Plugins;

namespace SaCam.App.Building;

/// <summary>
/// The one decision every front-end shares on what explains a frame: one target per frame (a class, an exemplar, a
/// plugin's target, or each frame's top class) through a <see cref="Video.Pipeline.FrameExplainer"/>, or each object
/// an object target names (seg:, det:, output:, or a plugin's kind) through an <see cref="ObjectFrameExplainer"/>. Video runs, the
/// in-process host and `sacam serve` all come here, so a target works the same in all three.
/// </summary>
public static class FrameExplainers
{
    /// <summary>Whether <paramref name="target"/> explains objects rather than one target per frame (a built-in object
    /// target, or a kind a loaded plugin adds).</summary>
    public static bool ExplainsObjects(TargetSpec target, PluginCatalog catalog) => ObjectTargets.Names(target.Target, catalog);

    /// <summary>Checks an object target against the model before any frame (a seg: target on a classifier, a class
    /// the detector lacks): a run or a server then fails at once, not on its first frame.</summary>
    public static void CheckObjects(TargetSpec target, MethodSpec method, IExplainableModel model, PluginCatalog catalog)
    {
        if (!method.Explains) throw new ArgumentException($"--target {target.Target} explains objects: give a method other than {MethodSpec.ClassifyOnly}.");
        ObjectTargets.Validate(target.Target!, model, catalog);
    }

    /// <param name="sharedTarget">The per-frame target, made once per model (<see cref="Targets.Create"/>); unused for object targets.</param>
    /// <param name="qualityEvery">Check the map of every Nth explained frame (<see cref="DeletionInsertionCheck"/>); null: never.</param>
    public static Video.Pipeline.IFrameExplainer Create(TargetSpec target, MethodSpec method, string? layer, IExplainableModel model,
        IExplanationTarget? sharedTarget, PluginCatalog catalog, IRunFeedback feedback, int? qualityEvery = null)
    {
        var quality = qualityEvery is int every ? new Video.Pipeline.QualitySampling(new DeletionInsertionCheck(model), every) : null;
        if (!ExplainsObjects(target, catalog))
            return new Video.Pipeline.FrameExplainer(model, MethodFactory.Create(method, catalog, feedback), sharedTarget, layer) { Quality = quality };
        CheckObjects(target, method, model, catalog);
        return new ObjectFrameExplainer(model, () => MethodFactory.Create(method, catalog, feedback)!, target.Target!, target.MaxObjects, layer, catalog) { Quality = quality };
    }
}
