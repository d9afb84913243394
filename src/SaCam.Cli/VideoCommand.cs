using System.CommandLine;
using System.Globalization;
using SaCam.Core;
using SaCam.Core.IO;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Realtime;
using SaCam.Imaging;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;
using SaCam.Video.Sinks;
using SaCam.Video.Sources;

namespace SaCam.Cli;

/// <summary>
/// sacam video SOURCE --model PATH|ID [--method ID] [--budget-ms N] [--out VIDEO] [--jsonl FILE] [--save-maps DIR]
///   [--window] [--stride N] [--max-frames N] [--class INDEX|LABEL] [--mode live|exact] [--device D] ...
/// </summary>
public static class VideoCommand
{
    public static readonly string[] VideoExtensions = [".mp4", ".mov", ".mkv", ".avi"];

    public static Command Create() => Define().Command;

    /// <summary>The command, and how its parse result becomes <see cref="VideoArgs"/> (fleet workers parse a plan's
    /// stored options with it, so a shard runs exactly what `sacam video` would).</summary>
    public static (Command Command, Func<ParseResult, VideoArgs> Args) Define()
    {
        var source = new Argument<string>("source") { Description = "Video file, camera index (0), image folder or glob, stream URL, or DICOM (a file, cine or series folder)." };
        var model = ModelOptions.Model();
        var labels = ModelOptions.Labels();
        var labelsOffset = ModelOptions.LabelsOffset();
        var others = string.Join(", ", MethodRegistry.Ids.Where(id => id != "sacam-rt"));
        var method = new Option<string>("--method") { Description = $"sacam-rt (default: SA-CAM under a per-frame budget), none (classify only), or {others}.", DefaultValueFactory = _ => "sacam-rt" };
        var budget = new Option<string>("--budget-ms") { Description = "sacam-rt: per-frame time budget in ms, or auto (2x the measured forward and backward).", DefaultValueFactory = _ => "auto" };
        budget.Validators.Add(r =>
        {
            try { RealtimeSaCamOptions.ParseBudget(r.GetValueOrDefault<string>() ?? "auto"); }
            catch (ArgumentException e) { r.AddError($"--budget-ms: {e.Message}"); }
        });
        var output = new Option<string?>("--out") { Description = "Annotated video: .mp4 or .mov (mp4v), .mkv (mp4v, survives a crash), .avi (MJPG, survives a crash, seeks exactly)." }
            .Extensions("an annotated video", VideoExtensions);
        var jsonl = new Option<string?>("--jsonl") { Description = "Per-frame JSON Lines (fields: see the README)." };
        var saveMaps = new Option<string?>("--save-maps") { Description = "Folder for per-frame maps, float32 .npy [H,W] named by frame index." };
        var pngEvery = new Option<int?>("--png-every") { Description = "Also write the overlay of every Nth frame as PNG (into --png-dir)." }.AtLeast(1);
        var pngDir = new Option<string?>("--png-dir") { Description = "Folder for --png-every frames." };
        var window = new Option<bool>("--show") { Description = "Show a live window (needs a display)." };
        var medical = new MedicalCliOptions();
        var stride = new Option<int>("--stride") { Description = "Exact mode: explain every Nth frame.", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var maxFrames = new Option<long?>("--max-frames") { Description = "Stop after N frames." }.AtLeast(1L);
        var startFrame = new Option<long>("--start-frame") { Description = "Exact mode: begin at this frame index (earlier frames are read, not explained).", DefaultValueFactory = _ => 0 }.AtLeast(0L);
        var classOption = new Option<string?>("--class") { Description = "Class to explain on every frame (default: each frame's top-1)." };
        var targetOption = new Option<string?>("--target") { Description = "Instead of --class: exemplar:IMAGE (similarity to that image), or a plugin's ID:ARG." };
        var mode = new Option<string?>("--mode") { Description = "live (drop stale frames) or exact (every frame); default: live for cameras and streams, exact for files." };
        mode.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } m && m.ToLowerInvariant() is not ("live" or "exact")) r.AddError($"--mode '{m}' is not one of: live, exact.");
        });
        var device = ModelOptions.Device();
        var engine = ModelOptions.Engine();
        var threads = ModelOptions.Threads();
        var colorMap = new Option<string>("--colormap") { Description = "jet, turbo, viridis or inferno.", DefaultValueFactory = _ => "jet" }.OneOf(ColorMaps.Names);
        var sideBySide = new Option<bool>("--side-by-side") { Description = "Write original | overlay." };
        var smoothing = new Option<double>("--smoothing") { Description = "sacam-rt: share of the previous map kept, 0 (none) to below 1.", DefaultValueFactory = _ => 0 }
            .Within(0, 1, maxInclusive: false, "the share of the previous map kept");
        var layer = new Option<string?>("--layer") { Description = "Target layer." };
        var plugins = PluginOptions.Create();
        var sink = new Option<string[]>("--sink") { Description = "A plugin sink, ID[:ARG] (repeatable), e.g. csv:frames.csv.", AllowMultipleArgumentsPerToken = false };
        var overlay = new Option<string[]>("--overlay") { Description = "A plugin overlay, ID[:ARG] (repeatable), drawn over the heat map." };
        var run = new Option<string?>("--run") { Description = "Write a run folder for `sacam review`: manifest, JSONL, annotated and original video, maps." };

        var command = new Command("video", "Explain every frame of a video, camera or stream, and write annotated footage.");
        command.Arguments.Add(source);
        foreach (var o in new Option[] { model, labels, labelsOffset, method, budget, output, jsonl, saveMaps, pngEvery, pngDir, window, stride, maxFrames, startFrame, classOption, targetOption, mode, device, engine, threads, colorMap, sideBySide, smoothing, layer, run, plugins, sink, overlay }.Concat(medical.All))
            command.Options.Add(o);
        VideoArgs ToArgs(ParseResult parse) => new VideoArgs(parse.GetValue(source)!, parse.GetValue(model)!, parse.GetValue(labels),
            parse.GetValue(method)!, parse.GetValue(budget)!, parse.GetValue(output), parse.GetValue(jsonl), parse.GetValue(saveMaps),
            parse.GetValue(pngEvery), parse.GetValue(pngDir), parse.GetValue(window), parse.GetValue(stride), parse.GetValue(maxFrames),
            parse.GetValue(classOption), parse.GetValue(mode), parse.GetValue(device)!, parse.GetValue(colorMap)!, parse.GetValue(sideBySide),
            parse.GetValue(smoothing), parse.GetValue(layer), parse.GetValue(run), parse.GetValue(plugins),
            parse.GetValue(sink) ?? [], parse.GetValue(overlay) ?? [], parse.GetValue(targetOption), parse.GetValue(labelsOffset),
            parse.GetValue(engine)!, parse.GetValue(threads), medical.Read(parse), parse.GetValue(startFrame));
        command.SetAction(parse => CliRunner.Guard(stop => Run(ToArgs(parse), stop)));
        return (command, ToArgs);
    }

    public sealed record VideoArgs(string Source, string Model, string? Labels, string Method, string BudgetMs, string? Out, string? Jsonl,
        string? SaveMaps, int? PngEvery, string? PngDir, bool Window, int Stride, long? MaxFrames, string? Class, string? Mode, string Device,
        string ColorMap, bool SideBySide, double Smoothing, string? Layer, string? Run = null, string? Plugins = null,
        string[]? Sinks = null, string[]? Overlays = null, string? Target = null, int LabelsOffset = 0, string Engine = "auto", int? Threads = null,
        SaCam.Medical.MedicalOptions? Medical = null, long StartFrame = 0);

    /// <summary>sacam-rt with its one-time warnings (a budget that buys nothing) on stderr.</summary>
    private static RealtimeSaCam RealtimeWithWarnings(RealtimeSaCamOptions options)
    {
        var method = new RealtimeSaCam(options);
        method.Warning += message => Console.Error.WriteLine($"{Environment.NewLine}sacam: warning: {message}");
        return method;
    }

    /// <param name="onResult">Told how the pipeline ended (fleet workers tell a bad recording from a stop).</param>
    public static int Run(VideoArgs a, CancellationToken stop = default, Action<PipelineRunResult>? onResult = null)
    {
        if (a.StartFrame > 0 && a.Mode?.ToLowerInvariant() == "live") throw new ArgumentException("--start-frame needs exact mode (live mode shows frames as they come).");
        if (a.PngEvery is not null && a.PngDir is null) throw new ArgumentException("--png-every needs --png-dir.");
        if (a.PngDir is not null && a.PngEvery is null) throw new ArgumentException("--png-dir needs --png-every N.");
        if (a.Target is not null && a.Class is not null) throw new ArgumentException("Give --class or --target, not both.");
        double? budgetMs = RealtimeSaCamOptions.ParseBudget(a.BudgetMs);
        var runFolder = a.Run is null ? null : new RunFolder(a.Run);
        var outputs = new RunOutputs()
            .Input("source", a.Source).Input("model", a.Model).Input("labels file", a.Labels).Input("exemplar image", ExplainCommand.TargetArgument(a.Target))
            .File("--out", a.Out).File("--jsonl", a.Jsonl).Folder("--save-maps", a.SaveMaps).Folder("--png-dir", a.PngDir).Folder("--run", a.Run);
        if (runFolder is not null) outputs.FilesInFolder("--run", runFolder.Path, RunFolder.Entries);
        var colors = ColorMaps.Parse(a.ColorMap);
        var catalog = PluginOptions.Load(a.Plugins);
        var extraOverlays = (a.Overlays ?? []).Select(catalog.CreateOverlay).ToList();
        var device = DeviceSelector.Parse(a.Device);
        using var claims = outputs.Claim();
        var frameSource = MedicalCliOptions.Open(a.Source, a.Medical, catalog.OpenSource);
        var pipelineMode = a.Mode?.ToLowerInvariant() switch
        {
            null => frameSource.IsLive ? PipelineMode.Live : PipelineMode.Exact,
            "live" => PipelineMode.Live,
            _ => PipelineMode.Exact,
        };
        var realtimeOptions = new RealtimeSaCamOptions { BudgetMs = budgetMs, TemporalSmoothing = a.Smoothing };
        using var model = ModelCatalog.Load(a.Model, device, a.Labels, progress: new ConsoleDownloadProgress(), labelsOffset: a.LabelsOffset,
            engine: ModelOptions.EngineOptions(a.Engine, a.Threads));
        EngineNotes.Report(model);
        var target = a.Target is not null ? catalog.CreateTarget(a.Target, model) : TargetParser.Parse(a.Class, model);
        using var disposeTarget = target as IDisposable;
        ICamMethod? method = a.Method == FrameExplainer.ClassifyOnly ? null
            : a.Method == "sacam-rt" ? RealtimeWithWarnings(realtimeOptions)
            : catalog.CreateMethod(a.Method);
        using var explainer = new FrameExplainer(model, method, target, a.Layer);
        var renderer = new FrameRenderer(new RenderOptions
        {
            Overlay = new OverlayOptions { ColorMap = colors, ContourLevel = 0.5, PeakMarker = true },
            SideBySide = a.SideBySide,
            Extra = extraOverlays,
        });
        var pipeline = new VideoPipeline(frameSource, explainer, renderer, new PipelineOptions
        {
            Mode = pipelineMode, Stride = a.Stride, MaxFrames = a.MaxFrames, StartFrame = a.StartFrame,
        });

        var sinks = new List<IFrameSink>();
        double fps = (frameSource.FramesPerSecond ?? 25) / (pipelineMode == PipelineMode.Exact ? a.Stride : 1);
        var manifest = new RunManifest(frameSource.Description, a.Model, explainer.MethodId, pipelineMode.ToString().ToLowerInvariant(), fps, DateTime.UtcNow);
        try
        {
            if (a.Out is not null) sinks.Add(new VideoFileSink(a.Out, fps));
            if (a.Jsonl is not null) sinks.Add(new JsonLinesSink(a.Jsonl));
            if (a.SaveMaps is not null) sinks.Add(new MapFileSink(a.SaveMaps));
            if (a.PngEvery is int every) sinks.Add(new PngFrameSink(a.PngDir!, every: every));
            if (a.Window) sinks.Add(new WindowSink($"sacam: {frameSource.Description}"));
            foreach (var spec in a.Sinks ?? []) sinks.Add(catalog.CreateSink(spec));
            if (runFolder is not null) sinks.AddRange(runFolder.Create(manifest, fps, saveMaps: a.Method != FrameExplainer.ClassifyOnly, frameSource as IRunExtrasSource));
        }
        catch
        {
            foreach (var s in sinks) s.Dispose();
            throw;
        }

        var progress = new ConsoleFrameProgress(pipeline.ExpectedFrames);
        PipelineRunResult result;
        try
        {
            result = pipeline.Run(sinks, stop, progress);
        }
        finally
        {
            progress.Finish();
        }
        onResult?.Invoke(result);
        runFolder?.Finish(manifest, result.FramesWritten, result.Error is not null ? $"failed: {result.Error.Message}" : result.Cancelled ? "stopped" : "complete");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{result.FramesWritten} frames written, {result.FramesDropped} dropped, {pipeline.Statistics.Fps:F1} fps ({explainer.MethodId}, {pipelineMode.ToString().ToLowerInvariant()} mode){(result.Cancelled ? ", cancelled" : "")}"));
        if (result.Error is not null)
        {
            Console.Error.WriteLine($"sacam: {result.Error.Message} (outputs hold the {result.FramesWritten} frames done before it)");
            return CliRunner.ExitCodeFor(result.Error) == CliRunner.UsageError ? CliRunner.UsageError : CliRunner.Failed;
        }
        return CliRunner.Ok;
    }
}
