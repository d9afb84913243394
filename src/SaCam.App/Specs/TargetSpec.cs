namespace SaCam.App.Specs;

/// <summary>What is explained: a class (index or label), or a target (exemplar:IMAGE, a plugin's ID:ARG); neither:
/// each frame's own top-1 class (for a backbone, its own embedding).</summary>
public sealed record TargetSpec
{
    public static readonly TargetSpec TopClass = new();

    public string? Class { get; init; }
    public string? Target { get; init; }
    /// <summary>The most objects det:all and det:LABEL explain (per image, per frame).</summary>
    public int MaxObjects { get; init; } = 5;

    /// <summary>The file a built-in target names (exemplar:IMAGE): an input no output may overwrite.</summary>
    public string? ExemplarFile =>
        Target is not null && Target.StartsWith("exemplar:", StringComparison.OrdinalIgnoreCase) ? Target["exemplar:".Length..] : null;

    public void Validate()
    {
        if (Class is not null && Target is not null) throw new ArgumentException("Give --class or --target, not both.");
        if (MaxObjects < 1) throw new ArgumentException($"--max-objects must be at least 1 (got {MaxObjects}).");
    }
}
