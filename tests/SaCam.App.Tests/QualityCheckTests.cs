using System.Text.Json.Nodes;
using SaCam.App.Building;
using SaCam.App.Specs;
using SaCam.Core.Models;
using SaCam.Core.Preprocessing;
using SaCam.Core.Targets;
using SaCam.Video.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>
/// `sacam video --quality-every N`: the quality field lies on exactly the first and every Nth explained frame's record
/// (per object for object targets), its areas lie in [0, 1], and the check itself ranks a map on the known evidence
/// above the inverted map.
/// </summary>
[TestFixture]
public class QualityCheckTests : TempFolderTest
{
    private static List<JsonObject> Records(string jsonl) =>
        File.ReadAllLines(jsonl).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    private static void AssertAreas(JsonNode? quality, string where)
    {
        Assert.That(quality, Is.Not.Null, where);
        var q = quality!.AsObject();
        Assert.That(q.Select(p => p.Key), Is.EquivalentTo(new[] { "deletion", "insertion" }), where);
        Assert.That(q["deletion"]!.GetValue<double>(), Is.InRange(0.0, 1.0), where);
        Assert.That(q["insertion"]!.GetValue<double>(), Is.InRange(0.0, 1.0), where);
    }

    private void Run(VideoRunSpec spec)
    {
        using var run = VideoRun.Build(spec, SilentFeedback.Instance);
        var result = run.Run();
        Assert.That(result.Error, Is.Null, result.Error?.Message);
    }

