using System.Globalization;

namespace SaCam.Medical;

/// <summary>One series (or one multi-frame file), ordered for review: its slices or frames in display order.</summary>
public sealed record DicomSeries(IReadOnlyList<DicomHeader> Slices, IReadOnlyList<string> Warnings)
{
    public DicomHeader First => Slices[0];
    public string Modality => First.Modality is { Length: > 0 } m ? m : "DICOM";
    public bool IsCine => Slices.Count == 1 && First.Frames > 1;
    public int FrameCount => IsCine ? First.Frames : Slices.Count;

    /// <summary>A label that identifies the source without saying anything about the patient: "CT series, 120 slices".</summary>
    public string Label => IsCine ? $"{Modality} cine, {First.Frames} frames"
        : Slices.Count == 1 ? $"{Modality} image" : $"{Modality} series, {Slices.Count} slices";

    /// <summary>Slice positions along the normal in mm (null for a cine or without geometry).</summary>
    public IReadOnlyList<double>? PositionsMm { get; init; }
}

/// <summary>
/// Turns files into series: grouped by series UID, each ordered along the slice normal (ImagePositionPatient . normal),
/// else by InstanceNumber. Refuses what a reviewer must decide or fix: several series (listed, pick one with
/// --series K), a slice twice (same SOPInstanceUID), a size change inside a series. Uneven spacing is a warning.
/// </summary>
public static class DicomSeriesBuilder
{
    public static IReadOnlyList<DicomSeries> Group(IReadOnlyList<DicomHeader> headers)
    {
        var withPixels = headers.Where(h => h.HasPixels).ToList();
        if (withPixels.Count == 0)
            throw new DicomException(headers.Count == 1 ? "The DICOM file has no pixel data (a report or structured document, not an image)."
                : $"None of the {headers.Count} DICOM files has pixel data.");
        return withPixels.GroupBy(h => h.SeriesUid)
            .Select(g => Build(g.ToList()))
            .OrderBy(s => s.Modality, StringComparer.Ordinal).ThenBy(s => s.First.SeriesNumber ?? int.MaxValue).ThenByDescending(s => s.FrameCount)
            .ToList();
    }

    /// <summary>The one series to review: the only one, or number <paramref name="index"/> (1-based) of the listing.</summary>
    public static DicomSeries Choose(IReadOnlyList<DicomSeries> series, int? index)
    {
        if (index is int k)
        {
            if (k < 1 || k > series.Count) throw new DicomException($"--series {k}: there {(series.Count == 1 ? "is 1 series" : $"are {series.Count} series")} here.\n{Listing(series)}");
            return series[k - 1];
        }
        if (series.Count == 1) return series[0];
        throw new DicomException($"The folder holds {series.Count} series; choose one with --series K:\n{Listing(series)}");
    }

    /// <summary>The series as a reviewer picks one: number, modality, slice count and size. No description or other
    /// free text: people type names into them.</summary>
    public static string Listing(IReadOnlyList<DicomSeries> series) => string.Join('\n', series.Select((s, i) =>
        string.Create(CultureInfo.InvariantCulture, $"  {i + 1}: {s.Label}{(s.First.SeriesNumber is int n ? $" (series number {n})" : "")}, {s.First.Columns}x{s.First.Rows}")));

    private static DicomSeries Build(List<DicomHeader> slices)
    {
        var warnings = new List<string>();
        var duplicates = slices.Where(s => s.InstanceUid.Length > 0).GroupBy(s => s.InstanceUid).FirstOrDefault(g => g.Count() > 1);
        if (duplicates is not null)
            throw new DicomException($"A {slices[0].Modality} series holds the same slice twice ({duplicates.Count()} files with one SOPInstanceUID): remove the copies.");
        var size = (slices[0].Columns, slices[0].Rows);
        if (slices.FirstOrDefault(s => (s.Columns, s.Rows) != size) is { } other)
            throw new DicomException($"A {slices[0].Modality} series changes its frame size from {size.Columns}x{size.Rows} to {other.Columns}x{other.Rows}: a series must keep one size.");

        var normal = slices[0].Normal;
        if (normal is not null && slices.All(s => s.Position is not null))
        {
            double Along(DicomHeader h) => h.Position![0] * normal[0] + h.Position[1] * normal[1] + h.Position[2] * normal[2];
            var ordered = slices.OrderBy(Along).ThenBy(s => s.InstanceNumber ?? 0).ToList();
            var positions = ordered.Select(Along).ToList();
            if (positions.Count > 2)
            {
                var gaps = positions.Zip(positions.Skip(1), (a, b) => b - a).ToList();
                double median = gaps.Order().ElementAt(gaps.Count / 2);
                if (gaps.Any(g => Math.Abs(g - median) > Math.Max(0.01, 0.1 * Math.Abs(median))))
                    warnings.Add(string.Create(CultureInfo.InvariantCulture,
                        $"Slices are not equally spaced (gaps from {gaps.Min():F2} to {gaps.Max():F2} mm, median {median:F2} mm): a missing or extra slice?"));
            }
            return new DicomSeries(ordered, warnings) { PositionsMm = positions };
        }
        return new DicomSeries(slices.OrderBy(s => s.InstanceNumber ?? int.MaxValue).ThenBy(s => s.File, StringComparer.Ordinal).ToList(), warnings);
    }
}
