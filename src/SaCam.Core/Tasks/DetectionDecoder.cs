using static TorchSharp.torch;

namespace SaCam.Core.Tasks;

/// <summary>One object a detector found on an image: its score column, score, box (x0, y0, x1, y1 as shares of the
/// model input's width and height) and the candidate (anchor) it came from.</summary>
public sealed record Detection(int Class, string? Label, float Score, float[] Box, long Candidate);

/// <summary>
/// Turns a detector's raw outputs into one tensor every detection target reads, whatever the format:
/// [N, A, 4 + C], per candidate its box (x0, y0, x1, y1, shares of the input's width and height) and its C activated
/// class scores (the background column included, as the model has it). Then <see cref="Detect"/> is the card's
/// postprocessing: per candidate its best class (background left out), score threshold, greedy non-maximum
/// suppression, at most max detections.
/// </summary>
public sealed class DetectionDecoder(DetectionCard card, int inputWidth, int inputHeight, Tensor? anchors)
{
    public DetectionCard Card { get; } = card;

    /// <summary>The outputs the decoding reads, in the order <see cref="Pack"/> takes them.</summary>
    public IReadOnlyList<string> Outputs(string firstGraphOutput) => Card.Format switch
    {
        DetectionFormat.Ssd => Card.Anchors is { } a && anchors is null ? [Card.Boxes!, Card.Scores!, a] : [Card.Boxes!, Card.Scores!],
        _ => [Card.Boxes ?? firstGraphOutput],
    };

    /// <summary>Raw outputs to [N, A, 4 + C]; shapes are checked with errors that name the output and the format.</summary>
    public Tensor Pack(IReadOnlyList<Tensor> outputs, int? classCount)
    {
        using var scope = NewDisposeScope();
        var packed = Card.Format switch
        {
            DetectionFormat.Ssd => PackSsd(outputs),
            DetectionFormat.Yolov8 => PackYolo(outputs[0], v8: true, classCount),
            _ => PackYolo(outputs[0], v8: false, classCount),
        };
        return packed.MoveToOuterDisposeScope();
    }

    private Tensor PackSsd(IReadOnlyList<Tensor> outputs)
    {
        var (boxes, scores) = (outputs[0], outputs[1]);
        var a = anchors ?? outputs[2];
        if (boxes.dim() != 3 || boxes.shape[2] != 4) throw Layout(Card.Boxes!, boxes, "[N, A, 4] box encodings (ty, tx, th, tw)");
        if (scores.dim() != 3 || scores.shape[1] != boxes.shape[1]) throw Layout(Card.Scores!, scores, $"[N, {boxes.shape[1]}, C] class scores");
        if (a.dim() != 2 || a.shape[0] != boxes.shape[1] || a.shape[1] != 4) throw Layout("anchors", a, $"[{boxes.shape[1]}, 4] (ycenter, xcenter, h, w)");
        a = a.to(boxes.device);
        var s = Card.BoxScales;
        var (ya, xa, ha, wa) = (a[.., 0], a[.., 1], a[.., 2], a[.., 3]);
        var yc = boxes[.., .., 0] / s[0] * ha + ya;
        var xc = boxes[.., .., 1] / s[1] * wa + xa;
        var h = (boxes[.., .., 2] / s[2]).exp() * ha;
        var w = (boxes[.., .., 3] / s[3]).exp() * wa;
        var xyxy = stack([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2], dim: 2);
        return cat([xyxy, Activate(scores)], dim: 2);
    }

    private Tensor PackYolo(Tensor output, bool v8, int? classCount)
    {
        string name = Card.Boxes ?? "output";
        int fixedWidth = v8 ? 4 : 5;
        string layout = v8 ? "[N, 4 + C, A] (cx, cy, w, h in input pixels, then C class scores)" : "[N, A, 5 + C] (cx, cy, w, h in input pixels, objectness, then C class scores)";
        if (output.dim() != 3) throw Layout(name, output, layout);
        var rows = v8 ? output.transpose(1, 2) : output;                  // [N, A, width]
        long width = rows.shape[2];
        if (width <= fixedWidth) throw Layout(name, output, layout);
        if (classCount is int c && width - fixedWidth != c)
            throw new ArgumentException($"Output '{name}' is [{string.Join(", ", output.shape)}]: {Card.Format.ToString().ToLowerInvariant()} wants {layout} with C = {c} (the card's labels), so a width of {fixedWidth + c}, not {width}.");
        var cxcywh = rows[.., .., ..4];
        var (cx, cy, w, h) = (cxcywh[.., .., 0] / inputWidth, cxcywh[.., .., 1] / inputHeight, cxcywh[.., .., 2] / inputWidth, cxcywh[.., .., 3] / inputHeight);
        var xyxy = stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim: 2);
        var scores = Activate(rows[.., .., fixedWidth..]);
        if (!v8) scores = scores * Activate(rows[.., .., 4..5]);
        return cat([xyxy, scores], dim: 2);
    }

    private Tensor Activate(Tensor scores) => Card.ScoreActivation switch
    {
        ScoreActivation.Sigmoid => scores.sigmoid(),
        ScoreActivation.Softmax => scores.softmax(-1),
        _ => scores.alias(),
    };

    private ArgumentException Layout(string name, Tensor t, string wanted) =>
        new($"Output '{name}' is [{string.Join(", ", t.shape)}], but a {Card.Format.ToString().ToLowerInvariant()} decoding reads it as {wanted}: check the model card's format and output names.");

    /// <summary>The card's postprocessing on one image's packed output [A, 4 + C].</summary>
    public IReadOnlyList<Detection> Detect(Tensor packed, Models.ClassLabels? labels)
    {
        using var scope = NewDisposeScope();
        var p = packed.detach().cpu().to_type(ScalarType.Float32);
        var classScores = p[.., 4..].clone();
        if (Card.BackgroundClass is int bg && bg < classScores.shape[1]) classScores[.., bg] = tensor(float.NegativeInfinity);
        var (best, bestClass) = classScores.max(1);
        var keep = (best >= Card.ScoreThreshold).nonzero().flatten();
        if (keep.shape[0] == 0) return [];
        var order = best.index_select(0, keep).argsort(descending: true);
        var candidates = keep.index_select(0, order).data<long>().ToArray();
        var boxes = p[.., ..4].data<float>().ToArray();
        var scores = best.data<float>().ToArray();
        var classes = bestClass.data<long>().ToArray();
        var kept = new List<Detection>();
        foreach (long i in candidates)
        {
            var box = boxes.AsSpan((int)(4 * i), 4).ToArray();
            if (kept.Any(d => Iou(d.Box, box) > Card.NmsIou)) continue;
            int cls = (int)classes[i];
            kept.Add(new Detection(cls, labels?[cls], scores[i], box, i));
            if (kept.Count == Card.MaxDetections) break;
        }
        return kept;
    }

    public static float Iou(float[] a, float[] b)
    {
        float ix = Math.Max(0, Math.Min(a[2], b[2]) - Math.Max(a[0], b[0])), iy = Math.Max(0, Math.Min(a[3], b[3]) - Math.Max(a[1], b[1]));
        float inter = ix * iy, union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
        return union > 0 ? inter / union : 0;
    }
}
