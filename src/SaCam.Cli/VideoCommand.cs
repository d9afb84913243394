using System.CommandLine;
using SaCam.App.Building;
using SaCam.App.Specs;
using SaCam.Core.Methods;
using SaCam.Imaging;
using SaCam.Video.Pipeline;

namespace SaCam.Cli;

/// <summary>
/// sacam video SOURCE --model PATH|ID [--method ID] [--budget-ms N] [--out VIDEO] [--jsonl FILE] [--save-maps DIR]
///   [--show] [--stride N] [--max-frames N] [--class INDEX|LABEL] [--mode live|exact] [--device D] ...
/// The options map to a <see cref="VideoRunSpec"/>; the application layer builds and runs it.
/// </summary>
public static class VideoCommand
{
    public static string[] VideoExtensions => VideoOutputs.VideoExtensions;

    public static Command Create()
    {
        var options = new VideoOptions();
        var source = new Argument<string>("source") { Description = "Video file, camera index (0), image folder or glob, stream URL, or DICOM (a file, cine or series folder, or dicomweb:http://HOST:PORT/ROOT/studies/S/series/SE)." };
        var command = new Command("video", "Explain every frame of a video, camera or stream, and write annotated footage.");
        command.Arguments.Add(source);
        foreach (var o in options.All) command.Options.Add(o);
        command.SetAction(parse => CliRunner.Guard(stop => Run(options.ToSpec(parse, parse.GetValue(source)!), stop)));
        return command;
    }

    public static int Run(VideoRunSpec spec, CancellationToken stop = default)
    {
        using var run = VideoRun.Build(spec, ConsoleFeedback.Instance);
        var progress = new ConsoleFrameProgress(run.ExpectedFrames);
        VideoRunResult result;
        try
        {
            result = run.Run(stop, progress);
        }
        finally
        {
            progress.Finish();
        }
        Console.WriteLine(result.Summary);
        if (result.Error is not null)
        {
            Console.Error.WriteLine($"sacam: {result.Error.Message} (outputs hold the {result.FramesWritten} frames done before it)");
            return CliRunner.ExitCodeFor(result.Error) == CliRunner.UsageError ? CliRunner.UsageError : CliRunner.Failed;
        }
        return CliRunner.Ok;
    }
}

/// <summary>The options of `sacam video`, and how a parse of them becomes a <see cref="VideoRunSpec"/>. `fleet plan`
/// takes the subset that says what a shard explains and how (<see cref="PlanOptions"/>) and maps it the same way.</summary>
public sealed class VideoOptions
{
    public Option<string> Model { get; } = ModelOptions.Model();
    public Option<string?> Labels { get; } = ModelOptions.Labels();
    public Option<int> LabelsOffset { get; } = ModelOptions.LabelsOffset();
    public Option<string> Method { get; } = new("--method")
    {
        Description = $"sacam-rt (default: SA-CAM under a per-frame budget), none (classify only), or {string.Join(", ", MethodRegistry.Ids.Where(id => id != MethodSpec.Realtime))}.",
        DefaultValueFactory = _ => MethodSpec.Realtime,
    };
    public Option<string> Budget { get; } = SpecOptions.Budget();
    public Option<string?> Output { get; } = new Option<string?>("--out") { Description = "Annotated video: .mp4 or .mov (mp4v), .mkv (mp4v, survives a crash), .avi (MJPG, survives a crash, seeks exactly)." }
        .Extensions("an annotated video", VideoOutputs.VideoExtensions);
    public Option<string?> Jsonl { get; } = new("--jsonl") { Description = "Per-frame JSON Lines (fields: see the README)." };
    public Option<string?> SaveMaps { get; } = new("--save-maps") { Description = "Folder for per-frame maps, float32 .npy [H,W] named by frame index." };
    public Option<int?> PngEvery { get; } = new Option<int?>("--png-every") { Description = "Also write the overlay of every Nth frame as PNG (into --png-dir)." }.AtLeast(1);
    public Option<string?> PngDir { get; } = new("--png-dir") { Description = "Folder for --png-every frames." };
    public Option<bool> Show { get; } = new("--show") { Description = "Show a live window (needs a display)." };
    public MedicalCliOptions Medical { get; } = new();
    public Option<int> Stride { get; } = new Option<int>("--stride") { Description = "Exact mode: explain every Nth frame.", DefaultValueFactory = _ => 1 }.AtLeast(1);
    public Option<long?> MaxFrames { get; } = new Option<long?>("--max-frames") { Description = "Stop after N frames." }.AtLeast(1L);
    public Option<long> StartFrame { get; } = new Option<long>("--start-frame") { Description = "Exact mode: begin at this frame index (earlier frames are read, not explained).", DefaultValueFactory = _ => 0 }.AtLeast(0L);
    public Option<string?> Class { get; } = new("--class") { Description = "Class to explain on every frame (default: each frame's top-1)." };
    public Option<string?> Target { get; } = new("--target") { Description = "Instead of --class: det:all, det:LABEL or det:K (a detector's objects, tracked across frames), seg:CLASS[@x,y,w,h] (a segmenter's class), output:NAME[i], exemplar:IMAGE (similarity to that image), or a plugin's ID:ARG." };
    public Option<string?> ModelCard { get; } = ModelOptions.Card();
    public Option<int> MaxObjects { get; } = new Option<int>("--max-objects") { Description = "The most objects det:all and det:LABEL explain per frame.", DefaultValueFactory = _ => 5 }.AtLeast(1);
    public Option<string?> Mode { get; } = SpecOptions.Mode();
    public Option<string> Device { get; } = ModelOptions.Device();
    public Option<string> Engine { get; } = ModelOptions.Engine();
    public Option<int?> Threads { get; } = ModelOptions.Threads();
    public Option<string> ColorMap { get; } = new Option<string>("--colormap") { Description = "jet, turbo, viridis or inferno.", DefaultValueFactory = _ => "jet" }.OneOf(ColorMaps.Names);
    public Option<bool> SideBySide { get; } = new("--side-by-side") { Description = "Write original | overlay." };
    public Option<double> Smoothing { get; } = SpecOptions.Smoothing();
    public Option<string?> Layer { get; } = new("--layer") { Description = "Target layer." };
    public Option<string?> Plugins { get; } = PluginOptions.Create();
    public Option<string[]> Sink { get; } = new("--sink") { Description = "A plugin sink, ID[:ARG] (repeatable), e.g. csv:frames.csv.", AllowMultipleArgumentsPerToken = false };
    public Option<string[]> Overlay { get; } = new("--overlay") { Description = "A plugin overlay, ID[:ARG] (repeatable), drawn over the heat map." };
    public Option<int?> QualityEvery { get; } = new Option<int?>("--quality-every")
    {
        Description = "Check the map of every Nth explained frame (the first, then every Nth) for faithfulness: deletion and insertion of the target's score, \"quality\" in its JSON Lines record, plotted and flagged in the review.",
    }.AtLeast(1);
    public Option<string?> Run { get; } = new("--run") { Description = "Write a run folder for `sacam review`: manifest, JSONL, the original video, the maps and how they lie on the frames." };

