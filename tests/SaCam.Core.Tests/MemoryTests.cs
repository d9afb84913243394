using SaCam.Core.Methods;
using SaCam.Core.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>Every tensor an explanation makes is freed: the live tensor count is flat over repeated explanations.</summary>
[TestFixture]
public class MemoryTests
{
    [NeedsSharedData]
    [TestCase("gradcam")]
    [TestCase("layercam")]
    [TestCase("groupcam")]
    public void Repeated_explanations_leave_no_live_tensors(string methodId)
    {
        var model = SharedModels.MobileNetV2;
        var engine = new CamEngine(model);
        var method = MethodRegistry.Create(methodId);
        using var x = randn(1, 3, 224, 224);
        using (var warm = engine.Explain(x, method, new ClassTarget(1))) { }
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 5; i++)
            using (engine.Explain(x, method, new ClassTarget(1))) { }
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.That(after, Is.EqualTo(before), $"{methodId}: live tensors before {before}, after five explanations {after}");
    }
}
