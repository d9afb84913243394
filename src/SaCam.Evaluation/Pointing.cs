using System.Text.Json;
using static TorchSharp.torch;

namespace SaCam.Evaluation;

/// <summary>An object in an image: a class (index and/or label) and its box in image pixels.</summary>
public sealed record ObjectBox(int? ClassIndex, string? Label, int X, int Y, int Width, int Height)
{
    public bool Matches(int classIndex, string? label) =>
        ClassIndex == classIndex || (Label is not null && label is not null && label.Split(',').Any(n => n.Trim().Equals(Label, StringComparison.OrdinalIgnoreCase)));
}

/// <summary>The boxes of one image, read from a small JSON file: {"image": "...", "width": W, "height": H, "objects":
/// [{"class": 283, "label": "tiger cat", "box": [x, y, w, h]}]}.</summary>
public sealed record BoxAnnotations(string Image, int Width, int Height, IReadOnlyList<ObjectBox> Objects)
{
    public static BoxAnnotations Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Box file '{path}' does not exist.", path);
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var objects = root.GetProperty("objects").EnumerateArray().Select(o =>
        {
            var box = o.GetProperty("box").EnumerateArray().Select(v => v.GetInt32()).ToArray();
            if (box.Length != 4) throw new FormatException($"{path}: a box is [x, y, width, height].");
            return new ObjectBox(o.TryGetProperty("class", out var c) ? c.GetInt32() : null,
                o.TryGetProperty("label", out var l) ? l.GetString() : null, box[0], box[1], box[2], box[3]);
        }).ToList();
        return new BoxAnnotations(root.GetProperty("image").GetString()!, root.GetProperty("width").GetInt32(), root.GetProperty("height").GetInt32(), objects);
    }
}

/// <summary>
/// Localization against boxes: the energy-based pointing game (Wang et al., Score-CAM, 2020): the share of the map's
/// energy inside the explained object's box; and the classic pointing game: does the map's peak fall inside it.
/// The map must be in the image's pixel grid ([H, W] of the annotated image).
/// </summary>
public static class Pointing
{
    public static double EnergyInBox(Tensor map, ObjectBox box)
    {
        using var scope = NewDisposeScope();
        var m = nn.functional.relu(map.detach().cpu().to_type(ScalarType.Float64));
        double total = m.sum().item<double>();
        if (total <= 0) return 0;
        var inside = m[box.Y..(box.Y + box.Height), box.X..(box.X + box.Width)].sum().item<double>();
        return inside / total;
    }

    public static bool PeakInBox(Tensor map, ObjectBox box)
    {
        using var scope = NewDisposeScope();
        long w = map.shape[1];
        long flat = map.flatten().argmax().item<long>();
        long y = flat / w, x = flat % w;
        return x >= box.X && x < box.X + box.Width && y >= box.Y && y < box.Y + box.Height;
    }
}
