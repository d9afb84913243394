using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace SaCam.Tests; // also compiled into tests/SaCam.Benchmarks

/// <summary>
/// Writes DICOM for the tests through DCMTK's dump2dcm: a text dump of the tags (with patient tags set to canaries
/// the privacy test looks for) and the pixels from a raw file. Values are HU: stored = HU + 1024 with intercept -1024.
/// </summary>
public sealed class DicomTestData(string folder)
{
    public const string CanaryName = "CANARYNAME^SECRET";
    public const string CanaryId = "CANARYID4242";
    public const string CanaryBirth = "19010203";
    public const string CanaryAccession = "CANARYACC777";
    public const string CanaryStudyDate = "19020304";
    public const string CanaryStudyUid = "1.2.826.0.1.3680043.9.9999.424242";
    /// <summary>Free text a person typed: series descriptions are never read, listed or written.</summary>
    public const string CanaryDescription = "CANARYDESC chest";
    public static readonly string[] Canaries = [CanaryName, "CANARYNAME", CanaryId, CanaryBirth, CanaryAccession, CanaryStudyDate, CanaryStudyUid, CanaryDescription, "CANARYDESC"];

    public string Folder { get; } = Directory.CreateDirectory(folder).FullName;

    public sealed record Slice
    {
        public int Width { get; init; } = 64;
        public int Height { get; init; } = 64;
        public double ZMm { get; init; }
        public int InstanceNumber { get; init; } = 1;
        public string SeriesUid { get; init; } = "1.2.826.0.1.3680043.9.9999.1";
        public string? InstanceUid { get; init; }
        public string Modality { get; init; } = "CT";
        public string Description { get; init; } = CanaryDescription;
        public int? SeriesNumber { get; init; }
        public string Photometric { get; init; } = "MONOCHROME2";
        public (double Center, double Width)? Window { get; init; }
        public bool BurnedIn { get; init; }
        public int Frames { get; init; } = 1;
        public double? FrameTimeMs { get; init; }
        public bool PixelData { get; init; } = true;
        /// <summary>HU of each pixel (frame, x, y).</summary>
        public Func<int, int, int, short> Hu { get; init; } = (_, _, _) => 0;
    }

    private int _count;

    /// <summary>Writes one file named <paramref name="name"/> (any name: DICOM is known by its content).</summary>
    public string Write(string name, Slice s)
    {
        string path = Path.Combine(Folder, name), raw = Path.Combine(Folder, name + ".raw"), dump = Path.Combine(Folder, name + ".dump");
        var pixels = new byte[s.Width * s.Height * s.Frames * 2];
        for (int f = 0; f < s.Frames; f++)
            for (int y = 0; y < s.Height; y++)
                for (int x = 0; x < s.Width; x++)
                    BitConverter.TryWriteBytes(pixels.AsSpan(((f * s.Height + y) * s.Width + x) * 2), (short)(s.Hu(f, x, y) + 1024));
        File.WriteAllBytes(raw, pixels);
        string uid = s.InstanceUid ?? $"1.2.826.0.1.3680043.9.9999.2.{Interlocked.Increment(ref _count)}";
        // CT Image Storage even for several frames: DCMTK applies the rescale there (it ignores it for XA).
        string sopClass = "1.2.840.10008.5.1.4.1.1.2";
        var t = new StringBuilder();
        void Tag(string tag, string vr, string value) => t.AppendLine(CultureInfo.InvariantCulture, $"({tag}) {vr} {value}");
        Tag("0002,0001", "OB", "00\\01");
        Tag("0002,0002", "UI", $"[{sopClass}]");
        Tag("0002,0003", "UI", $"[{uid}]");
        Tag("0002,0010", "UI", "=LittleEndianExplicit");
        Tag("0008,0016", "UI", $"[{sopClass}]");
        Tag("0008,0018", "UI", $"[{uid}]");
        Tag("0008,0020", "DA", $"[{CanaryStudyDate}]");
        Tag("0008,0050", "SH", $"[{CanaryAccession}]");
        Tag("0008,0060", "CS", $"[{s.Modality}]");
        Tag("0008,103e", "LO", $"[{s.Description}]");
        Tag("0010,0010", "PN", $"[{CanaryName}]");
        Tag("0010,0020", "LO", $"[{CanaryId}]");
        Tag("0010,0030", "DA", $"[{CanaryBirth}]");
        if (s.FrameTimeMs is double ft) Tag("0018,1063", "DS", $"[{ft.ToString(CultureInfo.InvariantCulture)}]");
        Tag("0020,000d", "UI", $"[{CanaryStudyUid}]");
        Tag("0020,000e", "UI", $"[{s.SeriesUid}]");
        if (s.SeriesNumber is int number) Tag("0020,0011", "IS", $"[{number}]");
        Tag("0020,0013", "IS", $"[{s.InstanceNumber}]");
        Tag("0020,0032", "DS", $"[0\\0\\{s.ZMm.ToString(CultureInfo.InvariantCulture)}]");
        Tag("0020,0037", "DS", "[1\\0\\0\\0\\1\\0]");
        Tag("0028,0002", "US", "1");
        Tag("0028,0004", "CS", $"[{s.Photometric}]");
        if (s.Frames > 1) Tag("0028,0008", "IS", $"[{s.Frames}]");
        Tag("0028,0010", "US", s.Height.ToString(CultureInfo.InvariantCulture));
        Tag("0028,0011", "US", s.Width.ToString(CultureInfo.InvariantCulture));
        Tag("0028,0030", "DS", "[0.5\\0.5]");
        Tag("0028,0100", "US", "16");
        Tag("0028,0101", "US", "16");
        Tag("0028,0102", "US", "15");
        Tag("0028,0103", "US", "1");
        if (s.BurnedIn) Tag("0028,0301", "CS", "[YES]");
        if (s.Window is var (c, w)) { Tag("0028,1050", "DS", $"[{c.ToString(CultureInfo.InvariantCulture)}]"); Tag("0028,1051", "DS", $"[{w.ToString(CultureInfo.InvariantCulture)}]"); }
        Tag("0028,1052", "DS", "[-1024]");
        Tag("0028,1053", "DS", "[1]");
        if (s.PixelData) Tag("7fe0,0010", "OW", $"={raw}");
        File.WriteAllText(dump, t.ToString());
        Tool("dump2dcm", "+te", dump, path);
        File.Delete(raw);
        File.Delete(dump);
        return path;
    }

    /// <summary>A series of <paramref name="count"/> slices 2 mm apart, files named in shuffled order; slice k's
    /// pixels hold HU 10*k inside a bright disc (HU 1000 + 10*k) at the centre.</summary>
    public IReadOnlyList<string> Series(int count, string prefix = "img", string seriesUid = "1.2.826.0.1.3680043.9.9999.1", Func<int, double>? z = null, int size = 64)
    {
        var order = Enumerable.Range(0, count).OrderBy(i => (i * 7919) % count).ToList(); // a fixed shuffle
        return order.Select((k, n) => Write($"{prefix}{n:D3}", new Slice
        {
            Width = size, Height = size, ZMm = z?.Invoke(k) ?? 2.0 * k, InstanceNumber = count - k, SeriesUid = seriesUid,
            Hu = (_, x, y) => (short)(Math.Pow(x - size / 2.0, 2) + Math.Pow(y - size / 2.0, 2) < size * size / 16.0 ? 1000 + 10 * k : 10 * k),
        })).ToList();
    }

    public static void Tool(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        string err = p.StandardError.ReadToEnd() + p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed: {err}");
    }
}
