using SaCam.Core.Preprocessing;
using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Models;

/// <summary>
/// torchvision architectures by name, their usual CAM layer, and the official ImageNet weights. Weights are PyTorch
/// state dicts (.pth zip format or .safetensors, through TorchSharp.PyBridge) or TorchSharp's own format (.dat).
/// </summary>
public static class TorchVisionZoo
{
    public sealed record Architecture(string Name, Func<nn.Module<Tensor, Tensor>> Create, string CamLayer, string WeightsUrl);

    public static IReadOnlyDictionary<string, Architecture> Architectures { get; } = new Dictionary<string, Architecture>(StringComparer.OrdinalIgnoreCase)
    {
        ["resnet18"] = new("resnet18", () => torchvision.models.resnet18(), "layer4", "https://download.pytorch.org/models/resnet18-f37072fd.pth"),
        ["resnet34"] = new("resnet34", () => torchvision.models.resnet34(), "layer4", "https://download.pytorch.org/models/resnet34-b627a593.pth"),
        ["resnet50"] = new("resnet50", () => torchvision.models.resnet50(), "layer4", "https://download.pytorch.org/models/resnet50-0676ba61.pth"),
        ["resnet101"] = new("resnet101", () => torchvision.models.resnet101(), "layer4", "https://download.pytorch.org/models/resnet101-63fe2227.pth"),
        ["vgg16"] = new("vgg16", () => torchvision.models.vgg16(), "features", "https://download.pytorch.org/models/vgg16-397923af.pth"),
        ["vgg19"] = new("vgg19", () => torchvision.models.vgg19(), "features", "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"),
        ["mobilenet_v2"] = new("mobilenet_v2", () => torchvision.models.mobilenet_v2(), "features", "https://download.pytorch.org/models/mobilenet_v2-b0353104.pth"),
    };

    public static Architecture Find(string name) =>
        Architectures.TryGetValue(name, out var a)
            ? a
            : throw new ModelLoadException($"torchvision:{name}", $"unknown architecture; known: {string.Join(", ", Architectures.Keys)}");

    /// <summary>Builds the architecture and loads a state dict from <paramref name="weightsPath"/>.</summary>
    public static TorchVisionModel Load(string architecture, string weightsPath, Device? device = null, ClassLabels? labels = null)
    {
        var arch = Find(architecture);
        if (!File.Exists(weightsPath)) throw new ModelLoadException(weightsPath, "the weights file does not exist");
        var module = arch.Create();
        try
        {
            LoadWeights(module, weightsPath);
        }
        catch (Exception e) when (e is not ModelLoadException)
        {
            module.Dispose();
            throw new ModelLoadException(weightsPath, $"its weights do not load into torchvision {arch.Name} ({e.Message})", e);
        }
        return new TorchVisionModel(arch.Name, module, PreprocessSpec.ImageNet, arch.CamLayer, labels, device);
    }

    private static void LoadWeights(nn.Module module, string path)
    {
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".safetensors":
                TorchSharp.PyBridge.PyBridgeModuleExtensions.load_safetensors(module, path);
                break;
            case ".pth" or ".pt" or ".bin" when IsZip(path):
                TorchSharp.PyBridge.PyBridgeModuleExtensions.load_py(module, path);
                break;
            case ".pth" or ".pt":
                throw new ModelLoadException(path, "it is a legacy (pre-1.6, non-zip) PyTorch file; re-save it with torch.save(state_dict, path) from PyTorch 1.6 or later");
            default:
                module.load(path); // TorchSharp's own format
                break;
        }
    }

    private static bool IsZip(string path)
    {
        using var f = File.OpenRead(path);
        Span<byte> head = stackalloc byte[4];
        return f.Read(head) == 4 && head[0] == (byte)'P' && head[1] == (byte)'K';
    }
}
