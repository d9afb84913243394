namespace SaCam.Core.Methods;

/// <summary>The built-in methods by id (aliases included). Methods from plugins live in SaCam.Plugins' PluginCatalog,
/// which asks here first whether an id is taken.</summary>
public static class MethodRegistry
{
    private static readonly Dictionary<string, Func<ICamMethod>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["gradcam"] = () => new GradCam(),
        ["gradcam++"] = () => new GradCamPlusPlus(),
        ["gradcampp"] = () => new GradCamPlusPlus(),
        ["xgradcam"] = () => new XGradCam(),
        ["layercam"] = () => new LayerCam(),
        ["scorecam"] = () => new ScoreCam(),
        ["groupcam"] = () => new GroupCam(),
        ["sacam"] = () => new SaCam(),
        ["sacam-rt"] = () => new Realtime.RealtimeSaCam(),
    };

    /// <summary>The canonical ids, in the order the README lists them.</summary>
    public static IReadOnlyList<string> Ids { get; } = ["gradcam", "gradcam++", "xgradcam", "layercam", "scorecam", "groupcam", "sacam", "sacam-rt"];

    /// <summary>Whether <paramref name="id"/> names a built-in method, by its canonical id or an alias.</summary>
    public static bool IsBuiltIn(string id) => Factories.ContainsKey(id);

    public static ICamMethod Create(string id) =>
        Factories.TryGetValue(id, out var make)
            ? make()
            : throw new ArgumentException($"Unknown method '{id}'. Known methods: {string.Join(", ", Factories.Keys.Order())}.");
}
