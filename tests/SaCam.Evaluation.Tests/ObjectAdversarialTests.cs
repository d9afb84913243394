using SaCam.App.Building;
using SaCam.Core.Targets;
using SaCam.Core.Tasks;
using SaCam.Evaluation;
using SaCam.Imaging;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>
/// Adversarial verification of objects (a detection, a segment) on the shared models: an object's core pasted back
/// at its own place into its own image leaves the image unchanged, so its confidence read at its (unmoved) place is
/// exactly what it was, and it is found again; the same core moved elsewhere is read at its new place. The core of an
/// object is --keep of the object's own area.
/// </summary>
[TestFixture, NeedsSharedData]
public class ObjectAdversarialTests : TempFolderTest
{
    /// <summary>The draw that puts a box back where it was: U = left / room, V = top / room (half a pixel in).</summary>
    private static PasteDraw AtOwnPlace((int X0, int Y0, int X1, int Y1) box, int h, int w, int background) =>
        new(background, (box.X0 + 0.5) / (w - (box.X1 - box.X0 + 1) + 1), (box.Y0 + 0.5) / (h - (box.Y1 - box.Y0 + 1) + 1));

    /// <summary>A shared model through its docs card, one of the seg-det images as it takes it, and the objects
    /// <paramref name="target"/> names on it. The caller disposes the model and the objects, in a dispose scope.</summary>
    private (ModelCard Card, OnnxTaskModel Model, Tensor Input, IReadOnlyList<ExplainedObject> Found) Objects(string model, string image, string target)
    {
        var card = ModelCard.Read(SharedModelCards.Write(Dir, model));
        var loaded = OnnxTaskModel.Load(SharedModelCards.Model(model), card);
        using var bgr = ImageFile.ReadBgr(SharedData.Path_("media", "seg-det", image));
        var (x, geometry) = ImagePreprocessor.ToTensor(bgr, loaded.Preprocess);
        return (card, loaded, x, ObjectTargets.Find(target, loaded, x, geometry, 5));
    }

    [Test]
    public void A_detection_pasted_back_at_its_own_place_keeps_its_confidence_and_moved_is_read_where_it_went()
    {
        using var scope = NewDisposeScope();
        var (card, model, x, found) = Objects("traffic_ssd", "traffic_0001.png", "det:all");
        using var disposeModel = model;
        Assert.That(found, Has.Count.EqualTo(3), "README-seg-det.md: three cars on traffic_0001");
        var verification = new AdversarialVerification(model, keep: 1.0);
        var itself = AdversarialVerification.Floats(x);
        foreach (var o in found)
        {
            var d = (DetectionTarget)o.Target;
            var b = d.Reference.Box;
            var box = ((int)(b[0] * 256), (int)(b[1] * 256), (int)Math.Ceiling(b[2] * 256) - 1, (int)Math.Ceiling(b[3] * 256) - 1);
            var map = zeros(256, 256);
            map[TensorIndex.Slice(box.Item2, box.Item4 + 1), TensorIndex.Slice(box.Item1, box.Item3 + 1)] = tensor(1f); // the core is the box itself
            int pixels = (box.Item3 - box.Item1 + 1) * (box.Item4 - box.Item2 + 1);
            var asked = new List<(int Dy, int Dx)>();
            IExplanationTarget Moved(int dy, int dx)
            {
                asked.Add((dy, dx));
                return new DetectionTarget(d.Reference with { Box = [b[0] + dx / 256f, b[1] + dy / 256f, b[2] + dx / 256f, b[3] + dy / 256f] }, 0);
            }
            var r = verification.EvaluateObject(x, map, d, pixels, box, _ => Moved, card.Detection!.ScoreThreshold, [itself],
                [AtOwnPlace(box, 256, 256, 0), new PasteDraw(0, 0.0, 0.0)]);
            Assert.Multiple(() =>
            {
                Assert.That(r.CorePixels, Is.EqualTo(pixels), "keep 1: as many pixels as the box, and the map is the box");
                Assert.That(asked[0], Is.EqualTo((0, 0)), "the own-place draw does not move it");
                Assert.That(r.Probabilities[0], Is.EqualTo(r.OriginalProbability).Within(1e-6), $"{o.Label}: the same image, the same place");
                Assert.That(r.OriginalProbability, Is.GreaterThanOrEqualTo(card.Detection.ScoreThreshold));
                Assert.That(asked[1], Is.EqualTo((-box.Item2, -box.Item1)), "(0, 0) puts the box at the top-left corner");
                Assert.That(r.Correct, Is.GreaterThanOrEqualTo(1));
            });
        }
        foreach (var o in found) o.Dispose();
    }

    [Test]
    public void A_segment_pasted_back_at_its_own_place_keeps_its_confidence()
    {
        using var scope = NewDisposeScope();
        var (_, model, x, found) = Objects("deeplabv3_mnv2_pascal", "bird_segmentation.png", "seg:bird");
        using var disposeModel = model;
        var s = (SegmentationTarget)found.Single().Target;
        int h = (int)x.shape[2], w = (int)x.shape[3];
        Assert.That(s.Mask.shape, Is.EqualTo(new long[] { h, w }), "DeepLab's logits are at the input's size");
        var rows = s.Mask.sum(dim: 1).nonzero().flatten();
        var cols = s.Mask.sum(dim: 0).nonzero().flatten();
        var box = ((int)cols.min().item<long>(), (int)rows.min().item<long>(), (int)cols.max().item<long>(), (int)rows.max().item<long>());
        var verification = new AdversarialVerification(model, keep: 1.0);
        Func<int, int, IExplanationTarget?> MovedFor(bool[] core) => (dy, dx) =>
        {
            Assert.That((dy, dx), Is.EqualTo((0, 0)));
            var pasted = s.Mask * tensor(core, [h, w]).to_type(ScalarType.Float32);
            return new SegmentationTarget(s.ClassIndex, s.Label, pasted);
        };
        // The map is the segment itself: the core is its pixels, pasted back onto its own image where they were.
        var r = verification.EvaluateObject(x, s.Mask.clone(), s, (int)s.Pixels, box, MovedFor, 0.5, [AdversarialVerification.Floats(x)], [AtOwnPlace(box, h, w, 0)]);
        Assert.Multiple(() =>
        {
            Assert.That(r.CorePixels, Is.EqualTo((int)s.Pixels));
            Assert.That(r.Probabilities[0], Is.EqualTo(r.OriginalProbability).Within(1e-6));
            Assert.That(r.Correct, Is.EqualTo(1), "the bird's mean probability on its own pixels is above 0.5");
        });
        foreach (var o in found) o.Dispose();
    }
}
