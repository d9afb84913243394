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
return 0;

static string FindRepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "SaCam.Realtime.sln"))) return dir.FullName;
    return Directory.GetCurrentDirectory();
}
