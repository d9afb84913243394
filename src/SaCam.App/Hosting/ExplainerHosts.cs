using SaCam.App.Building;
using SaCam.App.Specs;
using SaCam.Video.Host;
using SaCam.Video.Overlays;

namespace SaCam.App.Hosting;

/// <summary>The in-process host API from a spec: an <see cref="ExplainerHost"/> that owns the model, target and
/// explainer the spec names, and disposes them with itself.</summary>
public static class ExplainerHosts
{
    public static ExplainerHost Create(StreamSpec spec, IRunFeedback? feedback = null)
    {
        var stream = LoadedStream.Load(spec, feedback ?? SilentFeedback.Instance);
        try
        {
            var explainer = stream.CreateExplainer();
            return new ExplainerHost(explainer, new FrameRenderer(stream.Render), owned: [explainer, stream]);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }
}
