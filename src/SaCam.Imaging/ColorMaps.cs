using OpenCvSharp;

namespace SaCam.Imaging;

public enum ColorMap { Jet, Turbo, Viridis, Inferno }

/// <summary>
/// 256-entry BGR lookup tables. Each is made once by colouring a 0..255 ramp with OpenCV's own map; frames then
/// go through Cv2.LUT, which is 10-25x cheaper per frame than Cv2.ApplyColorMap (platform notes: 0.7 ms vs
/// 8-18 ms at 640x480) and gives identical colours.
/// </summary>
public static class ColorMaps
{
    private static readonly Dictionary<ColorMap, Mat> Tables = new();
    private static readonly Lock Gate = new();

    public static Mat Table(ColorMap map)
    {
        lock (Gate)
        {
            if (Tables.TryGetValue(map, out var table)) return table;
            using var ramp = new Mat(256, 1, MatType.CV_8UC1);
            for (int i = 0; i < 256; i++) ramp.Set(i, 0, (byte)i);
            var colored = new Mat();
            Cv2.ApplyColorMap(ramp, colored, map switch
            {
                ColorMap.Turbo => ColormapTypes.Turbo,
                ColorMap.Viridis => ColormapTypes.Viridis,
                ColorMap.Inferno => ColormapTypes.Inferno,
                _ => ColormapTypes.Jet,
            });
            // LUT wants a 1x256 table with the image's channel count.
            var lut = colored.Reshape(3, 1);
            Tables[map] = lut;
            return lut;
        }
    }

    public static readonly string[] Names = ["jet", "turbo", "viridis", "inferno"];

    /// <summary>The name <see cref="Parse"/> reads back (the enum's order is the names').</summary>
    public static string NameOf(ColorMap map) => Names[(int)map];

    public static ColorMap Parse(string name) => name.ToLowerInvariant() switch
    {
        "jet" => ColorMap.Jet,
        "turbo" => ColorMap.Turbo,
        "viridis" => ColorMap.Viridis,
        "inferno" => ColorMap.Inferno,
        _ => throw new ArgumentException($"Unknown colour map '{name}': use jet, turbo, viridis or inferno."),
    };

    /// <summary>Colours an 8-bit single-channel map into BGR.</summary>
    public static void Apply(Mat gray8, Mat bgrOut, ColorMap map)
    {
        using var three = new Mat();
        Cv2.CvtColor(gray8, three, ColorConversionCodes.GRAY2BGR);
        Cv2.LUT(three, Table(map), bgrOut);
    }
}
