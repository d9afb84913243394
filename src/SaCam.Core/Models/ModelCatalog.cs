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
        WeightsDownloader? downloader = null, IProgress<DownloadProgress>? progress = null)
    {
        NativeRuntime.Configure();
        IExplainableModel model;
        if (spec is DefaultModelId or "resnet18-backbone")
        {
            if (!File.Exists(EmbeddedBackbonePath))
                throw new ModelLoadException(spec, $"the embedded model is missing at {EmbeddedBackbonePath}; rebuild the project (it comes from the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18)");
            var onnx = OnnxCnnModel.Load(EmbeddedBackbonePath, device);
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
            model = OnnxCnnModel.Load(spec, device);
        }
        else
        {
            throw new ModelLoadException(spec, "it is not a model this package knows: give a path to an .onnx file, 'default', " +
                $"torchvision:ARCH or torchvision:ARCH:WEIGHTS-FILE (ARCH one of {string.Join(", ", TorchVisionZoo.Architectures.Keys)})");
        }
        if (labelsPath is not null) model.Labels = ClassLabelsFor(model, labelsPath);
        return model;
    }

    /// <summary>Reads labels; a file with one more line than the model has classes and a first "background" line
    /// (TensorFlow's 1001-class convention) is shifted to match a 1000-class model.</summary>
    public static ClassLabels ClassLabelsFor(IExplainableModel model, string labelsPath)
    {
        var labels = ClassLabels.FromFile(labelsPath);
        if (labels.Count == model.OutputSize + 1 && labels[0].Equals("background", StringComparison.OrdinalIgnoreCase))
            return new ClassLabels(File.ReadAllLines(labelsPath).Where(l => l.Length > 0).Skip(1));
        return labels;
    }

    private static string Download(TorchVisionZoo.Architecture arch, WeightsDownloader? downloader, IProgress<DownloadProgress>? progress)
    {
        var d = downloader ?? new WeightsDownloader(Path.Combine(WeightsDownloader.DefaultCacheDirectory(), "torchvision"));
        return d.EnsureAsync(new Uri(arch.WeightsUrl), progress: progress).GetAwaiter().GetResult();
    }
}
