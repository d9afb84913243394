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
using UnityEngine.Rendering;
using Debug = UnityEngine.Debug;

namespace SaCam.Unity.Tests;

/// <summary>
/// The package's SaCamOverlay, compiled as Unity compiles it, in a fake engine loop (Start once, then one Update per
/// engine frame at ~120 fps, a camera frame each time) against a real `sacam serve` child. Update must never wait,
/// must allocate nothing once running, and the map must come back the right way up: on the car the project's clip
/// shows. The model is the embedded default with the car exemplar as its target, so this runs on a fresh clone.
/// The source is a webcam, or a game camera's RenderTexture or a Texture2D read back from the (stand-in) GPU. What is
/// asserted holds on a busy machine: counts of maps asked for and where they land, never what arrives in a time window.
/// </summary>
[NonParallelizable]
public class FakeEngineLoopTests
{
    private const int Width = 640, Height = 360;

    /// <summary>How long the maps a test asks for may take on a busy machine (server start and model load included).</summary>
    private static readonly TimeSpan MapsLimit = TimeSpan.FromMinutes(4);

    /// <summary>The most one Update may take and still count as not having waited: waiting for the server would cost
    /// an explanation or a heartbeat timeout (3 s); a busy machine's preemption costs milliseconds.</summary>
    private static readonly TimeSpan NeverWaited = TimeSpan.FromSeconds(1);

    /// <summary>The most a stop may take: the client waits 200 ms for its thread, and a busy machine adds its own delay.</summary>
    private static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(1);

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
    private static (SaCamOverlay Overlay, WebCamTexture Camera) NewOverlay(Action<SaCamClientOptions>? configure = null, Texture? source = null)
    {
        if (!File.Exists(Sacam)) Assert.Fail($"{Sacam} is missing: build the solution.");
        var camera = new WebCamTexture();
        camera.Play();
        var overlay = new SaCamOverlay { serverPath = Sacam, model = "default", method = "gradcam", display = new Renderer(), source = source ?? camera };
        var options = overlay.ClientOptions();
        options.ServerArguments = [.. options.ServerArguments, "--target", "exemplar:" + Path.Combine(RepoRoot(), "media", "street_car.png")];
        options.IdleExitSeconds = 20;
        options.MaxWidth = Width;
        options.MaxHeight = Height;
        options.StartTimeout = MapsLimit; // server start and model load, on a busy machine
        configure?.Invoke(options);
        overlay.Client = new SaCamClient(options);
        Send(overlay, "Start");
        return (overlay, camera);
    }

    /// <summary>Unity's Time.time runs from the start of the game, across every loop of these tests.</summary>
    private static readonly Stopwatch EngineClock = Stopwatch.StartNew();

    private sealed record LoopReport(List<double> UpdateMs, List<long> UpdateBytes, int EngineFrames);

    /// <summary>Runs the engine: each frame delivers a camera frame, calls Update, then sleeps to ~120 fps.</summary>
    private static LoopReport RunLoop(SaCamOverlay overlay, WebCamTexture camera, Func<int, Color32[]> frameAt, Func<bool> done, TimeSpan limit, Action<int>? afterUpdate = null,
        Func<int, float>? engineTime = null) =>
        RunLoop(overlay, f => camera.Deliver(frameAt(f), Width, Height), done, limit, afterUpdate, engineTime);

