namespace SaCam.Video.Pipeline;

/// <summary>
/// Stable ids for a detector's boxes across frames: each frame's boxes are matched to the live tracks greedily by
/// overlap (the pair with the largest IoU first, pairs under <see cref="MinIou"/> never), a box left over starts a new
/// track (ids count up from 1 and are never reused), and a track unmatched for more than <see cref="MaxMisses"/>
/// frames ends. Class is not part of the match: a detector's label flickers between similar classes from frame to
/// frame (the shared traffic model between sedan and pickup_suv_van) while the box stays on the car. This is the
/// IoU tracker of Bochinski et al. (2017) with a miss allowance; no maintained .NET package offers one.
/// </summary>
public sealed class IouTracker(double minIou = 0.3, int maxMisses = 5)
{
    private readonly List<Track> _tracks = [];
    private int _nextId = 1;

    public double MinIou { get; } = minIou;
    public int MaxMisses { get; } = maxMisses;

    private sealed class Track(int id, float[] box)
    {
        public int Id { get; } = id;
        public float[] Box { get; set; } = box;
        public int Misses { get; set; }
    }

    /// <summary>The track id of each box (x0, y0, x1, y1), in the order given, and the ids of tracks that ended.</summary>
    public (int[] Ids, IReadOnlyList<int> Ended) Update(IReadOnlyList<float[]> boxes)
    {
        var ids = new int[boxes.Count];
        var pairs = new List<(double Iou, int Box, Track Track)>();
        for (int b = 0; b < boxes.Count; b++)
            foreach (var t in _tracks)
            {
                double iou = Core.Tasks.DetectionDecoder.Iou(boxes[b], t.Box);
                if (iou >= MinIou) pairs.Add((iou, b, t));
            }
        var matchedBoxes = new HashSet<int>();
        var matchedTracks = new HashSet<Track>();
        foreach (var (_, b, t) in pairs.OrderByDescending(p => p.Iou))
        {
            if (matchedBoxes.Contains(b) || matchedTracks.Contains(t)) continue;
            matchedBoxes.Add(b);
            matchedTracks.Add(t);
            t.Box = boxes[b];
            t.Misses = 0;
            ids[b] = t.Id;
        }
        var ended = new List<int>();
        foreach (var t in _tracks.Where(t => !matchedTracks.Contains(t)).ToList())
        {
            if (++t.Misses <= MaxMisses) continue;
            _tracks.Remove(t);
            ended.Add(t.Id);
        }
        for (int b = 0; b < boxes.Count; b++)
        {
            if (matchedBoxes.Contains(b)) continue;
            var track = new Track(_nextId++, boxes[b]);
            _tracks.Add(track);
            ids[b] = track.Id;
        }
        return (ids, ended);
    }

}
