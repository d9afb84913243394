using System.Globalization;
using System.Text.RegularExpressions;
using SaCam.Core;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Core.Tasks;
using SaCam.Imaging;
using SaCam.Plugins;
using static TorchSharp.torch;

namespace SaCam.App.Building;

/// <summary>One object to explain: its target, what it is and, in the input image's pixels, where (a detection's
/// box; a segment's mask as a 0/1 map at the image's size).</summary>
public sealed class ExplainedObject(int index, IExplanationTarget target, int? classIndex, string? label, double score, float[]? box, OpenCvSharp.Mat? mask)
    : IDisposable
{
    public int Index { get; } = index;
    public IExplanationTarget Target { get; } = target;
    public int? Class { get; } = classIndex;
    public string? Label { get; } = label;
    public double Score { get; } = score;
    /// <summary>x0, y0, x1, y1 in image pixels (detections and segments), or null.</summary>
    public float[]? Box { get; } = box;
    /// <summary>CV_32FC1 at the image's size, 1 on the segment (segmentation targets), or null.</summary>
    public OpenCvSharp.Mat? Mask { get; } = mask;

    public void Dispose()
    {
        (Target as IDisposable)?.Dispose();
        Mask?.Dispose();
    }
}

/// <summary>
/// The targets that name objects of a segmenter, detector or regressor: seg:CLASS[@x,y,w,h], det:all, det:LABEL,
/// det:K, output:NAME[i]. They are found on the unperturbed image (the model's own mask, its own detections), then
/// followed through every perturbed image by the core's targets.
/// </summary>
public static partial class ObjectTargets
{
    /// <summary>Whether <paramref name="target"/> names objects: a built-in kind, or one <paramref name="plugins"/> add.
    /// Without the catalog (a spec checked before plugins load), the built-in kinds only.</summary>
    public static bool Names(string? target, PluginCatalog? plugins = null) =>
        target is not null && (target.StartsWith("seg:", StringComparison.OrdinalIgnoreCase) || target.StartsWith("det:", StringComparison.OrdinalIgnoreCase)
                               || target.StartsWith("output:", StringComparison.OrdinalIgnoreCase) || plugins?.ObjectTargetKind(target) is not null);

