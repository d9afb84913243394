using System.Globalization;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Plugins;
using static TorchSharp.torch;

namespace SaCam.Plugin.TopClasses;

/// <summary>
/// <c>--target top:K</c>: a classifier's K most probable classes on each image, each an object of its own, so one run
/// writes one map per class (in `sacam explain --save-maps`, one forward for all of them) and a video follows
/// each rank. An object is the whole image: it has no box. At most <c>--max-objects</c> classes (default 5).
/// </summary>
public sealed class TopClasses : IObjectTargetKind
{
    public void Validate(string argument, IExplainableModel model) => Count(argument, model);

    public IReadOnlyList<FoundObject> Find(string argument, IExplainableModel model, Tensor input, int maxObjects)
    {
        int k = Math.Min(Count(argument, model), maxObjects);
        using var scope = NewDisposeScope();
        var probabilities = nn.functional.softmax(model.Predict(input)[0], 0);
        var (values, indices) = probabilities.topk(k);
        var found = new List<FoundObject>(k);
        for (int i = 0; i < k; i++)
        {
            int c = (int)indices[i].item<long>();
            string? label = model.Labels?[c];
            found.Add(new FoundObject(new ClassTarget(c, label), label, c, values[i].item<float>()));
        }
        return found;
    }

    private static int Count(string argument, IExplainableModel model)
    {
        if (model.OutputKind != OutputKind.Logits)
            throw new ArgumentException($"--target top:{argument} explains a classifier's best classes, and model '{model.Name}' has no classifier head.");
        if (!int.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out int k) || k < 1 || k > model.OutputSize)
            throw new ArgumentException($"--target top:{argument}: K is a whole number from 1 to {model.OutputSize} (the model's classes).");
        return k;
    }
}
