using System.CommandLine;
using System.Globalization;
using SaCam.Core;
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
    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "Video file, camera index (0), image folder or glob, or stream URL." };
        var model = new Option<string>("--model", "-m") { Description = "Model: PATH.onnx, default, torchvision:ARCH[:WEIGHTS].", DefaultValueFactory = _ => ModelCatalog.DefaultModelId };
        var labels = new Option<string?>("--labels") { Description = "Class labels file." };
        var method = new Option<string>("--method") { Description = $"sacam-rt (default), none (classify only), or any of {string.Join(", ", MethodRegistry.Ids)}.", DefaultValueFactory = _ => "sacam-rt" };
        var budget = new Option<double>("--budget-ms") { Description = "sacam-rt: per-frame time budget in ms.", DefaultValueFactory = _ => new RealtimeSaCamOptions().BudgetMs };
        var output = new Option<string?>("--out") { Description = "Annotated video (.mp4 mp4v, .avi MJPG)." };
        var jsonl = new Option<string?>("--jsonl") { Description = "Per-frame JSON Lines." };
        var saveMaps = new Option<string?>("--save-maps") { Description = "Folder for per-frame maps, float32 .npy [H,W] named by frame index." };
        var pngEvery = new Option<int>("--png-every") { Description = "Also write the overlay of every Nth frame as PNG (into --png-dir)." };
        var pngDir = new Option<string?>("--png-dir") { Description = "Folder for --png-every frames." };
        var window = new Option<bool>("--window") { Description = "Show a live window (needs a display)." };
        var stride = new Option<int>("--stride") { Description = "Exact mode: explain every Nth frame.", DefaultValueFactory = _ => 1 };
        var maxFrames = new Option<long?>("--max-frames") { Description = "Stop after N frames." };
        var classOption = new Option<string?>("--class") { Description = "Class to explain on every frame (default: each frame's top-1)." };
        var mode = new Option<string?>("--mode") { Description = "live (drop stale frames) or exact (every frame); default: live for cameras and streams, exact for files." };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var colorMap = new Option<string>("--colormap") { Description = "jet, turbo, viridis or inferno.", DefaultValueFactory = _ => "jet" };
        var sideBySide = new Option<bool>("--side-by-side") { Description = "Write original | overlay." };
        var smoothing = new Option<double>("--smoothing") { Description = "sacam-rt: temporal smoothing of maps, 0 (none) to 0.9.", DefaultValueFactory = _ => 0 };
        var layer = new Option<string?>("--layer") { Description = "Target layer." };
        var plugins = PluginOptions.Create();
        var sink = new Option<string[]>("--sink") { Description = "A plugin sink, ID[:ARG] (repeatable), e.g. csv:frames.csv.", AllowMultipleArgumentsPerToken = false };
        var overlay = new Option<string[]>("--overlay") { Description = "A plugin overlay, ID[:ARG] (repeatable), drawn over the heat map." };
        var run = new Option<string?>("--run") { Description = "Write a run folder for `sacam review`: manifest, JSONL, annotated and original video, maps." };

        var command = new Command("video", "Explain every frame of a video, camera or stream, and write annotated footage.");
        command.Arguments.Add(source);
        foreach (var o in new Option[] { model, labels, method, budget, output, jsonl, saveMaps, pngEvery, pngDir, window, stride, maxFrames, classOption, mode, device, colorMap, sideBySide, smoothing, layer, run, plugins, sink, overlay })
            command.Options.Add(o);
        command.SetAction(parse => CliRunner.Guard(() => Run(new VideoArgs(parse.GetValue(source)!, parse.GetValue(model)!, parse.GetValue(labels),
            parse.GetValue(method)!, parse.GetValue(budget), parse.GetValue(output), parse.GetValue(jsonl), parse.GetValue(saveMaps),
            parse.GetValue(pngEvery), parse.GetValue(pngDir), parse.GetValue(window), parse.GetValue(stride), parse.GetValue(maxFrames),
            parse.GetValue(classOption), parse.GetValue(mode), parse.GetValue(device)!, parse.GetValue(colorMap)!, parse.GetValue(sideBySide),
            parse.GetValue(smoothing), parse.GetValue(layer), parse.GetValue(run), parse.GetValue(plugins),
            parse.GetValue(sink) ?? [], parse.GetValue(overlay) ?? []))));
        return command;
    }

    public sealed record VideoArgs(string Source, string Model, string? Labels, string Method, double BudgetMs, string? Out, string? Jsonl,
        string? SaveMaps, int PngEvery, string? PngDir, bool Window, int Stride, long? MaxFrames, string? Class, string? Mode, string Device,
        string ColorMap, bool SideBySide, double Smoothing, string? Layer, string? Run = null, string? Plugins = null,
        string[]? Sinks = null, string[]? Overlays = null);

    public static int Run(VideoArgs a)
    {
        if (a.Stride < 1) throw new ArgumentException($"--stride must be at least 1 (got {a.Stride}).");
        if (a.BudgetMs <= 0) throw new ArgumentException($"--budget-ms must be positive (got {a.BudgetMs}).");
        if (a.Smoothing is < 0 or >= 1) throw new ArgumentException($"--smoothing must lie in [0, 1), the share of the previous map kept (got {a.Smoothing}).");
        if (a.PngEvery > 0 && a.PngDir is null) throw new ArgumentException("--png-every needs --png-dir.");
        var colors = ColorMaps.Parse(a.ColorMap);
        var catalog = PluginOptions.Load(a.Plugins);
        var extraOverlays = (a.Overlays ?? []).Select(catalog.CreateOverlay).ToList();
        var frameSource = catalog.OpenSource(a.Source);
        var pipelineMode = a.Mode?.ToLowerInvariant() switch
        {
            null => frameSource.IsLive ? PipelineMode.Live : PipelineMode.Exact,
            "live" => PipelineMode.Live,
            "exact" => PipelineMode.Exact,
            _ => throw new ArgumentException($"--mode '{a.Mode}': use live or exact."),
        };
        var realtimeOptions = new RealtimeSaCamOptions { BudgetMs = a.BudgetMs, TemporalSmoothing = a.Smoothing };
        var device = DeviceSelector.Parse(a.Device);
        using var model = ModelCatalog.Load(a.Model, device, a.Labels, progress: new ConsoleDownloadProgress());
        var target = TargetParser.Parse(a.Class, model) as Core.Targets.ClassTarget;
        ICamMethod? method = a.Method == FrameExplainer.ClassifyOnly ? null
            : a.Method == "sacam-rt" ? new RealtimeSaCam(realtimeOptions)
            : catalog.CreateMethod(a.Method);
        using var explainer = new FrameExplainer(model, method, target?.ClassIndex, a.Layer);
        var renderer = new FrameRenderer(new RenderOptions
        {
            Overlay = new OverlayOptions { ColorMap = colors, ContourLevel = 0.5, PeakMarker = true },
            SideBySide = a.SideBySide,
            Extra = extraOverlays,
        });
        var pipeline = new VideoPipeline(frameSource, explainer, renderer, new PipelineOptions
        {
            Mode = pipelineMode, Stride = a.Stride, MaxFrames = a.MaxFrames,
        });

        var sinks = new List<IFrameSink>();
        try
        {
            double fps = (frameSource.FramesPerSecond ?? 25) / (pipelineMode == PipelineMode.Exact ? a.Stride : 1);
            if (a.Out is not null) sinks.Add(new VideoFileSink(a.Out, fps));
            if (a.Jsonl is not null) sinks.Add(new JsonLinesSink(a.Jsonl));
            if (a.SaveMaps is not null) sinks.Add(new MapFileSink(a.SaveMaps));
            if (a.PngEvery > 0) sinks.Add(new PngFrameSink(a.PngDir!, every: a.PngEvery));
            if (a.Window) sinks.Add(new WindowSink($"sacam: {frameSource.Description}"));
            foreach (var spec in a.Sinks ?? []) sinks.Add(catalog.CreateSink(spec));
            if (a.Run is not null)
                sinks.AddRange(new RunFolder(a.Run).Create(new RunManifest(frameSource.Description, a.Model, explainer.MethodId,
                    pipelineMode.ToString().ToLowerInvariant(), fps, DateTime.UtcNow), fps, saveMaps: a.Method != FrameExplainer.ClassifyOnly));
        }
        catch
        {
            foreach (var s in sinks) s.Dispose();
            throw;
        }

        using var cancel = new CancellationTokenSource();
        using var stopSignals = StopSignals.Register(cancel.Cancel);
        var progress = new ConsoleFrameProgress(pipeline.ExpectedFrames);
        PipelineRunResult result;
        try
        {
            result = pipeline.Run(sinks, cancel.Token, progress);
        }
        finally
        {
            progress.Finish();
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{result.FramesWritten} frames written, {result.FramesDropped} dropped, {pipeline.Statistics.Fps:F1} fps ({explainer.MethodId}, {pipelineMode.ToString().ToLowerInvariant()} mode){(result.Cancelled ? ", cancelled" : "")}"));
        if (result.Error is not null)
        {
            Console.Error.WriteLine($"sacam: {result.Error.Message} (outputs hold the {result.FramesWritten} frames done before it)");
            return CliRunner.Failed;
        }
        return CliRunner.Ok;
    }
}

/// <summary>Frames, fps and ETA on one stderr line.</summary>
public sealed class ConsoleFrameProgress(long? total) : IProgress<PipelineProgress>
{
    private DateTime _last = DateTime.MinValue;
    private bool _wrote;

    public void Report(PipelineProgress value)
    {
        if ((DateTime.UtcNow - _last).TotalMilliseconds < 250) return;
        _last = DateTime.UtcNow;
        string eta = total is long t && value.Fps > 0 ? $" ETA {TimeSpan.FromSeconds((t - value.FramesDone) / value.Fps):mm\\:ss}" : "";
        string of = total is long n ? $"/{n}" : "";
        Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\rframes {value.FramesDone}{of}  {value.Fps:F1} fps{eta}   "));
        _wrote = true;
    }

    public void Finish()
    {
        if (_wrote) Console.Error.WriteLine();
    }
}
