using System.CommandLine;
using System.Text.Json;
using SaCam.App.Building;
using SaCam.App.Specs;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Imaging;

namespace SaCam.Cli;

/// <summary>
/// sacam explain IMAGE --model PATH|ID [--labels FILE] [--method ID] [--class INDEX|LABEL] [--layer NAME]
///   [--input-tensor X.npy] [--save-map MAP.npy] [--out OVERLAY.png] [--json] [--device cpu|cuda|cuda:N]
/// </summary>
public static class ExplainCommand
{
    public static string[] ImageExtensions => ExplainRun.ImageExtensions;

    public static Command Create()
    {
        var image = new Argument<string?>("image") { Description = "Image to explain, or a DICOM file (its first frame) (optional with --input-tensor).", Arity = ArgumentArity.ZeroOrOne };
        var medical = new MedicalCliOptions();
        var model = ModelOptions.Model();
        var labels = ModelOptions.Labels();
        var labelsOffset = ModelOptions.LabelsOffset();
        var method = new Option<string>("--method") { Description = $"CAM method: {string.Join(", ", MethodRegistry.Ids)} (sacam list: `sacam methods`).", DefaultValueFactory = _ => "sacam" };
        var classOption = new Option<string?>("--class") { Description = "Class to explain, by index or label (default: top-1)." };
        var targetOption = new Option<string?>("--target") { Description = "Instead of --class: seg:CLASS[@x,y,w,h] (a segmenter's class), det:all, det:LABEL or det:K (a detector's objects), output:NAME[i] (one raw output), exemplar:IMAGE (similarity to that image), or a plugin's ID:ARG." };
        var modelCard = ModelOptions.Card();
        var saveMaps = new Option<string?>("--save-maps") { Description = "With seg:/det:/output: targets: a folder for obj-K.npy (each object's map at the image's size) and objects.json." };
        var maxObjects = new Option<int>("--max-objects") { Description = "The most objects det:all and det:LABEL explain.", DefaultValueFactory = _ => 5 }.AtLeast(1);
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
        foreach (var o in new Option[] { model, modelCard, labels, labelsOffset, method, classOption, targetOption, layer, inputTensor, saveMap, saveMaps, maxObjects, output, json, device, engine, threads, resize, colorMap, plugins }.Concat(medical.All))
            command.Options.Add(o);
        command.SetAction(parse => CliRunner.Guard(stop =>
        {
            var spec = new ExplainSpec
            {
                Image = parse.GetValue(image), InputTensor = parse.GetValue(inputTensor),
                Model = SpecOptions.Model(parse, model, labels, labelsOffset, device, engine, threads) with { Card = parse.GetValue(modelCard) },
                Method = new MethodSpec { Id = parse.GetValue(method)! },
                SaveMaps = parse.GetValue(saveMaps),
                Target = new TargetSpec { Class = parse.GetValue(classOption), Target = parse.GetValue(targetOption), MaxObjects = parse.GetValue(maxObjects) },
                Layer = parse.GetValue(layer), Resize = parse.GetValue(resize), SaveMap = parse.GetValue(saveMap), Overlay = parse.GetValue(output),
                ColorMap = parse.GetValue(colorMap)!, Medical = medical.ReadSpec(parse), Plugins = parse.GetValue(plugins),
            };
            return Run(spec, parse.GetValue(json), stop);
        }));
        return command;
    }

    public static int Run(ExplainSpec spec, bool json, CancellationToken stop = default)
    {
        var feedback = new ExplainFeedback();
        ExplainOutcome outcome;
        try { outcome = ExplainRun.Run(spec, feedback, stop); }
        finally { feedback.Finish(); }
        Console.WriteLine(json ? JsonSerializer.Serialize(outcome.Summary, new JsonSerializerOptions { WriteIndented = true }) : string.Join(Environment.NewLine, outcome.Lines));
        return CliRunner.Ok;
    }

    /// <summary>The console's feedback, with the perturbation methods' progress line.</summary>
    private sealed class ExplainFeedback : IRunFeedback
    {
        private ConsolePerturbationProgress? _progress;

        public void Warning(string message) => ConsoleFeedback.Instance.Warning(message);
        public void Note(string message) => ConsoleFeedback.Instance.Note(message);
        public string NameOf(Core.Setting setting) => CliFlags.Of(setting);
        public IProgress<DownloadProgress> Download => new ConsoleDownloadProgress();
        public IProgress<PerturbationProgress> Perturbations(string label) => _progress = new ConsolePerturbationProgress(label);
        public void Finish() => _progress?.Finish();
    }
}
