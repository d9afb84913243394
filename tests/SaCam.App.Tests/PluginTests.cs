using SaCam.Core.Methods;
using SaCam.Core.Targets;
using SaCam.Evaluation;
using SaCam.Imaging;
using SaCam.Plugins;
using SaCam.Video;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;
using SaCam.Video.Sources;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>
/// The plugins of plugins/ are built by the solution into artifacts/plugins/CONFIG/NAME/ and loaded here through
/// PluginCatalog.Load, the path a user's plugin folder takes: own load context, contract check, registration.
/// </summary>
public class PluginTests : TempFolderTest
{
    private const string Configuration = SharedData.BuildConfiguration;
    public static string PluginFolder => Path.Combine(SharedData.RepoRoot, "artifacts", "plugins", Configuration);
    private static string TestPluginFolder => Path.Combine(SharedData.RepoRoot, "artifacts", "test-plugins", Configuration);

    private static PluginCatalog Catalog()
    {
        if (!Directory.Exists(PluginFolder)) Assert.Fail($"{PluginFolder} is missing: build the solution (the plugins build there).");
        return PluginCatalog.Load(PluginFolder);
    }

    [Test]
    public void The_solutions_plugins_load_in_their_own_context_and_say_what_they_add()
    {
        var catalog = Catalog();
        Assert.That(catalog.Plugins.Select(p => p.Name), Is.EquivalentTo(new[] { "EigenCAM", "CSV sink" }));
        Assert.That(catalog.Plugins.Single(p => p.Name == "EigenCAM").Added, Is.EqualTo(new[] { "method eigencam" }));
        Assert.That(catalog.Plugins.Single(p => p.Name == "CSV sink").Added, Is.EqualTo(new[] { "sink csv" }));
        var eigen = catalog.CreateMethod("eigencam");
        var context = System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(eigen.GetType().Assembly)!;
        Assert.Multiple(() =>
        {
            Assert.That(context, Is.Not.SameAs(System.Runtime.Loader.AssemblyLoadContext.Default), "the plugin has a load context of its own");
            Assert.That(context.Name, Is.EqualTo("SaCam.Plugin.EigenCam"));
            Assert.That(eigen, Is.InstanceOf<ICamMethod>(), "the host's ICamMethod: contract assemblies come from the host");
            Assert.That(catalog.CreateMethod("gradcam"), Is.InstanceOf<GradCam>(), "built-ins still resolve");
            Assert.That(catalog.MethodIds, Does.Contain("eigencam").And.Contain("sacam-rt"));
        });
    }

    /// <summary>EigenCAM from the plugin: the projection on the first principal component of the activations, checked
    /// against power iteration (another algorithm than the plugin's SVD), and a map that lights the animals of
    /// both.png rather than the background.</summary>
    [NeedsSharedData]
    [Test]
    public void EigenCam_from_the_plugin_matches_power_iteration_and_lights_the_objects()
    {
        using var scope = NewDisposeScope();
        var model = SharedModels.MobileNetV2;
        var engine = new CamEngine(model);
        using var image = ImageFile.ReadBgr(SharedData.Path_("media", "images", "both.png"));
        var (x, _) = ImagePreprocessor.ToTensor(image, model.Preprocess.WithResize("stretch"));
        using var result = engine.Explain(x, Catalog().CreateMethod("eigencam"), new ClassTarget(244));

        var activations = CaptureActivations(engine, x);
        long k = activations.shape[1], h = activations.shape[2], w = activations.shape[3];
        var samples = activations[0].reshape(k, h * w).t();
        var centred = samples - samples.mean([0], keepdim: true);
        var covariance = centred.t().matmul(centred);
        var v = ones(k) / Math.Sqrt(k);
        for (int i = 0; i < 500; i++) v = covariance.matmul(v) / covariance.matmul(v).norm();
        var projection = centred.matmul(v);
        var energy = samples.sum(dim: 1);
        if ((projection * (energy - energy.mean())).sum().item<float>() < 0) projection = -projection;
        var expected = nn.functional.relu(projection).reshape(h, w);

        var boxes = BoxAnnotations.Read(Path.Combine(AppContext.BaseDirectory, "Data", "both.png.boxes.json"));
        double onAnimals = boxes.Objects.Sum(o => Pointing.EnergyInBox(result.Map, o));
        Assert.Multiple(() =>
        {
            Assert.That(Compare.Pearson(result.LowResMap, expected), Is.GreaterThan(0.9999), "plugin map vs power iteration");
            Assert.That(onAnimals, Is.GreaterThan(0.6), "most of the map's energy lies on the cat and the dog");
        });
    }

