using System.Text.Json;
using SaCam.App.Building;
using SaCam.App.Specs;
using SaCam.Core.Engines;
using SaCam.Fleet;
using SaCam.Video.Pipeline;

namespace SaCam.Tests;

/// <summary>
/// The application layer's specs: each survives a JSON round trip unchanged, refuses unknown or mistyped fields by
/// name, and validates in one place with the messages the command line has always printed; a fleet plan stores the
/// typed video spec, and an old plan (CLI tokens) is refused with a message to re-plan.
/// </summary>
[TestFixture]
public class AppSpecTests : TempFolderTest
{
    private static VideoRunSpec FullVideoSpec() => new()
    {
        Source = "clip.mp4",
        Model = new ModelSpec { Id = "model.onnx", Labels = "labels.txt", LabelsOffset = 1, Device = DeviceName.Parse("cuda:1"), Engine = EngineKind.TorchSharp, Threads = 3 },
        Method = new MethodSpec { Id = "sacam-rt", BudgetMs = 40, Smoothing = 0.5 },
        Target = new TargetSpec { Target = "exemplar:car.png" },
        Layer = "features",
        Frames = new FrameSelection { Mode = PipelineMode.Exact, Stride = 2, MaxFrames = 10, StartFrame = 4 },
        Render = new RenderSpec { ColorMap = "turbo", SideBySide = true, Overlays = ["boxes:x"] },
        Outputs = new VideoOutputs { Video = "a.mp4", Jsonl = "a.jsonl", SaveMaps = "maps", PngEvery = 5, PngDir = "png", Run = "run", Sinks = ["csv:f.csv"] },
        Medical = new MedicalSpec { Window = "lung", Series = 2, Masks = ["0,0,10,10"], InputRange = "-1024,1024" },
        Plugins = "plugins",
    };

    [Test]
    public void Every_spec_survives_a_json_round_trip()
    {
        void RoundTrip<T>(T spec) where T : class
        {
            string json = SpecJson.Write(spec);
            var back = SpecJson.Read<T>(json);
            Assert.That(SpecJson.Write(back), Is.EqualTo(json), typeof(T).Name);
        }
        var video = FullVideoSpec();
        RoundTrip(video);
        RoundTrip(new VideoRunSpec { Source = "0" });
        RoundTrip(new ExplainSpec { Image = "a.png", Method = new MethodSpec { Id = "gradcam" }, Target = new TargetSpec { Class = "tiger cat" }, Resize = "letterbox", SaveMap = "m.npy", Overlay = "o.png" });
        RoundTrip(new EvalSpec { Kind = EvalKind.Temporal, Methods = ["gradcam", "sacam-rt@40~0.5"], Video = "clip.mp4", Out = "report", MaxFrames = 30 });
        RoundTrip(new StreamSpec { Model = video.Model, Method = video.Method, Target = new TargetSpec { Class = "3" }, Hud = false, ColorMap = "inferno" });

        using var json = JsonDocument.Parse(SpecJson.Write(video));
        Assert.Multiple(() =>
        {
            Assert.That(json.RootElement.GetProperty("model").GetProperty("device").GetString(), Is.EqualTo("cuda:1"), "typed values are written by name");
            Assert.That(json.RootElement.GetProperty("frames").GetProperty("mode").GetString(), Is.EqualTo("exact"));
            Assert.That(json.RootElement.GetProperty("method").GetProperty("budget_ms").GetDouble(), Is.EqualTo(40));
        });
    }

