namespace SaCam.Core.Methods;

/// <summary>The built-in methods by id (aliases included). Methods from plugins live in SaCam.Plugins' PluginCatalog,
/// which asks here first whether an id is taken.</summary>
public static class MethodRegistry
{
    /// <summary>How to make a method, and its type: what a method is (per stream or not) is read from the type, so
    /// nothing has to construct one to ask.</summary>
    private sealed record Entry(Type Type, Func<ICamMethod> Make)
    {
        public static Entry Of<T>(Func<T> make) where T : ICamMethod => new(typeof(T), () => make());
    }

    private static readonly Dictionary<string, Entry> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["gradcam"] = Entry.Of(() => new GradCam()),
        ["gradcam++"] = Entry.Of(() => new GradCamPlusPlus()),
        ["gradcampp"] = Entry.Of(() => new GradCamPlusPlus()),
        ["xgradcam"] = Entry.Of(() => new XGradCam()),
        ["layercam"] = Entry.Of(() => new LayerCam()),
        ["scorecam"] = Entry.Of(() => new ScoreCam()),
        ["groupcam"] = Entry.Of(() => new GroupCam()),
        ["sacam"] = Entry.Of(() => new SaCam()),
        ["sacam-rt"] = Entry.Of(() => new Realtime.RealtimeSaCam()),
    };

    /// <summary>The canonical ids, in the order the README lists them.</summary>
    public static IReadOnlyList<string> Ids { get; } = ["gradcam", "gradcam++", "xgradcam", "layercam", "scorecam", "groupcam", "sacam", "sacam-rt"];

    /// <summary>What a method costs per image, in passes through the model (K = channels of the target layer).</summary>
    public enum CostClass
    {
        /// <summary>One forward and one backward pass: milliseconds, video rate.</summary>
        Gradient,
        /// <summary>One forward and backward, plus perturbed forwards up to a per-frame time budget.</summary>
        Budgeted,
        /// <summary>Hundreds to thousands of forward passes: seconds to minutes per image on a CPU.</summary>
        Perturbation,
    }

    public sealed record MethodInfo(string Id, CostClass Cost, string Passes, string Summary)
    {
        /// <summary>The method keeps state from frame to frame (<see cref="IPerStreamMethod"/>): a front-end makes one
        /// per stream (video, session), never shares it, and disposes it when the stream ends.</summary>
        public bool PerStream => IsPerStream(Id);
    }

    /// <summary>One line per built-in method, for `sacam methods` and the README.</summary>
    public static IReadOnlyList<MethodInfo> Describe { get; } =
    [
        new("gradcam", CostClass.Gradient, "1 forward + 1 backward", "Grad-CAM (Selvaraju et al. 2017): channels weighted by their mean gradient."),
        new("gradcam++", CostClass.Gradient, "1 forward + 1 backward", "Grad-CAM++ (Chattopadhay et al. 2018): higher-order gradient weights; better with several objects."),
        new("xgradcam", CostClass.Gradient, "1 forward + 1 backward", "XGrad-CAM (Fu et al. 2020): gradients weighted by normalized activations (axiom-based)."),
        new("layercam", CostClass.Gradient, "1 forward + 1 backward", "LayerCAM (Jiang et al. 2021): per-location positive gradients; finer maps, also at shallow layers."),
        new("scorecam", CostClass.Perturbation, "1 + K forwards (K masked images)", "Score-CAM (Wang et al. 2020): each channel weighted by the score of the image masked with it."),
        new("groupcam", CostClass.Perturbation, "1 forward + 1 backward + G forwards (32 groups)", "Group-CAM (Zhang et al. 2021): channel groups as masks over a blurred image."),
        new("sacam", CostClass.Perturbation, "1 forward + 1 backward + 2 forwards per live channel", "SA-CAM (Liang, Li and Jiang 2022): score, gradient and pixel-priority attention combined; the most faithful here."),
        new("sacam-rt", CostClass.Budgeted, "1 forward + 1 backward + what the budget buys", "SA-CAM under a per-frame time budget, its score term cached across frames (for video)."),
    ];

    /// <summary>Whether <paramref name="id"/> names a built-in method, by its canonical id or an alias.</summary>
    public static bool IsBuiltIn(string id) => Factories.ContainsKey(id);

    /// <summary>The built-in methods that take no gradient: they run wherever a forward pass does (any ONNX graph on
    /// ONNX Runtime).</summary>
    public static IReadOnlyList<string> GradientFree { get; } = Ids.Where(id =>
    {
        var method = Create(id);
        try { return !method.NeedsGradients; }
        finally { (method as IDisposable)?.Dispose(); }
    }).ToList();

    /// <summary>Whether the built-in method <paramref name="id"/> (or alias) keeps state per stream
    /// (<see cref="IPerStreamMethod"/>); false for ids that are not built in. Front-ends ask this instead of
    /// comparing ids.</summary>
    public static bool IsPerStream(string id) =>
        Factories.TryGetValue(id, out var entry) && typeof(IPerStreamMethod).IsAssignableFrom(entry.Type);

    public static ICamMethod Create(string id) =>
        Factories.TryGetValue(id, out var entry)
            ? entry.Make()
            : throw new ArgumentException($"Unknown method '{id}'. Known methods: {string.Join(", ", Factories.Keys.Order())}.");
}