    /// <summary>Exact mode, stride 2, 11 frames explained (indices 0, 2, ..., 20), a check every 4th explained one:
    /// explained frames 0, 4, 8, i.e. indices 0, 8, 16, carry it; the 8 others do not (no "quality", no "quality_ms").</summary>
    [Test]
    public void Quality_lies_on_exactly_every_Nth_explained_frame()
    {
        var jsonl = Path.Combine(Dir, "frames.jsonl");
        Run(new VideoRunSpec
        {
            Source = Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4"),
            Method = new MethodSpec { Id = "gradcam" },
            Frames = new FrameSelection { Mode = PipelineMode.Exact, Stride = 2, MaxFrames = 11 },
            Outputs = new VideoOutputs { Jsonl = jsonl },
            QualityEvery = 4,
        });
        var records = Records(jsonl);
        Assert.That(records.Select(r => r["index"]!.GetValue<long>()), Is.EqualTo(Enumerable.Range(0, 11).Select(k => 2L * k)));
        var withQuality = records.Where(r => r.ContainsKey("quality")).Select(r => r["index"]!.GetValue<long>()).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(withQuality, Is.EqualTo(new long[] { 0, 8, 16 }), "explained frames 0, 4 and 8");
            Assert.That(records.Count(r => r.ContainsKey("quality_ms")), Is.EqualTo(3));
            foreach (var r in records.Where(r => r.ContainsKey("quality"))) AssertAreas(r["quality"], $"frame {r["index"]}");
        });
    }

    /// <summary>det:all on the shared traffic clip, a check every 2nd frame of 4: each object of frames 0 and 2 carries
    /// its own quality, no object of frames 1 and 3 does, and no record has a frame-level one.</summary>
    [Test, NeedsSharedData]
    public void Each_object_carries_its_own_quality_on_the_checked_frames()
    {
        var jsonl = Path.Combine(Dir, "objects.jsonl");
        Run(new VideoRunSpec
        {
            Source = SharedData.Path_("media", "driving", "traffic_frames.mp4"),
            Model = new ModelSpec { Id = SharedModelCards.Model("traffic_ssd"), Card = SharedModelCards.Write(Dir, "traffic_ssd") },
            Method = new MethodSpec { Id = "xgradcam" },
            Target = new TargetSpec { Target = "det:all", MaxObjects = 3 },
            Frames = new FrameSelection { Mode = PipelineMode.Exact, MaxFrames = 4 },
            Outputs = new VideoOutputs { Jsonl = jsonl },
            QualityEvery = 2,
        });
        var records = Records(jsonl);
        Assert.That(records, Has.Count.EqualTo(4));
        Assert.Multiple(() =>
        {
            foreach (var r in records)
            {
                long index = r["index"]!.GetValue<long>();
                var objects = r["objects"]!.AsArray();
                Assert.That(r.ContainsKey("quality"), Is.False, $"frame {index}: quality is per object");
                if (index % 2 == 0)
                {
                    Assert.That(objects, Is.Not.Empty, $"frame {index} has cars");
                    foreach (var o in objects) AssertAreas(o!["quality"], $"frame {index} track {o["track"]}");
                }
                else Assert.That(objects.Count(o => o!.AsObject().ContainsKey("quality")), Is.Zero, $"frame {index} is not checked");
            }
        });
    }


    private sealed class FirstOutput : IExplanationTarget
    {
        public string Description => "output 0";
        public Tensor Score(Tensor output) => output[.., 0];
        public Tensor Confidence(Tensor output) => output[.., 0].clone();
    }

    /// <summary>
    /// At 4 steps of 64 pixels, the map on the object deletes its 64 pixels in the first step: deletion
    /// 1, 0, 0, 0, 0, AUC (1 - 0.5) / 4 = 0.125 (blurring a flat image changes nothing, so insertion stays 1: 1). The
    /// inverted map deletes the 192 others first: 1, 1, 1, 1, 0, AUC (4 - 0.5) / 4 = 0.875. At 8 steps of 32 pixels
    /// the areas are the same: (1 + 0.5 - 0.5) / 8 and (7 + 0.5 - 0.5) / 8. At the default 3 steps of 86 pixels:
    /// 1, 0, 0, 0, AUC (1 - 0.5) / 3 = 1/6, and for the inverted map (192 others first) 1, 1, 1, 0, (3 - 0.5) / 3 = 5/6.
    /// </summary>
    [Test]
    public void A_map_on_the_known_object_scores_better_deletion_than_the_inverted_map()
    {
        using var scope = NewDisposeScope();
        using var model = new CornerMeanModel(side: 16, corner: 8);
        var x = ones(1, 3, 16, 16);
        var onObject = zeros(16, 16);
        onObject[..8, ..8] = tensor(1f);
        var check = new DeletionInsertionCheck(model, steps: 4);
        var right = check.Check(x, onObject, new FirstOutput(), CancellationToken.None);
        var inverted = check.Check(x, 1 - onObject, new FirstOutput(), CancellationToken.None);
        var fine = new DeletionInsertionCheck(model, steps: 8);
        var byDefault = new DeletionInsertionCheck(model);
        Assert.Multiple(() =>
        {
            Assert.That(byDefault.Steps, Is.EqualTo(3));
            Assert.That(byDefault.Check(x, onObject, new FirstOutput(), CancellationToken.None).Deletion, Is.EqualTo(1 / 6.0).Within(1e-9));
            Assert.That(byDefault.Check(x, 1 - onObject, new FirstOutput(), CancellationToken.None).Deletion, Is.EqualTo(5 / 6.0).Within(1e-9));
            Assert.That(fine.Check(x, onObject, new FirstOutput(), CancellationToken.None).Deletion, Is.EqualTo(0.125).Within(1e-9));
            Assert.That(fine.Check(x, 1 - onObject, new FirstOutput(), CancellationToken.None).Deletion, Is.EqualTo(0.875).Within(1e-9));
            Assert.That(right.Deletion, Is.EqualTo(0.125).Within(1e-9));
            Assert.That(inverted.Deletion, Is.EqualTo(0.875).Within(1e-9));
            Assert.That(right.Deletion, Is.LessThan(inverted.Deletion), "better (lower) deletion on the object");
            Assert.That(right.Insertion, Is.EqualTo(1).Within(1e-9), "an image of ones blurs to itself");
            Assert.That(right.Fails, Is.False, "insertion 1 above deletion 0.125");
        });
    }

    /// <summary>The rule the review flags by: a map fails when its insertion area is not above its deletion area.</summary>
    [TestCase(0.2, 0.9, false)]
    [TestCase(0.5, 0.5, true)]
    [TestCase(0.8, 0.3, true)]
    public void A_map_fails_when_insertion_is_not_above_deletion(double deletion, double insertion, bool fails) =>
        Assert.That(new MapQuality(deletion, insertion).Fails, Is.EqualTo(fails));

    /// <summary>Where the sampling counts: explained frames 0, N, 2N, ... and nothing else; N below 1 is refused.</summary>
    [Test]
    public void Sampling_checks_the_first_and_every_Nth_explained_frame()
    {
        using var model = new CornerMeanModel(side: 16, corner: 8);
        var sampling = new QualitySampling(new DeletionInsertionCheck(model), 3);
        var due = Enumerable.Range(0, 10).Where(_ => sampling.NextIsDue()).ToList();
        Assert.That(due, Is.EqualTo(new[] { 0, 3, 6, 9 }));
        Assert.That(() => new QualitySampling(new DeletionInsertionCheck(model), 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
