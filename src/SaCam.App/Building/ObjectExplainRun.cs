using System.Globalization;
using System.Text.Json;
using OpenCvSharp;
using SaCam.App.Specs;
using SaCam.Core.IO;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Tensors;
using SaCam.Imaging;
using static TorchSharp.torch;

namespace SaCam.App.Building;

/// <summary>What one object's explanation found, in image pixels: objects.json holds a list of these.</summary>
public sealed record ObjectSummary(int Index, string? Label, int? Class, double Score, float[]? Box, string? Map, int[] Peak,
    double? EnergyInBox, double? EnergyInMask, double ExplainMs);

/// <summary>
/// The objects a seg:, det: or output: target names, explained one by one with the same method on the same input:
/// each map at the image's size (obj-K.npy in --save-maps), with where its peak is and how much of its mass lies
/// in the object's box or mask (the energy-based pointing game's share), and one overlay of them all.
/// </summary>
public static class ObjectExplainRun
{
    public const string ObjectsFileName = "objects.json";

    public static ExplainOutcome Run(ExplainSpec spec, IExplainableModel model, ICamMethod method, Tensor input, FrameGeometry geometry, Mat? frame,
        IRunFeedback feedback, CancellationToken stop, Plugins.PluginCatalog? plugins = null)
    {
        var objects = ObjectTargets.Find(spec.Target.Target!, model, input, geometry, spec.Target.MaxObjects, plugins: plugins);
        try
        {
            if (objects.Count == 0) feedback.Warning($"{spec.Target.Target}: model '{model.Name}' detects nothing on this image above its card's score threshold; no map is written.");
            if (spec.SaveMap is not null && objects.Count > 1)
                feedback.Warning($"--save-map writes one map, and {spec.Target.Target} names {objects.Count} objects on this image: '{spec.SaveMap}' is not written; --save-maps DIR writes one per object.");
            var engine = new CamEngine(model, CamEngine.PreferredBatchSize(model));
            var summaries = new List<ObjectSummary>();
            var maps = new List<ObjectMapFigures>();
            try
            {
                // One forward for all of the image's objects; each gets its own backward (CamEngine.ExplainEach).
                var results = engine.ExplainEach(input, objects.Select(o => new CamJob(method, o.Target)).ToList(), spec.Layer, stop, feedback.Perturbations(method.Id));
                foreach (var (o, result) in objects.Zip(results))
                {
                    using var owned = result;
                    var figures = ObjectMapFigures.Of(result.Map, geometry, o);
                    maps.Add(figures); // kept for the overlay of every object, disposed below
                    string? mapName = spec.SaveMaps is null ? null : $"obj-{o.Index}.npy";
                    if (mapName is not null)
                    {
                        using var t = MatToTensor(figures.OnImage);
                        NpyFile.Write(Path.Combine(spec.SaveMaps!, mapName), t);
                    }
                    if (spec.SaveMap is not null && objects.Count == 1) NpyFile.Write(spec.SaveMap, result.Map);
                    double? energyInMask = figures.EnergyInMask(), energyInBox = energyInMask is null ? figures.EnergyInBox() : null;
                    summaries.Add(new ObjectSummary(o.Index, o.Label, o.Class, Math.Round(o.Score, 4), o.Box?.Select(v => MathF.Round(v, 1)).ToArray(), mapName,
                        [figures.Peak.X, figures.Peak.Y], energyInBox is double b ? Math.Round(b, 4) : null, energyInMask is double m ? Math.Round(m, 4) : null,
                        Math.Round(result.Elapsed.TotalMilliseconds, 1)));
                }
                if (spec.SaveMaps is not null)
                    AtomicFile.WriteAllText(Path.Combine(spec.SaveMaps, ObjectsFileName), JsonSerializer.Serialize(summaries, Json));
                if (spec.Overlay is not null && frame is not null) WriteOverlay(spec, frame, objects, maps.Select(m => m.OnImage).ToList(), method.Id);
            }
            finally
            {
                foreach (var m in maps) m.Dispose();
            }
            return new ExplainOutcome(new { model = model.Name, method = method.Id, target = spec.Target.Target, objects = summaries }, Lines(model, method.Id, spec.Target.Target!, summaries));
        }
        finally
        {
            foreach (var o in objects) o.Dispose();
        }
    }

