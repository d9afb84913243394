using System.Globalization;

namespace SaCam.Fleet;

/// <summary>One explained object on one frame of a part (object targets: `objects` in frames.jsonl).</summary>
public sealed record TrackObservation(string Recording, string File, string PartFolder, int Position, long Frame, int Track, string Label, double Score, double EnergyInBox);

/// <summary>A track worth a look, and why: its frames, how far its score fell, how often its map left its box.</summary>
public sealed record FlaggedTrack(string Recording, string File, string PartFolder, int Track, string Label, long FirstFrame, long LastFrame, int Frames,
    double MeanScore, double ScoreDrop, double ShareOutsideBox, string Reasons, int FirstPosition, double Severity)
{
    public string? Link { get; init; }
}

/// <summary>
/// Ranks the tracks of object runs for a human look. A track is one object followed through one part of a recording
/// (a part is its own run, so its tracker and ids start anew). Two signs that a detector's explanation deserves a look:
/// the object's score falls well below the best it had earlier on the track (the model is losing the object), and the
/// map's mass lies mostly outside the object's own box (the model scores the object from somewhere else: context, a
/// neighbour, a shortcut). Thresholds are named constants; severity is the two measures added.
/// </summary>
public static class TrackRanking
{
    /// <summary>A fall of this share of the track's best score so far is flagged (0.9 to 0.6 is a third).</summary>
    public const double ScoreDropThreshold = 0.3;
    /// <summary>A frame whose map has less than this share of its mass in the box counts as attention outside.</summary>
    public const double InsideBoxThreshold = 0.25;
    /// <summary>A track is flagged when attention is outside its box on at least this share of its frames.</summary>
    public const double OutsideShareThreshold = 0.5;

    public static IReadOnlyList<FlaggedTrack> All(IEnumerable<TrackObservation> observations) =>
        observations.GroupBy(o => (o.PartFolder, o.Track)).Select(Measure).ToList();

    public static IReadOnlyList<FlaggedTrack> WorthALook(IEnumerable<TrackObservation> observations) =>
        All(observations).Where(t => t.Reasons.Length > 0).OrderByDescending(t => t.Severity).ToList();

    private static FlaggedTrack Measure(IEnumerable<TrackObservation> track)
    {
        var frames = track.OrderBy(o => o.Frame).ToList();
        double best = double.NegativeInfinity, drop = 0;
        foreach (var o in frames)
        {
            if (best > 0) drop = Math.Max(drop, (best - o.Score) / best);
            best = Math.Max(best, o.Score);
        }
        double outside = frames.Count(o => o.EnergyInBox < InsideBoxThreshold) / (double)frames.Count;
        var reasons = new List<string>();
        if (drop >= ScoreDropThreshold) reasons.Add(string.Create(CultureInfo.InvariantCulture, $"score fell {drop * 100:F0}% below its best"));
        if (outside >= OutsideShareThreshold) reasons.Add(string.Create(CultureInfo.InvariantCulture, $"attention outside its box on {outside * 100:F0}% of its frames"));
        var first = frames[0];
        string label = frames.GroupBy(o => o.Label).OrderByDescending(g => g.Count()).First().Key;
        return new FlaggedTrack(first.Recording, first.File, first.PartFolder, first.Track, label, first.Frame, frames[^1].Frame, frames.Count,
            frames.Average(o => o.Score), drop, outside, string.Join("; ", reasons), first.Position,
            (drop >= ScoreDropThreshold ? drop : 0) + (outside >= OutsideShareThreshold ? outside : 0));
    }
}