    /// <summary>Runs the engine: each frame runs <paramref name="engineFrame"/> (a camera frame delivered, a render, the
    /// GPU's finished read-backs), calls Update, then sleeps to ~120 fps. Time.time follows the wall clock, or
    /// <paramref name="engineTime"/> of the frame number.</summary>
    private static LoopReport RunLoop(SaCamOverlay overlay, Action<int> engineFrame, Func<bool> done, TimeSpan limit, Action<int>? afterUpdate = null,
        Func<int, float>? engineTime = null)
    {
        var updates = new List<double>(20000);
        var bytes = new List<long>(20000);
        var clock = Stopwatch.StartNew();
        int frame = 0;
        // At least one engine frame; a failed client ends the loop (its reason is in StatusText).
        while (frame == 0 || (!done() && overlay.State != ClientState.Failed && clock.Elapsed < limit))
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            engineFrame(frame);
            long start = Stopwatch.GetTimestamp();
            Send(overlay, "Update");
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            updates.Add(ms);
            bytes.Add(allocated);
            afterUpdate?.Invoke(frame);
            Time.time = engineTime?.Invoke(frame) ?? (float)EngineClock.Elapsed.TotalSeconds;
            frame++;
            Thread.Sleep(8);
        }
        return new LoopReport(updates, bytes, frame);
    }

    /// <summary>Where the shader would put the map's peak, in frame pixels: through the rects set on the material.</summary>
    private static (float X, float Y) PeakInFrame(SaCamOverlay overlay)
    {
        var map = overlay.MapTexture!;
        var material = overlay.display!.material;
        var pixels = map.Pixels;
        int best = Array.IndexOf(pixels, pixels.Max());
        float mu = (best % map.width + 0.5f) / map.width, mv = (best / map.width + 0.5f) / map.height; // row 0 = top, as uploaded
        var source = material.GetVector(SaCamShaderIds.Source);
        var target = material.GetVector(SaCamShaderIds.Target);
        return ((source.x + (mu - target.x) / target.z * source.z) * Width, (source.y + (mv - target.y) / target.w * source.w) * Height);
    }

    private static bool Inside((float X, float Y) p, (int X, int Y, int W, int H) box) => p.X >= box.X && p.X <= box.X + box.W && p.Y >= box.Y && p.Y <= box.Y + box.H;

    /// <summary>Update's time and the engine frames it took per map, and that no Update waited.</summary>
    private static void AssertNeverWaited(LoopReport report, SaCamOverlay overlay, long maps)
    {
        var sorted = report.UpdateMs.Order().ToList();
        TestContext.Out.WriteLine($"{report.EngineFrames} engine frames, {maps} maps; Update median {sorted[sorted.Count / 2]:F3} ms, p99 {sorted[(int)(0.99 * (sorted.Count - 1))]:F3} ms, max {sorted[^1]:F1} ms");
        // Update copies a 640x360 frame twice: a fraction of a millisecond on a quiet machine (printed above); what
        // does not depend on the machine is that it never waited for the server, so the engine ran on between maps.
        Assert.That(sorted[^1], Is.LessThan(NeverWaited.TotalMilliseconds), "no Update waited for the server");
        // An Update that waited for a result would bring a new map every time; one that does not finds none in most.
        Assert.That(report.EngineFrames, Is.GreaterThan(maps), "Updates that found no new map: the engine ran on between maps");
    }

    [Test]
    public void Update_never_waits_and_the_map_lands_on_the_car_the_right_way_up()
    {
        var (overlay, camera) = NewOverlay();
        var boxes = CarBoxes();
        int onTheCar = 0, checkedMaps = 0;
        long lastShown = 0, lastSubmitted = 0;
        // The client numbers the frames it accepts 1, 2, ...: which clip frame each number carried, so that each map is
        // checked against the frame it explains however late it comes back.
        var clipFrameOf = new Dictionary<long, int>();
        var report = RunLoop(overlay, camera, f => Clip.Value[f / 60 % Clip.Value.Count], () => checkedMaps >= 8, MapsLimit, f =>
        {
            long submitted = overlay.Client!.Stats.Submitted;
            if (submitted != lastSubmitted) clipFrameOf[lastSubmitted = submitted] = f / 60 % Clip.Value.Count;
            if (overlay.MapsShown == lastShown) return;
            lastShown = overlay.MapsShown;
            if (Inside(PeakInFrame(overlay), boxes[clipFrameOf[overlay.Latest.FrameId]])) onTheCar++;
            checkedMaps++;
        });
        TestContext.Out.WriteLine($"{onTheCar} of {checkedMaps} on the car");
        Assert.Multiple(() =>
        {
            Assert.That(overlay.State, Is.EqualTo(ClientState.Ready), overlay.StatusText);
            Assert.That(checkedMaps, Is.GreaterThanOrEqualTo(8), "maps arrived");
            Assert.That(onTheCar, Is.GreaterThanOrEqualTo(checkedMaps * 3 / 4), "the map's peak lies on the car");
            AssertNeverWaited(report, overlay, overlay.MapsShown);
            Assert.That(overlay.MapTexture!.Applies, Is.EqualTo(overlay.MapsShown), "one upload per new result, none per frame");
            Assert.That(overlay.display!.material.GetTexture(SaCamShaderIds.Map), Is.SameAs(overlay.MapTexture));
            Assert.That(overlay.display.material.mainTexture, Is.SameAs(camera));
        });
        var stop = Stopwatch.StartNew();
        Send(overlay, "OnDestroy");
        Assert.That(stop.Elapsed, Is.LessThan(StopLimit), "the component stops at once (the client waits 200 ms for its thread)");
        Assert.That(overlay.Client, Is.Not.Null.And.Property("State").EqualTo(ClientState.Stopped));
    }

    /// <summary>
    /// A game camera's view: the scene renders into a RenderTexture every engine frame, and the overlay reads it back
    /// with AsyncGPUReadback (its callback a frame later, as on a GPU): the maps land on the car, Update never waits
    /// for the server or the GPU, one read-back is in flight at a time, and nothing is allocated once running.
    /// </summary>
    [Test]
    public void A_game_cameras_render_texture_is_read_back_and_explained_without_waiting_or_allocating()
    {
        var target = new RenderTexture(Width, Height, 24);
        var (overlay, _) = NewOverlay(source: target);
        var box = CarBoxes()[0];
        int onTheCar = 0, checkedMaps = 0, mostPending = 0;
        long lastShown = 0;
        void EngineFrame(int f)
        {
            AsyncGPUReadback.CompletePending(); // the GPU finished last frame's copy; its callback runs in this frame
            target.Render(Clip.Value[0]);        // the game camera renders the scene
        }
        void AfterUpdate(int f)
        {
            mostPending = Math.Max(mostPending, AsyncGPUReadback.PendingCount);
            if (overlay.MapsShown == lastShown) return;
            lastShown = overlay.MapsShown;
            if (Inside(PeakInFrame(overlay), box)) onTheCar++;
            checkedMaps++;
        }
        var warm = RunLoop(overlay, EngineFrame, () => checkedMaps >= 3, MapsLimit, AfterUpdate);
        Assert.That(checkedMaps, Is.GreaterThanOrEqualTo(3), overlay.StatusText);
        long warmMaps = overlay.MapsShown;
        var steady = RunLoop(overlay, EngineFrame, () => overlay.MapsShown >= warmMaps + 5, MapsLimit, AfterUpdate);
        Assert.Multiple(() =>
        {
            Assert.That(overlay.MapsShown - warmMaps, Is.GreaterThanOrEqualTo(5), "maps kept arriving: " + overlay.StatusText);
            Assert.That(onTheCar, Is.GreaterThanOrEqualTo(checkedMaps * 3 / 4), $"the map's peak lies on the car ({onTheCar} of {checkedMaps})");
            Assert.That(mostPending, Is.EqualTo(1), "one read-back in flight at a time");
            AssertNeverWaited(steady, overlay, overlay.MapsShown - warmMaps);
            Assert.That(steady.UpdateBytes.Sum(), Is.Zero, "no engine frame allocated (Update and the read-back callbacks), maps arriving meanwhile");
            Assert.That(overlay.display!.material.mainTexture, Is.SameAs(target), "the map is blended over what the camera rendered");
            Assert.That(overlay.SourceTexture, Is.SameAs(target));
            Assert.That(overlay.CameraTexture, Is.Null, "no webcam was opened");
        });
        Send(overlay, "OnDestroy");
        AsyncGPUReadback.CompletePending(); // a read-back that lands after the stop is dropped, not submitted
        Assert.That(overlay.Client!.State, Is.EqualTo(ClientState.Stopped));
    }

    /// <summary>A Texture2D (a picture, a texture a simulation writes) is a source too: read back the same way.</summary>
    [Test]
    public void A_texture2d_is_read_back_and_explained()
    {
        var picture = new Texture2D(Width, Height, TextureFormat.RGBA32, false);
        picture.LoadRawTextureData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(Clip.Value[0].AsSpan()).ToArray()); // rows bottom to top
        picture.Apply(false);
        var (overlay, _) = NewOverlay(source: picture);
        var box = CarBoxes()[0];
        int onTheCar = 0, checkedMaps = 0;
        long lastShown = 0;
        RunLoop(overlay, _ => AsyncGPUReadback.CompletePending(), () => checkedMaps >= 4, MapsLimit, _ =>
        {
            if (overlay.MapsShown == lastShown) return;
            lastShown = overlay.MapsShown;
            if (Inside(PeakInFrame(overlay), box)) onTheCar++;
            checkedMaps++;
        });
        Assert.That(checkedMaps, Is.GreaterThanOrEqualTo(4), overlay.StatusText);
        Assert.That(onTheCar, Is.GreaterThanOrEqualTo(checkedMaps * 3 / 4), $"the map's peak lies on the car ({onTheCar} of {checkedMaps})");
        Send(overlay, "OnDestroy");
        AsyncGPUReadback.CompletePending();
    }

    /// <summary>Where the GPU cannot read back (WebGL, OpenGL ES 2), a RenderTexture source is one logged error naming
    /// the way out, and Update goes on.</summary>
    [Test]
    public void Without_async_gpu_readback_a_texture_source_is_one_logged_error()
    {
        var target = new RenderTexture(Width, Height, 24);
        var (overlay, _) = NewOverlay(source: target);
        SystemInfo.supportsAsyncGPUReadback = false;
        try
        {
            Debug.Logged.Clear();
            RunLoop(overlay, f => target.Render(Clip.Value[0]), () => overlay.State == ClientState.Ready && Debug.Logged.Count > 0, MapsLimit);
            RunLoop(overlay, f => target.Render(Clip.Value[0]), () => false, TimeSpan.FromSeconds(1));
            List<string> logged;
            lock (Debug.Logged) logged = [.. Debug.Logged];
            Assert.That(logged.Count(l => l.Contains("AsyncGPUReadback")), Is.EqualTo(1), string.Join("\n", logged));
            Assert.That(AsyncGPUReadback.PendingCount, Is.Zero, "nothing was asked of the GPU");
            Assert.That(overlay.MapsShown, Is.Zero);
        }
        finally
        {
            SystemInfo.supportsAsyncGPUReadback = true;
            Send(overlay, "OnDestroy");
        }
    }

    [Test]
    public void Update_allocates_nothing_once_running()
    {
        var (overlay, camera) = NewOverlay();
        var frame = Clip.Value[0];
        // Warm up: the first maps size the texture and pin the arrays, and the client learns the class's label.
        RunLoop(overlay, camera, _ => frame, () => overlay.MapsShown >= 3, MapsLimit);
        Assert.That(overlay.MapsShown, Is.GreaterThanOrEqualTo(3), overlay.StatusText);
        long warm = overlay.MapsShown;
        var steady = RunLoop(overlay, camera, _ => frame, () => overlay.MapsShown >= warm + 5, MapsLimit);
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
            RunLoop(first, camera, _ => Clip.Value[0], () => first.MapsShown >= 1, MapsLimit);
            var firstReady = clock.Elapsed;
            serverPid = first.Client!.ServerProcessId;
            Assert.That(serverPid, Is.GreaterThan(0));

            var stop = Stopwatch.StartNew();
            AssemblyReloadEvents.RaiseBeforeAssemblyReload();
            Assert.That(stop.Elapsed, Is.LessThan(StopLimit), "stopped before the reload (the client waits 200 ms for its thread)");
            Assert.That(first.Client.State, Is.EqualTo(ClientState.Stopped));
            Assert.That(Process.GetProcessById(serverPid).HasExited, Is.False, "the server (and its model) stays up in the Editor");

            // The next Play session: a new component finds the running server through Library/SaCam.
            var (second, camera2) = NewOverlay();
            clock.Restart();
            RunLoop(second, camera2, _ => Clip.Value[0], () => second.MapsShown >= 1, MapsLimit);
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
        Assert.That(report.UpdateMs.Max(), Is.LessThan(NeverWaited.TotalMilliseconds), "no Update waited for the missing server");
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
        RunLoop(overlay, camera, _ => Clip.Value[0], () => overlay.MapsShown >= 1, MapsLimit, _ => Send(demo, "Update"));
        // 2.5 s of game time, 300 frames at 120 fps, whatever the wall clock does meanwhile: the sample logs by Time.time.
        float start = Time.time;
        int frames = 0;
        RunLoop(overlay, camera, _ => Clip.Value[0], () => ++frames > 300, MapsLimit, _ => Send(demo, "Update"), f => start + (f + 1) / 120f);
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

