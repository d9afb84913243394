using System.CommandLine;
using OpenCvSharp;
using SaCam.Medical;
using SaCam.Video;
using SaCam.Video.Sources;

namespace SaCam.Cli;

/// <summary>
/// The options `explain` and `video` take for DICOM sources (--window, --windows, --series, --mask), and the one place
/// that decides whether a source is DICOM (by content: "DICM" at byte 128) and opens it.
/// </summary>
public sealed class MedicalCliOptions
{
    public Option<string?> Window { get; } = new("--window") { Description = $"DICOM: the window in HU (after rescale): {DicomWindow.Help}. Default: the file's own, else min-max." };
    public Option<string?> Windows { get; } = new("--windows") { Description = "DICOM: three windows as the three input channels, e.g. brain,blood,bone (haemorrhage models)." };
    public Option<int?> Series { get; } = new Option<int?>("--series") { Description = "DICOM: which series of a folder holding several (the listing numbers them)." }.AtLeast(1);
    public Option<string?> InputRange { get; } = new("--input-range") { Description = "DICOM: HU that map to the model's 0 and 1 (before its normalization), for models trained on raw scaled HU: full precision, unclamped (e.g. -1024,1024)." };
    public Option<string[]> Mask { get; } = new("--mask") { Description = "DICOM: black out x,y,w,h (frame pixels) before anything is explained or written (burned-in identifiers); repeatable." };

    public MedicalCliOptions()
    {
        Window.Validators.Add(r =>
        {
            try { DicomWindow.Parse(r.GetValueOrDefault<string?>()); }
            catch (ArgumentException e) { r.AddError(e.Message); }
        });
        InputRange.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } text)
                try { MedicalOptions.ParseInputRange(text); }
                catch (ArgumentException e) { r.AddError(e.Message); }
        });
        Mask.Validators.Add(r =>
        {
            foreach (var m in r.GetValueOrDefault<string[]>() ?? [])
                try { MedicalOptions.ParseMask(m); }
                catch (ArgumentException e) { r.AddError(e.Message); }
        });
    }

    public IEnumerable<Option> All => [Window, Windows, Series, Mask, InputRange];

    public MedicalOptions Read(ParseResult parse) => new()
    {
        Window = parse.GetValue(Window),
        Windows = parse.GetValue(Windows),
        Series = parse.GetValue(Series),
        Masks = (parse.GetValue(Mask) ?? []).Select(MedicalOptions.ParseMask).ToList(),
        InputRange = parse.GetValue(InputRange) is { } range ? MedicalOptions.ParseInputRange(range) : null,
    };

    /// <summary>A DICOM file or folder becomes a <see cref="DicomSource"/> (warnings on stderr); anything else goes to
    /// <paramref name="otherwise"/>. DICOM options on a source that is not DICOM are refused, naming them.</summary>
    public static IFrameSource Open(string spec, MedicalOptions? medical, Func<string, IFrameSource> otherwise) =>
        TryOpenDicom(spec, medical) ?? otherwise(spec);

    /// <summary>The DICOM source, or null for anything else (then DICOM options are refused, naming them).</summary>
    private static DicomSource? TryOpenDicom(string spec, MedicalOptions? medical)
    {
        if (DicomFile.IsDicomSource(spec)) return DicomSource.Open(spec, medical ?? new MedicalOptions(), Warn);
        if (medical is not null && (medical.Window is not null || medical.Windows is not null || medical.Series is not null || medical.Masks.Count > 0 || medical.InputRange is not null))
            throw new ArgumentException("--window, --windows, --series, --mask and --input-range apply to DICOM sources; this source is not DICOM (no 'DICM' at byte 128).");
        return null;
    }

    /// <summary>An image for `explain`: a DICOM file's first frame (windowed and masked) with what the model sees
    /// instead when --input-range asks for raw values, or an image file.</summary>
    public static (Mat Picture, Mat? ModelImage) ReadImage(string path, MedicalOptions? medical)
    {
        var source = TryOpenDicom(path, medical);
        if (source is null) return (SaCam.Imaging.ImageFile.ReadBgr(path), null);
        using var frame = System.Reactive.Linq.Observable.Wait(System.Reactive.Linq.Observable.FirstAsync(source.Frames()));
        return (frame.Image.Clone(), frame.ModelImage?.Clone());
    }

    private static void Warn(string message) => Console.Error.WriteLine($"sacam: warning: {message}");
}
