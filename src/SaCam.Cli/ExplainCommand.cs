using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SaCam.Core;
using SaCam.Core.IO;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Core.Tensors;
using SaCam.Imaging;
using static TorchSharp.torch;

namespace SaCam.Cli;

/// <summary>
/// sacam explain IMAGE --model PATH|ID [--labels FILE] [--method ID] [--class INDEX|LABEL] [--layer NAME]
///   [--input-tensor X.npy] [--save-map MAP.npy] [--out OVERLAY.png] [--json] [--device cpu|cuda|cuda:N]
/// </summary>
public static class ExplainCommand
{
    public static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"];

    public static Command Create()
    {
        var image = new Argument<string?>("image") { Description = "Image to explain, or a DICOM file (its first frame) (optional with --input-tensor).", Arity = ArgumentArity.ZeroOrOne };
        var medical = new MedicalCliOptions();
        var model = ModelOptions.Model();
        var labels = ModelOptions.Labels();
        var labelsOffset = ModelOptions.LabelsOffset();
        var method = new Option<string>("--method") { Description = $"CAM method: {string.Join(", ", MethodRegistry.Ids)} (sacam list: `sacam methods`).", DefaultValueFactory = _ => "sacam" };
        var classOption = new Option<string?>("--class") { Description = "Class to explain, by index or label (default: top-1)." };
        var targetOption = new Option<string?>("--target") { Description = "Instead of --class: exemplar:IMAGE (similarity to that image), or a plugin's ID:ARG." };
        var layer = new Option<string?>("--layer") { Description = "Target layer (ONNX tensor or module name; default: found automatically)." };
        var inputTensor = new Option<string?>("--input-tensor") { Description = "A preprocessed input [1,C,H,W] as .npy: skips preprocessing." };
        var saveMap = new Option<string?>("--save-map") { Description = "Write the final map as float32 .npy [H,W] in [0,1]." }.Extensions("a map", ".npy");
        var output = new Option<string?>("--out") { Description = "Write the overlay image (PNG, JPEG, BMP, TIFF, WebP)." }.Extensions("an overlay image", ImageExtensions);
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var device = ModelOptions.Device();
        var engine = ModelOptions.Engine();
        var threads = ModelOptions.Threads();
        var resize = new Option<string?>("--resize") { Description = "Override the model's resize mode: stretch, center-crop[:fraction], letterbox." };
        var colorMap = new Option<string>("--colormap") { Description = "jet, turbo, viridis or inferno.", DefaultValueFactory = _ => "jet" }.OneOf(ColorMaps.Names);
        var plugins = PluginOptions.Create();

        var command = new Command("explain", "Explain one image with a CAM method.");
        command.Arguments.Add(image);
        foreach (var o in new Option[] { model, labels, labelsOffset, method, classOption, targetOption, layer, inputTensor, saveMap, output, json, device, engine, threads, resize, colorMap, plugins }.Concat(medical.All))
            command.Options.Add(o);
        command.SetAction(parse => CliRunner.Guard(stop => Run(new ExplainArgs(
            parse.GetValue(image), parse.GetValue(model)!, parse.GetValue(labels), parse.GetValue(method)!, parse.GetValue(classOption),
            parse.GetValue(layer), parse.GetValue(inputTensor), parse.GetValue(saveMap), parse.GetValue(output), parse.GetValue(json),
            parse.GetValue(device)!, parse.GetValue(resize), parse.GetValue(colorMap)!, parse.GetValue(plugins), parse.GetValue(targetOption),
            parse.GetValue(labelsOffset), parse.GetValue(engine)!, parse.GetValue(threads), medical.Read(parse)), stop)));
        return command;
    }

    public sealed record ExplainArgs(string? Image, string Model, string? Labels, string Method, string? Class, string? Layer,
        string? InputTensor, string? SaveMap, string? Out, bool Json, string Device, string? Resize, string ColorMap, string? Plugins = null,
        string? Target = null, int LabelsOffset = 0, string Engine = "auto", int? Threads = null, SaCam.Medical.MedicalOptions? Medical = null);

