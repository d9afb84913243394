using System.Globalization;
using SaCam.App.Building;
using SaCam.App.Specs;
using SaCam.Core.Methods;
using SaCam.Core.Targets;
using SaCam.Evaluation;
using SaCam.Imaging;
using SaCam.Reports;
using static TorchSharp.torch;

namespace SaCam.App.Evaluations;

/// <summary>
/// `sacam eval adversarial`: the paper's adversarial verification (section 4.6, Tables 4 and 5). Each image's top-1
/// class is explained by each method; the map's core area (its top --keep of the pixels) is pasted into --pastes
/// backgrounds of one --backgrounds folder (one folder per "case", as the paper's three cases), and the share of the
/// pasted images still classified as the class (accuracy) and the mean relative drop of its probability (fading
/// rate) are reported per case and method, with paired bootstrap intervals between methods. A background the model
/// classifies as the image's own class is not used for that image; nor is the image's own file.
/// </summary>
internal static class AdversarialEvaluation
{
    private sealed record Background(string File, float[] Values, int Top1);

    private sealed record Case(string Name, string Folder, List<Background> Backgrounds);

    public static void Report(EvaluationRun run, Report report)
    {
        var (a, model) = (run.Args, run.Model);
        var files = Evaluations.ImageFiles(a.Images!);
        var verification = new AdversarialVerification(model, a.Keep);
        var engine = new CamEngine(model, CamEngine.PreferredBatchSize(model));
        var cases = a.Backgrounds.Select((folder, i) => LoadCase($"Case-{i + 1}", folder, run, verification)).ToList();
        const string alone = "background alone";
        var columns = a.Methods.Append(alone).ToList();
        // [case][method]: per-image accuracy and fading, in image order (the images that case could use).
        var accuracy = cases.Select(_ => columns.ToDictionary(m => m, _ => new List<double>())).ToList();
        var fading = cases.Select(_ => columns.ToDictionary(m => m, _ => new List<double>())).ToList();
        var rows = new List<string[]>();
        var skipped = new List<string>();
        for (int i = 0; i < files.Count; i++)
        {
            using var scope = NewDisposeScope();
            var file = files[i];
            var name = Path.GetFileName(file);
            var (x, t) = Evaluations.Prepare(run, file);
            if (t is not ClassTarget target)
                throw new ArgumentException($"adversarial pastes an image's class into other scenes, and model '{model.Name}' has no classifier head: use a classifier.");
            var maps = new Dictionary<string, Tensor>();
            foreach (var id in a.Methods)
            {
                run.Working(i + 1, files.Count, name, id);
                using var method = EvalMethods.Create(id);
                using var result = engine.Explain(x, method.Method, t, cancellation: run.Stop, progress: run.Progress);
                maps[id] = result.Map.detach().clone();
            }
            maps[alone] = zeros(x.shape[2], x.shape[3]); // a flat map has no core: the background alone is classified
            for (int c = 0; c < cases.Count; c++)
            {
                var eligible = cases[c].Backgrounds.Where(b => b.Top1 != target.ClassIndex && Path.GetFullPath(b.File) != Path.GetFullPath(file)).ToList();
                if (eligible.Count == 0)
                {
                    skipped.Add($"{name} in {cases[c].Name}");
                    run.Progress.Note($"  {name} {cases[c].Name}: skipped, every background of '{cases[c].Folder}' is classified as {target.Description} (or is the image)");
                    continue;
                }
                var draws = AdversarialVerification.Draws(unchecked(a.Seed * 31 + c), i, a.Pastes, eligible.Count);
                foreach (var m in columns)
                {
                    var r = verification.Evaluate(x, maps[m], target.ClassIndex, eligible.Select(b => b.Values).ToList(), draws, run.Stop);
                    accuracy[c][m].Add(r.Accuracy);
                    fading[c][m].Add(r.FadingRate);
                    report.Value($"adversarial-accuracy-{cases[c].Name}", m, name, "accuracy", r.Accuracy);
                    report.Value($"adversarial-fading-{cases[c].Name}", m, name, "fading-rate", r.FadingRate);
                    rows.Add([name, target.Description, cases[c].Name, m, r.CorePixels.ToString(CultureInfo.InvariantCulture) + (r.CorePixels == 0 && m != alone ? " (flat map: nothing pasted)" : ""),
                              Evaluations.F(r.OriginalProbability), Evaluations.F(r.Accuracy), Evaluations.F(r.FadingRate)]);
                    if (m != alone) run.Progress.Note($"  {name} {cases[c].Name} {m}: accuracy {Evaluations.F(r.Accuracy)} fading {Evaluations.F(r.FadingRate)}");
                }
            }
        }
        if (accuracy.All(c => c[alone].Count == 0))
            throw new InvalidDataException($"No background of {string.Join(", ", a.Backgrounds.Select(b => $"'{b}'"))} is classified as another class than its image: adversarial verification needs scenes of other classes.");
        report.Paragraph($"Adversarial verification (the SA-CAM paper, section 4.6): the core area (the map's top {(a.Keep * 100).ToString("0.##", CultureInfo.InvariantCulture)}% of the {InputSize(model)} input pixels, hard-edged, moved as one piece) " +
                         $"pasted at a uniformly drawn position into {a.Pastes} backgrounds drawn with replacement from the case's folder; backgrounds the model classifies as the image's " +
                         $"class, and the image's own file, are not used. Accuracy = share of pasted images classified (top-1) as the image's class; fading rate = mean of (p0 - p) / p0, " +
                         $"p0 = p(class) on the image, p on a pasted image; each averaged over an image's pastes, then over the images (the paper's \"comprehensive expectation\"). " +
                         $"\"{alone}\": nothing pasted, the control. {files.Count} images, seed {a.Seed}.");
        foreach (var c in cases)
            report.Paragraph($"{c.Name}: `{c.Folder}`, {c.Backgrounds.Count} backgrounds, {accuracy[cases.IndexOf(c)][alone].Count} images used.");
        report.Paragraph("Accuracy (%), higher is better (the paper's Table 4):");
        report.Table(["case", .. columns], cases.Select((c, k) => new[] { c.Name }.Concat(columns.Select(m => Percent(accuracy[k][m]))).ToArray()));
        report.Paragraph("Fading rate (%), lower is better (the paper's Table 5):");
        report.Table(["case", .. columns], cases.Select((c, k) => new[] { c.Name }.Concat(columns.Select(m => Percent(fading[k][m]))).ToArray()));
        if (skipped.Count > 0) report.Paragraph($"Skipped (no background of another class): {string.Join(", ", skipped)}.");
        for (int k = 0; k < cases.Count; k++)
        {
            run.Compare(report, $"accuracy-{cases[k].Name}", $"{cases[k].Name} accuracy", true, accuracy[k]);
            run.Compare(report, $"fading-{cases[k].Name}", $"{cases[k].Name} fading rate", false, fading[k]);
        }
        report.Paragraph("Per image:");
        report.Table(["image", "class", "case", "method", "core pixels", "p0", "accuracy", "fading rate"], rows);
    }

