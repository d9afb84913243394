using SaCam.Video.Pipeline;

namespace SaCam.App.Specs;

/// <summary>Which frames of the source are explained.</summary>
public sealed record FrameSelection
{
    /// <summary>Live (newest frame wins) or exact (every frame); null: live for cameras and streams, exact for files.</summary>
    public PipelineMode? Mode { get; init; }
    /// <summary>Exact mode: explain every Nth frame.</summary>
    public int Stride { get; init; } = 1;
    public long? MaxFrames { get; init; }
    /// <summary>Exact mode: the first frame explained (earlier ones are read, not explained).</summary>
    public long StartFrame { get; init; }

    public void Validate()
    {
        if (Stride < 1) throw new ArgumentException($"--stride must be at least 1 (got {Stride}).");
        if (MaxFrames is < 1) throw new ArgumentException($"--max-frames must be at least 1 (got {MaxFrames}).");
        if (StartFrame < 0) throw new ArgumentException($"--start-frame must be at least 0 (got {StartFrame}).");
        if (StartFrame > 0 && Mode == PipelineMode.Live) throw new ArgumentException("--start-frame needs exact mode (live mode shows frames as they come).");
    }
}

/// <summary>How overlays are drawn.</summary>
public sealed record RenderSpec
{
    public string ColorMap { get; init; } = "jet";
    /// <summary>Write original | overlay.</summary>
    public bool SideBySide { get; init; }
    /// <summary>Plugin overlays, ID[:ARG], drawn over the heat map.</summary>
    public IReadOnlyList<string> Overlays { get; init; } = [];

    public void Validate() => Imaging.ColorMaps.Parse(ColorMap);
}

/// <summary>Where a video run writes. Every path is an output: none may name an input or a file the run does not own.</summary>
public sealed record VideoOutputs
{
    /// <summary>Annotated video (.mp4, .mov, .mkv, .avi).</summary>
    public string? Video { get; init; }
    public string? Jsonl { get; init; }
    /// <summary>Folder of per-frame float32 .npy maps.</summary>
    public string? SaveMaps { get; init; }
    public int? PngEvery { get; init; }
    public string? PngDir { get; init; }
    /// <summary>A live window (needs a display).</summary>
    public bool Show { get; init; }
    /// <summary>A run folder for `sacam review`.</summary>
    public string? Run { get; init; }
    /// <summary>Plugin sinks, ID[:ARG].</summary>
    public IReadOnlyList<string> Sinks { get; init; } = [];
    /// <summary>DICOM sources: a folder for each explained frame as a Secondary Capture in a new series of the source's
    /// study (the one output that carries patient identity, because a PACS files it by it).</summary>
    public string? DicomOut { get; init; }
    /// <summary>DICOM sources: a PACS the Secondary Captures are stored to, AET@HOST:PORT or dicomweb:http://HOST:PORT/ROOT.</summary>
    public string? StoreTo { get; init; }

    public static readonly string[] VideoExtensions = [".mp4", ".mov", ".mkv", ".avi"];

    public void Validate()
    {
        if (PngEvery is < 1) throw new ArgumentException($"--png-every must be at least 1 (got {PngEvery}).");
        if (PngEvery is not null && PngDir is null) throw new ArgumentException("--png-every needs --png-dir.");
        if (PngDir is not null && PngEvery is null) throw new ArgumentException("--png-dir needs --png-every N.");
        if (Video is not null && !VideoExtensions.Contains(Path.GetExtension(Video).ToLowerInvariant()))
            throw new ArgumentException($"--out '{Video}': an annotated video is written as {string.Join(", ", VideoExtensions)}.");
        if (StoreTo is not null) Medical.DicomStores.Parse(StoreTo);
    }
}

/// <summary>
/// One video run, whole: what `sacam video` does, what a fleet shard does for one frame range, as one immutable value
/// with a JSON form (a fleet plan stores it). <see cref="Validate"/> refuses what would make the run meaningless
/// before anything is opened or written.
/// </summary>
public sealed record VideoRunSpec
{
    /// <summary>Video file, camera index, image folder or glob, stream URL, DICOM file or folder, or a plugin's scheme.</summary>
    public required string Source { get; init; }
    public ModelSpec Model { get; init; } = new();
    public MethodSpec Method { get; init; } = new();
    public TargetSpec Target { get; init; } = TargetSpec.TopClass;
    /// <summary>Target layer; null: found automatically.</summary>
    public string? Layer { get; init; }
    public FrameSelection Frames { get; init; } = new();
    public RenderSpec Render { get; init; } = new();
    public VideoOutputs Outputs { get; init; } = new();
    public MedicalSpec? Medical { get; init; }
    /// <summary>Plugin folder; null: $SACAM_PLUGINS if set.</summary>
    public string? Plugins { get; init; }
    /// <summary>Check the map of every Nth explained frame for faithfulness (deletion and insertion); null: never.</summary>
    public int? QualityEvery { get; init; }

    public VideoRunSpec Validated()
    {
        if (string.IsNullOrWhiteSpace(Source)) throw new ArgumentException("The source is empty: give a video file, camera index, folder, URL or DICOM.");
        Model.Validate();
        Method.Validate();
        Target.Validate();
        Frames.Validate();
        Render.Validate();
        Outputs.Validate();
        Medical?.Validate();
        if (QualityEvery is < 1) throw new ArgumentException($"--quality-every must be at least 1 (got {QualityEvery}).");
        if (QualityEvery is not null && !Method.Explains)
            throw new ArgumentException($"--quality-every checks maps: give a method other than {MethodSpec.ClassifyOnly}.");
        return this;
    }
}
