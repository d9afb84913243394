using OpenCvSharp;
using static TorchSharp.torch;

namespace SaCam.Video.Pipeline;

/// <summary>One object of a frame, explained: its track (stable across frames for detections), what it is, where
/// (frame pixels), its map (CPU tensor [H, W] in [0, 1] at the model's input size), where the map peaks and how much
/// of its mass lies in the box.</summary>
public sealed class ObjectExplanation(int track, int? classIndex, string? label, float score, Rect box, Tensor map, Point peak, double energyInBox, double explainMs)
    : IDisposable
{
    public int Track { get; } = track;
    public int? Class { get; } = classIndex;
    public string? Label { get; } = label;
    public float Score { get; } = score;
    public Rect Box { get; } = box;
    public Tensor Map { get; } = map;
    public Point Peak { get; } = peak;
    public double EnergyInBox { get; } = energyInBox;
    public double ExplainMs { get; } = explainMs;
    /// <summary>A segment's outline in frame pixels (the contours of the model's mask), drawn instead of a box; null
    /// for detections and raw outputs.</summary>
    public Point[][]? Outline { get; init; }
    /// <summary>This object's map's faithfulness check (of the object's own confidence), on the frames
    /// `--quality-every` samples; null on the others.</summary>
    public MapQuality? Quality { get; init; }

    public void Dispose() => Map.Dispose();
}
