using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using OpenCvSharp;
using SaCam.Client;
using SaCam.Unity.Editor;
using SaCam.Unity.Samples;
using UnityEditor;
using UnityEditor.Build.Reporting;
using UnityEngine;
using Debug = UnityEngine.Debug;

namespace SaCam.Unity.Tests;

/// <summary>
/// The package's SaCamOverlay, compiled as Unity compiles it, in a fake engine loop (Start once, then one Update per
/// engine frame at ~120 fps, a camera frame each time) against a real `sacam serve` child. Update must never wait,
/// must allocate nothing once running, and the map must come back the right way up: on the car the project's clip
/// shows. The model is the embedded default with the car exemplar as its target, so this runs on a fresh clone.
/// </summary>
[NonParallelizable]
public class FakeEngineLoopTests
{
    private const int Width = 640, Height = 360;

    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SaCam.Realtime.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("repository root (SaCam.Realtime.sln) not found above " + AppContext.BaseDirectory);
    }

#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static string Sacam => Path.Combine(RepoRoot(), "src", "SaCam.Cli", "bin", Configuration, "net10.0", "linux-x64", "sacam");

    /// <summary>Calls a MonoBehaviour message the way Unity does: by name, whatever its visibility.</summary>
    private static void Send(MonoBehaviour behaviour, string message) =>
        behaviour.GetType().GetMethod(message, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)?.Invoke(behaviour, null);

    private static readonly Lazy<List<Color32[]>> Clip = new(() => ClipFrames(12));

    /// <summary>Frames of the project's own clip as a Unity camera delivers them: Color32, rows bottom to top.</summary>
    private static List<Color32[]> ClipFrames(int count)
    {
        var clip = Path.Combine(RepoRoot(), "media", "street_clip.mp4");
        using var capture = new VideoCapture(clip);
        Assert.That(capture.IsOpened(), $"cannot open {clip}");
        var frames = new List<Color32[]>();
        using var bgr = new Mat();
        while (frames.Count < count && capture.Read(bgr) && !bgr.Empty())
        {
            using var flipped = bgr.Flip(FlipMode.X); // bottom row first
            using var rgba = flipped.CvtColor(ColorConversionCodes.BGR2RGBA);
            var bytes = new byte[Width * Height * 4];
            System.Runtime.InteropServices.Marshal.Copy(rgba.Data, bytes, 0, bytes.Length);
            frames.Add(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Color32>(bytes).ToArray());
        }
        return frames;
    }

    private static Dictionary<long, (int X, int Y, int W, int H)> CarBoxes()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoRoot(), "media", "street_clip.boxes.json")));
        return doc.RootElement.GetProperty("frames").EnumerateArray().ToDictionary(
            f => f.GetProperty("index").GetInt64(),
            f => { var b = f.GetProperty("box"); return (b[0].GetInt32(), b[1].GetInt32(), b[2].GetInt32(), b[3].GetInt32()); });
    }

    /// <summary>An overlay set up as a scene would have it, with the server this build made, explaining the car
    /// exemplar with Grad-CAM (configured in code through <see cref="SaCamOverlay.Client"/>).</summary>
    private static (SaCamOverlay Overlay, WebCamTexture Camera) NewOverlay(Action<SaCamClientOptions>? configure = null)
    {
        if (!File.Exists(Sacam)) Assert.Fail($"{Sacam} is missing: build the solution.");
        var camera = new WebCamTexture();
        camera.Play();
        var overlay = new SaCamOverlay { serverPath = Sacam, model = "default", method = "gradcam", display = new Renderer(), CameraTexture = camera };
        var options = overlay.ClientOptions();
        options.ServerArguments = [.. options.ServerArguments, "--target", "exemplar:" + Path.Combine(RepoRoot(), "media", "street_car.png")];
        options.IdleExitSeconds = 20;
        options.MaxWidth = Width;
        options.MaxHeight = Height;
        options.StartTimeout = TimeSpan.FromSeconds(90);
        configure?.Invoke(options);
        overlay.Client = new SaCamClient(options);
        Send(overlay, "Start");
        return (overlay, camera);
    }

    /// <summary>Unity's Time.time runs from the start of the game, across every loop of these tests.</summary>
    private static readonly Stopwatch EngineClock = Stopwatch.StartNew();

    private sealed record LoopReport(List<double> UpdateMs, List<long> UpdateBytes, int EngineFrames);

    /// <summary>Runs the engine: each frame delivers a camera frame, calls Update, then sleeps to ~120 fps.</summary>
    private static LoopReport RunLoop(SaCamOverlay overlay, WebCamTexture camera, Func<int, Color32[]> frameAt, Func<bool> done, TimeSpan limit, Action<int>? afterUpdate = null)
    {
        var updates = new List<double>(20000);
        var bytes = new List<long>(20000);
        var clock = Stopwatch.StartNew();
        int frame = 0;
        // At least one engine frame; a failed client ends the loop (its reason is in StatusText).
        while (frame == 0 || (!done() && overlay.State != ClientState.Failed && clock.Elapsed < limit))
        {
            camera.Deliver(frameAt(frame), Width, Height);
            long before = GC.GetAllocatedBytesForCurrentThread();
            long start = Stopwatch.GetTimestamp();
            Send(overlay, "Update");
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            updates.Add(ms);
            bytes.Add(allocated);
            afterUpdate?.Invoke(frame);
            Time.time = (float)EngineClock.Elapsed.TotalSeconds;
            frame++;
            Thread.Sleep(8);
        }
        return new LoopReport(updates, bytes, frame);
    }

    [Test]
    public void Update_never_waits_and_the_map_lands_on_the_car_the_right_way_up()
    {
        var (overlay, camera) = NewOverlay();
        var boxes = CarBoxes();
        int onTheCar = 0, checkedMaps = 0;
        long lastShown = 0;
        // Each frame index is delivered for a while, so that the result that comes back is for that frame.
        var report = RunLoop(overlay, camera, f => Clip.Value[f / 60 % Clip.Value.Count], () => checkedMaps >= 8, TimeSpan.FromSeconds(120), f =>
        {
            if (overlay.MapsShown == lastShown || f % 60 < 40) return;
            lastShown = overlay.MapsShown;
            var map = overlay.MapTexture!;
            var material = overlay.display!.material;
            // Where the shader would put the map's peak: through the rects set on the material.
            var pixels = map.Pixels;
            int best = Array.IndexOf(pixels, pixels.Max());
            float mu = (best % map.width + 0.5f) / map.width, mv = (best / map.width + 0.5f) / map.height; // row 0 = top, as uploaded
            var source = material.GetVector(SaCamShaderIds.Source);
            var target = material.GetVector(SaCamShaderIds.Target);
            float fx = (source.x + (mu - target.x) / target.z * source.z) * Width, fy = (source.y + (mv - target.y) / target.w * source.w) * Height;
            var (x, y, w, h) = boxes[f / 60 % Clip.Value.Count];
            if (fx >= x && fx <= x + w && fy >= y && fy <= y + h) onTheCar++;
            checkedMaps++;
        });
        var sorted = report.UpdateMs.Order().ToList();
        TestContext.Out.WriteLine($"{report.EngineFrames} engine frames, {overlay.MapsShown} maps; Update median {sorted[sorted.Count / 2]:F3} ms, p99 {sorted[(int)(0.99 * (sorted.Count - 1))]:F3} ms, max {sorted[^1]:F1} ms; {onTheCar} of {checkedMaps} on the car");
        Assert.Multiple(() =>
        {
            Assert.That(overlay.State, Is.EqualTo(ClientState.Ready), overlay.StatusText);
            Assert.That(checkedMaps, Is.GreaterThanOrEqualTo(8), "maps arrived");
            Assert.That(onTheCar, Is.GreaterThanOrEqualTo(checkedMaps * 3 / 4), "the map's peak lies on the car");
            // Update copies a 640x360 camera frame twice (GetPixels32, then into shared memory): ~0.1-0.3 ms here,
            // up to ~2.5 ms at p99 with the test suites of other projects running on the same 2 cores. Waiting on the
            // explainer even once would cost tens of ms.
            Assert.That(sorted[sorted.Count / 2], Is.LessThan(1), "Update's median under 1 ms");
            Assert.That(sorted[(int)(0.99 * (sorted.Count - 1))], Is.LessThan(5), "Update's p99 under 5 ms");
            Assert.That(overlay.MapTexture!.Applies, Is.EqualTo(overlay.MapsShown), "one upload per new result, none per frame");
            Assert.That(overlay.display!.material.GetTexture(SaCamShaderIds.Map), Is.SameAs(overlay.MapTexture));
            Assert.That(overlay.display.material.mainTexture, Is.SameAs(camera));
        });
        var stop = Stopwatch.StartNew();
        Send(overlay, "OnDestroy");
        Assert.That(stop.ElapsedMilliseconds, Is.LessThan(200), "the component stops within 200 ms");
        Assert.That(overlay.Client, Is.Not.Null.And.Property("State").EqualTo(ClientState.Stopped));
    }

    [Test]
    public void Update_allocates_nothing_once_running()
    {
        var (overlay, camera) = NewOverlay();
        var frame = Clip.Value[0];
        // Warm up: the first maps size the texture and pin the arrays, and the client learns the class's label.
        RunLoop(overlay, camera, _ => frame, () => overlay.MapsShown >= 3, TimeSpan.FromSeconds(120));
        Assert.That(overlay.MapsShown, Is.GreaterThanOrEqualTo(3), overlay.StatusText);
        long warm = overlay.MapsShown;
        var steady = RunLoop(overlay, camera, _ => frame, () => overlay.MapsShown >= warm + 5, TimeSpan.FromSeconds(60));
        TestContext.Out.WriteLine($"{steady.EngineFrames} Updates, {overlay.MapsShown - warm} maps uploaded, {steady.UpdateBytes.Sum()} bytes allocated");
        Assert.That(overlay.MapsShown - warm, Is.GreaterThanOrEqualTo(5), "maps kept arriving");
        Assert.That(steady.UpdateBytes.Sum(), Is.Zero, "no Update allocated, maps arriving meanwhile");
        Send(overlay, "OnDestroy");
    }

    [Test]
    public void A_script_reload_stops_every_overlay_within_200_ms_and_the_editor_keeps_the_server_for_the_next_play()
    {
        string project = Directory.CreateTempSubdirectory("sacam-unity-").FullName;
        Application.isEditor = true;
        Application.dataPath = Path.Combine(project, "Assets");
        _ = typeof(SaCamReloadGuard).TypeHandle;
        System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(SaCamReloadGuard).TypeHandle); // [InitializeOnLoad]
        int serverPid = 0;
        try
        {
            var (first, camera) = NewOverlay();
            var clock = Stopwatch.StartNew();
            RunLoop(first, camera, _ => Clip.Value[0], () => first.MapsShown >= 1, TimeSpan.FromSeconds(120));
            var firstReady = clock.Elapsed;
            serverPid = first.Client!.ServerProcessId;
            Assert.That(serverPid, Is.GreaterThan(0));

            var stop = Stopwatch.StartNew();
            AssemblyReloadEvents.RaiseBeforeAssemblyReload();
            Assert.That(stop.ElapsedMilliseconds, Is.LessThan(200), "stopped within 200 ms before the reload");
            Assert.That(first.Client.State, Is.EqualTo(ClientState.Stopped));
            Assert.That(Process.GetProcessById(serverPid).HasExited, Is.False, "the server (and its model) stays up in the Editor");

            // The next Play session: a new component finds the running server through Library/SaCam.
            var (second, camera2) = NewOverlay();
            clock.Restart();
            RunLoop(second, camera2, _ => Clip.Value[0], () => second.MapsShown >= 1, TimeSpan.FromSeconds(120));
            TestContext.Out.WriteLine($"first map {firstReady.TotalSeconds:F1} s after Start (server start, model load); after the reload {clock.Elapsed.TotalSeconds:F1} s");
            Assert.That(second.MapsShown, Is.GreaterThanOrEqualTo(1), second.StatusText);
            Assert.That(second.Client!.ServerProcessId, Is.Zero, "attached, not started");
            Assert.That(Directory.GetFiles(Path.Combine(project, "Library", "SaCam")), Has.Length.EqualTo(1));
            Send(second, "OnDestroy");
        }
        finally
        {
            Application.isEditor = false;
            if (serverPid > 0) try { Process.GetProcessById(serverPid).Kill(); } catch (ArgumentException) { }
        }
    }

    [Test]
    public void A_missing_server_is_a_state_with_the_path_and_Update_goes_on()
    {
        var camera = new WebCamTexture();
        camera.Play();
        string missing = Path.Combine(Path.GetTempPath(), "no-such-folder", "sacam");
        var overlay = new SaCamOverlay { serverPath = missing, CameraTexture = camera };
        Send(overlay, "Start");
        Debug.Logged.Clear();
        var report = RunLoop(overlay, camera, _ => Clip.Value[0], () => false, TimeSpan.FromSeconds(10));
        Assert.That(overlay.StatusText, Does.StartWith("failed: ").And.Contain(missing));
        Assert.That(report.UpdateMs.Max(), Is.LessThan(20));
        var clock = Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < 200) Send(overlay, "Update");
        Assert.That(Debug.Logged.Count(l => l.StartsWith("error: SaCam")), Is.EqualTo(1), "the failure is logged once");
        Send(overlay, "OnDestroy");
    }

    [Test]
    public void The_sample_logs_the_state_and_what_the_model_sees_once_a_second()
    {
        var (overlay, camera) = NewOverlay();
        var demo = new WebcamOverlayDemo { overlay = overlay };
        Debug.Logged.Clear();
        RunLoop(overlay, camera, _ => Clip.Value[0], () => overlay.MapsShown >= 1, TimeSpan.FromSeconds(120), _ => Send(demo, "Update"));
        var clock = Stopwatch.StartNew();
        RunLoop(overlay, camera, _ => Clip.Value[0], () => clock.Elapsed > TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(5), _ => Send(demo, "Update"));
        Send(overlay, "OnDestroy");
        List<string> logged;
        lock (Debug.Logged) logged = [.. Debug.Logged];
        Assert.That(logged, Does.Contain("SaCam: ready"));
        Assert.That(logged.Count(l => l.Contains("maps shown")), Is.InRange(3, 4), string.Join("\n", logged));
    }

    [Test]
    public void The_build_postprocessor_places_the_server_beside_a_standalone_player()
    {
        string root = Directory.CreateTempSubdirectory("sacam-build-").FullName;
        string publish = Path.Combine(root, "publish");
        Directory.CreateDirectory(Path.Combine(publish, "runtimes"));
        File.WriteAllText(Path.Combine(publish, "sacam"), "server");
        File.WriteAllText(Path.Combine(publish, "runtimes", "libtorch.so"), "native");
        string player = Path.Combine(root, "Build", "Game.x86_64");
        Environment.SetEnvironmentVariable(SaCamBuildPostprocessor.Variable, publish);
        try
        {
            new SaCamBuildPostprocessor().OnPostprocessBuild(new BuildReport { summary = new BuildSummary { platform = BuildTarget.StandaloneLinux64, outputPath = player } });
            Assert.That(File.ReadAllText(Path.Combine(root, "Build", "sacam", "sacam")), Is.EqualTo("server"));
            Assert.That(File.Exists(Path.Combine(root, "Build", "sacam", "runtimes", "libtorch.so")));
            // And the player finds it there.
            Application.dataPath = Path.Combine(root, "Build", "Game_Data");
            Environment.SetEnvironmentVariable(SaCamServerLocator.Variable, null);
            Assert.That(SaCamServerLocator.Find(""), Is.EqualTo(Path.Combine(root, "Build", "sacam", "sacam")));
        }
        finally
        {
            Environment.SetEnvironmentVariable(SaCamBuildPostprocessor.Variable, null);
        }
    }
}

