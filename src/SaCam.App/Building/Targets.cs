using System.Globalization;
using SaCam.App.Specs;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Plugins;

namespace SaCam.App.Building;

/// <summary>A spec's target on a loaded model: a plugin's or exemplar target, a class, or null (each input's top-1).</summary>
public static class Targets
{
    public static IExplanationTarget? Create(TargetSpec spec, IExplainableModel model, PluginCatalog catalog) =>
        spec.Target is not null ? catalog.CreateTarget(spec.Target, model) : ClassTargets.Parse(spec.Class, model);
}

/// <summary>A class given by index or label, checked against the model's head and labels.</summary>
public static class ClassTargets
{
    public static IExplanationTarget? Parse(string? text, IExplainableModel model)
    {
        if (text is null) return null;
        if (model.OutputKind != OutputKind.Logits)
            throw new ArgumentException($"--class '{text}': model '{model.Name}' has no classifier head (its output is a {model.OutputSize}-d embedding); omit --class to explain self-similarity.");
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int index))
        {
            if (index < 0 || index >= model.OutputSize)
                throw new ArgumentException($"--class {index} is out of range: model '{model.Name}' has {model.OutputSize} classes (0..{model.OutputSize - 1}).");
            return new ClassTarget(index, model.Labels?[index]);
        }
        if (model.Labels is null) throw new ArgumentException($"--class '{text}' is a label, but model '{model.Name}' has no labels: pass --labels FILE or a class index.");
        var found = model.Labels.Find(text, model.Name);
        return new ClassTarget(found, model.Labels[found]);
    }
}
