using SaCam.Core.Models;
using SaCam.Core.Preprocessing;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>
/// A "model" whose one output is the mean of the input over a known region, the top-left
/// <paramref name="corner"/> x <paramref name="corner"/> pixels of a <paramref name="side"/> x <paramref name="side"/>
/// image (all channels): the known object of faithfulness tests. Deleting the region's pixels first (a perfect map)
/// drops the score to 0 after corner² pixels; any other order keeps it, so curve areas are known exactly. No layers
/// to explain: tests give it their maps.
/// </summary>
public sealed class CornerMeanModel(int side, int corner, int channels = 3) : IExplainableModel
{
    private readonly nn.Module<Tensor, Tensor> _module = nn.Identity();
    public string Name => "corner-mean";
    public Device Device => CPU;
    public PreprocessSpec Preprocess { get; set; } = PreprocessSpec.ImageNet with { Width = side, Height = side };
    public ClassLabels? Labels { get; set; }
    public OutputKind OutputKind => OutputKind.Logits;
    public long OutputSize => 1;
    public string DefaultLayer => "input";
    public IReadOnlyList<LayerInfo> Layers => [new LayerInfo("input", [1, channels, side, side])];
    public nn.Module Module => _module;
    public CapturedForward ForwardWithActivation(Tensor input, string layer) => throw new NotSupportedException();
    public Tensor Predict(Tensor input) => input[.., .., ..corner, ..corner].mean([1, 2, 3]).unsqueeze(1);
    public void Dispose() => _module.Dispose();
}