/// <summary>The package as Unity reads it: a .meta beside every asset and folder, unique GUIDs, asmdefs that say what
/// they hold, a package.json that names its sample and documentation.</summary>
public class PackageLayoutTests
{
    private static string Package => Path.Combine(FakeEngineLoopTests.RepoRoot(), "plugins", "com.sacam.realtime");

    /// <summary>Unity imports everything except hidden folders and those ending in ~ (samples, documentation).</summary>
    private static IEnumerable<string> ImportedEntries(string dir)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir))
        {
            var name = Path.GetFileName(entry);
            if (name.StartsWith('.') || name.EndsWith('~') || name.EndsWith(".meta", StringComparison.Ordinal)) continue;
            yield return entry;
            if (Directory.Exists(entry)) foreach (var inner in ImportedEntries(entry)) yield return inner;
        }
    }

    [Test]
    public void Every_imported_file_and_folder_has_a_meta_with_a_unique_guid()
    {
        var guids = new Dictionary<string, string>();
        foreach (var entry in ImportedEntries(Package))
        {
            var meta = entry + ".meta";
            Assert.That(File.Exists(meta), Is.True, $"{Path.GetRelativePath(Package, entry)} has no .meta: Unity would ignore it in an immutable package");
            var guid = File.ReadLines(meta).Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("guid: ", StringComparison.Ordinal))?[6..];
            Assert.That(guid, Does.Match("^[0-9a-f]{32}$"), meta);
            Assert.That(guids.TryAdd(guid!, entry), Is.True, $"{meta} repeats the GUID of {guids.GetValueOrDefault(guid!)}");
        }
        Assert.That(guids, Has.Count.GreaterThan(10));
        foreach (var meta in Directory.EnumerateFiles(Package, "*.meta", SearchOption.AllDirectories))
            Assert.That(File.Exists(meta[..^5]) || Directory.Exists(meta[..^5]), $"{meta} describes nothing");
    }

    [Test]
    public void The_asmdefs_split_client_runtime_and_editor_and_the_package_json_names_sample_and_docs()
    {
        JsonElement Read(string relative) => JsonDocument.Parse(File.ReadAllText(Path.Combine(Package, relative))).RootElement;
        var client = Read("Runtime/Client/SaCam.Client.asmdef");
        Assert.That(client.GetProperty("noEngineReferences").GetBoolean(), Is.True, "the client needs no UnityEngine");
        Assert.That(client.GetProperty("allowUnsafeCode").GetBoolean(), Is.True);
        var runtime = Read("Runtime/SaCam.Realtime.Unity.asmdef");
        Assert.That(runtime.GetProperty("references").EnumerateArray().Select(r => r.GetString()), Is.EqualTo(new[] { "SaCam.Client" }));
        Assert.That(runtime.GetProperty("precompiledReferences").GetArrayLength(), Is.Zero, "no net10 assemblies in the package");
        var editor = Read("Editor/SaCam.Realtime.Unity.Editor.asmdef");
        Assert.That(editor.GetProperty("includePlatforms").EnumerateArray().Select(r => r.GetString()), Is.EqualTo(new[] { "Editor" }));
        var package = Read("package.json");
        Assert.That(package.GetProperty("unity").GetString(), Is.EqualTo("2022.3"));
        var sample = package.GetProperty("samples")[0].GetProperty("path").GetString()!;
        Assert.That(Directory.Exists(Path.Combine(Package, sample)), sample);
        Assert.That(File.Exists(Path.Combine(Package, "Documentation~", "index.md")));
        Assert.That(File.ReadAllText(Path.Combine(Package, "Runtime", "Shaders", "SaCamOverlay.shader")), Does.Contain("Shader \"SaCam/Overlay\"").And.Contain("_SaCamMap"));
    }
}