    private static Tensor CaptureActivations(CamEngine engine, Tensor x)
    {
        var probe = new ActivationProbe();
        using (engine.Explain(x, probe, new ClassTarget(244))) { }
        return probe.Captured!;
    }

    /// <summary>Keeps a copy of the activations the engine hands to methods (a test-only method, to read A the way
    /// the plugin sees it).</summary>
    private sealed class ActivationProbe : ICamMethod
    {
        public Tensor? Captured { get; private set; }
        public string Id => "activation-probe";
        public bool NeedsGradients => false;

        public CamComputation Compute(CamInputs inputs)
        {
            Captured = inputs.Activations.detach().clone().MoveToOuterDisposeScope();
            return CamComputation.FromMap(inputs.Activations[0].sum(dim: 0));
        }
    }

    /// <summary>The CSV sink from the plugin, in the real pipeline: one row per frame, in order, parseable.</summary>
    [NeedsSharedData]
    [Test]
    public void The_csv_sink_from_the_plugin_writes_a_row_per_frame()
    {
        var catalog = Catalog();
        var csv = Path.Combine(Dir, "frames.csv");
        using var explainer = new FrameExplainer(SharedModels.MobileNetV2, new GradCam());
        var pipeline = new VideoPipeline(VideoCaptureSource.File(Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4")), explainer,
            new FrameRenderer(new RenderOptions()), new PipelineOptions { MaxFrames = 6 });
        var result = pipeline.Run([catalog.CreateSink($"csv:{csv}")]);
        Assert.That(result.Error, Is.Null);
        var lines = File.ReadAllLines(csv);
        Assert.That(lines[0], Does.StartWith("index,timestamp_s,class,label,score"));
        var rows = lines.Skip(1).Select(l => System.Text.RegularExpressions.Regex.Split(l, ",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)")).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(rows.Select(r => r[0]), Is.EqualTo(new[] { "0", "1", "2", "3", "4", "5" }));
            Assert.That(rows.All(r => r.Length == 10), "ten columns (quoted labels keep their commas)");
            Assert.That(rows.Select(r => double.Parse(r[4], System.Globalization.CultureInfo.InvariantCulture)), Has.All.InRange(0.0, 1.0), "scores are probabilities");
        });
    }

    [Test]
    public void A_plugin_built_for_another_contract_version_is_refused_by_name()
    {
        var future = Path.Combine(TestPluginFolder, "SaCam.Plugin.FromTheFuture", "SaCam.Plugin.FromTheFuture.dll");
        Assert.That(File.Exists(future), $"{future} is built by the solution");
        var e = Assert.Throws<PluginLoadException>(() => PluginCatalog.BuiltInOnly().LoadPlugin(future));
        Assert.That(e!.Message, Does.Contain("SaCam.Plugin.FromTheFuture.dll").And.Contain($"version {PluginContract.Version + 1}")
            .And.Contain($"supports version {PluginContract.Version}"));
    }

    [Test]
    public void An_assembly_that_is_not_a_plugin_or_not_dotnet_is_refused_by_name()
    {
        File.Copy(typeof(Assert).Assembly.Location, Path.Combine(Dir, "nunit.framework.dll"));
        var e = Assert.Throws<PluginLoadException>(() => PluginCatalog.Load(Dir));
        Assert.That(e!.Message, Does.Contain("nunit.framework.dll").And.Contain("not a SaCam plugin"));

        var junk = Path.Combine(Dir, "junk");
        Directory.CreateDirectory(junk);
        File.WriteAllText(Path.Combine(junk, "junk.dll"), "not an assembly");
        File.Delete(Path.Combine(Dir, "nunit.framework.dll"));
        e = Assert.Throws<PluginLoadException>(() => PluginCatalog.Load(Dir));
        Assert.That(e!.Message, Does.Contain("junk.dll").And.Contain("not a .NET assembly"));

        Assert.That(() => PluginCatalog.Load(Path.Combine(Dir, "nowhere")), Throws.InstanceOf<DirectoryNotFoundException>().With.Message.Contains("nowhere"));
    }

    [Test]
    public void Ids_may_not_shadow_built_ins_or_each_other()
    {
        var catalog = PluginCatalog.BuiltInOnly();
        Assert.That(() => catalog.AddMethod("gradcam", () => new GradCam()), Throws.InstanceOf<PluginLoadException>().With.Message.Contains("built-in"));
        catalog.AddSink("x", _ => throw new NotSupportedException());
        Assert.That(() => catalog.AddSink("X", _ => throw new NotSupportedException()), Throws.InstanceOf<PluginLoadException>().With.Message.Contains("already taken"));
        Assert.That(() => catalog.CreateSink("nope:file"), Throws.ArgumentException.With.Message.Contains("Unknown sink 'nope'"));
    }

    /// <summary>`sacam video --plugins DIR --method eigencam --sink csv:FILE`: the CLI resolves both through the catalog.</summary>
    [Test]
    public void The_cli_runs_a_plugin_method_with_a_plugin_sink()
    {
        var csv = Path.Combine(Dir, "cli.csv");
        var clip = Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4");
        var (exit, stdout, _) = SacamInProcess.Run("video", clip, "--plugins", PluginFolder, "--method", "eigencam", "--sink", $"csv:{csv}", "--max-frames", "3");
        Assert.That(exit, Is.EqualTo(0), stdout);
        Assert.That(stdout, Does.Contain("3 frames written").And.Contain("eigencam"));
        Assert.That(File.ReadAllLines(csv), Has.Length.EqualTo(4));
    }

    /// <summary>Object targets reach plugins as they reach built-ins: a plugin method explains each tracked detection
    /// of the shared SSD, and the plugin sink writes a row per object with the same track, box and score as the run's
    /// JSON Lines.</summary>
    [Test]
    [NeedsSharedData]
    public void A_plugin_method_explains_each_tracked_object_and_the_plugin_sink_writes_a_row_per_object()
    {
        var csv = Path.Combine(Dir, "objects.csv");
        var jsonl = Path.Combine(Dir, "objects.jsonl");
        var (exit, stdout, stderr) = SacamInProcess.Run("video", SharedData.Path_("media", "driving", "traffic_frames.mp4"),
            "--model", SharedModelCards.Model("traffic_ssd"), "--model-card", SharedModelCards.Write(Dir, "traffic_ssd"),
            "--target", "det:all", "--plugins", PluginFolder, "--method", "eigencam", "--sink", $"csv:{csv}", "--jsonl", jsonl,
            "--max-frames", "3");
        Assert.That(exit, Is.EqualTo(0), stdout + stderr);

        var expected = File.ReadAllLines(jsonl)
            .Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!)
            .SelectMany(frame => frame["objects"]!.AsArray().Select(o => string.Join(',',
                frame["index"]!.GetValue<int>(), o!["track"]!.GetValue<int>(),
                string.Join(',', o["box"]!.AsArray().Select(v => v!.GetValue<int>())))))
            .ToList();
        var rows = File.ReadAllLines(csv);
        Assert.That(rows[0], Does.StartWith("index,timestamp_s,track,class,label,score,x0,y0,x1,y1,"), "the object header");
        var written = rows.Skip(1).Select(r => r.Split(',')).Select(c => string.Join(',', c[0], c[2], c[6], c[7], c[8], c[9])).ToList();
        Assert.That(expected, Has.Count.GreaterThanOrEqualTo(6), "the SSD finds about three cars a frame on this clip");
        Assert.That(written, Is.EqualTo(expected), "frame, track and box of every object, in the run's order");
    }
}