    public Option<string?> DicomOut { get; } = new("--dicom-out") { Description = "DICOM sources: write each explained frame as a Secondary Capture (the slice with its map) in a new series of the source's study, into this folder. Carries the patient's identity, as a PACS needs." };
    public Option<string?> StoreTo { get; } = new("--store-to") { Description = $"DICOM sources: store those Secondary Captures to a PACS: {SaCam.Medical.DicomStores.Help}." };

    public IEnumerable<Option> All =>
        new Option[] { Model, ModelCard, Labels, LabelsOffset, Method, Budget, Output, Jsonl, SaveMaps, PngEvery, PngDir, Show, Stride, MaxFrames, StartFrame, Class, Target, MaxObjects,
            Mode, Device, Engine, Threads, ColorMap, SideBySide, Smoothing, Layer, QualityEvery, Run, Plugins, Sink, Overlay, DicomOut, StoreTo }.Concat(Medical.All);

    /// <summary>What a fleet plan may carry: what a shard explains and how. Outputs, frame ranges and the mode are the fleet's own.</summary>
    public IEnumerable<Option> PlanOptions =>
        [Model, ModelCard, Labels, LabelsOffset, Method, Budget, Class, Target, MaxObjects, Layer, Device, Engine, Threads, ColorMap, SideBySide, Smoothing, Stride, Plugins, Overlay];

    public VideoRunSpec ToSpec(ParseResult parse, string source) => new()
    {
        Source = source,
        Model = SpecOptions.Model(parse, Model, Labels, LabelsOffset, Device, Engine, Threads) with { Card = parse.GetValue(ModelCard) },
        Method = new MethodSpec { Id = parse.GetValue(Method)!, BudgetMs = MethodSpec.ParseBudget(parse.GetValue(Budget)!), Smoothing = parse.GetValue(Smoothing) },
        Target = new TargetSpec { Class = parse.GetValue(Class), Target = parse.GetValue(Target), MaxObjects = parse.GetValue(MaxObjects) },
        Layer = parse.GetValue(Layer),
        Frames = new FrameSelection
        {
            Mode = SpecOptions.ParseMode(parse.GetValue(Mode)), Stride = parse.GetValue(Stride), MaxFrames = parse.GetValue(MaxFrames), StartFrame = parse.GetValue(StartFrame),
        },
        Render = new RenderSpec { ColorMap = parse.GetValue(ColorMap)!, SideBySide = parse.GetValue(SideBySide), Overlays = parse.GetValue(Overlay) ?? [] },
        Outputs = new VideoOutputs
        {
            Video = parse.GetValue(Output), Jsonl = parse.GetValue(Jsonl), SaveMaps = parse.GetValue(SaveMaps), PngEvery = parse.GetValue(PngEvery),
            PngDir = parse.GetValue(PngDir), Show = parse.GetValue(Show), Run = parse.GetValue(Run), Sinks = parse.GetValue(Sink) ?? [],
            DicomOut = parse.GetValue(DicomOut), StoreTo = parse.GetValue(StoreTo),
        },
        Medical = Medical.ReadSpec(parse),
        Plugins = parse.GetValue(Plugins),
        QualityEvery = parse.GetValue(QualityEvery),
    };
}
