using System.Globalization;
using SaCam.App.Building;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Core.Tasks;
using SaCam.Evaluation;
using SaCam.Imaging;
using SaCam.Reports;
using static TorchSharp.torch;

namespace SaCam.App.Evaluations;

/// <summary>
/// `sacam eval adversarial --target det:...|seg:...`: the paper's adversarial verification for a detector's or a
/// segmenter's own objects. Each object's map keeps the core of --keep of the object's own area (its box's pixels, or its
/// segment's), pasted into --pastes backgrounds of each --backgrounds folder as for a class; the object moves with its
/// core, and its own confidence is read where it now is: a detection's matched class score at its moved box (found again
/// when at least the card's score threshold), a segment's mean class probability over the segment's pixels the core
/// pasted (found again at 0.5 or more; 0 when the core missed the segment). Accuracy is the share found again, fading the mean relative drop of the confidence. The
/// control ("background alone") pastes nothing and reads the same place. Backgrounds are used whatever they show (a
/// street may have cars: the control measures what the background alone gives), except the image's own file.
/// </summary>
internal static class ObjectAdversarialEvaluation
{
    private sealed record Case(string Name, string Folder, List<(string File, float[] Values)> Backgrounds);

    public const double SegmentPresentAt = 0.5;

    public static void Report(EvaluationRun run, Report report)
    {
        var (a, model) = (run.Args, run.Model);
        var files = Evaluations.ImageFiles(a.Images!);
        var verification = new AdversarialVerification(model, a.Keep);
        var engine = new Core.Methods.CamEngine(model, Core.Methods.CamEngine.PreferredBatchSize(model));
        var cases = a.Backgrounds.Select((folder, i) => LoadCase($"Case-{i + 1}", folder, run)).ToList();
        const string alone = "background alone";
        var columns = a.Methods.Append(alone).ToList();
        var accuracy = cases.Select(_ => columns.ToDictionary(m => m, _ => new List<double>())).ToList();
        var fading = cases.Select(_ => columns.ToDictionary(m => m, _ => new List<double>())).ToList();
        var rows = new List<string[]>();
        int objectIndex = 0;
        for (int i = 0; i < files.Count; i++)
        {
            using var scope = NewDisposeScope();
            var file = files[i];
            var name = Path.GetFileName(file);
            using var image = ImageFile.ReadBgr(file);
            var (x, geometry) = ImagePreprocessor.ToTensor(image, model.Preprocess, model.Device);
            var objects = ObjectTargets.Find(a.Target!, model, x, geometry, a.MaxObjects, segmentRequired: false);
            try
            {
                foreach (var o in objects)
                {
                    string what = $"{o.Index} {o.Label ?? o.Class?.ToString(CultureInfo.InvariantCulture)}";
                    var placed = Placement.Of(o.Target, model, x);
                    var maps = new Dictionary<string, Tensor>();
                    foreach (var id in a.Methods)
                    {
                        run.Working(i + 1, files.Count, $"{name} object {what}", id);
                        using var method = EvalMethods.Create(id);
                        using var result = engine.Explain(x, method.Method, o.Target, cancellation: run.Stop, progress: run.Progress);
                        maps[id] = result.Map.detach().clone();
                    }
                    maps[alone] = zeros(x.shape[2], x.shape[3]);
                    for (int c = 0; c < cases.Count; c++)
                    {
                        var eligible = cases[c].Backgrounds.Where(b => Path.GetFullPath(b.File) != Path.GetFullPath(file)).ToList();
                        if (eligible.Count == 0) continue;
                        // The same draws for every method of an object: the methods differ only by their maps.
                        var draws = AdversarialVerification.Draws(unchecked(a.Seed * 31 + c), objectIndex, a.Pastes, eligible.Count);
                        foreach (var m in columns)
                        {
                            var r = verification.EvaluateObject(x, maps[m], o.Target, placed.Pixels, placed.Box, placed.MovedFor, placed.PresentAt,
                                eligible.Select(b => b.Values).ToList(), draws, run.Stop);
                            accuracy[c][m].Add(r.Accuracy);
                            fading[c][m].Add(r.FadingRate);
                            report.Value($"adversarial-accuracy-{cases[c].Name}", m, name, what, r.Accuracy);
                            report.Value($"adversarial-fading-{cases[c].Name}", m, name, what, r.FadingRate);
                            rows.Add([name, what, cases[c].Name, m, r.CorePixels.ToString(CultureInfo.InvariantCulture) + (r.CorePixels == 0 && m != alone ? " (flat map: nothing pasted)" : ""),
                                      Evaluations.F(r.OriginalProbability), Evaluations.F(r.Accuracy), Evaluations.F(r.FadingRate)]);
                            if (m != alone) run.Progress.Note($"  {name} object {what} {cases[c].Name} {m}: found again {Evaluations.F(r.Accuracy)} fading {Evaluations.F(r.FadingRate)}");
                        }
                    }
                    objectIndex++;
                }
            }
            finally
            {
                foreach (var o in objects) o.Dispose();
            }
        }
        if (objectIndex == 0) throw new ArgumentException($"--target {a.Target}: model '{model.Name}' finds no object on any image of '{a.Images}'.");
        if (accuracy.All(c => c[alone].Count == 0))
            throw new InvalidDataException($"No background of {string.Join(", ", a.Backgrounds.Select(b => $"'{b}'"))} is another file than the images: adversarial verification needs other scenes.");
        report.Paragraph($"Adversarial verification (the SA-CAM paper, section 4.6) of each of the model's own objects ({a.Target}): the core area (the map's top " +
                         $"{(a.Keep * 100).ToString("0.##", CultureInfo.InvariantCulture)}% of the object's own area: its box's pixels, or its segment's; hard-edged, moved as one piece) pasted at a uniformly drawn " +
                         $"position into {a.Pastes} backgrounds drawn with replacement from the case's folder. The object moves with its core, and its confidence is read where it now is: " +
                         $"a detection's matched class score, a segment's mean class probability over its pixels the core pasted (0 if it pasted none). Found again = that confidence at least the card's score threshold " +
                         $"(detections) or {SegmentPresentAt.ToString(CultureInfo.InvariantCulture)} (segments); fading rate = mean of (p0 - p) / p0. \"{alone}\": nothing pasted, the same place read " +
                         $"(the control). {objectIndex} objects on {files.Count} images, seed {a.Seed}.");
        foreach (var c in cases) report.Paragraph($"{c.Name}: `{c.Folder}`, {c.Backgrounds.Count} backgrounds.");
        report.Paragraph("Found again (%), higher is better (the paper's Table 4, for objects):");
        report.Table(["case", .. columns], cases.Select((c, k) => new[] { c.Name }.Concat(columns.Select(m => AdversarialEvaluation.Percent(accuracy[k][m]))).ToArray()));
        report.Paragraph("Fading rate (%), lower is better (the paper's Table 5, for objects):");
        report.Table(["case", .. columns], cases.Select((c, k) => new[] { c.Name }.Concat(columns.Select(m => AdversarialEvaluation.Percent(fading[k][m]))).ToArray()));
        for (int k = 0; k < cases.Count; k++)
        {
            run.Compare(report, $"accuracy-{cases[k].Name}", $"{cases[k].Name} found again", true, accuracy[k], "objects");
            run.Compare(report, $"fading-{cases[k].Name}", $"{cases[k].Name} fading rate", false, fading[k], "objects");
        }
        report.Paragraph("Per object:");
        report.Table(["image", "object", "case", "method", "core pixels", "p0", "found again", "fading rate"], rows);
    }

