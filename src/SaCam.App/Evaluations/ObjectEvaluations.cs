using OpenCvSharp;
using SaCam.App.Building;
using SaCam.App.Specs;
using SaCam.Core.Methods;
using SaCam.Evaluation;
using SaCam.Imaging;
using SaCam.Reports;
using static TorchSharp.torch;

namespace SaCam.App.Evaluations;

/// <summary>
/// `sacam eval pointing|deletion-insertion|road --target det:...|seg:...`: each of a detector's or segmenter's own
/// objects on each image (found as `sacam explain` finds them), explained by each method. Pointing: the energy-based
/// pointing game, the share of the map's mass inside the object's box (detections) or on its pixels (segments), and
/// whether the peak is inside. Deletion/insertion and ROAD: the curves of the object's own confidence (a detection's
/// matched class score, a segment's mean class probability), so any target's faithfulness is measured as a class's is.
/// </summary>
internal static class ObjectEvaluations
{
    public static void Report(EvaluationRun run, Report report)
    {
        var (a, model) = (run.Args, run.Model);
        var files = Evaluations.ImageFiles(a.Images!);
        var engine = new CamEngine(model, CamEngine.PreferredBatchSize(model));
        var metric = new DeletionInsertion(model, a.StepPixels);
        var road = new Road(model);
        bool pointing = a.Kind == EvalKind.Pointing, roadKind = a.Kind == EvalKind.Road;
        var figures = a.Methods.ToDictionary(m => m, _ => new List<(double A, double B)>());
        var rows = new List<string[]>();
        int n = 0;
        foreach (var file in files)
        {
            using var scope = NewDisposeScope();
            using var image = ImageFile.ReadBgr(file);
            var (x, geometry) = ImagePreprocessor.ToTensor(image, model.Preprocess, model.Device);
            var objects = ObjectTargets.Find(a.Target!, model, x, geometry, a.MaxObjects, segmentRequired: false, plugins: run.Plugins);
            try
            {
                // Before any object is explained: pointing needs each object's box or pixels.
                if (pointing && objects.FirstOrDefault(o => o.Box is null && o.Mask is null) is { } placeless)
                    throw new ArgumentException($"pointing scores a map against its object's box or pixels, and --target {a.Target} gives object {placeless.Index} of {Path.GetFileName(file)} neither: use deletion-insertion or road.");
                foreach (var o in objects)
                    foreach (var id in a.Methods)
                    {
                        string name = Path.GetFileName(file), what = $"{o.Index} {o.Label ?? o.Class?.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
                        run.Working(++n, files.Count * Math.Max(1, objects.Count) * a.Methods.Count, $"{name} object {what}", id);
                        using var method = EvalMethods.Create(id);
                        using var result = engine.Explain(x, method.Method, o.Target, cancellation: run.Stop, progress: run.Progress);
                        if (pointing)
                        {
                            using var placed = ObjectMapFigures.Of(result.Map, geometry, o);
                            double energy = placed.EnergyInMask() ?? placed.EnergyInBox()!.Value;
                            bool hit = placed.PeakInside;
                            figures[id].Add((energy, hit ? 1 : 0));
                            report.Value("pointing-energy", id, name, what, energy);
                            report.Value("pointing-hit", id, name, what, hit ? 1 : 0);
                            rows.Add([name, what, id, Evaluations.F(energy), hit ? "hit" : "miss"]);
                        }
                        else if (roadKind)
                        {
                            // Every method of an object gets the same noise (the seed): the methods differ only by their maps.
                            var r = road.Evaluate(x, result.Map, o.Target.Confidence, a.Seed, run.Stop);
                            figures[id].Add((r.MorfMean, r.LerfMean));
                            report.Value("road-morf", id, name, what, r.MorfMean);
                            report.Value("road-lerf", id, name, what, r.LerfMean);
                            report.Value("road-combined", id, name, what, r.Combined);
                            rows.Add([name, what, id, Evaluations.F(r.Original), Evaluations.F(r.MorfMean), Evaluations.F(r.LerfMean), Evaluations.F(r.Combined) + (r.FlatMap ? " (flat map: ranks nothing)" : "")]);
                        }
                        else
                        {
                            var r = metric.Evaluate(x, result.Map, o.Target.Confidence, run.Stop);
                            figures[id].Add((r.DeletionAuc, r.InsertionAuc));
                            report.Value("deletion", id, name, what, r.DeletionAuc);
                            report.Value("insertion", id, name, what, r.InsertionAuc);
                            rows.Add([name, what, id, Evaluations.F(r.DeletionAuc), Evaluations.F(r.InsertionAuc), Evaluations.F(r.Overall)]);
                        }
                    }
            }
            finally
            {
                foreach (var o in objects) o.Dispose();
            }
        }
        if (rows.Count == 0) throw new ArgumentException($"--target {a.Target}: model '{model.Name}' finds no object on any image of '{a.Images}'.");
        int count = rows.Count / a.Methods.Count;
        if (pointing)
        {
            report.Paragraph($"Energy-based pointing game on the model's own objects ({a.Target}): the share of each object's map inside its box (detections) or on its pixels (segments), and whether the map's peak is inside. {count} objects on {files.Count} images.");
            report.Table(["method", "mean energy in object", "peak hit rate"], a.Methods.Select(m => new[] { m, Evaluations.F(figures[m].Average(f => f.A)), Evaluations.F(figures[m].Average(f => f.B)) }));
            report.Table(["image", "object", "method", "energy in object", "peak"], rows);
            run.Compare(report, "pointing-energy", "Energy in the object", true, figures.ToDictionary(kv => kv.Key, kv => kv.Value.Select(f => f.A).ToList()), "objects");
        }
        else if (roadKind)
        {
            report.Paragraph($"ROAD (noisy linear imputation, seed {a.Seed}; as `sacam eval road` on classes) of each object's own confidence ({a.Target}: a detection's matched class score, a segment's mean class probability): " +
                             $"MoRF and LeRF, the mean change of that confidence as the map's most or least relevant {string.Join(", ", road.Fractions.Select(f => $"{f * 100:0}%"))} of the pixels are imputed; combined = (LeRF - MoRF) / 2. {count} objects on {files.Count} images.");
            report.Table(["method", "MoRF (lower is better)", "LeRF (higher)", "combined = (LeRF - MoRF) / 2 (higher)"],
                a.Methods.Select(m => new[] { m, Evaluations.F(figures[m].Average(f => f.A)), Evaluations.F(figures[m].Average(f => f.B)), Evaluations.F(figures[m].Average(f => (f.B - f.A) / 2)) }));
            report.Table(["image", "object", "method", "original confidence", "MoRF", "LeRF", "combined"], rows);
            run.Compare(report, "road-combined", "ROAD combined", true, figures.ToDictionary(kv => kv.Key, kv => kv.Value.Select(f => (f.B - f.A) / 2).ToList()), "objects");
        }
        else
        {
            report.Paragraph($"RISE deletion and insertion of each object's own confidence ({a.Target}: a detection's matched class score, a segment's mean class probability), {a.StepPixels} pixels per step. {count} objects on {files.Count} images.");
            report.Table(["method", "deletion AUC (lower is better)", "insertion AUC (higher)", "overall = insertion - deletion"],
                a.Methods.Select(m => new[] { m, Evaluations.F(figures[m].Average(f => f.A)), Evaluations.F(figures[m].Average(f => f.B)), Evaluations.F(figures[m].Average(f => f.B - f.A)) }));
            report.Table(["image", "object", "method", "deletion", "insertion", "overall"], rows);
            run.Compare(report, "overall", "Overall (insertion - deletion)", true, figures.ToDictionary(kv => kv.Key, kv => kv.Value.Select(f => f.B - f.A).ToList()), "objects");
        }
    }
}