    private static string InputSize(Core.Models.IExplainableModel model) => $"{model.Preprocess.Width}x{model.Preprocess.Height}";

    /// <summary>A mean of shares as a percentage with two decimals; "-" for none.</summary>
    internal static string Percent(List<double> values) => values.Count == 0 ? "-" : (100 * values.Average()).ToString("F2", CultureInfo.InvariantCulture);

    private static Case LoadCase(string name, string folder, EvaluationRun run, AdversarialVerification verification)
    {
        var backgrounds = new List<Background>();
        foreach (var (file, values, shape) in ReadBackgrounds(folder, run))
        {
            var (_, top1) = verification.Classify([values], (int)shape[1], (int)shape[2], (int)shape[3], 0, run.Model.Device, run.Stop);
            backgrounds.Add(new Background(file, values, top1[0]));
        }
        return new Case(name, folder, backgrounds);
    }

    /// <summary>Each image of a --backgrounds folder as the model takes it: its values, flattened, and its input shape.</summary>
    internal static IEnumerable<(string File, float[] Values, long[] Shape)> ReadBackgrounds(string folder, EvaluationRun run)
    {
        var model = run.Model;
        foreach (var file in Evaluations.ImageFiles(folder))
        {
            run.Stop.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            using var image = ImageFile.ReadBgr(file);
            var (x, _) = ImagePreprocessor.ToTensor(image, model.Preprocess, model.Device);
            yield return (file, AdversarialVerification.Floats(x), x.shape);
        }
    }
}
