using SaCam.Core.Models;
using static TorchSharp.torch;

namespace SaCam.Evaluation;

/// <summary>One paste: which background, and where the core area's bounding box goes, as fractions of the room
/// left for it (the same draw for every method of an image; only the box sizes differ).</summary>
public readonly record struct PasteDraw(int Background, double U, double V);

/// <summary>What the pastes of one map did to its class.</summary>
/// <param name="OriginalProbability">p(class) on the image itself.</param>
/// <param name="Probabilities">p(class) on each pasted image.</param>
/// <param name="Correct">Pasted images still classified (top-1) as the class.</param>
/// <param name="CorePixels">Pixels of the core area (0 for a flat map: nothing is pasted, the background is alone).</param>
public sealed record AdversarialResult(double OriginalProbability, double[] Probabilities, int Correct, int CorePixels)
{
    /// <summary>Share of the pasted images classified as the class.</summary>
    public double Accuracy => Correct / (double)Probabilities.Length;
    /// <summary>Mean relative drop of p(class) from the image to the pasted images, (p0 - p) / p0 (negative if
    /// the class grew).</summary>
    public double FadingRate => Probabilities.Average(p => (OriginalProbability - p) / OriginalProbability);
}

/// <summary>
/// Adversarial verification (the SA-CAM paper, section 4.6): the map's core interpretation area, its top
/// <see cref="Keep"/> of the pixels, cut out of the image and pasted into other scenes; the class should survive
/// (accuracy) and its probability should fall little (fading rate). Everything happens on the model's input grid
/// ([1, C, H, W] tensors already preprocessed), so pasting in normalized space is pasting the pixels. The core is the
/// set of pixels itself, hard-edged (no blending); it moves as one piece, its bounding box placed uniformly at random
/// inside the background. See docs/evaluation.md for each choice and the paper's sentences.
/// </summary>
public sealed class AdversarialVerification(IExplainableModel model, double keep = 0.2, int batchSize = 8)
{
    public double Keep { get; } = keep is > 0 and <= 1 ? keep : throw new ArgumentOutOfRangeException(nameof(keep), $"--keep must lie in (0, 1] (got {keep}).");

    /// <summary>The core area: the round(keep * pixels) highest pixels of the map, ties by position (a stable
    /// sort); none when the map is flat (it ranks no pixel above another, so it has no core).</summary>
    public static bool[] CoreArea(float[] map, double keep)
    {
        var core = new bool[map.Length];
        if (map.Length == 0 || map.Max() - map.Min() <= 0) return core;
        int k = Math.Max(1, (int)Math.Round(keep * map.Length, MidpointRounding.AwayFromZero));
        foreach (var p in Enumerable.Range(0, map.Length).OrderByDescending(p => map[p]).Take(k)) core[p] = true;
        return core;
    }

    /// <summary>The pasted images: each background with the core pixels of <paramref name="image"/> placed at its draw.</summary>
    public static List<float[]> Paste(float[] image, bool[] core, int c, int h, int w, IReadOnlyList<float[]> backgrounds, IReadOnlyList<PasteDraw> draws)
    {
        int minY = h, maxY = -1, minX = w, maxX = -1;
        for (int p = 0; p < core.Length; p++)
            if (core[p]) { int y = p / w, x = p % w; minY = Math.Min(minY, y); maxY = Math.Max(maxY, y); minX = Math.Min(minX, x); maxX = Math.Max(maxX, x); }
        var pasted = new List<float[]>(draws.Count);
        foreach (var draw in draws)
        {
            var result = (float[])backgrounds[draw.Background].Clone();
            if (maxY >= 0)
            {
                int boxH = maxY - minY + 1, boxW = maxX - minX + 1;
                int top = Math.Min(h - boxH, (int)(draw.V * (h - boxH + 1))), left = Math.Min(w - boxW, (int)(draw.U * (w - boxW + 1)));
                for (int p = 0; p < core.Length; p++)
                {
                    if (!core[p]) continue;
                    int y = p / w - minY + top, x = p % w - minX + left;
                    for (int ch = 0; ch < c; ch++) result[ch * h * w + y * w + x] = image[ch * h * w + p];
                }
            }
            pasted.Add(result);
        }
        return pasted;
    }

    /// <param name="input">[1, C, H, W], the image as the model sees it.</param>
    /// <param name="saliency">[H, W], the method's map for <paramref name="classIndex"/>.</param>
    /// <param name="backgrounds">[C, H, W] each, flattened, in the same space as the input.</param>
    public AdversarialResult Evaluate(Tensor input, Tensor saliency, int classIndex, IReadOnlyList<float[]> backgrounds, IReadOnlyList<PasteDraw> draws, CancellationToken cancellation = default)
    {
        using var scope = NewDisposeScope();
        int c = (int)input.shape[1], h = (int)input.shape[2], w = (int)input.shape[3];
        if (saliency.shape.Length != 2 || saliency.shape[0] != h || saliency.shape[1] != w)
            throw new ArgumentException($"The saliency map has shape [{string.Join(", ", saliency.shape)}]; the input needs [{h}, {w}].");
        var image = Floats(input);
        var core = CoreArea(Floats(saliency), Keep);
        var pasted = Paste(image, core, c, h, w, backgrounds, draws);
        var (original, _) = Classify([image], c, h, w, classIndex, input.device, cancellation);
        var (probabilities, top1) = Classify(pasted, c, h, w, classIndex, input.device, cancellation);
        return new AdversarialResult(original[0], probabilities, top1.Count(t => t == classIndex), core.Count(v => v));
    }

    /// <summary>p(class) and the top-1 class of each image, in batches.</summary>
    public (double[] Probability, int[] Top1) Classify(IReadOnlyList<float[]> images, int c, int h, int w, int classIndex, Device device, CancellationToken cancellation = default)
    {
        var probability = new List<double>();
        var top1 = new List<int>();
        using var noGrad = no_grad();
        for (int start = 0; start < images.Count; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            using var batchScope = NewDisposeScope();
            var batch = images.Skip(start).Take(batchSize).ToList();
            var output = model.Predict(tensor(batch.SelectMany(i => i).ToArray(), [batch.Count, c, h, w]).to(device));
            probability.AddRange(output.softmax(1)[.., classIndex].cpu().to_type(ScalarType.Float64).data<double>().ToArray());
            top1.AddRange(output.argmax(1).cpu().data<long>().ToArray().Select(v => (int)v));
        }
        return ([.. probability], [.. top1]);
    }

    /// <summary>A tensor's values, row-major, on the CPU.</summary>
    public static float[] Floats(Tensor t) => t.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();

    /// <summary>The draws of one image: N backgrounds chosen uniformly (with replacement) from the eligible ones and
    /// N positions, from a generator seeded by the run's seed and the image's index.</summary>
    public static PasteDraw[] Draws(int seed, int imageIndex, int pastes, int backgroundCount)
    {
        var random = new Random(unchecked(seed * 1_000_003 + imageIndex));
        return Enumerable.Range(0, pastes).Select(_ => new PasteDraw(random.Next(backgroundCount), random.NextDouble(), random.NextDouble())).ToArray();
    }
}
