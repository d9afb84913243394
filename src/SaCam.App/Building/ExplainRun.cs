using System.Globalization;
using SaCam.App.Specs;
using SaCam.Core;
using SaCam.Core.IO;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Core.Tensors;
using SaCam.Imaging;
using static TorchSharp.torch;

namespace SaCam.App.Building;

/// <summary>What one explanation found, in the two forms a front-end prints: a summary object (JSON) and lines of text.</summary>
public sealed record ExplainOutcome(object Summary, IReadOnlyList<string> Lines);

/// <summary>
/// One image explained once (what `sacam explain` does): outputs claimed, model loaded, input read (an image, a DICOM
/// frame or a preprocessed tensor), the method run, the map and overlay written.
/// </summary>
public static class ExplainRun
{
    public static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"];

    public static ExplainOutcome Run(ExplainSpec spec, IRunFeedback feedback, CancellationToken stop = default)
    {
        spec.Validated();
        if (spec.Image is not null) InputFiles.RequireFile(spec.Image, "Image");
        if (spec.InputTensor is not null) InputFiles.RequireFile(spec.InputTensor, "Input tensor");
        var outputs = new RunOutputs()
            .Input("image", spec.Image).Input("model", spec.Model.Id).Input("labels file", spec.Model.Labels).Input("input tensor", spec.InputTensor)
            .Input("exemplar image", spec.Target.ExemplarFile)
            .File("--out", spec.Overlay).File("--save-map", spec.SaveMap).Folder("--save-maps", spec.SaveMaps);
        var catalog = PluginCatalogs.Load(spec.Plugins);
        bool objects = ObjectTargets.Names(spec.Target.Target, catalog);
        spec.CheckSaveMaps(objects);
        var method = spec.Method.Id == MethodSpec.Realtime ? MethodFactory.Create(spec.Method, catalog, feedback)! : catalog.CreateMethod(spec.Method.Id);
        using var disposeMethod = method as IDisposable;
        var colors = ColorMaps.Parse(spec.ColorMap);
        var resize = spec.Resize is null ? null : ResizeSpec.Parse(spec.Resize);
        using var claims = outputs.Claim();
        using var model = ModelLoader.Load(spec.Model, feedback);
        if (resize is not null) model.Preprocess = model.Preprocess.WithResize(resize);

        using var scope = NewDisposeScope();
        var (picture, modelImage) = spec.Image is not null ? Sources.ReadImage(spec.Image, spec.Medical, feedback) : (null, null);
        using var frame = picture;
        using var disposeModelImage = modelImage;
        Tensor input;
        FrameGeometry? geometry = null;
        if (spec.InputTensor is not null)
        {
            input = NpyFile.Read(spec.InputTensor);
            try { InputValidator.Validate(input, model, $"input tensor '{spec.InputTensor}'"); }
            catch (ArgumentException e) { throw new InvalidDataException(e.Message, e); }
            if (frame is not null) geometry = ImagePreprocessor.Fit(frame.Size(), model.Preprocess);
        }
        else
        {
            (input, geometry) = ImagePreprocessor.ToTensor(modelImage ?? frame!, model.Preprocess, model.Device);
        }

        if (objects)
        {
            ObjectTargets.Validate(spec.Target.Target!, model, catalog);
            return ObjectExplainRun.Run(spec, model, method, input, geometry ?? ImagePreprocessor.Fit(new OpenCvSharp.Size(model.Preprocess.Width, model.Preprocess.Height), model.Preprocess),
                frame, feedback, stop, catalog);
        }
        var target = Targets.Create(spec.Target, model, catalog);
        using var disposeTarget = target as IDisposable;
        var engine = new CamEngine(model, CamEngine.PreferredBatchSize(model));
        using var result = engine.Explain(input, method, target, spec.Layer, stop, feedback.Perturbations(method.Id));

        if (spec.SaveMap is not null) NpyFile.Write(spec.SaveMap, result.Map);
        if (spec.Overlay is not null)
        {
            var caption = $"{result.MethodId}: {result.Target.Description}";
            using var overlay = HeatmapOverlay.Render(frame!, result.Map, geometry!, new OverlayOptions { ColorMap = colors, Caption = caption, ContourLevel = 0.5, PeakMarker = true });
            ImageFile.Write(spec.Overlay, overlay);
        }
        return new ExplainOutcome(Summary(result, model), Text(result, model));
    }

    private static object Summary(CamResult result, IExplainableModel model)
    {
        var classTarget = result.Target as ClassTarget;
        var top5 = model.OutputKind == OutputKind.Logits
            ? result.TopK(5).Select(t => new { index = t.Index, label = model.Labels?[t.Index], probability = Math.Round(t.Probability, 6) }).ToArray()
            : [];
        return new
        {
            model = model.Name,
            method = result.MethodId,
            layer = result.Layer,
            target = result.Target.Description,
            @class = classTarget?.ClassIndex,
            label = classTarget is null ? null : model.Labels?[classTarget.ClassIndex],
            score = Math.Round(result.Target.Confidence(result.Output.unsqueeze(0)).item<float>(), 6),
            top5,
            seconds = Math.Round(result.Elapsed.TotalSeconds, 4),
        };
    }

    private static List<string> Text(CamResult result, IExplainableModel model)
    {
        var lines = new List<string>
        {
            $"model   {model.Name}  layer {result.Layer}",
            $"method  {result.MethodId}  ({result.Elapsed.TotalSeconds.ToString("F3", CultureInfo.InvariantCulture)} s)",
            $"target  {result.Target.Description}",
        };
        if (model.OutputKind == OutputKind.Logits)
            lines.AddRange(result.TopK(5).Select((t, i) =>
                $"top{i + 1}    {t.Index,5}  {t.Probability.ToString("F4", CultureInfo.InvariantCulture)}  {model.Labels?[t.Index] ?? ""}"));
        return lines;
    }
}

/// <summary>Input files named by a spec: each must be a file that exists (not a folder).</summary>
public static class InputFiles
{
    public static void RequireFile(string path, string what)
    {
        if (Directory.Exists(path)) throw new ArgumentException($"{what} '{path}' is a folder, not a file.");
        if (!File.Exists(path)) throw new FileNotFoundException($"{what} '{path}' does not exist.", path);
    }
}

/// <summary>A resize override: stretch | center-crop[:fraction] | letterbox, with the fraction in (0, 1].</summary>
public static class ResizeSpec
{
    public static string Parse(string text)
    {
        var parts = text.Trim().ToLowerInvariant().Split(':');
        bool crop = parts[0] is "center-crop" or "centre-crop" or "crop";
        if (!crop && parts.Length == 1 && parts[0] is "stretch" or "letterbox") return text;
        if (crop && parts.Length == 1) return text;
        if (crop && parts.Length == 2 && float.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out float f) && f > 0 && f <= 1)
            return text;
        if (crop && parts.Length == 2)
            throw new ArgumentException($"--resize '{text}': the crop fraction is the share of the shorter side kept, in (0, 1] (ImageNet evaluation uses 0.875).");
        throw new ArgumentException($"--resize '{text}': use stretch, center-crop[:fraction] or letterbox.");
    }
}
