// Live webcam demo: where the model looks, live, with frame-budgeted SA-CAM.
//   dotnet run --project samples/WebcamDemo -- [SOURCE=0] [--seconds N] [--budget-ms auto|MS] [--out live.avi] [--device cpu|cuda|cuda:N]
// SOURCE is a camera index (0), or any source sacam video takes (a file plays as a camera would: paced, stale
// frames dropped). With a display the overlay shows in a window; without one, give --out (or it says so).
using SaCam.Core;
using SaCam.Core.Models;
using SaCam.Core.Realtime;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;
using SaCam.Video.Sinks;
using SaCam.Video.Sources;

try
{
    NativeRuntime.Configure(NativeProfile.Streaming);
    string source = args.Where((a, i) => !a.StartsWith("--") && (i == 0 || !args[i - 1].StartsWith("--"))).FirstOrDefault() ?? "0";
    double seconds = double.Parse(Option("--seconds") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
    double? budgetMs = RealtimeSaCamOptions.ParseBudget(Option("--budget-ms") ?? "auto");
    string? output = Option("--out");
    bool hasDisplay = !OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("DISPLAY") is { Length: > 0 };
    if (!hasDisplay && output is null)
    {
        Console.Error.WriteLine("No display: pass --out FILE.avi to record the overlay instead of showing it.");
        return 2;
    }

    using var model = ModelCatalog.Load(ModelCatalog.DefaultModelId, DeviceSelector.Parse(Option("--device") ?? "cpu"));
    NativeRuntime.TuneFor(model);
    using var explainer = new FrameExplainer(model, new RealtimeSaCam(new RealtimeSaCamOptions { BudgetMs = budgetMs }));
    var pipeline = new VideoPipeline(FrameSources.Open(source), explainer, new FrameRenderer(new RenderOptions()),
        new PipelineOptions { Mode = PipelineMode.Live });   // live: the newest frame wins, drops are counted

    var sinks = new List<IFrameSink>();
    if (hasDisplay) sinks.Add(new WindowSink("SaCam webcam demo (Ctrl+C quits)"));
    if (output is not null) sinks.Add(new VideoFileSink(output, 15));

    using var stop = seconds > 0 ? new CancellationTokenSource(TimeSpan.FromSeconds(seconds)) : new CancellationTokenSource();
    using var stopSignals = StopSignals.Register(stop.Cancel); // Ctrl+C or SIGTERM: the recording stays playable
    var result = pipeline.Run(sinks, stop.Token);
    Console.WriteLine($"{result.FramesWritten} frames shown, {result.FramesDropped} dropped (live mode), {pipeline.Statistics.Fps:F1} fps");
    if (result.Error is not null) Console.Error.WriteLine($"stopped: {result.Error.Message}");
    return result.Error is null ? 0 : 1;
}
catch (Exception e) when (e is IOException or ArgumentException or InvalidDataException or InvalidOperationException
    or ModelLoadException or DeviceUnavailableException or SaCam.Video.Sources.FrameSourceException)
{
    // Bad input (a missing image, an unknown device, a camera that is not there) is one line, not a stack trace.
    Console.Error.WriteLine($"WebcamDemo: {e.Message}");
    return 1;
}

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