    private static Case LoadCase(string name, string folder, EvaluationRun run) =>
        new(name, folder, AdversarialEvaluation.ReadBackgrounds(folder, run).Select(b => (b.File, b.Values)).ToList());

    /// <summary>Where an object is on the input grid and how it moves: its area in input pixels, its bounding box, given
    /// a core the function that moves its target by (dy, dx) input pixels (null when it left the grid), and the
    /// confidence that counts as found.</summary>
    private sealed record Placement(int Pixels, (int X0, int Y0, int X1, int Y1) Box, Func<bool[], Func<int, int, IExplanationTarget?>> MovedFor, double PresentAt)
    {
        public static Placement Of(IExplanationTarget target, IExplainableModel model, Tensor x)
        {
            int h = (int)x.shape[2], w = (int)x.shape[3];
            switch (target)
            {
                case DetectionTarget d when model is OnnxTaskModel { Decoder: { } decoder }:
                {
                    var b = d.Reference.Box;
                    var box = ((int)(b[0] * w), (int)(b[1] * h), Math.Max((int)(b[0] * w), (int)Math.Ceiling(b[2] * w) - 1), Math.Max((int)(b[1] * h), (int)Math.Ceiling(b[3] * h) - 1));
                    int pixels = Math.Max(1, (box.Item3 - box.Item1 + 1) * (box.Item4 - box.Item2 + 1));
                    // A detection moves as its box, whatever the core pasted.
                    IExplanationTarget Moved(int dy, int dx)
                    {
                        float sx = dx / (float)w, sy = dy / (float)h;
                        float[] moved = [b[0] + sx, b[1] + sy, b[2] + sx, b[3] + sy];
                        return new DetectionTarget(d.Reference with { Box = moved }, decoder.Card.BackgroundClass, d.IouThreshold);
                    }
                    return new Placement(pixels, box, _ => Moved, decoder.Card.ScoreThreshold);
                }
                case SegmentationTarget s:
                {
                    var mask = s.Mask;                                             // [outH, outW], 1 on the segment
                    long outH = mask.shape[0], outW = mask.shape[1];
                    var rows = mask.sum(dim: 1).nonzero().flatten();
                    var cols = mask.sum(dim: 0).nonzero().flatten();         // "dim:": a bare 0 converts to ScalarType
                    double fy = h / (double)outH, fx = w / (double)outW;
                    var box = ((int)(cols.min().item<long>() * fx), (int)(rows.min().item<long>() * fy),
                               (int)Math.Ceiling((cols.max().item<long>() + 1) * fx) - 1, (int)Math.Ceiling((rows.max().item<long>() + 1) * fy) - 1);
                    int pixels = Math.Max(1, (int)Math.Round(s.Pixels * fx * fy));
                    // The segment's pixels the core pasted (all of them for the control, which pastes nothing), once per
                    // core; each paste then shifts them.
                    Func<int, int, IExplanationTarget?> MovedFor(bool[] core)
                    {
                        var read = mask;
                        if (core.Any(v => v))
                        {
                            using var scope = NewDisposeScope();
                            var onInput = tensor(core, [1, 1, h, w]).to_type(ScalarType.Float32);
                            read = (mask * nn.functional.interpolate(onInput, [outH, outW], mode: InterpolationMode.Nearest)[0, 0]).MoveToOuterDisposeScope();
                        }
                        return (dy, dx) =>
                        {
                            using var scope = NewDisposeScope();
                            long my = (long)Math.Round(dy / fy), mx = (long)Math.Round(dx / fx);
                            long y0 = Math.Max(0, my), y1 = Math.Min(outH, outH + my), x0 = Math.Max(0, mx), x1 = Math.Min(outW, outW + mx);
                            if (y1 <= y0 || x1 <= x0) return null;
                            var shifted = zeros_like(mask);
                            shifted[TensorIndex.Slice(y0, y1), TensorIndex.Slice(x0, x1)] = read[TensorIndex.Slice(y0 - my, y1 - my), TensorIndex.Slice(x0 - mx, x1 - mx)];
                            // A core off the segment pasted none of it: the object is not there.
                            return shifted.sum().item<float>() > 0 ? new SegmentationTarget(s.ClassIndex, s.Label, shifted) : null;
                        };
                    }
                    return new Placement(pixels, box, MovedFor, SegmentPresentAt);
                }
                default:
                    throw new ArgumentException($"adversarial moves each object with its core: it takes det: and seg: targets (a box or a segment), not {target.Description}.");
            }
        }
    }
}