/// <summary>What a plugin registers is what the host resolves: sources by scheme, overlays in the renderer, targets.
/// Registered in code here; the load path itself is covered by the real plugins above.</summary>
public class PluginCatalogDispatchTests
{
    [Test]
    public void A_plugin_source_scheme_wins_and_other_specs_go_to_the_built_in_sources()
    {
        var catalog = PluginCatalog.BuiltInOnly();
        string? asked = null;
        catalog.AddSource("synthetic", argument => { asked = argument; return new ImageFolderSource(Path.Combine(SharedData.RepoRoot, "media", "*.png")); });
        var source = catalog.OpenSource("synthetic:lanes=3");
        Assert.That(asked, Is.EqualTo("lanes=3"));
        Assert.That(source, Is.InstanceOf<ImageFolderSource>());
        Assert.That(catalog.OpenSource(Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4")), Is.InstanceOf<VideoCaptureSource>(), "a plain file");
    }

    [NeedsSharedData]
    [Test]
    public void A_plugin_overlay_draws_between_the_heat_map_and_the_hud()
    {
        var catalog = PluginCatalog.BuiltInOnly();
        catalog.AddOverlay("box", argument => new FilledBox(int.Parse(argument)));
        var overlay = catalog.CreateOverlay("box:20");
        using var explainer = new FrameExplainer(SharedModels.MobileNetV2, new GradCam());
        var renderer = new FrameRenderer(new RenderOptions { Extra = [overlay], Hud = false });
        using var image = new OpenCvSharp.Mat(120, 160, OpenCvSharp.MatType.CV_8UC3, OpenCvSharp.Scalar.All(128));
        using var frame = new VideoFrame(0, TimeSpan.Zero, image.Clone());
        using var annotated = new AnnotatedFrame(frame, explainer.Explain(frame));
        using var drawn = renderer.Render(annotated, new PipelineStatistics());
        var centre = drawn.At<OpenCvSharp.Vec3b>(60, 80);
        Assert.That((centre.Item0, centre.Item1, centre.Item2), Is.EqualTo(((byte)0, (byte)255, (byte)0)), "the plugin's green box is on the overlay");
    }

    [NeedsSharedData]
    [Test]
    public void A_plugin_target_is_built_for_the_model_from_its_argument()
    {
        var catalog = PluginCatalog.BuiltInOnly();
        catalog.AddTarget("second-best", (_, model) => new ClassTarget(1, model.Labels?[1]));
        var target = catalog.CreateTarget("second-best:", SharedModels.MobileNetV2);
        Assert.That(target, Is.InstanceOf<ClassTarget>().With.Property(nameof(ClassTarget.ClassIndex)).EqualTo(1));
        Assert.That(() => catalog.CreateTarget("nope:1", SharedModels.MobileNetV2), Throws.ArgumentException.With.Message.Contains("Unknown target 'nope'"));
    }

    private sealed class FilledBox(int half) : IFrameOverlay
    {
        public void Draw(OpenCvSharp.Mat canvas, AnnotatedFrame frame) =>
            OpenCvSharp.Cv2.Rectangle(canvas, new OpenCvSharp.Rect(canvas.Width / 2 - half, canvas.Height / 2 - half, 2 * half, 2 * half), new OpenCvSharp.Scalar(0, 255, 0), -1);
    }
}