    public static int Run(ExplainArgs a, CancellationToken stop = default)
    {
        if (a.Image is null && a.InputTensor is null) throw new ArgumentException("Give an IMAGE or --input-tensor X.npy.");
        if (a.Out is not null && a.Image is null) throw new ArgumentException("--out draws the overlay on the IMAGE: give one.");
        if (a.Image is not null) InputFiles.RequireFile(a.Image, "Image");
        if (a.InputTensor is not null) InputFiles.RequireFile(a.InputTensor, "Input tensor");
        if (a.Target is not null && a.Class is not null) throw new ArgumentException("Give --class or --target, not both.");
        var outputs = new RunOutputs()
            .Input("image", a.Image).Input("model", a.Model).Input("labels file", a.Labels).Input("input tensor", a.InputTensor)
            .Input("exemplar image", TargetArgument(a.Target))
            .File("--out", a.Out).File("--save-map", a.SaveMap);
        var catalog = PluginOptions.Load(a.Plugins);
        var camMethod = catalog.CreateMethod(a.Method);
        var colors = ColorMaps.Parse(a.ColorMap);
        var device = DeviceSelector.Parse(a.Device);
        var resize = a.Resize is null ? null : ResizeOption.Parse(a.Resize);
        using var claims = outputs.Claim();
        using var model = ModelCatalog.Load(a.Model, device, a.Labels, progress: new ConsoleDownloadProgress(), labelsOffset: a.LabelsOffset,
            engine: ModelOptions.EngineOptions(a.Engine, a.Threads));
        EngineNotes.Report(model);
        if (resize is not null) model.Preprocess = model.Preprocess.WithResize(resize);

        using var scope = NewDisposeScope();
        var (picture, modelImage) = a.Image is not null ? MedicalCliOptions.ReadImage(a.Image, a.Medical) : (null, null);
        using var frame = picture;
        using var disposeModelImage = modelImage;
        Tensor input;
        FrameGeometry? geometry = null;
        if (a.InputTensor is not null)
        {
            input = NpyFile.Read(a.InputTensor);
            try { InputValidator.Validate(input, model, $"input tensor '{a.InputTensor}'"); }
            catch (ArgumentException e) { throw new InvalidDataException(e.Message, e); }
            if (frame is not null) geometry = ImagePreprocessor.Fit(frame.Size(), model.Preprocess);
        }
        else
        {
            (input, geometry) = ImagePreprocessor.ToTensor(modelImage ?? frame!, model.Preprocess, device);
        }

        var target = a.Target is not null ? catalog.CreateTarget(a.Target, model) : TargetParser.Parse(a.Class, model);
        using var disposeTarget = target as IDisposable;
        var engine = new CamEngine(model, CamEngine.PreferredBatchSize(model));
        var progress = new ConsolePerturbationProgress(camMethod.Id);
        CamResult result;
        try { result = engine.Explain(input, camMethod, target, a.Layer, stop, progress); }
        finally { progress.Finish(); }
        using var disposeResult = result;

        if (a.SaveMap is not null) NpyFile.Write(a.SaveMap, result.Map);
        if (a.Out is not null)
        {
            var caption = Caption(result, model);
            using var overlay = HeatmapOverlay.Render(frame!, result.Map, geometry!, new OverlayOptions { ColorMap = colors, Caption = caption, ContourLevel = 0.5, PeakMarker = true });
            ImageFile.Write(a.Out, overlay);
        }
        Console.WriteLine(a.Json ? JsonSerializer.Serialize(Summary(result, model), new JsonSerializerOptions { WriteIndented = true }) : Text(result, model));
        return CliRunner.Ok;
    }

    /// <summary>The file a built-in target names (exemplar:IMAGE), so that no output may overwrite it.</summary>
    internal static string? TargetArgument(string? target) =>
        target is not null && target.StartsWith("exemplar:", StringComparison.OrdinalIgnoreCase) ? target["exemplar:".Length..] : null;

    private static string Caption(CamResult result, IExplainableModel model) =>
        $"{result.MethodId}: {result.Target.Description}";

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

    private static string Text(CamResult result, IExplainableModel model)
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
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>--class: an index, or a label looked up in the model's labels.</summary>
public static class TargetParser
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
        var found = model.Labels.IndexOf(text) ?? throw new ArgumentException($"--class '{text}' is not a label of model '{model.Name}'.");
        return new ClassTarget(found, model.Labels[found]);
    }
}
