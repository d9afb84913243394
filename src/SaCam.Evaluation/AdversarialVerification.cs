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
    public static bool[] CoreArea(float[] map, double keep) => CoreArea(map, keep, map.Length);

    /// <summary>The core area of an object: the round(keep * <paramref name="ofPixels"/>) highest pixels of the map
    /// (<paramref name="ofPixels"/>: the object's own area, so a small car's core is a share of the car, not of the street).</summary>
    public static bool[] CoreArea(float[] map, double keep, int ofPixels)
    {
        var core = new bool[map.Length];
        if (map.Length == 0 || map.Max() - map.Min() <= 0) return core;
        int k = Math.Clamp((int)Math.Round(keep * ofPixels, MidpointRounding.AwayFromZero), 1, map.Length);
        foreach (var p in Enumerable.Range(0, map.Length).OrderByDescending(p => map[p]).Take(k)) core[p] = true;
        return core;
    }

    /// <summary>The pasted images: each background with the core pixels of <paramref name="image"/> placed at its draw.</summary>
    public static List<float[]> Paste(float[] image, bool[] core, int c, int h, int w, IReadOnlyList<float[]> backgrounds, IReadOnlyList<PasteDraw> draws)
    {
        var bounds = Bounds(core, w);
        var pasted = new List<float[]>(draws.Count);
        foreach (var draw in draws)
        {
            var result = (float[])backgrounds[draw.Background].Clone();
            if (bounds is { } box)
            {
                var (dy, dx) = Offset(box, draw, h, w);
                for (int p = 0; p < core.Length; p++)
                {
                    if (!core[p]) continue;
                    int y = p / w + dy, x = p % w + dx;
                    for (int ch = 0; ch < c; ch++) result[ch * h * w + y * w + x] = image[ch * h * w + p];
                }
            }
            pasted.Add(result);
        }
        return pasted;
    }

    /// <summary>The bounding box (x0, y0, x1, y1, inclusive, in pixels) of the core's pixels; null for an empty core.</summary>
    public static (int X0, int Y0, int X1, int Y1)? Bounds(bool[] core, int w)
    {
        int minY = int.MaxValue, maxY = -1, minX = int.MaxValue, maxX = -1;
        for (int p = 0; p < core.Length; p++)
            if (core[p]) { int y = p / w, x = p % w; minY = Math.Min(minY, y); maxY = Math.Max(maxY, y); minX = Math.Min(minX, x); maxX = Math.Max(maxX, x); }
        return maxY < 0 ? null : (minX, minY, maxX, maxY);
    }

    /// <summary>How far a draw moves a piece with bounding box <paramref name="box"/>: its box is placed at
    /// (U, V) of the room left for it inside the h x w grid, so the piece always lies wholly inside.</summary>
    public static (int Dy, int Dx) Offset((int X0, int Y0, int X1, int Y1) box, PasteDraw draw, int h, int w)
    {
        int boxH = box.Y1 - box.Y0 + 1, boxW = box.X1 - box.X0 + 1;
        int top = Math.Min(h - boxH, (int)(draw.V * (h - boxH + 1))), left = Math.Min(w - boxW, (int)(draw.U * (w - boxW + 1)));
        return (top - box.Y0, left - box.X0);
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

    /// <summary>
    /// Adversarial verification of one object (a detection, a segment) rather than an image's class: the core is
    /// <see cref="Keep"/> of the object's own area (<paramref name="objectPixels"/>), pasted as for a class; the object
    /// moves with it (<paramref name="placeFor"/>, given the core on the input grid, row-major, once, gives the function
    /// that moves the object's target by dy, dx input pixels: a detection's box, a segment's pixels that the core
    /// pasted), and its confidence is read there. A pasted object is still found when that confidence is at
    /// least <paramref name="presentAt"/> (a detector's score threshold). With no core (a flat map) nothing is pasted and
    /// the object's box (<paramref name="objectBox"/>, input pixels, inclusive) is placed by the same draw: the control.
    /// </summary>
    public AdversarialResult EvaluateObject(Tensor input, Tensor saliency, Core.Targets.IExplanationTarget target, int objectPixels,
        (int X0, int Y0, int X1, int Y1) objectBox, Func<bool[], Func<int, int, Core.Targets.IExplanationTarget?>> placeFor, double presentAt,
        IReadOnlyList<float[]> backgrounds, IReadOnlyList<PasteDraw> draws, CancellationToken cancellation = default)
    {
        using var scope = NewDisposeScope();
        int c = (int)input.shape[1], h = (int)input.shape[2], w = (int)input.shape[3];
        if (saliency.shape.Length != 2 || saliency.shape[0] != h || saliency.shape[1] != w)
            throw new ArgumentException($"The saliency map has shape [{string.Join(", ", saliency.shape)}]; the input needs [{h}, {w}].");
        var image = Floats(input);
        var core = CoreArea(Floats(saliency), Keep, objectPixels);
        var placed = Bounds(core, w) ?? objectBox;
        var pasted = Paste(image, core, c, h, w, backgrounds, draws);
        var moved = placeFor(core);
        double original;
        using (no_grad()) original = target.Confidence(model.Predict(input)).item<float>();
        var confidences = new double[pasted.Count];
        PredictInBatches(pasted, c, h, w, input.device, cancellation, (start, output) =>
        {
            for (int i = 0; i < output.shape[0]; i++)
            {
                var (dy, dx) = Offset(placed, draws[start + i], h, w);
                var there = moved(dy, dx);
                try
                {
                    // An object moved wholly out of the grid is gone: confidence 0.
                    confidences[start + i] = there is null ? 0 : there.Confidence(output[i..(i + 1)]).item<float>();
                }
                finally
                {
                    (there as IDisposable)?.Dispose();
                }
            }
        });
        return new AdversarialResult(original, confidences, confidences.Count(p => p >= presentAt), core.Count(v => v));
    }

    /// <summary>p(class) and the top-1 class of each image, in batches.</summary>
    public (double[] Probability, int[] Top1) Classify(IReadOnlyList<float[]> images, int c, int h, int w, int classIndex, Device device, CancellationToken cancellation = default)
    {
        var probability = new List<double>();
        var top1 = new List<int>();
        PredictInBatches(images, c, h, w, device, cancellation, (_, output) =>
        {
            probability.AddRange(output.softmax(1)[.., classIndex].cpu().to_type(ScalarType.Float64).data<double>().ToArray());
            top1.AddRange(output.argmax(1).cpu().data<long>().ToArray().Select(v => (int)v));
        });
        return ([.. probability], [.. top1]);
    }

    /// <summary>The model's output for <paramref name="images"/> ([C, H, W] each, flattened), a batch at a time: each
    /// batch's output goes to <paramref name="read"/> with the index of its first image, inside the batch's scope.</summary>
    private void PredictInBatches(IReadOnlyList<float[]> images, int c, int h, int w, Device device, CancellationToken cancellation, Action<int, Tensor> read)
    {
        using var noGrad = no_grad();
        for (int start = 0; start < images.Count; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            using var batchScope = NewDisposeScope();
            var batch = images.Skip(start).Take(batchSize).ToList();
            read(start, model.Predict(tensor(batch.SelectMany(i => i).ToArray(), [batch.Count, c, h, w]).to(device)));
        }
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
