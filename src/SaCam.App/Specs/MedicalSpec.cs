using System.Globalization;
using SaCam.Medical;

namespace SaCam.App.Specs;

/// <summary>DICOM settings as written on a command line or in a plan: windows, series, masks (x,y,w,h) and the raw
/// input range (LOW,HIGH in HU). <see cref="ToOptions"/> parses them into what the DICOM source takes.</summary>
public sealed record MedicalSpec
{
    public string? Window { get; init; }
    public string? Windows { get; init; }
    public int? Series { get; init; }
    public IReadOnlyList<string> Masks { get; init; } = [];
    public string? InputRange { get; init; }

    /// <summary>Whether any DICOM option was given (they are refused on a source that is not DICOM).</summary>
    public bool Any => Window is not null || Windows is not null || Series is not null || Masks.Count > 0 || InputRange is not null;

    public MedicalOptions ToOptions()
    {
        DicomWindow.Parse(Window);
        if (Series is < 1) throw new ArgumentException($"--series must be at least 1 (got {Series.Value.ToString(CultureInfo.InvariantCulture)}).");
        return new MedicalOptions
        {
            Window = Window, Windows = Windows, Series = Series,
            Masks = Masks.Select(MedicalOptions.ParseMask).ToList(),
            InputRange = InputRange is null ? null : MedicalOptions.ParseInputRange(InputRange),
        };
    }

    public void Validate() => ToOptions();
}
