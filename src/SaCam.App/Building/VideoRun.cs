using SaCam.App.Specs;
using SaCam.Core.IO;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Imaging;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;
using SaCam.Video.Sinks;
using SaCam.Video.Sources;

namespace SaCam.App.Building;

/// <summary>How a video run ended, with what the front-end prints about it.</summary>
public sealed record VideoRunResult(PipelineRunResult Pipeline, string MethodId, PipelineMode Mode, double Fps)
{
    public long FramesWritten => Pipeline.FramesWritten;
    public Exception? Error => Pipeline.Error;
    public bool Cancelled => Pipeline.Cancelled;

    public string Summary => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{Pipeline.FramesWritten} frames written, {Pipeline.FramesDropped} dropped, {Fps:F1} fps ({MethodId}, {Mode.ToString().ToLowerInvariant()} mode){(Pipeline.Cancelled ? ", cancelled" : "")}");
}

/// <summary>
/// A video run built from a <see cref="VideoRunSpec"/>: its outputs claimed, source open, model loaded, method,
/// target, renderer, sinks and pipeline made. <see cref="Run"/> runs it once; disposing closes everything. Built by
/// <see cref="Build"/>, for every front-end (the CLI's `video`, a fleet shard).
/// </summary>
public sealed class VideoRun : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly List<IFrameSink> _sinks = [];
    private readonly VideoPipeline _pipeline;
    private readonly IFrameExplainer _explainer;
    private readonly RunFolder? _runFolder;
    private readonly RunManifest _manifest;
    private readonly IRunFeedback _feedback;

    private VideoRun(VideoPipeline pipeline, IFrameExplainer explainer, RunFolder? runFolder, RunManifest manifest, IRunFeedback feedback)
    {
        _pipeline = pipeline;
        _explainer = explainer;
        _runFolder = runFolder;
        _manifest = manifest;
        _feedback = feedback;
    }

    public VideoRunSpec Spec { get; private init; } = null!;

    /// <summary>How maps are drawn over frames; a run folder records it for the review.</summary>
    private OverlayOptions Overlay { get; init; } = new();
    public IExplainableModel Model => _explainer.Model;
    public long? ExpectedFrames => _pipeline.ExpectedFrames;

    /// <summary>Builds the run; on any failure, everything opened so far is closed again and nothing is left claimed.</summary>
    public static VideoRun Build(VideoRunSpec spec, IRunFeedback feedback)
    {
        spec.Validated();
        var owned = new List<IDisposable>();
        try
        {
            var runFolder = spec.Outputs.Run is null ? null : new RunFolder(spec.Outputs.Run);
            var outputs = new RunOutputs()
                .Input("source", spec.Source).Input("model", spec.Model.Id).Input("labels file", spec.Model.Labels).Input("exemplar image", spec.Target.ExemplarFile)
                .File("--out", spec.Outputs.Video).File("--jsonl", spec.Outputs.Jsonl).Folder("--save-maps", spec.Outputs.SaveMaps)
                .Folder("--png-dir", spec.Outputs.PngDir).Folder("--run", spec.Outputs.Run).Folder("--dicom-out", spec.Outputs.DicomOut);
            if (runFolder is not null) outputs.FilesInFolder("--run", runFolder.Path, RunFolder.Entries);
            var colors = ColorMaps.Parse(spec.Render.ColorMap);
            var catalog = PluginCatalogs.Load(spec.Plugins);
            var extraOverlays = spec.Render.Overlays.Select(catalog.CreateOverlay).ToList();
            // Said before any output is claimed: a refused command line leaves nothing behind.
            if ((spec.Outputs.DicomOut ?? spec.Outputs.StoreTo) is not null && !Medical.DicomWebAddress.Is(spec.Source) && !Medical.DimseFetcher.Is(spec.Source)
                && !Medical.DicomFile.IsDicomSource(spec.Source))
                throw new ArgumentException("--dicom-out and --store-to write DICOM derived from a DICOM source; this source is not DICOM.");
            owned.Add(outputs.Claim());
            var source = Sources.Open(spec.Source, spec.Medical, catalog, feedback);
            if (source is IDisposable disposableSource) owned.Add(disposableSource);
            var mode = spec.Frames.Mode ?? (source.IsLive ? PipelineMode.Live : PipelineMode.Exact);
            var model = ModelLoader.Load(spec.Model, feedback);
            owned.Add(model);
            var explainer = CreateExplainer(spec, model, catalog, feedback, owned);
            owned.Add(explainer);
            if (explainer is ObjectFrameExplainer) extraOverlays.Insert(0, new ObjectBoxesOverlay());
            var overlay = new OverlayOptions { ColorMap = colors, ContourLevel = 0.5, PeakMarker = true };
            var renderer = new FrameRenderer(new RenderOptions
            {
                Overlay = overlay,
                SideBySide = spec.Render.SideBySide,
                Extra = extraOverlays,
            });
            var pipeline = new VideoPipeline(source, explainer, renderer, new PipelineOptions
            {
                Mode = mode, Stride = spec.Frames.Stride, MaxFrames = spec.Frames.MaxFrames, StartFrame = spec.Frames.StartFrame,
            });
            double fps = (source.FramesPerSecond ?? 25) / (mode == PipelineMode.Exact ? spec.Frames.Stride : 1);
            var manifest = new RunManifest(source.Description, spec.Model.Id, explainer.MethodId, mode.ToString().ToLowerInvariant(), fps, DateTime.UtcNow);
            var run = new VideoRun(pipeline, explainer, runFolder, manifest, feedback) { Spec = spec, Overlay = overlay };
            run._owned.AddRange(owned);
            owned.Clear();
            run.OpenSinks(source, fps, catalog);
            return run;
        }
        catch
        {
            for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
            throw;
        }
    }

    /// <summary>One target per frame (a class, an exemplar, a plugin's), or each object of an object target.</summary>
    private static IFrameExplainer CreateExplainer(VideoRunSpec spec, IExplainableModel model, Plugins.PluginCatalog catalog, IRunFeedback feedback, List<IDisposable> owned)
    {
        IExplanationTarget? target = null;
        if (!FrameExplainers.ExplainsObjects(spec.Target, catalog))
        {
            target = Targets.Create(spec.Target, model, catalog);
            if (target is IDisposable disposableTarget) owned.Add(disposableTarget);
        }
        return FrameExplainers.Create(spec.Target, spec.Method, spec.Layer, model, target, catalog, feedback, spec.QualityEvery);
    }

    private void OpenSinks(IFrameSource source, double fps, Plugins.PluginCatalog catalog)
    {
        var o = Spec.Outputs;
        try
        {
            if (o.Video is not null) _sinks.Add(new VideoFileSink(o.Video, fps));
            if (o.Jsonl is not null) _sinks.Add(new JsonLinesSink(o.Jsonl));
            if (o.SaveMaps is not null) _sinks.Add(new MapFileSink(o.SaveMaps));
            if (o.PngEvery is int every) _sinks.Add(new PngFrameSink(o.PngDir!, every: every));
            if (o.Show) _sinks.Add(new WindowSink($"sacam: {source.Description}"));
            foreach (var sink in o.Sinks) _sinks.Add(catalog.CreateSink(sink));
            // The review redraws overlays from the maps; a plugin's drawing and object boxes need the annotated frames kept.
            if (source is Medical.DicomSource dicom && (o.DicomOut ?? o.StoreTo) is not null)
                _sinks.Add(dicom.CreateDicomOutSink(o.DicomOut, Derivation(dicom), Overlay.ColorMap, o.StoreTo is null ? null : Medical.DicomStores.Parse(o.StoreTo)));
            var maps = Spec.Method.Explains ? Overlay : null;
            if (_runFolder is not null)
                _sinks.AddRange(_runFolder.Create(_manifest, fps, maps, annotatedVideo: Spec.Render.Overlays.Count > 0 || _explainer is ObjectFrameExplainer,
                    source as IRunExtrasSource));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>What the DICOM written back says made it (file names only: a model or exemplar path may name a person).</summary>
    private Medical.DicomDerivation Derivation(Medical.DicomSource source) => new(
        Medical.DicomDerivation.Name(_explainer.MethodId),
        Medical.DicomDerivation.Name(Spec.Target.Target ?? (Spec.Target.Class is { } c ? $"class {c}" : "top class")),
        Medical.DicomDerivation.Name(Spec.Model.Id),
        source.WindowNames);

    /// <summary>Runs every frame through the pipeline into the sinks; the run folder records how it ended.</summary>
    public VideoRunResult Run(CancellationToken stop = default, IProgress<PipelineProgress>? progress = null)
    {
        var result = _pipeline.Run(_sinks, stop, progress ?? _feedback.Frames(_pipeline.ExpectedFrames));
        _sinks.Clear(); // the pipeline closed them
        _runFolder?.Finish(_manifest, result.FramesWritten,
            result.Error is not null ? $"failed: {result.Error.Message}" : result.Cancelled ? "stopped" : "complete");
        return new VideoRunResult(result, _explainer.MethodId, _pipeline.Options.Mode, _pipeline.Statistics.Fps);
    }

    public void Dispose()
    {
        foreach (var sink in _sinks) sink.Dispose();
        _sinks.Clear();
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
    }
}
