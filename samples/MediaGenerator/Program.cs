using System.Text.Json;
using OpenCvSharp;
using SaCam.Samples.MediaGenerator;

// Usage: MediaGenerator [OUTPUT_DIR]   (default: the repository's media/ folder)
var output = args.Length > 0 ? args[0] : Path.Combine(FindRepoRoot(), "media");
Directory.CreateDirectory(output);
using (var scene = StreetScene.Draw(StreetScene.ClipSize, carOffset: 0))
    Write(Path.Combine(output, "street_scene.png"), scene);
// The demo's subject, as an exemplar image for `--target exemplar:media/street_car.png`.
using (var car = StreetScene.CarExemplar())
    Write(Path.Combine(output, "street_car.png"), car);

// The demo clip: the car drifts across the lane over 48 frames (12 fps, 4 s), mp4v; and where the car is in each.
var clipPath = Path.Combine(output, "street_clip.mp4");
var boxes = new List<object>();
using (var writer = new VideoWriter(clipPath, FourCC.MP4V, StreetScene.ClipFps, StreetScene.ClipSize))
{
    if (!writer.IsOpened()) throw new IOException($"cannot write {clipPath}");
    for (int i = 0; i < StreetScene.ClipFrames; i++)
    {
        int offset = StreetScene.CarOffset(i);
        using var frame = StreetScene.Draw(StreetScene.ClipSize, offset);
        writer.Write(frame);
        var b = StreetScene.CarBox(StreetScene.ClipSize, offset);
        boxes.Add(new { index = i, box = new[] { b.X, b.Y, b.Width, b.Height } });
    }
}
Console.WriteLine($"wrote {clipPath}");
var boxesPath = Path.Combine(output, "street_clip.boxes.json");
File.WriteAllText(boxesPath, JsonSerializer.Serialize(new
{
    video = "street_clip.mp4", width = StreetScene.ClipSize.Width, height = StreetScene.ClipSize.Height,
    subject = "car", exemplar = "street_car.png", frames = boxes,
}, new JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine($"wrote {boxesPath}");
return 0;

static void Write(string path, Mat image)
{
    if (!Cv2.ImWrite(path, image)) throw new IOException($"cannot write {path}");
    Console.WriteLine($"wrote {path}");
}

static string FindRepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "SaCam.Realtime.sln"))) return dir.FullName;
    return Directory.GetCurrentDirectory();
}
