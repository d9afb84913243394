namespace SaCam.App.Specs;

/// <summary>The evaluations `sacam eval` runs.</summary>
public enum EvalKind { DeletionInsertion, Sanity, Pointing, Temporal, Road, Adversarial }

/// <summary>One evaluation of several methods side by side, written as a report folder.</summary>
public sealed record EvalSpec
{
    public static readonly IReadOnlyDictionary<string, EvalKind> KindNames = new Dictionary<string, EvalKind>
    {
        ["deletion-insertion"] = EvalKind.DeletionInsertion, ["sanity"] = EvalKind.Sanity, ["pointing"] = EvalKind.Pointing, ["temporal"] = EvalKind.Temporal,
        ["road"] = EvalKind.Road, ["adversarial"] = EvalKind.Adversarial,
    };

    /// <summary>The default: the gradient family, seconds per image. Score-CAM, Group-CAM and SA-CAM run hundreds to
    /// thousands of forward passes per image (tens of seconds each on a CPU): name them to include them.</summary>
    public const string DefaultMethods = "gradcam,gradcam++,xgradcam,layercam";

    public required EvalKind Kind { get; init; }
    public ModelSpec Model { get; init; } = new();
    /// <summary>Method ids; sacam-rt@BUDGET[~SMOOTHING] sets sacam-rt's budget and smoothing.</summary>
    public required IReadOnlyList<string> Methods { get; init; }
    /// <summary>exemplar:IMAGE or a plugin's ID:ARG instead of each image's top-1 class.</summary>
    public string? Target { get; init; }
    /// <summary>With an object target (det:, seg:): the most objects per image.</summary>
    public int MaxObjects { get; init; } = 5;
    public string? Images { get; init; }
    public string? Video { get; init; }
    public required string Out { get; init; }
    /// <summary>pointing: folder of IMAGE.boxes.json files (default: beside the images).</summary>
    public string? Boxes { get; init; }
    public int StepPixels { get; init; } = 224;
    public int SanitySteps { get; init; } = 8;
    public int MaxFrames { get; init; } = 60;
    /// <summary>adversarial: folders of background scenes, one per case.</summary>
    public IReadOnlyList<string> Backgrounds { get; init; } = [];
    /// <summary>adversarial: the share of the map's pixels that make the core area.</summary>
    public double Keep { get; init; } = 0.2;
    /// <summary>adversarial: pasted images per image and case.</summary>
    public int Pastes { get; init; } = 10;
    /// <summary>Seeds every random draw of the evaluation (the bootstrap's resamples, adversarial pastes, ROAD's
    /// noise): the same seed gives the same numbers.</summary>
    public int Seed { get; init; }
    /// <summary>Resamples of the paired bootstrap intervals.</summary>
    public int Resamples { get; init; } = 10_000;

    public string KindName => KindNames.First(kv => kv.Value == Kind).Key;

    public static string[] SplitMethods(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>What an evaluation does with a target that names objects (<paramref name="objects"/>) or does not.</summary>
    public void CheckObjectTarget(bool objects)
    {
        if (Kind == EvalKind.Pointing && Target is not null && !objects)
            throw new ArgumentException("pointing explains the class of each box, or each of a detector's or segmenter's objects (--target det:... or seg:...): other targets do not apply.");
        if (objects && Kind is not (EvalKind.Pointing or EvalKind.DeletionInsertion or EvalKind.Road or EvalKind.Adversarial))
            throw new ArgumentException($"--target {Target} evaluates objects with pointing, deletion-insertion, road or adversarial, not {KindName}.");
    }

    public EvalSpec Validated()
    {
        if (Kind == EvalKind.Temporal ? Video is null : Images is null)
            throw new ArgumentException(Kind == EvalKind.Temporal ? "temporal needs --video FILE." : $"{KindName} needs --images DIR.");
        // A KIND:ARGUMENT target may be a plugin's object target kind, known once plugins load: Evaluations checks
        // those then. Every other target is checked here.
        bool maybePluginObjects = Target is not null && Target.Contains(':') && !Building.ObjectTargets.Names(Target);
        if (!maybePluginObjects) CheckObjectTarget(Building.ObjectTargets.Names(Target));
        if (Kind == EvalKind.Adversarial)
        {
            if (Backgrounds.Count == 0) throw new ArgumentException("adversarial needs --backgrounds DIR (scenes of other classes to paste the core areas into; repeat it for more cases).");
            if (Target is not null && !Target.StartsWith("det:", StringComparison.OrdinalIgnoreCase) && !Target.StartsWith("seg:", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"adversarial pastes each image's own top-1 class, or each of a detector's or segmenter's objects (--target det:... or seg:...), into other scenes: --target {Target} does not apply.");
        }
        if (!(Keep > 0 && Keep <= 1)) throw new ArgumentException($"--keep must lie in (0, 1] (got {Keep.ToString(System.Globalization.CultureInfo.InvariantCulture)}).");
        if (Pastes < 1) throw new ArgumentException($"--pastes must be at least 1 (got {Pastes}).");
        if (MaxObjects < 1) throw new ArgumentException($"--max-objects must be at least 1 (got {MaxObjects}).");
        if (Methods.Count == 0) throw new ArgumentException("--methods names no method: give comma-separated ids (see `sacam methods`).");
        if (StepPixels < 1) throw new ArgumentException($"--step-pixels must be at least 1 (got {StepPixels}).");
        if (SanitySteps < 1) throw new ArgumentException($"--sanity-steps must be at least 1 (got {SanitySteps}).");
        if (Resamples < 1) throw new ArgumentException($"--resamples must be at least 1 (got {Resamples}).");
        if (MaxFrames < 2) throw new ArgumentException($"--max-frames must be at least 2 (got {MaxFrames}).");
        Model.Validate();
        foreach (var m in Methods) Building.EvalMethods.Create(m).Dispose(); // unknown ids fail before any work
        return this;
    }
}
