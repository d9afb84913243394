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
        Assert.That(catalog.Plugins.Select(p => p.Name), Is.EquivalentTo(new[] { "EigenCAM", "CSV sink", "Top classes" }));
        Assert.That(catalog.Plugins.Single(p => p.Name == "EigenCAM").Added, Is.EqualTo(new[] { "method eigencam" }));
        Assert.That(catalog.Plugins.Single(p => p.Name == "CSV sink").Added, Is.EqualTo(new[] { "sink csv" }));
        Assert.That(catalog.Plugins.Single(p => p.Name == "Top classes").Added, Is.EqualTo(new[] { "object target top" }));
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

/// <summary>
/// A plugin's object target kind (the Top classes plugin's <c>top:K</c>, loaded from plugins/ as a user's would be)
/// goes where det: and seg: go: `sacam explain --save-maps`, video through the object explainer, and its errors are
/// one line each before any work.
/// </summary>
public class PluginObjectTargetTests : TempFolderTest
{
    private static PluginCatalog Catalog() => PluginCatalog.Load(PluginTests.PluginFolder);

    private static System.Text.Json.Nodes.JsonArray Objects(string folder) =>
        System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "objects.json")))!.AsArray();

    /// <summary>top:2 on both.png: the bull mastiff and the boxer (the fixtures' top two), each with its own map, and
    /// each map the one `--class` gives for that class alone (one forward shared, one backward each).</summary>
    [NeedsSharedData]
    [Test]
    public void Explain_writes_one_map_per_class_and_each_equals_that_class_explained_alone()
    {
        string image = SharedData.Path_("media", "images", "both.png"), model = SharedData.MobileNetV2, maps = Path.Combine(Dir, "maps");
        var (exit, stdout, stderr) = SacamInProcess.Run("explain", image, "--model", model, "--plugins", PluginTests.PluginFolder,
            "--target", "top:2", "--method", "gradcam", "--save-maps", maps);
        Assert.That(exit, Is.EqualTo(0), stdout + stderr);
        var objects = Objects(maps);
        Assert.That(objects.Select(o => o!["class"]!.GetValue<int>()), Is.EqualTo(new[] { 244, 243 }), "bull mastiff, then boxer");
        Assert.That(objects.Select(o => o!["label"]!.GetValue<string>()), Is.EqualTo(new[] { "bull mastiff", "boxer" }));
        foreach (var (o, k) in objects.Select((o, k) => (o!, k)))
        {
            int c = o["class"]!.GetValue<int>();
            string alone = Path.Combine(Dir, $"class-{c}.npy");
            var (aloneExit, aloneOut, aloneErr) = SacamInProcess.Run("explain", image, "--model", model, "--class", c.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--method", "gradcam", "--save-map", alone);
            Assert.That(aloneExit, Is.EqualTo(0), aloneOut + aloneErr);
            using var fromPlugin = SaCam.Core.Tensors.NpyFile.Read(Path.Combine(maps, o["map"]!.GetValue<string>()));
            using var expected = SaCam.Core.Tensors.NpyFile.Read(alone);
            Assert.That(Compare.MaxAbsDiff(fromPlugin, expected), Is.LessThan(1e-5), $"object {k} (class {c}) against --class {c}");
        }
    }

    /// <summary>Through video (the object explainer every front-end shares), on a small classifier: each frame has the
    /// model's three best classes, best first, each an object whose track is its rank (they have no box).</summary>
    [Test]
    public void Video_explains_each_frames_best_classes_as_objects()
    {
        var catalog = Catalog();
        using var model = SaCam.Core.Models.OnnxCnnModel.Load(TinyCnn.Save(fileName: "top-tiny.onnx"));
        using var explainer = new SaCam.App.Building.ObjectFrameExplainer(model, () => new GradCam(), "top:3", 5, null, catalog);
        using var capture = new OpenCvSharp.VideoCapture(Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4"));
        for (int k = 0; k < 2; k++)
        {
            var image = new OpenCvSharp.Mat();
            Assert.That(capture.Read(image), Is.True);
            using var frame = new VideoFrame(k, TimeSpan.FromSeconds(k / 24.0), image);
            using var explained = explainer.Explain(frame);
            using var scope = NewDisposeScope();
            var (x, _) = ImagePreprocessor.ToTensor(image, model.Preprocess);
            long[] top3;
            using (no_grad()) top3 = model.Predict(x)[0].topk(3).indexes.data<long>().ToArray();
            Assert.Multiple(() =>
            {
                Assert.That(explained.Objects!.Select(o => (long)o.Class!.Value), Is.EqualTo(top3), $"frame {k}: the model's three best classes, best first");
                Assert.That(explained.Objects!.Select(o => o.Track), Is.EqualTo(new[] { 0, 1, 2 }), "boxless objects keep their rank as their track");
                Assert.That(explained.Objects!.All(o => o.Box == new OpenCvSharp.Rect(0, 0, image.Width, image.Height)), "an object without a box is the whole frame");
            });
        }
    }

    /// <summary>`sacam eval` takes plugins from SACAM_PLUGINS: deletion/insertion of each of top:2's classes, one row
    /// of each curve per object, named by the object's index and label.</summary>
    [Test]
    public void Eval_measures_each_object_a_plugins_kind_finds()
    {
        string images = Directory.CreateDirectory(Path.Combine(Dir, "images")).FullName, out_ = Path.Combine(Dir, "eval");
        using (var capture = new OpenCvSharp.VideoCapture(Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4")))
        using (var first = new OpenCvSharp.Mat())
        {
            capture.Read(first);
            OpenCvSharp.Cv2.ImWrite(Path.Combine(images, "frame.png"), first);
        }
        string? before = Environment.GetEnvironmentVariable(SaCam.App.Building.PluginCatalogs.EnvironmentVariable);
        Environment.SetEnvironmentVariable(SaCam.App.Building.PluginCatalogs.EnvironmentVariable, PluginTests.PluginFolder);
        try
        {
            var (exit, stdout, stderr) = SacamInProcess.Run("eval", "deletion-insertion", "--model", TinyCnn.Save(fileName: "eval-top-tiny.onnx"), "--images", images,
                "--methods", "gradcam", "--target", "top:2", "--out", out_);
            Assert.That(exit, Is.EqualTo(0), stdout + stderr);
        }
        finally
        {
            Environment.SetEnvironmentVariable(SaCam.App.Building.PluginCatalogs.EnvironmentVariable, before);
        }
        var rows = File.ReadAllLines(Path.Combine(out_, "results.csv")).Skip(1).Select(r => r.Split(',')).ToList();
        Assert.That(rows.Select(r => (r[0], r[3][..1])), Is.EquivalentTo(new[] { ("deletion", "0"), ("insertion", "0"), ("deletion", "1"), ("insertion", "1") }),
            "each curve once per object");

        // Pointing needs a box or pixels, which top:K's whole-image objects do not have.
        Environment.SetEnvironmentVariable(SaCam.App.Building.PluginCatalogs.EnvironmentVariable, PluginTests.PluginFolder);
        try
        {
            var (exit, stdout, stderr) = SacamInProcess.Run("eval", "pointing", "--model", TinyCnn.Save(fileName: "eval-top-tiny.onnx"), "--images", images,
                "--methods", "gradcam", "--target", "top:2", "--out", Path.Combine(Dir, "pointing"));
            Assert.That(exit, Is.EqualTo(2), stdout + stderr);
            Assert.That(stderr, Does.Contain("pointing scores a map against its object's box or pixels, and --target top:2 gives object 0 of frame.png neither: use deletion-insertion or road."));
        }
        finally
        {
            Environment.SetEnvironmentVariable(SaCam.App.Building.PluginCatalogs.EnvironmentVariable, before);
        }
    }

    /// <summary>--save-map (one map) with a target that names several objects says so on stderr and writes nothing
    /// there, rather than picking one object silently.</summary>
    [Test]
    public void Save_map_with_several_objects_is_a_warning_naming_save_maps()
    {
        string image = Path.Combine(Dir, "frame.png"), map = Path.Combine(Dir, "one.npy");
        using (var capture = new OpenCvSharp.VideoCapture(Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4")))
        using (var first = new OpenCvSharp.Mat())
        {
            capture.Read(first);
            OpenCvSharp.Cv2.ImWrite(image, first);
        }
        var (exit, stdout, stderr) = SacamInProcess.Run("explain", image, "--model", TinyCnn.Save(fileName: "save-map-tiny.onnx"), "--plugins", PluginTests.PluginFolder,
            "--target", "top:2", "--method", "gradcam", "--save-map", map);
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(0), stdout + stderr);
            Assert.That(stderr, Does.Contain("--save-map writes one map, and top:2 names 2 objects on this image").And.Contain("--save-maps DIR writes one per object"));
            Assert.That(File.Exists(map), Is.False);
        });
    }

    /// <summary>Bad arguments and the wrong model are the plugin's own one-line errors, before anything is written; a
    /// plugin cannot take a built-in kind or another plugin's target id.</summary>
    [Test]
    public void Bad_object_targets_and_taken_kinds_are_refused_in_one_line()
    {
        string maps = Path.Combine(Dir, "maps");
        string image = Path.Combine(SharedData.RepoRoot, "media", "street_clip_frame.png");
        if (!File.Exists(image))
        {
            using var capture = new OpenCvSharp.VideoCapture(Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4"));
            using var first = new OpenCvSharp.Mat();
            capture.Read(first);
            image = Path.Combine(Dir, "frame.png");
            OpenCvSharp.Cv2.ImWrite(image, first);
        }
        string tiny = TinyCnn.Save(fileName: "top-bad-tiny.onnx");
        foreach (var (target, model, message) in new[]
                 {
                     ("top:0", tiny, "--target top:0: K is a whole number from 1 to"),
                     ("top:three", tiny, "--target top:three: K is a whole number from 1 to"),
                     ("top:2", "default", "--target top:2 explains a classifier's best classes, and model 'resnet18-imagenet-backbone' has no classifier head."),
                 })
        {
            var (exit, stdout, stderr) = SacamInProcess.Run("explain", image, "--model", model, "--plugins", PluginTests.PluginFolder, "--target", target, "--method", "gradcam", "--save-maps", maps);
            Assert.Multiple(() =>
            {
                Assert.That(exit, Is.EqualTo(2), stdout + stderr);
                Assert.That(stderr.Trim().Split('\n'), Has.Length.EqualTo(1), stderr);
                Assert.That(stderr, Does.Contain(message));
                Assert.That(Directory.Exists(maps), Is.False, "nothing written");
            });
        }
        var catalog = PluginCatalog.BuiltInOnly();
        Assert.That(() => catalog.AddObjectTarget("det", new ObjectKindStandIn()), Throws.InstanceOf<PluginLoadException>().With.Message.Contains("built-in"));
        catalog.AddTarget("prototype", (_, _) => throw new NotSupportedException());
        Assert.That(() => catalog.AddObjectTarget("prototype", new ObjectKindStandIn()), Throws.InstanceOf<PluginLoadException>().With.Message.Contains("already taken"));
        catalog.AddObjectTarget("boxes", new ObjectKindStandIn());
        Assert.That(() => catalog.AddTarget("BOXES", (_, _) => throw new NotSupportedException()), Throws.InstanceOf<PluginLoadException>().With.Message.Contains("already taken"));
    }

    /// <summary>A plugin's boxes are shares of the model input; the host puts them on the image through the
    /// preprocessing's geometry (here a letterboxed 320x160 frame in a 224x224 input), and refuses a box that is not
    /// x0 &lt;= x1, y0 &lt;= y1 by naming the plugin.</summary>
    [Test]
    public void A_plugins_boxes_land_on_the_image_through_the_preprocessing()
    {
        var catalog = PluginCatalog.BuiltInOnly();
        var kind = new ObjectKindStandIn { Box = [0.25f, 0.375f, 0.75f, 0.625f] };
        catalog.AddObjectTarget("boxes", kind);
        string model = TinyCnn.Save(fileName: "boxes-tiny.onnx");
        using var loaded = SaCam.Core.Models.OnnxCnnModel.Load(model);
        using var image = new OpenCvSharp.Mat(160, 320, OpenCvSharp.MatType.CV_8UC3, OpenCvSharp.Scalar.All(90));
        var letterbox = loaded.Preprocess.WithResize("letterbox");
        using var scope = NewDisposeScope();
        var (x, geometry) = ImagePreprocessor.ToTensor(image, letterbox);
        var found = SaCam.App.Building.ObjectTargets.Find("boxes:1", loaded, x, geometry, 5, plugins: catalog);
        try
        {
            // The input's middle half, across and down; the letterboxed frame fills the input's width (scale 320/224)
            // and its middle 112 rows (y 56..168), so x: 56..168 -> 80..240 and y: 84..140 -> 40..120 on the frame.
            Assert.That(found.Single().Box, Is.EqualTo(new[] { 80f, 40f, 240f, 120f }).Within(0.01f));
        }
        finally
        {
            foreach (var o in found) o.Dispose();
        }
        kind.Box = [0.5f, 0.5f, 0.25f, 0.75f];
        Assert.That(() => SaCam.App.Building.ObjectTargets.Find("boxes:1", loaded, x, geometry, 5, plugins: catalog),
            Throws.InvalidOperationException.With.Message.Contains("ObjectKindStandIn").And.Message.Contains("x0 <= x1"));
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

/// <summary>An object target kind registered in code: one whole-image class-0 object, with the box the test sets.</summary>
public sealed class ObjectKindStandIn : IObjectTargetKind
{
    public float[]? Box { get; set; }

    public void Validate(string argument, SaCam.Core.Models.IExplainableModel model) { }

    public IReadOnlyList<FoundObject> Find(string argument, SaCam.Core.Models.IExplainableModel model, Tensor input, int maxObjects) =>
        [new FoundObject(new ClassTarget(0), Box: Box)];
}
