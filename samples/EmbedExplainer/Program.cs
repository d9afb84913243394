// Embedding the explainer in your own app, two ways:
//  1. one image, synchronously: CamEngine.Explain gives the map, the class and the channel weights;
//  2. a frame loop (a game, a UI timer): ExplainerHost.Submit never blocks, TryGetLatest returns the newest result.
//   dotnet run --project samples/EmbedExplainer -- IMAGE [OUT.png] [--device cpu|cuda|cuda:N]
using System.Diagnostics;
using OpenCvSharp;
using SaCam.Core;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Realtime;
using SaCam.Imaging;
using SaCam.Video.Host;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;
using static TorchSharp.torch;

try
{
    NativeRuntime.Configure();
    int deviceAt = Array.IndexOf(args, "--device");
    var device = DeviceSelector.Parse(deviceAt >= 0 && deviceAt + 1 < args.Length ? args[deviceAt + 1] : "cpu");
    args = args.Where((_, i) => deviceAt < 0 || (i != deviceAt && i != deviceAt + 1)).ToArray();
    if (args.Length < 1)
    {
        Console.Error.WriteLine("usage: EmbedExplainer IMAGE [OUT.png] [--device cpu|cuda|cuda:N]");
        return 2;
    }
    using var model = ModelCatalog.Load(ModelCatalog.DefaultModelId, device);   // tensors follow the model's device

    // 1. One image. Everything inside the dispose scope is freed at its end; results are disposed by `using`.
    using (NewDisposeScope())
    {
        using var image = ImageFile.ReadBgr(args[0]);
        var (input, geometry) = ImagePreprocessor.ToTensor(image, model.Preprocess, model.Device);
        var engine = new CamEngine(model);
        using var result = engine.Explain(input, new GradCam());
        Console.WriteLine($"gradcam on {Path.GetFileName(args[0])}: layer {result.Layer}, target {result.Target.Description}, map {string.Join('x', result.Map.shape)}");
        if (args.Length > 1)
        {
            using var overlay = HeatmapOverlay.Render(image, result.Map, geometry, new OverlayOptions { ContourLevel = 0.5, PeakMarker = true });
            Cv2.ImWrite(args[1], overlay);
            Console.WriteLine($"overlay written to {args[1]}");
        }
    }

    // 2. A frame loop at ~100 fps feeding RGBA frames (what an engine's camera gives); the explainer runs beside it.
    using (var explainer = new FrameExplainer(model, new RealtimeSaCam()))
    using (var host = new ExplainerHost(explainer, new FrameRenderer(new RenderOptions())))
    {
        using var bgr = ImageFile.ReadBgr(args[0]);
        using var rgba = bgr.CvtColor(ColorConversionCodes.BGR2RGBA);
        var pixels = new byte[rgba.Total() * 4];
        System.Runtime.InteropServices.Marshal.Copy(rgba.Data, pixels, 0, pixels.Length);
        var loop = Stopwatch.StartNew();
        double slowestSubmitMs = 0;
        HostResult? latest = null;
        // Five results, however long a busy machine takes for them; the limit is only there for an explainer that
        // never delivers.
        var limit = TimeSpan.FromMinutes(5);
        while (loop.Elapsed < limit && host.Completed < 5 && host.Failure is null)
        {
            var submit = Stopwatch.StartNew();
            host.Submit(pixels, rgba.Width, rgba.Height);
            slowestSubmitMs = Math.Max(slowestSubmitMs, submit.Elapsed.TotalMilliseconds);
            host.TryGetLatest(out latest);
            Thread.Sleep(10);
        }
        if (host.Failure is not null) throw host.Failure;
        if (host.Completed < 5) throw new InvalidOperationException($"the explainer delivered {host.Completed} of 5 results in {limit.TotalMinutes:F0} minutes");
        Console.WriteLine($"frame loop: {host.Submitted} frames submitted, {host.Completed} explained, {host.Dropped} dropped; slowest Submit {slowestSubmitMs:F1} ms; " +
            $"latest: {latest?.Label ?? latest?.ClassIndex.ToString()} {latest?.Score:F2}, {latest?.LatencyMs:F0} ms, overlay {latest?.Width}x{latest?.Height} RGBA");
    }
    return 0;
}
catch (Exception e) when (e is IOException or ArgumentException or InvalidDataException or InvalidOperationException
    or ModelLoadException or DeviceUnavailableException or SaCam.Video.Sources.FrameSourceException)
{
    // Bad input (a missing image, an unknown device, a camera that is not there) is one line, not a stack trace.
    Console.Error.WriteLine($"EmbedExplainer: {e.Message}");
    return 1;
}