    /// <summary>The objects <paramref name="text"/> names on this input. A detector that finds nothing gives none.</summary>
    /// <summary>Checks, before any frame, that <paramref name="text"/> fits the model: the right task, a class it has,
    /// an output it reads. A video run then fails before it writes anything, not on its first frame.</summary>
    public static void Validate(string text, IExplainableModel model, PluginCatalog? plugins = null)
    {
        string kind = text[..text.IndexOf(':')].ToLowerInvariant(), argument = text[(text.IndexOf(':') + 1)..];
        if (plugins?.ObjectTargetKind(text) is { } pluginKind)
        {
            pluginKind.Validate(argument, model);
            return;
        }
        switch (kind)
        {
            case "seg":
                if (model.OutputKind != OutputKind.Segmentation) throw WrongModel(text, model, "segmentation");
                var m = SegmentPattern().Match(argument);
                if (!m.Success) throw new ArgumentException($"--target {text}: write seg:CLASS or seg:CLASS@x,y,w,h (a region in image pixels).");
                ClassOf(text, m.Groups[1].Value, model);
                break;
            case "det":
                if (model is not OnnxTaskModel { Decoder: not null }) throw WrongModel(text, model, "detection");
                if (!argument.Equals("all", StringComparison.OrdinalIgnoreCase) && !int.TryParse(argument, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                    ClassOf(text, argument, model);
                break;
            default:
                Output(text, argument, model);
                break;
        }
    }

    /// <param name="segmentRequired">Whether a segment the model assigns no pixel to is an error (one image) or no
    /// object (a video frame).</param>
    public static IReadOnlyList<ExplainedObject> Find(string text, IExplainableModel model, Tensor input, FrameGeometry geometry, int maxObjects, bool segmentRequired = true,
        PluginCatalog? plugins = null)
    {
        string kind = text[..text.IndexOf(':')].ToLowerInvariant(), argument = text[(text.IndexOf(':') + 1)..];
        if (plugins?.ObjectTargetKind(text) is { } pluginKind) return FromPlugin(pluginKind, argument, model, input, geometry, maxObjects);
        return kind switch
        {
            "seg" => Segment(text, argument, model, input, geometry, segmentRequired) is { } segment ? [segment] : [],
            "det" => Detections(text, argument, model, input, geometry, maxObjects),
            _ => [Output(text, argument, model)],
        };
    }

    private static ArgumentException WrongModel(string text, IExplainableModel model, string task) =>
        new($"--target {text} needs a {task} model, but model '{model.Name}' is {Describe(model.OutputKind)}: describe it with --model-card FILE (task {task}; docs/model-cards.md).");

    private static string Describe(OutputKind kind) => kind switch
    {
        OutputKind.Logits => "a classifier",
        OutputKind.Embedding => "a backbone without a classifier",
        OutputKind.Segmentation => "a segmenter",
        OutputKind.Detection => "a detector",
        _ => "a regressor",
    };

    private static int ClassOf(string text, string name, IExplainableModel model)
    {
        if (int.TryParse(name, NumberStyles.Integer, CultureInfo.InvariantCulture, out int index))
        {
            if (index < 0 || index >= model.OutputSize)
                throw new ArgumentException($"--target {text}: class {index} is out of range; model '{model.Name}' has {model.OutputSize} classes (0..{model.OutputSize - 1}).");
            return index;
        }
        if (model.Labels is null) throw new ArgumentException($"--target {text}: '{name}' is a label, but model '{model.Name}' has no labels (give them in its model card or with --labels).");
        try
        {
            return model.Labels.Find(name, model.Name);
        }
        catch (SettingException e)
        {
            throw new ArgumentException($"--target {text}: {e.Text.Render(_ => "the class")}", e);
        }
    }

    private static ExplainedObject? Segment(string text, string argument, IExplainableModel model, Tensor input, FrameGeometry geometry, bool required)
    {
        if (model.OutputKind != OutputKind.Segmentation) throw WrongModel(text, model, "segmentation");
        var m = SegmentPattern().Match(argument);
        if (!m.Success) throw new ArgumentException($"--target {text}: write seg:CLASS or seg:CLASS@x,y,w,h (a region in image pixels).");
        int c = ClassOf(text, m.Groups[1].Value, model);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var output = model.Predict(input.to(model.Device));                         // [1, C, H, W]
        var classes = output[0].argmax(0);                                          // [H, W]
        var mask = classes == c;
        long outH = output.shape[2], outW = output.shape[3];
        if (m.Groups[2].Success)
        {
            var r = m.Groups[2].Value.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            if (r[2] <= 0 || r[3] <= 0) throw new ArgumentException($"--target {text}: the region's width and height must be positive.");
            var (x0, y0) = ImageToOutput(r[0], r[1], geometry, outW, outH);
            var (x1, y1) = ImageToOutput(r[0] + r[2], r[1] + r[3], geometry, outW, outH);
            var region = zeros_like(mask);
            region[TensorIndex.Slice((long)Math.Floor(y0), (long)Math.Ceiling(y1)), TensorIndex.Slice((long)Math.Floor(x0), (long)Math.Ceiling(x1))] = tensor(true);
            mask = mask & region;
        }
        string? label = model.Labels?[c];
        if (!mask.any().item<bool>())
        {
            if (!required) return null;
            var counts = classes.flatten().bincount(null, model.OutputSize).to_type(ScalarType.Float32) / classes.numel();
            var found = Enumerable.Range(0, (int)model.OutputSize).Select(k => (k, share: counts[k].item<float>())).Where(t => t.share > 0).OrderByDescending(t => t.share)
                .Select(t => $"{model.Labels?[t.k] ?? $"class {t.k}"} {t.share * 100:F1}%");
            throw new ArgumentException($"--target {text}: model '{model.Name}' assigns no pixel{(m.Groups[2].Success ? " of that region" : "")} of this image to {label ?? $"class {c}"}; it finds {string.Join(", ", found)}.");
        }
        var target = new SegmentationTarget(c, label, mask);
        var onImage = MaskOnImage(mask, model, geometry);
        double share = mask.to_type(ScalarType.Float32).mean().item<float>();
        return new ExplainedObject(0, target, c, label, share, BoundingBox(onImage), onImage);
    }

    private static IReadOnlyList<ExplainedObject> Detections(string text, string argument, IExplainableModel model, Tensor input, FrameGeometry geometry, int maxObjects)
    {
        if (model is not OnnxTaskModel { Decoder: { } decoder }) throw WrongModel(text, model, "detection");
        IReadOnlyList<Detection> found;
        using (var scope = NewDisposeScope())
        using (no_grad())
            found = decoder.Detect(model.Predict(input.to(model.Device))[0], model.Labels);
        IEnumerable<Detection> chosen;
        if (argument.Equals("all", StringComparison.OrdinalIgnoreCase)) chosen = found.Take(maxObjects);
        else if (int.TryParse(argument, NumberStyles.Integer, CultureInfo.InvariantCulture, out int k))
        {
            if (k < 0) throw new ArgumentException($"--target {text}: K counts detections by score from 0.");
            chosen = found.Skip(k).Take(1);
        }
        else
        {
            int c = ClassOf(text, argument, model);
            chosen = found.Where(d => d.Class == c).Take(maxObjects);
        }
        return chosen.Select((d, i) => new ExplainedObject(i, new DetectionTarget(d, decoder.Card.BackgroundClass), d.Class, d.Label, d.Score,
            BoxOnImage(d.Box, model, geometry), null)).ToList();
    }

    private static ExplainedObject Output(string text, string argument, IExplainableModel model)
    {
        var m = OutputPattern().Match(argument);
        if (!m.Success) throw new ArgumentException($"--target {text}: write output:NAME[i] (the output's name and an index into it).");
        string name = m.Groups[1].Value;
        int index = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        string? own = model switch
        {
            OnnxTaskModel { OutputKind: OutputKind.Raw } t => t.OutputShapes.Keys.Single(),
            OnnxCnnModel c when model.OutputKind == OutputKind.Logits => c.Graph.OutputName,
            _ => null,
        };
        if (own is null) throw new ArgumentException($"--target {text}: output targets read a regressor's or a classifier's output; model '{model.Name}' is {Describe(model.OutputKind)}.");
        if (name != own) throw new ArgumentException($"--target {text}: model '{model.Name}' is read from output '{own}', not '{name}'.");
        if (index >= model.OutputSize) throw new ArgumentException($"--target {text}: output '{own}' has {model.OutputSize} values (0..{model.OutputSize - 1}).");
        return new ExplainedObject(0, new OutputTarget(name, index), null, null, double.NaN, null, null);
    }

    /// <summary>A point of the image to the model output's pixels (through the preprocessing geometry, then the
    /// output's scale against the input).</summary>
    private static (double X, double Y) ImageToOutput(double x, double y, FrameGeometry g, long outW, long outH)
    {
        double ix = g.TargetRect.X + (x - g.SourceRect.X) * g.TargetRect.Width / (double)g.SourceRect.Width;
        double iy = g.TargetRect.Y + (y - g.SourceRect.Y) * g.TargetRect.Height / (double)g.SourceRect.Height;
        return (Math.Clamp(ix * outW / g.InputSize.Width, 0, outW), Math.Clamp(iy * outH / g.InputSize.Height, 0, outH));
    }

    /// <summary>A plugin kind's objects, at most <paramref name="maxObjects"/> whatever the plugin returned, their boxes
    /// from shares of the model input to image pixels; a box that is not four shares is the plugin's error, named.</summary>
    private static IReadOnlyList<ExplainedObject> FromPlugin(IObjectTargetKind kind, string argument, IExplainableModel model, Tensor input, FrameGeometry geometry, int maxObjects)
    {
        IReadOnlyList<FoundObject> found;
        using (no_grad()) found = kind.Find(argument, model, input.to(model.Device), maxObjects);
        int bad = found.ToList().FindIndex(o => o.Box is { } b && (b.Length != 4 || b.Any(v => !float.IsFinite(v)) || b[2] < b[0] || b[3] < b[1]));
        if (bad >= 0)
        {
            foreach (var o in found) (o.Target as IDisposable)?.Dispose();
            throw new InvalidOperationException($"The object target plugin '{kind.GetType().Name}' gave object {bad} a box that is not x0, y0, x1, y1 in shares of the input with x0 <= x1 and y0 <= y1.");
        }
        foreach (var extra in found.Skip(maxObjects)) (extra.Target as IDisposable)?.Dispose();
        return found.Take(maxObjects).Select((o, i) => new ExplainedObject(i, o.Target, o.Class, o.Label, o.Score,
            o.Box is null ? null : BoxOnImage(o.Box, model, geometry), null)).ToList();
    }

    /// <summary>A box in shares of the model input to image pixels.</summary>
    internal static float[] BoxOnImage(float[] box, IExplainableModel model, FrameGeometry g)
    {
        float X(float share) => (float)Math.Clamp(g.SourceRect.X + (share * g.InputSize.Width - g.TargetRect.X) * g.SourceRect.Width / (double)g.TargetRect.Width, 0, g.FrameSize.Width);
        float Y(float share) => (float)Math.Clamp(g.SourceRect.Y + (share * g.InputSize.Height - g.TargetRect.Y) * g.SourceRect.Height / (double)g.TargetRect.Height, 0, g.FrameSize.Height);
        return [X(box[0]), Y(box[1]), X(box[2]), Y(box[3])];
    }

    /// <summary>The mask [H, W] of the model's output, on the image (nearest: a pixel is in or out).</summary>
    private static OpenCvSharp.Mat MaskOnImage(Tensor mask, IExplainableModel model, FrameGeometry g)
    {
        using var asFloat = mask.to_type(ScalarType.Float32).cpu().contiguous();
        using var atOutput = MatTensor.ToFloatMat(asFloat);
        using var atInput = new OpenCvSharp.Mat();
        OpenCvSharp.Cv2.Resize(atOutput, atInput, new OpenCvSharp.Size(g.InputSize.Width, g.InputSize.Height), 0, 0, OpenCvSharp.InterpolationFlags.Nearest);
        using var content = new OpenCvSharp.Mat(atInput, g.TargetRect);
        var onImage = new OpenCvSharp.Mat(g.FrameSize, OpenCvSharp.MatType.CV_32FC1, OpenCvSharp.Scalar.All(0));
        using var region = new OpenCvSharp.Mat(onImage, g.SourceRect);
        OpenCvSharp.Cv2.Resize(content, region, g.SourceRect.Size, 0, 0, OpenCvSharp.InterpolationFlags.Nearest);
        return onImage;
    }

    private static float[]? BoundingBox(OpenCvSharp.Mat mask)
    {
        using var mask8 = new OpenCvSharp.Mat();
        mask.ConvertTo(mask8, OpenCvSharp.MatType.CV_8UC1);
        var r = OpenCvSharp.Cv2.BoundingRect(mask8);
        return r.Width == 0 ? null : [r.X, r.Y, r.X + r.Width, r.Y + r.Height];
    }

    [GeneratedRegex(@"^([^@]+?)(?:@(-?\d+(?:\.\d+)?,-?\d+(?:\.\d+)?,\d+(?:\.\d+)?,\d+(?:\.\d+)?))?$")]
    private static partial Regex SegmentPattern();

    [GeneratedRegex(@"^(.+)\[(\d+)\]$")]
    private static partial Regex OutputPattern();
}