    [Test]
    public void A_spec_with_an_unknown_or_mistyped_field_is_refused_naming_it()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => SpecJson.Read<VideoRunSpec>("""{"source":"a.mp4","strides":2}"""),
                Throws.TypeOf<InvalidDataException>().With.Message.Contains("strides"));
            Assert.That(() => SpecJson.Read<VideoRunSpec>("""{"source":"a.mp4","frames":{"stride":"two"}}"""),
                Throws.TypeOf<InvalidDataException>().With.Message.Contains("stride"));
            Assert.That(() => SpecJson.Read<VideoRunSpec>("""{"model":{"id":"default"}}"""),
                Throws.TypeOf<InvalidDataException>().With.Message.Contains("source"), "a required field is named");
            Assert.That(() => SpecJson.Read<VideoRunSpec>("""{"source":"a.mp4","model":{"device":"tpu"}}"""),
                Throws.TypeOf<InvalidDataException>().With.Message.Contains("Device 'tpu' is not valid"));
        });
    }

    [Test]
    public void Validation_lives_in_one_place_and_says_what_the_command_line_always_said()
    {
        VideoRunSpec Video(Func<VideoRunSpec, VideoRunSpec> change) => change(new VideoRunSpec { Source = "clip.mp4" });
        Assert.Multiple(() =>
        {
            Assert.That(() => MethodSpec.ParseBudget("0"), Throws.ArgumentException.With.Message.Contains("'0' is not a budget"));
            Assert.That(MethodSpec.ParseBudget("auto"), Is.Null);
            Assert.That(MethodSpec.ParseBudget("12.5"), Is.EqualTo(12.5));
            Assert.That(() => Video(s => s with { Outputs = new VideoOutputs { PngEvery = 2 } }).Validated(),
                Throws.ArgumentException.With.Message.Contains("--png-every needs --png-dir"));
            Assert.That(() => Video(s => s with { Outputs = new VideoOutputs { PngDir = "png" } }).Validated(),
                Throws.ArgumentException.With.Message.Contains("--png-dir needs --png-every"));
            Assert.That(() => Video(s => s with { Target = new TargetSpec { Class = "3", Target = "exemplar:a.png" } }).Validated(),
                Throws.ArgumentException.With.Message.Contains("Give --class or --target, not both"));
            Assert.That(() => Video(s => s with { Frames = new FrameSelection { Mode = PipelineMode.Live, StartFrame = 3 } }).Validated(),
                Throws.ArgumentException.With.Message.Contains("--start-frame needs exact mode"));
            Assert.That(() => Video(s => s with { Method = new MethodSpec { Smoothing = 1 } }).Validated(),
                Throws.ArgumentException.With.Message.Contains("--smoothing must lie in [0, 1)"));
            Assert.That(() => Video(s => s with { Render = new RenderSpec { ColorMap = "rainbow" } }).Validated(),
                Throws.ArgumentException.With.Message.Contains("rainbow"));
            Assert.That(() => DeviceName.Parse("cuda:x"), Throws.ArgumentException.With.Message.Contains("use cpu, cuda or cuda:N"));
            Assert.That(() => new EvalSpec { Kind = EvalKind.Sanity, Methods = ["nosuch"], Images = "x", Out = "y" }.Validated(),
                Throws.ArgumentException.With.Message.Contains("nosuch"));
        });
    }

    [Test]
    public void A_per_stream_methods_warnings_reach_the_runs_feedback_whoever_made_the_method()
    {
        var feedback = new CollectedFeedback();
        var catalog = SaCam.Plugins.PluginCatalog.BuiltInOnly();
        catalog.AddMethod("warner", () => new WarningMethod());
        using var warner = (WarningMethod)MethodFactory.Create(new MethodSpec { Id = "warner" }, catalog, feedback)!;
        using var realtime = MethodFactory.Create(new MethodSpec { Id = "sacam-rt", BudgetMs = 5 }, catalog, feedback) as IDisposable;
        warner.Say("the budget buys nothing");
        Assert.Multiple(() =>
        {
            Assert.That(feedback.Warnings, Is.EqualTo(new[] { "the budget buys nothing" }));
            Assert.That(realtime, Is.InstanceOf<Core.Methods.IPerStreamMethod>(), "sacam-rt is per stream by its type");
            Assert.That(MethodFactory.Create(new MethodSpec { Id = "gradcam" }, catalog, feedback), Is.Not.InstanceOf<Core.Methods.IPerStreamMethod>());
            Assert.That(MethodFactory.Create(new MethodSpec { Id = MethodSpec.ClassifyOnly }, catalog, feedback), Is.Null);
            Assert.That(() => MethodFactory.Check(new MethodSpec { Id = "magiccam" }, catalog), Throws.ArgumentException.With.Message.Contains("magiccam"));
        });
    }

    /// <summary>A per-stream method whose warning the test raises.</summary>
    private sealed class WarningMethod : Core.Methods.IPerStreamMethod
    {
        public event Action<Core.SettingText>? Warning;
        public string Id => "warner";
        public bool NeedsGradients => false;
        public Core.Methods.CamComputation Compute(Core.Methods.CamInputs inputs) => throw new NotSupportedException();
        public void Reset() { }
        public void Say(string message) => Warning?.Invoke(new Core.SettingText(message));
        public void Dispose() { }
    }

    [Test]
    public void A_fleet_plan_stores_the_typed_video_spec_with_absolute_files_and_no_per_part_fields()
    {
        var recording = Path.Combine(Dir, "r.mp4");
        File.WriteAllBytes(recording, [1, 2, 3, 4]);
        var labels = Path.Combine(Dir, "labels.txt");
        File.WriteAllText(labels, "a\nb\n");
        string previous = Environment.CurrentDirectory;
        Environment.CurrentDirectory = Dir;
        FleetPlan plan;
        try
        {
            plan = FleetPlanner.Plan(new PlanRequest
            {
                Sources = [recording], SoftwareVersion = "t",
                Video = FullVideoSpec() with { Model = new ModelSpec { Labels = "labels.txt" }, Plugins = null, Render = new RenderSpec(), Medical = null },
            }, _ => (30, 25));
        }
        finally { Environment.CurrentDirectory = previous; }
        var layout = new FleetLayout(Path.Combine(Dir, "fleet"));
        FleetPlanner.Write(plan, layout);
        var (loaded, _) = layout.LoadPlan();
        Assert.Multiple(() =>
        {
            Assert.That(loaded.Video.Model.Labels, Is.EqualTo(labels), "files become absolute: workers run elsewhere");
            Assert.That(loaded.Video.Method.BudgetMs, Is.EqualTo(40));
            Assert.That(loaded.Video.Frames.Stride, Is.EqualTo(2), "the stride is the plan's");
            Assert.That(loaded.Video.Frames.MaxFrames, Is.Null, "frame ranges are the parts'");
            Assert.That(loaded.Video.Outputs.Video, Is.Null, "outputs are the parts'");
            Assert.That(File.ReadAllText(layout.Plan), Does.Contain("\"video\"").And.Not.Contain("video_options"));
            var part = VideoPartRenderer.SpecFor(loaded, loaded.Recordings[0], new ShardPart("r00001", 10, 7), Path.Combine(Dir, "part"));
            Assert.That((part.Source, part.Frames.Mode, part.Frames.StartFrame, part.Frames.MaxFrames, part.Outputs.Run),
                Is.EqualTo((recording, (PipelineMode?)PipelineMode.Exact, 10L, (long?)4L, Path.Combine(Dir, "part"))), "7 frames at stride 2: 4 explained");
        });
    }

    [Test]
    public void A_plan_with_a_method_that_does_not_exist_is_refused_before_any_worker_runs()
    {
        var recording = Path.Combine(Dir, "r.mp4");
        File.WriteAllBytes(recording, [1, 2, 3, 4]);
        Assert.That(() => FleetPlanner.Plan(new PlanRequest
            {
                Sources = [recording], SoftwareVersion = "t", Video = new VideoRunSpec { Source = "", Method = new MethodSpec { Id = "nosuch" } },
            }, _ => (30, 25)),
            Throws.TypeOf<FleetException>().With.Property(nameof(FleetException.Permanent)).True.And.Message.Contains("nosuch"));
    }

    [Test]
    public void A_plan_written_by_an_older_sacam_is_refused_with_a_message_to_re_plan()
    {
        var layout = new FleetLayout(Path.Combine(Dir, "old"));
        Directory.CreateDirectory(layout.Root);
        var bytes = """{"version":1,"created_utc":"2026-11-01T00:00:00Z","software_version":"x","video_options":["--method","gradcam"],"model":"default","model_sha256":"embedded","recordings":[],"shards":[]}"""u8.ToArray();
        File.WriteAllBytes(layout.Plan, bytes);
        File.WriteAllText(layout.PlanHash, FleetPlan.Hash(bytes) + "\n");
        Assert.That(() => layout.LoadPlan(), Throws.TypeOf<FleetException>()
            .With.Property(nameof(FleetException.Permanent)).True
            .And.Message.Contains("has format 1").And.Message.Contains("make a new plan with `sacam fleet plan`"));
    }
}
