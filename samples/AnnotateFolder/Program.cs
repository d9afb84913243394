// Annotate a folder of drive-footage frames: an overlay PNG per frame and one JSON line per frame (class, score,
// map peak, attended box, entropy, sacam-rt's budget figures), every frame in order.
//   dotnet run --project samples/AnnotateFolder -- FRAMES_DIR OUT_DIR [--method sacam-rt] [--model default] [--device cpu|cuda|cuda:N]
using SaCam.Core;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;
using SaCam.Video.Sinks;
using SaCam.Video.Sources;

NativeRuntime.Configure(NativeProfile.Streaming);
var positional = args.Where((a, i) => !a.StartsWith("--") && (i == 0 || !args[i - 1].StartsWith("--"))).ToArray();
if (positional.Length != 2)
{
    Console.Error.WriteLine("usage: AnnotateFolder FRAMES_DIR OUT_DIR [--method ID] [--model default|PATH.onnx] [--device cpu|cuda|cuda:N]");
    return 2;
}
string frames = positional[0], output = positional[1];
string methodId = Option("--method") ?? "sacam-rt";
try
{
    var source = new ImageFolderSource(frames);   // files in name order: 000001.png, 000002.png, ...
    using var model = ModelCatalog.Load(Option("--model") ?? ModelCatalog.DefaultModelId, DeviceSelector.Parse(Option("--device") ?? "cpu"));
    NativeRuntime.TuneFor(model);
    using var explainer = new FrameExplainer(model, MethodRegistry.Create(methodId));
    var pipeline = new VideoPipeline(source, explainer, new FrameRenderer(new RenderOptions { SideBySide = true }),
        new PipelineOptions { Mode = PipelineMode.Exact });   // exact: every frame, in order
    var result = pipeline.Run([new PngFrameSink(Path.Combine(output, "overlays"), every: 1), new JsonLinesSink(Path.Combine(output, "frames.jsonl"))]);
    Console.WriteLine($"{result.FramesWritten} of {source.Files.Count} frames annotated with {methodId} into {Path.GetFullPath(output)}");
    if (result.Error is not null) throw result.Error;
    return 0;
}
catch (Exception e) when (e is IOException or ArgumentException or InvalidDataException or FrameSourceException or ModelLoadException or DeviceUnavailableException)
{
    Console.Error.WriteLine($"AnnotateFolder: {e.Message}");
    return 1;
}

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
