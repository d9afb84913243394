using SaCam.App.Specs;
using SaCam.Core.Methods;
using SaCam.Core.Realtime;
using SaCam.Plugins;

namespace SaCam.App.Building;

/// <summary>
/// The one method lookup: a spec's id becomes a method instance (a built-in, sacam-rt with its options, or a
/// plugin's). A per-stream method's warnings are wired to the run's feedback here, so every front-end shows them.
/// </summary>
public static class MethodFactory
{
    /// <summary>The method, or null for <see cref="MethodSpec.ClassifyOnly"/>. The caller owns it (dispose a per-stream method).</summary>
    public static ICamMethod? Create(MethodSpec spec, PluginCatalog catalog, IRunFeedback feedback)
    {
        if (!spec.Explains) return null;
        var method = spec.Id == MethodSpec.Realtime ? new RealtimeSaCam(spec.RealtimeOptions) : catalog.CreateMethod(spec.Id);
        if (method is IPerStreamMethod perStream) perStream.Warning += text => feedback.Warning(text.Render(feedback.NameOf));
        return method;
    }

    /// <summary>Refuses an unknown id now, before a model loads or a session starts.</summary>
    public static void Check(MethodSpec spec, PluginCatalog catalog)
    {
        if (!spec.Explains || spec.Id == MethodSpec.Realtime) return;
        (catalog.CreateMethod(spec.Id) as IDisposable)?.Dispose();
    }
}
