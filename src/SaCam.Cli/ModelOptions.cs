using System.CommandLine;
using System.Globalization;
using SaCam.Core.Models;
using SaCam.Core.Preprocessing;

namespace SaCam.Cli;

/// <summary>The options every command that loads a model shares, defined once so that names, defaults and help agree.</summary>
internal static class ModelOptions
{
    public static Option<string> Model() => new("--model", "-m")
    {
        Description = "Model: default (the embedded ResNet18 backbone), PATH.onnx, torchvision:ARCH[:WEIGHTS] (list: `sacam models`).",
        DefaultValueFactory = _ => ModelCatalog.DefaultModelId,
    };

    public static Option<string?> Card() => new("--model-card") { Description = "A model card (JSON): what the model's outputs mean (task, outputs, labels, preprocessing, a detector's decoding); see docs/model-cards.md. Default: the model's metadata, else a classifier." };

    public static Option<string?> Labels() => new("--labels") { Description = "Class labels file, one per line; its count must match the model's classes." };

    public static Option<int> LabelsOffset() => new Option<int>("--labels-offset")
    {
        Description = "The first N classes have no label (1 for a 1000-line ImageNet file with TensorFlow's 1001-class models).",
    }.AtLeast(0);

    public static Option<string> Device() => new("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };

    public static Option<string> Engine()
    {
        var option = new Option<string>("--engine")
        {
            Description = "What runs the forward passes without gradients: auto (ONNX Runtime for ONNX models), onnxruntime, torchsharp.",
            DefaultValueFactory = _ => "auto",
        };
        option.Validators.Add(r =>
        {
            try { Core.Engines.EngineOptions.Parse(r.GetValueOrDefault<string>() ?? "auto"); }
            catch (ArgumentException e) { r.AddError($"--engine: {CliFlags.MessageOf(e)}"); }
        });
        return option;
    }

    public static Option<int?> Threads() => new Option<int?>("--threads")
    {
        Description = $"ONNX Runtime's threads (default: one per core, at most 8; here {Core.Engines.EngineOptions.DefaultThreads}).",
    }.AtLeast(1);

    public static Core.Engines.EngineOptions EngineOptions(string engine, int? threads) =>
        new() { Kind = Core.Engines.EngineOptions.Parse(engine), Threads = threads };
}
