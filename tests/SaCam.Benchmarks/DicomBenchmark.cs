using System.Diagnostics;
using System.Globalization;
using System.Reactive.Linq;
using System.Text;
using SaCam.Core.Models;
using SaCam.Core.Realtime;
using SaCam.Medical;
using SaCam.Tests;
using SaCam.Video.Pipeline;

namespace SaCam.Benchmarks;

/// <summary>
/// DICOM decoding and explaining per slice, on a 512x512 CT series the benchmark writes itself: slices per second
/// through <see cref="DicomSource"/> (headers, dcmj2pnm, read-back, window) against dcmj2pnm alone run once per
/// slice with the same arguments, interleaved rounds; then explained slices per second with gradcam and sacam-rt on
/// the default model.
/// </summary>
public sealed class DicomBenchmark
{
    public string Run(int slices, int rounds)
    {
        var folder = Directory.CreateTempSubdirectory("sacam-bench-dicom-").FullName;
        try
        {
            var data = new DicomTestData(Path.Combine(folder, "series"));
            data.Series(slices, size: 512);
            var files = Directory.GetFiles(data.Folder);
            var ours = new List<double>();
            var tool = new List<double>();
            for (int r = 0; r < rounds; r++)
            {
                tool.Add(ToolAlone(files, folder));
                ours.Add(ThroughSource(data.Folder));
            }
            var text = new StringBuilder();
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"### Decoding a {slices}-slice 512x512 CT series (16-bit, uncompressed), {rounds} interleaved rounds\n"));
            text.AppendLine("| path | slices per second (median) | ratio to the tool alone | goal |");
            text.AppendLine("| --- | ---: | ---: | --- |");
            double toolRate = slices / Median(tool), ourRate = slices / Median(ours);
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| dcmj2pnm alone, one process per slice (16-bit PNG, window 0/65536) | {toolRate:F1} | 1.00x | |"));
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| DicomSource: headers (one dcmdump), ordering, dcmj2pnm per slice, read-back, soft window | {ourRate:F1} | {ourRate / toolRate:F2}x | >= 0.9x |"));
            text.AppendLine();
            text.AppendLine("### Explaining the series slice by slice (default model, CPU)\n");
            text.AppendLine("| method | explained slices per second | ms per slice (median) |");
            text.AppendLine("| --- | ---: | ---: |");
            foreach (var method in new[] { "gradcam", "sacam-rt" })
            {
                var (rate, ms) = Explain(data.Folder, method);
                text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {method} | {rate:F1} | {ms:F1} |"));
            }
            return text.ToString();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static double ToolAlone(string[] files, string folder)
    {
        var clock = Stopwatch.StartNew();
        string output = Path.Combine(folder, "tool.png");
        foreach (var file in files) DicomTestData.Tool("dcmj2pnm", "-ll", "error", "-il", "-mf", "+on2", "+Ww", "0", "65536", file, output);
        return clock.Elapsed.TotalSeconds;
    }

    private static double ThroughSource(string folder)
    {
        var clock = Stopwatch.StartNew();
        var source = DicomSource.Open(folder, new MedicalOptions { Window = "soft" }, _ => { });
        source.Frames().Do(f => f.Dispose()).LastAsync().Wait();
        return clock.Elapsed.TotalSeconds;
    }

    private static (double Rate, double MedianMs) Explain(string folder, string method)
    {
        using var model = ModelCatalog.Load(ModelCatalog.DefaultModelId);
        using var explainer = method == "sacam-rt" ? new FrameExplainer(model, new RealtimeSaCam(new RealtimeSaCamOptions())) : new FrameExplainer(model, method);
        var source = DicomSource.Open(folder, new MedicalOptions { Window = "soft" }, _ => { });
        var times = new List<double>();
        var clock = Stopwatch.StartNew();
        source.Frames().Do(frame =>
        {
            using (frame)
            {
                var start = Stopwatch.GetTimestamp();
                explainer.Explain(frame).Dispose();
                times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }).LastAsync().Wait();
        return (times.Count / clock.Elapsed.TotalSeconds, Median(times));
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
