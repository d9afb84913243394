using System.Globalization;
using SaCam.App.Specs;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Tasks;

namespace SaCam.App.Building;

/// <summary>What `sacam models inspect` prints: what a model's card says (and where it came from), what loading the
/// model found, which methods and targets work on it, and what is missing.</summary>
public static class ModelInspection
{
    public static IReadOnlyList<string> Describe(ModelSpec spec, IRunFeedback feedback)
    {
        var card = ModelLoader.CardOf(spec);
        using var model = ModelLoader.Load(spec, feedback);
        var lines = new List<string>
        {
            $"model    {spec.Id}",
            $"card     {card?.Source ?? "none: read as a classifier (give --model-card FILE for a segmenter, detector or regressor)"}",
            $"task     {(card?.Task ?? ModelTask.Classification).ToString().ToLowerInvariant()}",
            $"input    {model.Preprocess.Width}x{model.Preprocess.Height}, {model.Preprocess.InputChannels} channel(s) {model.Preprocess.Channels.ToString().ToLowerInvariant()}, " +
            $"{model.Preprocess.Resize.ToString().ToLowerInvariant()}, mean {Numbers(model.Preprocess.Mean)}, std {Numbers(model.Preprocess.Std)}",
        };
        var missing = new List<string>();
        if (model is OnnxTaskModel task)
        {
            lines.Add($"outputs  {string.Join(", ", task.OutputShapes.Select(o => $"{o.Key} [{string.Join(", ", o.Value)}]"))}");
            if (task.Decoder?.Card is { } d)
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"decoding {d.Format.ToString().ToLowerInvariant()}, scores {d.ScoreActivation.ToString().ToLowerInvariant()}, background column {(d.BackgroundClass is int bg ? bg.ToString(CultureInfo.InvariantCulture) : "none")}, " +
                    $"threshold {d.ScoreThreshold}, NMS IoU {d.NmsIou}, at most {d.MaxDetections}"));
            lines.Add(task.HasGradients
                ? $"methods  all ({string.Join(", ", MethodRegistry.Ids)}): gradients through the head after '{task.DefaultLayer}' in TorchSharp"
                : $"methods  {string.Join(", ", MethodRegistry.GradientFree)}; gradient methods: not available ({task.GradientNote})");
        }
        else
        {
            lines.Add($"outputs  {model.OutputSize} {(model.OutputKind == OutputKind.Logits ? "class scores" : "-d embedding")}");
            lines.Add($"methods  all ({string.Join(", ", MethodRegistry.Ids)})");
        }
        lines.Add($"layer    {model.Layers.First(l => l.Name == model.DefaultLayer)}");
        lines.Add($"classes  {model.OutputSize}{(model.OutputKind == OutputKind.Raw ? " values" : "")}");
        if (model.Labels is { } labels)
            lines.Add($"labels   {labels.Count}{(labels.Offset > 0 ? $" from class {labels.Offset}" : "")}: {string.Join(", ", Enumerable.Range(labels.Offset, Math.Min(labels.Count, 8)).Select(i => labels[i]))}{(labels.Count > 8 ? ", ..." : "")}");
        else if (model.OutputKind is OutputKind.Logits or OutputKind.Segmentation or OutputKind.Detection)
            missing.Add("labels (targets and outputs name classes by index; give them with --labels or the card's labels)");
        lines.Add($"targets  {Targets(model.OutputKind)}");
        lines.Add(missing.Count == 0 ? "missing  nothing" : $"missing  {string.Join("; ", missing)}");
        return lines;
    }

    private static string Targets(OutputKind kind) => kind switch
    {
        OutputKind.Segmentation => "seg:CLASS, seg:CLASS@x,y,w,h",
        OutputKind.Detection => "det:all, det:LABEL, det:K",
        OutputKind.Raw => "output:NAME[i]",
        OutputKind.Embedding => "exemplar:IMAGE (default: the image's own embedding)",
        _ => "--class CLASS (default: top-1), output:NAME[i], exemplar:IMAGE",
    };

    private static string Numbers(float[] values) => string.Join(",", values.Select(v => v.ToString("0.###", CultureInfo.InvariantCulture)));
}
