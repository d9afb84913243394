using SaCam.Core.Preprocessing;
using static TorchSharp.torch;

namespace SaCam.Core.Models;

/// <summary>
/// Resolves what a user names as a model:
///   default | resnet18-backbone     the embedded ImageNet ResNet18 backbone (ships with the package, offline)
///   PATH.onnx                       any ONNX CNN
///   torchvision:ARCH                official ImageNet weights, downloaded once into the cache
///   torchvision:ARCH:WEIGHTS        a local state dict (.pth zip, .safetensors) or TorchSharp .dat file
/// </summary>
public static class ModelCatalog
{
    public const string DefaultModelId = "default";

    /// <summary>The embedded default: ML.NET's ResNet18 ImageNet backbone (CNTK export, opset 8), 512-d pooled output.</summary>
    public static string EmbeddedBackbonePath => Path.Combine(AppContext.BaseDirectory, "models", "resnet18-imagenet-backbone.onnx");

    /// <summary>
    /// Its preprocessing (ML.NET's ResNetPreprocess.onnx): BGR pixels 0..255 minus a per-pixel mean image. The mean
    /// image is replaced by its per-channel means (B 103.06, G 115.90, R 123.15), within +-13 of every pixel's own.
    /// </summary>
    public static PreprocessSpec EmbeddedBackbonePreprocess { get; } = new(224, 224,
        [103.06f / 255, 115.90f / 255, 123.15f / 255], [1f / 255, 1f / 255, 1f / 255], ChannelOrder.Bgr, ResizeMode.Stretch);

    public static IExplainableModel Load(string spec, Device? device = null, string? labelsPath = null,
        WeightsDownloader? downloader = null, IProgress<DownloadProgress>? progress = null, int labelsOffset = 0, Engines.EngineOptions? engine = null)
    {
        if (engine?.Kind == Engines.EngineKind.OnnxRuntime && spec.StartsWith("torchvision:", StringComparison.OrdinalIgnoreCase))
            throw new SettingException(new($"{{Engine}} onnxruntime runs ONNX models; '{spec}' is a torchvision model, which TorchSharp runs."));
        IExplainableModel model;
        if (spec is DefaultModelId or "resnet18-backbone")
        {
            if (!File.Exists(EmbeddedBackbonePath))
                throw new ModelLoadException(spec, $"the embedded model is missing at {EmbeddedBackbonePath}; rebuild the project (it comes from the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18)");
            var onnx = OnnxCnnModel.Load(EmbeddedBackbonePath, device, engine: engine);
            onnx.Preprocess = EmbeddedBackbonePreprocess;
            model = onnx;
        }
        else if (spec.StartsWith("torchvision:", StringComparison.OrdinalIgnoreCase))
        {
            var parts = spec.Split(':', 3);
            var arch = TorchVisionZoo.Find(parts[1]);
            string weights = parts.Length == 3 ? parts[2] : Download(arch, downloader, progress);
            model = TorchVisionZoo.Load(arch.Name, weights, device);
        }
        else if (spec.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || File.Exists(spec))
        {
            model = OnnxCnnModel.Load(spec, device, engine: engine);
        }
        else
        {
            throw new ModelLoadException(spec, "it is not a model this package knows: give a path to an .onnx file, 'default', " +
                $"torchvision:ARCH or torchvision:ARCH:WEIGHTS-FILE (ARCH one of {string.Join(", ", TorchVisionZoo.Architectures.Keys)})");
        }
        if (labelsPath is not null)
        {
            try { model.Labels = ClassLabelsFor(model, labelsPath, labelsOffset); }
            catch { model.Dispose(); throw; }
        }
        return model;
    }

    /// <summary>
    /// Reads labels that must name every class: a count that does not match the model's classes would put every
    /// label on the wrong class, so it is refused, saying how to fix it. Two conventions are accepted: a first
    /// "background" line beyond the model's classes is dropped (a 1001-line file for a 1000-class model), and an
    /// explicit <paramref name="offset"/> says the first <c>offset</c> classes have no label (1000 lines for
    /// TensorFlow's 1001-class models: offset 1).
    /// </summary>
    public static ClassLabels ClassLabelsFor(IExplainableModel model, string labelsPath, int offset = 0)
    {
        if (offset < 0) throw new SettingException(new($"{{LabelsOffset}} must be 0 or more (got {offset})."));
        var labels = ClassLabels.FromFile(labelsPath);
        if (model.OutputKind != OutputKind.Logits)
            throw new SettingException(new($"{{Labels}} '{labelsPath}': model '{model.Name}' has no classifier head (its output is a {model.OutputSize}-d embedding), so there are no classes to label."));
        if (offset == 0 && labels.Count == model.OutputSize + 1 && labels[0].Equals("background", StringComparison.OrdinalIgnoreCase))
            return new ClassLabels(Enumerable.Range(1, labels.Count - 1).Select(i => labels[i]));
        if (labels.Count + offset != model.OutputSize)
        {
            long missing = model.OutputSize - labels.Count;
            string hint = missing > 0
                ? $" If the model's first {missing} class{(missing == 1 ? " has" : "es have")} no label (TensorFlow's 1001-class models keep class 0 for 'background'), pass {{LabelsOffset}} {missing}."
                : "";
            throw new SettingException(new($"{{Labels}} '{labelsPath}' has {labels.Count} labels{(offset > 0 ? $" after an offset of {offset}" : "")}, " +
                $"but model '{model.Name}' has {model.OutputSize} classes: every label would name the wrong class.{hint}"));
        }
        return labels.WithOffset(offset);
    }

    private static string Download(TorchVisionZoo.Architecture arch, WeightsDownloader? downloader, IProgress<DownloadProgress>? progress)
    {
        var d = downloader ?? new WeightsDownloader(Path.Combine(WeightsDownloader.DefaultCacheDirectory(), "torchvision"));
        return d.EnsureAsync(new Uri(arch.WeightsUrl), progress: progress).GetAwaiter().GetResult();
    }
}
