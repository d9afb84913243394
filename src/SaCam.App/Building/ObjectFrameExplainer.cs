using System.Diagnostics;
using OpenCvSharp;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Imaging;
using SaCam.Video;
using SaCam.Video.Pipeline;
using static TorchSharp.torch;

namespace SaCam.App.Building;

/// <summary>
/// The explain stage for object targets through video: on each frame the model's own objects are found again
/// (detections after the card's postprocessing, or the segment's pixels), detections get stable ids from an
/// <see cref="IouTracker"/>, and each object is explained with the run's method. A method that keeps state across
/// frames (sacam-rt: its score cache, its scene-change meter) gets one instance per track, so one car's cache never
/// scores another's; it is disposed when its track ends. A budgeted method (sacam-rt) gets an equal share of the
/// frame's budget per object explained on the frame (unused shares carry over on each track, as a single stream's do). A frame without objects is a record with an empty list.
/// </summary>
public sealed class ObjectFrameExplainer : IFrameExplainer
{
    private readonly string _target;
    private readonly int _maxObjects;
    private readonly string? _layer;
    private readonly Func<ICamMethod> _createMethod;
    private readonly ICamMethod? _shared;
    private readonly Dictionary<int, ICamMethod> _perTrack = [];
    private readonly CamEngine _engine;
    private readonly IouTracker? _tracker;
    private readonly Plugins.PluginCatalog? _plugins;

    /// <param name="plugins">The catalog whose object target kinds <paramref name="target"/> may name (null: the built-in kinds).</param>
    public ObjectFrameExplainer(IExplainableModel model, Func<ICamMethod> createMethod, string target, int maxObjects, string? layer, Plugins.PluginCatalog? plugins = null)
    {
        ObjectTargets.Validate(target, model, plugins);
        _plugins = plugins;
        Model = model;
        _createMethod = createMethod;
        _target = target;
        _maxObjects = maxObjects;
        _layer = layer;
        _engine = new CamEngine(model);
        var probe = createMethod();
        MethodId = probe.Id;
        if (probe is IPerStreamMethod) (probe as IDisposable)?.Dispose();
        else _shared = probe;
        // Detections move from frame to frame; a plugin's objects may too, so those with boxes are tracked the same way.
        _tracker = target.StartsWith("det:", StringComparison.OrdinalIgnoreCase) || plugins?.ObjectTargetKind(target) is not null ? new IouTracker() : null;
    }

    public string MethodId { get; }
    public IExplainableModel Model { get; }

    /// <summary>A faithfulness check of each object's map on every Nth explained frame (`--quality-every N`), of the
    /// object's own confidence; null: none. Its time is not in the objects' ExplainMs: the record gives it as quality_ms.</summary>
    public QualitySampling? Quality { get; init; }

    public FrameExplanation Explain(VideoFrame frame, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var (input, geometry) = ImagePreprocessor.ToTensor(frame.ModelImage ?? frame.Image, Model.Preprocess, Model.Device);
        var found = ObjectTargets.Find(_target, Model, input, geometry, _maxObjects, segmentRequired: false, plugins: _plugins);
        var objects = new List<ObjectExplanation>();
        // The frame counts as explained whether or not the model finds objects on it, so the sampling stays on frame numbers.
        bool checkQuality = Quality?.NextIsDue() == true;
        double qualityMs = 0;
        try
        {
            int[] tracks = found.Select(o => o.Index).ToArray();
            // Objects without a box (a plugin kind's whole-image objects) keep their index as their track.
            if (_tracker is not null && found.All(o => o.Box is not null))
            {
                var (ids, ended) = _tracker.Update(found.Select(o => o.Box!).ToList());
                tracks = ids;
                foreach (int id in ended)
                    if (_perTrack.Remove(id, out var method)) (method as IDisposable)?.Dispose();
            }
            var methods = new ICamMethod[found.Count];
            for (int k = 0; k < found.Count; k++)
            {
                methods[k] = _shared ?? (_perTrack.TryGetValue(tracks[k], out var m) ? m : _perTrack[tracks[k]] = _createMethod());
                // The frame's budget is divided among its objects: three tracked cars cost one frame's scoring time.
                if (methods[k] is IBudgetedMethod budgeted) budgeted.BudgetShare = 1.0 / found.Count;
            }
            // One forward for the frame's objects; each gets its own backward and its own method's step.
            var results = _engine.ExplainEach(input, found.Select((o, k) => new CamJob(methods[k], o.Target)).ToList(), _layer, cancellation);
            try
            {
                for (int k = 0; k < found.Count; k++)
                {
                    var o = found[k];
                    var map = results[k].Map.detach().cpu().MoveToOuterDisposeScope();
                    var box = o.Box is { } b ? new Rect((int)b[0], (int)b[1], Math.Max(1, (int)(b[2] - b[0])), Math.Max(1, (int)(b[3] - b[1]))) : new Rect(0, 0, geometry.FrameSize.Width, geometry.FrameSize.Height);
                    using var figures = ObjectMapFigures.Of(map, geometry, o);
                    MapQuality? quality = null;
                    if (checkQuality)
                    {
                        var qualityClock = Stopwatch.StartNew();
                        quality = Quality!.Check.Check(input, results[k].Map, o.Target, cancellation);
                        qualityMs += qualityClock.Elapsed.TotalMilliseconds;
                    }
                    objects.Add(new ObjectExplanation(tracks[k], o.Class, o.Label, (float)o.Score, box, map, figures.Peak, figures.EnergyInBox() ?? 1,
                        results[k].Elapsed.TotalMilliseconds)
                    {
                        Outline = o.Mask is { } mask ? OutlineOf(mask) : null, Quality = quality,
                    });
                }
            }
            finally
            {
                foreach (var r in results) r.Dispose();
            }
        }
        catch
        {
            foreach (var o in objects) o.Dispose();
            throw;
        }
        finally
        {
            foreach (var o in found) o.Dispose();
        }
        // The frame's map is the largest of its objects' maps, so the overlay, the run folder and the review show them all.
        Tensor? combined = objects.Count == 0 ? null : objects.Select(o => o.Map).Aggregate((a, b) => maximum(a, b)).MoveToOuterDisposeScope();
        var best = objects.OrderByDescending(o => o.Score).FirstOrDefault();
        return new FrameExplanation
        {
            MethodId = MethodId, ClassIndex = best?.Class ?? -1, Label = objects.Count == 0 ? "no object" : $"{objects.Count} object{(objects.Count == 1 ? "" : "s")}",
            Score = best?.Score ?? 0, Top5 = [], Map = combined, Geometry = geometry,
            Statistics = combined is null ? null : MapStatistics.Of(combined, geometry), ExplainMs = clock.Elapsed.TotalMilliseconds - qualityMs, Objects = objects,
            Diagnostics = checkQuality ? new Dictionary<string, double> { ["quality_ms"] = qualityMs } : new Dictionary<string, double>(),
        };
    }

    /// <summary>The outer contours of a 0/1 mask at frame size.</summary>
    private static Point[][] OutlineOf(Mat mask)
    {
        using var mask8 = new Mat();
        mask.ConvertTo(mask8, MatType.CV_8UC1);
        Cv2.FindContours(mask8, out Point[][] contours, out _, RetrievalModes.External, ContourApproximationModes.ApproxSimple);
        return contours;
    }

    public void Dispose()
    {
        foreach (var m in _perTrack.Values) (m as IDisposable)?.Dispose();
        _perTrack.Clear();
        (_shared as IDisposable)?.Dispose();
    }
}
