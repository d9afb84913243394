using SaCam.Core.Targets;
using SaCam.Core.Tasks;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>Model cards, detection decoding and the segmentation, detection and output targets, on hand-made
/// tensors whose right answers are known.</summary>
[TestFixture]
public class TaskTests : TempFolderTest
{
    private string Card(string json)
    {
        var path = Path.Combine(Dir, $"card-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Test]
    public void A_card_reads_with_its_defaults_and_says_where_it_came_from()
    {
        var path = Card("""{ "task": "detection", "labels": ["car", "bus"], "target_layer": "f", "detection": { "format": "yolov8", "score_threshold": 0.4 } }""");
        var card = ModelCard.Read(path);
        Assert.Multiple(() =>
        {
            Assert.That(card.Task, Is.EqualTo(ModelTask.Detection));
            Assert.That(card.Detection!.Format, Is.EqualTo(DetectionFormat.Yolov8));
            Assert.That(card.Detection.ScoreThreshold, Is.EqualTo(0.4f));
            Assert.That(card.Detection.NmsIou, Is.EqualTo(0.5f), "default");
            Assert.That(card.LoadLabels()![1], Is.EqualTo("bus"));
            Assert.That(card.Source, Does.Contain(path));
        });
    }

    [TestCase("""{ "task": "detection", "target_layer": "f" }""", "has no \"detection\" decoding")]
    [TestCase("""{ "task": "detection", "detection": { "format": "ssd", "boxes": "b" } }""", "names its \"boxes\" and \"scores\"")]
    [TestCase("""{ "task": "detection", "detection": { "format": "ssd", "boxes": "b", "scores": "s" } }""", "needs \"anchors\"")]
    [TestCase("""{ "task": "detection", "detection": { "format": "yolov8", "score_threshold": 2 } }""", "\"score_threshold\" must be in [0, 1] (got 2)")]
    [TestCase("""{ "task": "segmentation", "detection": { "format": "yolov8" } }""", "task is segmentation")]
    [TestCase("""{ "task": "segmentaton" }""", "at $.task")]
    [TestCase("""{ "task": "segmentation", "colour": "rgb" }""", "'colour'")]
    [TestCase("""{ "task": "segmentation", "preprocess": { "std": [0, 1, 1] } }""", "std has 1 or 3 positive numbers")]
    [TestCase("""{ "task": """, "not a model card")]
    public void A_bad_card_is_one_line_naming_the_file_and_the_field(string json, string expected)
    {
        var path = Card(json);
        var e = Assert.Throws<ModelCardException>(() => ModelCard.Read(path));
        Assert.That(e!.Message, Does.Contain(path).And.Contain(expected));
        Assert.That(e.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void Ultralytics_metadata_makes_a_yolov8_card()
    {
        var card = ModelCard.FromMetadata(new Dictionary<string, string>
        {
            ["task"] = "detect", ["names"] = "{0: 'person', 1: \"traffic light\", 2: 'car'}", ["imgsz"] = "[640, 640]", ["stride"] = "32",
        }, "yolov8n.onnx")!;
        Assert.Multiple(() =>
        {
            Assert.That(card.Task, Is.EqualTo(ModelTask.Detection));
            Assert.That(card.Detection!.Format, Is.EqualTo(DetectionFormat.Yolov8));
            Assert.That(card.Labels, Is.EqualTo(new[] { "person", "traffic light", "car" }));
            Assert.That((card.Preprocess!.Width, card.Preprocess.Height), Is.EqualTo((640, 640)));
            Assert.That(card.Source, Does.Contain("Ultralytics"));
        });
        Assert.That(ModelCard.FromMetadata(new Dictionary<string, string> { ["producer"] = "x" }, "m.onnx"), Is.Null, "no card: a classifier");
    }

    /// <summary>SSD decoding as TensorFlow's postprocessing defines it: a zero encoding is the anchor itself; ty = 10
    /// moves the centre one anchor height down; th = 5 makes the box e times as tall.</summary>
    [Test]
    public void Ssd_encodings_decode_against_their_anchors()
    {
        using var scope = NewDisposeScope();
        var anchors = tensor(new float[] { 0.5f, 0.5f, 0.2f, 0.4f, 0.25f, 0.25f, 0.1f, 0.1f }, [2, 4]);
        var card = new DetectionCard { Format = DetectionFormat.Ssd, Boxes = "b", Scores = "s", Anchors = "a", BackgroundClass = 0, ScoreThreshold = 0.3f, NmsIou = 0.6f };
        var decoder = new DetectionDecoder(card, 100, 100, anchors);
        var boxes = tensor(new float[] { 0, 0, 0, 0, 10, 0, 5, 0 }, [1, 2, 4]);
        var scores = tensor(new float[] { 0.9f, 0.8f, 0.1f, 0.2f, 0.1f, 0.7f }, [1, 2, 3]);
        var packed = decoder.Pack([boxes, scores], null);
        var values = packed.data<float>().ToArray();
        float e = MathF.E;
        Assert.Multiple(() =>
        {
            Assert.That(packed.shape, Is.EqualTo(new long[] { 1, 2, 7 }));
            Assert.That(values[..4], Is.EqualTo(new[] { 0.3f, 0.4f, 0.7f, 0.6f }).Within(1e-6), "x0, y0, x1, y1 of the first anchor");
            Assert.That(values[7..11], Is.EqualTo(new[] { 0.2f, 0.35f - 0.05f * e, 0.3f, 0.35f + 0.05f * e }).Within(1e-6), "one height down, e times as tall");
        });
        var found = decoder.Detect(packed[0], new SaCam.Core.Models.ClassLabels(["car", "bus"], offset: 1));
        Assert.That(found.Select(d => (d.Class, d.Label, d.Candidate)), Is.EqualTo(new[] { (1, "car", 0L), (2, "bus", 1L) }), "background 0.9 left out; both above 0.3");
    }

    [Test]
    public void Overlapping_candidates_keep_the_best_and_the_threshold_and_maximum_hold()
    {
        using var scope = NewDisposeScope();
        // Three candidates: two overlapping (IoU 0.82), one apart; one class column.
        var packed = tensor(new float[]
        {
            0.10f, 0.10f, 0.50f, 0.50f, 0.6f,
            0.12f, 0.12f, 0.50f, 0.50f, 0.9f,
            0.60f, 0.60f, 0.90f, 0.90f, 0.4f,
        }, [3, 5]);
        var decoder = new DetectionDecoder(new DetectionCard { Format = DetectionFormat.Yolov8, ScoreThreshold = 0.3f, NmsIou = 0.5f, MaxDetections = 10 }, 1, 1, null);
        Assert.That(decoder.Detect(packed, null).Select(d => d.Candidate), Is.EqualTo(new[] { 1L, 2L }));
        var strict = new DetectionDecoder(new DetectionCard { Format = DetectionFormat.Yolov8, ScoreThreshold = 0.5f, NmsIou = 0.5f, MaxDetections = 1 }, 1, 1, null);
        Assert.That(strict.Detect(packed, null).Select(d => d.Candidate), Is.EqualTo(new[] { 1L }));
    }

    [Test]
    public void A_yolo_output_of_the_wrong_width_names_the_layout_and_the_width_it_wants()
    {
        using var scope = NewDisposeScope();
        var decoder = new DetectionDecoder(new DetectionCard { Format = DetectionFormat.Yolov8, Boxes = "output0" }, 640, 640, null);
        var e = Assert.Throws<ArgumentException>(() => decoder.Pack([zeros(1, 4 + 5, 100)], 80));
        Assert.That(e!.Message, Does.Contain("output0").And.Contain("[1, 9, 100]").And.Contain("width of 84"));
        var packed = decoder.Pack([zeros(1, 4 + 80, 100)], 80);
        Assert.That(packed.shape, Is.EqualTo(new long[] { 1, 100, 84 }));
    }

    [Test]
    public void Yolov5_scores_are_objectness_times_class_score()
    {
        using var scope = NewDisposeScope();
        var decoder = new DetectionDecoder(new DetectionCard { Format = DetectionFormat.Yolov5 }, 100, 100, null);
        var raw = tensor(new float[] { 50, 50, 20, 40, 0.5f, 0.8f, 0.2f }, [1, 1, 7]);
        var values = decoder.Pack([raw], 2).data<float>().ToArray();
        Assert.That(values, Is.EqualTo(new[] { 0.4f, 0.3f, 0.6f, 0.7f, 0.4f, 0.1f }).Within(1e-6));
    }

    /// <summary>A detection is followed by overlap: the candidate overlapping its box most scores IoU + class score
    /// when it is of the same class; a candidate of another class, or one that overlaps too little, scores 0.</summary>
    [Test]
    public void A_detection_target_scores_its_best_overlapping_candidate_of_its_class()
    {
        using var scope = NewDisposeScope();
        var reference = new Detection(1, "car", 0.8f, [0.1f, 0.1f, 0.5f, 0.5f], 0);
        var target = new DetectionTarget(reference, backgroundClass: 0);
        var output = tensor(new float[]
        {
            // image 0: the same box, class 1 at 0.7 -> 1 + 0.7
            0.1f, 0.1f, 0.5f, 0.5f, 0.1f, 0.7f, 0.2f,
            0.6f, 0.6f, 0.9f, 0.9f, 0.1f, 0.9f, 0.0f,
            // image 1: the overlapping candidate is class 2 now -> 0
            0.1f, 0.1f, 0.5f, 0.5f, 0.1f, 0.2f, 0.6f,
            0.6f, 0.6f, 0.9f, 0.9f, 0.1f, 0.9f, 0.0f,
            // image 2: nothing overlaps enough -> 0
            0.4f, 0.4f, 0.8f, 0.8f, 0.1f, 0.9f, 0.0f,
            0.6f, 0.6f, 0.9f, 0.9f, 0.1f, 0.9f, 0.0f,
        }, [3, 2, 7]);
        Assert.That(target.Score(output).data<float>().ToArray(), Is.EqualTo(new[] { 1.7f, 0, 0 }).Within(1e-5));
        Assert.That(target.Confidence(output).data<float>().ToArray(), Is.EqualTo(new[] { 0.7f, 0, 0 }).Within(1e-5));
    }

    /// <summary>On the image a detection was found on, its own candidate's box is the reference box: the overlap's
    /// min/max tie there, and like torchvision's box_iou (pytorch-grad-cam's box-score target) the IoU term then passes
    /// no gradient to the box, only the class score does (a clamp would pass 1/width, which moved the maps).</summary>
    [Test]
    public void At_its_own_box_a_detections_score_has_gradient_only_through_its_class_score()
    {
        using var scope = NewDisposeScope();
        var reference = new Detection(1, "car", 0.7f, [0.1f, 0.2f, 0.5f, 0.6f], 0);
        var target = new DetectionTarget(reference, backgroundClass: 0);
        var output = tensor(new float[] { 0.1f, 0.2f, 0.5f, 0.6f, 0.1f, 0.7f, 0.2f }, [1, 1, 7]).requires_grad_(true);
        using var grad = enable_grad();
        var g = autograd.grad([target.Score(output).sum()], [output])[0].data<float>().ToArray();
        Assert.That(g, Is.EqualTo(new[] { 0f, 0f, 0f, 0f, 0f, 1f, 0f }).Within(1e-6), "box coordinates 0, the class score 1");
    }

    [Test]
    public void A_segmentation_target_is_the_class_logit_over_its_mask()
    {
        using var scope = NewDisposeScope();
        var mask = tensor(new[] { true, false, true, false }, [2, 2]);
        using var target = new SegmentationTarget(1, "bird", mask);
        var logits = tensor(new float[] { 0, 0, 0, 0, 2, 9, 4, 9 }, [1, 2, 2, 2]);
        Assert.That(target.Score(logits).item<float>(), Is.EqualTo(3f).Within(1e-6), "mean of 2 and 4");
        float p2 = 1 / (1 + MathF.Exp(-2)), p4 = 1 / (1 + MathF.Exp(-4));
        Assert.That(target.Confidence(logits).item<float>(), Is.EqualTo((p2 + p4) / 2).Within(1e-6));
        Assert.Throws<ArgumentException>(() => new SegmentationTarget(1, "bird", zeros(2, 2, ScalarType.Bool)).Dispose(), "an empty mask");
    }
}
