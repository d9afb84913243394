namespace SaCam.App.Specs;

/// <summary>One image (or a preprocessed tensor) explained once: what `sacam explain` does.</summary>
public sealed record ExplainSpec
{
    /// <summary>Image or DICOM file; optional with <see cref="InputTensor"/>.</summary>
    public string? Image { get; init; }
    /// <summary>A preprocessed input [1,C,H,W] as .npy: skips preprocessing.</summary>
    public string? InputTensor { get; init; }
    public ModelSpec Model { get; init; } = new();
    public MethodSpec Method { get; init; } = new() { Id = "sacam" };
    public TargetSpec Target { get; init; } = TargetSpec.TopClass;
    public string? Layer { get; init; }
    /// <summary>Override the model's resize: stretch, center-crop[:fraction], letterbox.</summary>
    public string? Resize { get; init; }
    /// <summary>The final map as float32 .npy [H,W] in [0,1].</summary>
    public string? SaveMap { get; init; }
    /// <summary>Per object of a seg:/det:/output: target: DIR/obj-K.npy (the map at the image's size) and DIR/objects.json.</summary>
    public string? SaveMaps { get; init; }
    /// <summary>The overlay image.</summary>
    public string? Overlay { get; init; }
    public string ColorMap { get; init; } = "jet";
    public MedicalSpec? Medical { get; init; }
    public string? Plugins { get; init; }


    /// <summary>--save-maps writes one map per object, so it needs a target that names objects.</summary>
    public void CheckSaveMaps(bool objects)
    {
        if (SaveMaps is not null && !objects)
            throw new ArgumentException("--save-maps writes one map per object: give a --target seg:, det:, output: or a plugin's object target (for one map, --save-map FILE).");
    }

    public ExplainSpec Validated()
    {
        if (Image is null && InputTensor is null) throw new ArgumentException("Give an IMAGE or --input-tensor X.npy.");
        if (Overlay is not null && Image is null) throw new ArgumentException("--out draws the overlay on the IMAGE: give one.");
        Model.Validate();
        Method.Validate();
        // A plugin's object target kind (KIND:...) is known once plugins load: ExplainRun checks it again then.
        if (SaveMaps is not null && Target.Target?.Contains(':') != true) CheckSaveMaps(objects: false);
        Target.Validate();
        Imaging.ColorMaps.Parse(ColorMap);
        Medical?.Validate();
        return this;
    }
}