    /// <summary>One picture of every object: the largest of their maps over the image, each box with its index,
    /// label and score, each segment's outline.</summary>
    private static void WriteOverlay(ExplainSpec spec, Mat frame, IReadOnlyList<ExplainedObject> objects, IReadOnlyList<Mat> maps, string methodId)
    {
        using var combined = new Mat(frame.Size(), MatType.CV_32FC1, Scalar.All(0));
        foreach (var m in maps) Cv2.Max(combined, m, combined);
        var identity = new FrameGeometry(frame.Size(), frame.Size(), new Rect(0, 0, frame.Width, frame.Height), new Rect(0, 0, frame.Width, frame.Height));
        using var overlay = HeatmapOverlay.Render(frame, combined, identity, new OverlayOptions { ColorMap = ColorMaps.Parse(spec.ColorMap), Caption = $"{methodId}: {spec.Target.Target}" });
        int thickness = Math.Max(1, frame.Width / 400);
        foreach (var o in objects)
        {
            if (o.Mask is not null)
            {
                using var mask8 = new Mat();
                o.Mask.ConvertTo(mask8, MatType.CV_8UC1, 255);
                Cv2.FindContours(mask8, out var contours, out _, RetrievalModes.External, ContourApproximationModes.ApproxSimple);
                Cv2.DrawContours(overlay, contours, -1, Scalar.White, thickness);
            }
            else if (o.Box is { } b)
            {
                var rect = new Rect((int)b[0], (int)b[1], Math.Max(1, (int)(b[2] - b[0])), Math.Max(1, (int)(b[3] - b[1])));
                Cv2.Rectangle(overlay, rect, Scalar.White, thickness);
                string text = string.Create(CultureInfo.InvariantCulture, $"{o.Index} {o.Label ?? $"class {o.Class}"} {o.Score:F2}");
                Cv2.PutText(overlay, text, new Point(rect.X + 2, Math.Max(12, rect.Y - 4)), HersheyFonts.HersheySimplex, Math.Max(0.4, frame.Width / 1600.0), Scalar.White, 1, LineTypes.AntiAlias);
            }
        }
        ImageFile.Write(spec.Overlay!, overlay);
    }

    private static Tensor MatToTensor(Mat map)
    {
        map.GetArray(out float[] values);
        return tensor(values, [map.Rows, map.Cols]);
    }

    private static List<string> Lines(IExplainableModel model, string methodId, string target, List<ObjectSummary> objects)
    {
        var lines = new List<string> { $"model   {model.Name}  layer {model.DefaultLayer}", $"method  {methodId}", $"target  {target}  ({objects.Count} object{(objects.Count == 1 ? "" : "s")})" };
        foreach (var o in objects)
        {
            string where = o.Box is null ? "" : string.Create(CultureInfo.InvariantCulture, $"  box [{string.Join(", ", o.Box.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))}]");
            string energy = o.EnergyInBox is double b ? string.Create(CultureInfo.InvariantCulture, $"  energy in box {b:F2}")
                : o.EnergyInMask is double m ? string.Create(CultureInfo.InvariantCulture, $"  energy in mask {m:F2}") : "";
            string score = double.IsNaN(o.Score) ? "" : string.Create(CultureInfo.InvariantCulture, $" {o.Score:F2}");
            lines.Add($"object {o.Index}  {o.Label ?? (o.Class is int c ? $"class {c}" : "output")}{score}{where}  peak [{o.Peak[0]}, {o.Peak[1]}]{energy}");
        }
        return lines;
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
}
