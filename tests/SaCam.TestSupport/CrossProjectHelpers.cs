using System.Diagnostics;
using System.Text.Json;
using OpenCvSharp;
using SaCam.Core.Models;

namespace SaCam.Tests;

/// <summary>The built sacam program, for tests that run it as a child process.</summary>
public static class SacamBuild
{
    public static string Executable =>
        Path.Combine(SharedData.RepoRoot, "src", "SaCam.Cli", "bin", SharedData.BuildConfiguration, "net10.0", "linux-x64", "sacam");

    /// <summary>Polls <paramref name="condition"/> until it holds; fails naming the wait if the process ends first
    /// or <paramref name="seconds"/> pass (generous: a busy machine is slow, never wrong).</summary>
    public static void WaitFor(Func<bool> condition, CliProcess process, double seconds = 120)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (process.HasExited) Assert.Fail($"the run ended before the test could act: {process.Error}");
            if (clock.Elapsed.TotalSeconds > seconds) Assert.Fail($"waited {seconds} s in vain");
            Thread.Sleep(50);
        }
    }
}

/// <summary>Videos as a player reads them back.</summary>
public static class VideoFiles
{
    public static int CountDecodedFrames(string path)
    {
        using var capture = new VideoCapture(path);
        Assert.That(capture.IsOpened(), $"{path} opens");
        int n = 0;
        using var mat = new Mat();
        while (capture.Read(mat) && !mat.Empty()) n++;
        return n;
    }
}

/// <summary>The shared ImageNet MobileNetV2, loaded once per test assembly.</summary>
public static class SharedModels
{
    private static OnnxCnnModel? _mobileNetV2;
    public static OnnxCnnModel MobileNetV2 => _mobileNetV2 ??= OnnxCnnModel.Load(SharedData.MobileNetV2);
}

/// <summary>What the project itself ships and documents: media/ and the samples' README.</summary>
public static class ProjectMedia
{
    /// <summary>The car's box in each frame of media/street_clip.mp4, as the generator wrote it.</summary>
    public static Dictionary<long, (int X, int Y, int W, int H)> CarBoxes()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(SharedData.RepoRoot, "media", "street_clip.boxes.json")));
        return doc.RootElement.GetProperty("frames").EnumerateArray().ToDictionary(
            f => f.GetProperty("index").GetInt64(),
            f => { var b = f.GetProperty("box"); return (b[0].GetInt32(), b[1].GetInt32(), b[2].GetInt32(), b[3].GetInt32()); });
    }

    /// <summary>The arguments of the EngineClient command samples/README.md prints.</summary>
    public static List<string> DocumentedEngineClientArguments()
    {
        var readme = File.ReadAllText(Path.Combine(SharedData.RepoRoot, "samples", "README.md"));
        var command = System.Text.RegularExpressions.Regex.Match(readme, @"`dotnet run --project samples/EngineClient -- ([^`]+)`");
        Assert.That(command.Success, "samples/README.md prints the EngineClient command");
        return [.. command.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
    }
}

/// <summary>The project's model cards for the shared segmenter and detector (docs/model-cards), written into a test's
/// folder with their labels file pointed at ../shared wherever that is (the cards in docs name it relative to a checkout
/// beside ../shared).</summary>
public static class SharedModelCards
{
    public static string Write(string dir, string model, double? scoreThreshold = null)
    {
        var card = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(SharedData.RepoRoot, "docs", "model-cards", model + ".card.json")))!.AsObject();
        string labels = Path.GetFileName(card["labels_file"]!.GetValue<string>());
        card["labels_file"] = SharedData.Path_("models", labels);
        if (scoreThreshold is double t) card["detection"]!["score_threshold"] = t;
        var path = Path.Combine(dir, model + ".card.json");
        File.WriteAllText(path, card.ToJsonString());
        return path;
    }

    public static string Model(string model) => SharedData.Path_("models", model + ".onnx");

    /// <summary>Frame <paramref name="index"/> of a shared driving clip, BGR.</summary>
    public static Mat DrivingFrame(string clip, int index)
    {
        using var capture = new VideoCapture(SharedData.Path_("media", "driving", clip));
        var frame = new Mat();
        for (int i = 0; i <= index; i++)
            if (!capture.Read(frame) || frame.Empty()) throw new InvalidOperationException($"{clip} has no frame {index}");
        return frame;
    }
}
