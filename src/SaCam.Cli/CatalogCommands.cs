using System.CommandLine;
using SaCam.Core.Methods;
using SaCam.Core.Models;

namespace SaCam.Cli;

/// <summary>sacam methods [--plugins DIR]: every method id with one line on what it does and what it costs.</summary>
public static class MethodsCommand
{
    public static Command Create()
    {
        var plugins = PluginOptions.Create();
        var command = new Command("methods", "List the CAM methods: id, cost per image, what each does.");
        command.Options.Add(plugins);
        command.SetAction(parse => CliRunner.Guard(() =>
        {
            Console.WriteLine("id          cost          passes per image");
            foreach (var m in MethodRegistry.Describe)
            {
                Console.WriteLine($"{m.Id,-11} {CostText(m.Cost),-13} {m.Passes}");
                Console.WriteLine($"{"",-11} {m.Summary}");
            }
            Console.WriteLine($"{"none",-11} {"forward",-13} 1 forward (sacam video only: classify, no map; the speed baseline)");
            var catalog = PluginOptions.Load(parse.GetValue(plugins));
            foreach (var id in catalog.MethodIds.Except(MethodRegistry.Ids))
                Console.WriteLine($"{id,-11} {"plugin",-13} (from a plugin; see `sacam plugins`)");
            Console.WriteLine();
            Console.WriteLine("gradient: milliseconds per image, video rate. budgeted: sacam-rt follows --budget-ms (auto: about 2x a gradient pass).");
            Console.WriteLine("perturbation: hundreds to thousands of forwards, seconds to minutes per image on a CPU (progress is shown).");
            return CliRunner.Ok;
        }));
        return command;
    }

    private static string CostText(MethodRegistry.CostClass cost) => cost switch
    {
        MethodRegistry.CostClass.Gradient => "gradient",
        MethodRegistry.CostClass.Budgeted => "budgeted",
        _ => "perturbation",
    };
}

/// <summary>sacam models: the model ids this build knows, the torchvision architectures, and what the embedded
/// default can and cannot do.</summary>
public static class ModelsCommand
{
    public static Command Create()
    {
        var command = new Command("models", "List the models: the embedded default, torchvision architectures, ONNX files.");
        command.SetAction(_ => CliRunner.Guard(() =>
        {
            bool embedded = File.Exists(ModelCatalog.EmbeddedBackbonePath);
            Console.WriteLine($"default (alias resnet18-backbone){(embedded ? "" : "   MISSING: rebuild the project")}");
            Console.WriteLine("    ImageNet ResNet18 without its classifier (ML.NET's NuGet package, ONNX opset 8), shipped with the build: works offline.");
            Console.WriteLine("    Output: a 512-d embedding, so there are no classes. It can explain similarity: --target exemplar:IMAGE (where is");
            Console.WriteLine("    something like that image?), or by default the projection on the frame's own embedding (what dominates it).");
            Console.WriteLine("    It cannot take --class or --labels, nor run `sacam eval pointing` (which explains the class of each box).");
            Console.WriteLine();
            Console.WriteLine("torchvision:ARCH             official ImageNet weights, downloaded once (SHA-256 checked) into " + Path.Combine(WeightsDownloader.DefaultCacheDirectory(), "torchvision"));
            Console.WriteLine("torchvision:ARCH:WEIGHTS     your own weights: a PyTorch state dict (.pth zip, .safetensors) or a TorchSharp .dat file");
            var cache = Path.Combine(WeightsDownloader.DefaultCacheDirectory(), "torchvision");
            foreach (var arch in TorchVisionZoo.Architectures.Values)
            {
                bool cached = File.Exists(Path.Combine(cache, Path.GetFileName(new Uri(arch.WeightsUrl).LocalPath)));
                Console.WriteLine($"    {arch.Name,-14} CAM layer {arch.CamLayer,-9} 1000 ImageNet classes   {(cached ? "weights cached" : "weights downloaded on first use")}");
            }
            Console.WriteLine();
            Console.WriteLine("PATH.onnx                    any ONNX CNN (imported into TorchSharp with autograd); labels from --labels or the model's metadata;");
            Console.WriteLine("                             preprocessing from its sacam.* metadata, else ImageNet's (see the README).");
            Console.WriteLine("PATH.onnx --model-card FILE  a segmenter, detector or regressor: what its outputs mean (docs/model-cards.md);");
            Console.WriteLine("                             `sacam models inspect PATH.onnx [--model-card FILE]` shows what was found.");
            return CliRunner.Ok;
        }));
        command.Subcommands.Add(Inspect());
        return command;
    }

    /// <summary>sacam models inspect MODEL [--model-card FILE]: what the card says, what loading found, what is missing.</summary>
    private static Command Inspect()
    {
        var model = new Argument<string>("model") { Description = "default, PATH.onnx or torchvision:ARCH[:WEIGHTS]." };
        var card = ModelOptions.Card();
        var labels = ModelOptions.Labels();
        var device = ModelOptions.Device();
        var command = new Command("inspect", "What a model is: task, input, outputs, labels, target layer, decoding, the methods and targets that work on it, and what is missing.");
        command.Arguments.Add(model);
        foreach (var o in new Option[] { card, labels, device }) command.Options.Add(o);
        command.SetAction(parse => CliRunner.Guard(_ =>
        {
            var spec = new App.Specs.ModelSpec { Id = parse.GetValue(model)!, Card = parse.GetValue(card), Labels = parse.GetValue(labels), Device = App.Specs.DeviceName.Parse(parse.GetValue(device)) };
            spec.Validate();
            foreach (var line in App.Building.ModelInspection.Describe(spec, ConsoleFeedback.Instance)) Console.WriteLine(line);
            return CliRunner.Ok;
        }));
        return command;
    }
}
