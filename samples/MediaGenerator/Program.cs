using OpenCvSharp;
using SaCam.Samples.MediaGenerator;

// Usage: MediaGenerator [OUTPUT_DIR]   (default: the repository's media/ folder)
var output = args.Length > 0 ? args[0] : Path.Combine(FindRepoRoot(), "media");
Directory.CreateDirectory(output);
using (var scene = StreetScene.Draw(new Size(640, 360), carOffset: 0))
{
    var path = Path.Combine(output, "street_scene.png");
    Cv2.ImWrite(path, scene);
    Console.WriteLine($"wrote {path}");
}
// The demo clip: the car drifts across the lane over 48 frames (12 fps, 4 s), mp4v.
var clipPath = Path.Combine(output, "street_clip.mp4");
using (var writer = new VideoWriter(clipPath, FourCC.MP4V, 12, new Size(640, 360)))
{
    if (!writer.IsOpened()) throw new IOException($"cannot write {clipPath}");
    for (int i = 0; i < 48; i++)
    {
        using var frame = StreetScene.Draw(new Size(640, 360), carOffset: (int)(120 * Math.Sin(i * Math.PI / 24)));
        writer.Write(frame);
    }
}
Console.WriteLine($"wrote {clipPath}");
return 0;

static string FindRepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "SaCam.Realtime.sln"))) return dir.FullName;
    return Directory.GetCurrentDirectory();
}
