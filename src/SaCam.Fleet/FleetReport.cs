using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using SaCam.Video.Sinks;

namespace SaCam.Fleet;

/// <summary>One frame worth a human look, and why.</summary>
public sealed record FlaggedFrame(string Recording, string File, long Frame, string Reasons, double Score, string Label, string? Link, double Severity);

/// <summary>What a recording's frames say, over all its parts.</summary>
public sealed record RecordingSummary(string Id, string File, long Frames, string DominantClasses, double MeanScore, double MeanEntropy, double PeakPathPerFrame, double ExplainMs);

/// <summary>
/// `fleet merge`: the report a reviewer opens on Monday. Totals and throughput, per recording the dominant classes
/// and how attention behaved (mean score, entropy, how far the map's peak wanders per frame), the failures with
/// their reasons, and frames ranked for a human look: low class confidence, attention jumps, attention far from where
/// it usually sits for that class. Each flagged frame links into that part's review page at the frame (built with
/// <paramref name="buildReview"/> for the parts that hold flagged frames). Markdown, CSV and an index.html.
/// </summary>
public static class FleetReport
{
    private sealed record Row(string Recording, string File, string PartFolder, int Position, long Frame, int Class, string Label, double Score, double? PeakX, double? PeakY, double? Entropy, double? ExplainMs, int Width, int Height);

    public static string Merge(FleetLayout layout, string output, Func<string, string?>? buildReview = null, int maxFlagged = 100)
    {
        var status = FleetStatus.Read(layout);
        var (plan, _) = layout.LoadPlan();
        var rows = new List<Row>();
        var objects = new List<TrackObservation>();
        foreach (int shard in status.Done)
            foreach (var part in plan.Shards[shard].Parts)
            {
                var folder = FleetLayout.PartFolder(layout.ShardFolder(shard), part);
                if (!Directory.Exists(folder)) continue;
                var run = new RunFolder(folder);
                var recording = plan.Recording(part.Recording);
                var (width, height) = FrameSize(run); // once per part: it opens the part's video
                int position = 0;
                foreach (var r in run.ReadFrames())
                {
                    long frame = r["index"]?.GetValue<long>() ?? 0;
                    string file = Path.GetFileName(recording.Path);
                    if (r["objects"] is JsonArray explained)
                        foreach (var o in explained.OfType<JsonObject>())
                            objects.Add(new TrackObservation(recording.Id, file, folder, position, frame, o["track"]?.GetValue<int>() ?? 0,
                                o["label"]?.GetValue<string>() ?? $"class {o["class"]}", o["score"]?.GetValue<double>() ?? 0, o["energy_in_box"]?.GetValue<double>() ?? 1));
                    rows.Add(new Row(recording.Id, file, folder, position++, frame,
                        r["class"]?.GetValue<int>() ?? -1, r["label"]?.GetValue<string>() ?? "", r["score"]?.GetValue<double>() ?? 0,
                        r["peak"]?["x"]?.GetValue<double>(), r["peak"]?["y"]?.GetValue<double>(), r["entropy"]?.GetValue<double>(), r["explain_ms"]?.GetValue<double>(),
                        width, height));
                }
            }
        Directory.CreateDirectory(output);
        var summaries = rows.GroupBy(r => r.Recording).Select(Summarize).ToList();
        var flagged = Flag(rows).OrderByDescending(f => f.Severity).Take(maxFlagged).ToList();
        // Review pages only for the parts a flagged frame links into (a page per part costs a JPEG per frame).
        var reviews = new Dictionary<string, string?>();
        flagged = flagged.Select(f =>
        {
            var row = rows.First(r => r.Recording == f.Recording && r.Frame == f.Frame);
            if (buildReview is null) return f;
            if (!reviews.TryGetValue(row.PartFolder, out var index)) reviews[row.PartFolder] = index = buildReview(row.PartFolder);
            return index is null ? f : f with { Link = Path.GetRelativePath(output, index).Replace('\\', '/') + $"#frame={row.Position}" };
        }).ToList();

        var tracks = TrackRanking.WorthALook(objects).Take(maxFlagged).Select(t =>
        {
            if (buildReview is null) return t;
            if (!reviews.TryGetValue(t.PartFolder, out var index)) reviews[t.PartFolder] = index = buildReview(t.PartFolder);
            return index is null ? t : t with { Link = Path.GetRelativePath(output, index).Replace('\\', '/') + $"#frame={t.FirstPosition}" };
        }).ToList();

        double workerSeconds = status.DoneRecords.Sum(r => r.Seconds);
        double wall = status.DoneRecords.Count == 0 ? 0 : (status.DoneRecords.Max(r => r.EndedUtc) - status.DoneRecords.Min(r => r.StartedUtc)).TotalSeconds;
        var md = new StringBuilder();
        md.AppendLine("# Fleet report\n");
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Plan: {plan.Recordings.Count} recordings, {plan.Shards.Count} shards, model `{plan.Model}` ({plan.ModelSha256[..Math.Min(12, plan.ModelSha256.Length)]}), method `{plan.Video.Method.Id}`, stride {plan.Video.Frames.Stride}.\n"));
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Done: {status.Done.Count} of {status.Shards} shards, {rows.Count} frames of {status.FramesTotal} planned; {status.Failed.Count} failed, {status.Missing.Count} missing{(status.Missing.Count > 0 ? $" ({status.MissingArraySyntax})" : "")}.\n"));
        if (workerSeconds > 0)
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Throughput: {rows.Count / workerSeconds:F1} frames per second per worker; {(wall > 0 ? rows.Count / wall : 0):F1} frames per second over the fleet ({workerSeconds / Math.Max(1, wall):F1} workers on average).\n"));
        md.AppendLine("## Recordings\n");
        md.AppendLine("| recording | file | frames | dominant classes | mean score | mean entropy | peak travel per frame | explain ms |");
        md.AppendLine("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |");
        foreach (var s in summaries)
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {s.Id} | {s.File} | {s.Frames} | {s.DominantClasses} | {s.MeanScore:F3} | {s.MeanEntropy:F3} | {s.PeakPathPerFrame:F3} | {s.ExplainMs:F1} |"));
        if (status.FailedRecords.Count > 0)
        {
            md.AppendLine("\n## Failures (permanent: not retried)\n");
            foreach (var f in status.FailedRecords) md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- shard {f.Shard} ({f.Recording}): {f.Reason}"));
        }
        if (status.Missing.Count > 0) md.AppendLine($"\n## Not done yet\n\nShards {status.MissingArraySyntax}: the report covers what is done.");
        var plots = Plot(rows, output);
        if (plots.Count > 0)
        {
            md.AppendLine("\n## Attention over each recording\n");
            foreach (var (title, file) in plots) md.AppendLine($"![{title}]({file})\n");
        }
        md.AppendLine("\n## Frames worth a look\n");
        md.AppendLine("| recording | frame | why | label | score | review |");
        md.AppendLine("| --- | ---: | --- | --- | ---: | --- |");
        foreach (var f in flagged)
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {f.File} | {f.Frame} | {f.Reasons} | {f.Label} | {f.Score:F3} | {(f.Link is null ? "" : $"[open]({f.Link})")} |"));
        if (objects.Count > 0)
        {
            md.AppendLine("\n## Tracks worth a look\n");
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"Objects followed through a part: flagged when the score fell {TrackRanking.ScoreDropThreshold * 100:F0}% below its best, or the map held under {TrackRanking.InsideBoxThreshold * 100:F0}% of its mass in the box on {TrackRanking.OutsideShareThreshold * 100:F0}% of the track's frames. {objects.Select(o => (o.PartFolder, o.Track)).Distinct().Count()} tracks, {tracks.Count} flagged.\n"));
            md.AppendLine("| recording | track | label | frames | mean score | score drop | outside box | why | review |");
            md.AppendLine("| --- | ---: | --- | --- | ---: | ---: | ---: | --- | --- |");
            foreach (var t in tracks)
                md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {t.File} | {t.Track} | {t.Label} | {t.FirstFrame}-{t.LastFrame} ({t.Frames}) | {t.MeanScore:F3} | {t.ScoreDrop * 100:F0}% | {t.ShareOutsideBox * 100:F0}% | {t.Reasons} | {(t.Link is null ? "" : $"[open]({t.Link})")} |"));
            File.WriteAllText(Path.Combine(output, "tracks-to-review.csv"), "recording,file,track,label,first_frame,last_frame,frames,mean_score,score_drop,share_outside_box,why,review\n" +
                string.Concat(tracks.Select(t => string.Create(CultureInfo.InvariantCulture,
                    $"{t.Recording},{Csv(t.File)},{t.Track},{Csv(t.Label)},{t.FirstFrame},{t.LastFrame},{t.Frames},{t.MeanScore:F4},{t.ScoreDrop:F4},{t.ShareOutsideBox:F4},{Csv(t.Reasons)},{Csv(t.Link ?? "")}\n"))));
        }
        File.WriteAllText(Path.Combine(output, "report.md"), md.ToString());

        File.WriteAllText(Path.Combine(output, "recordings.csv"), "recording,file,frames,dominant_classes,mean_score,mean_entropy,peak_travel_per_frame,explain_ms\n" +
            string.Concat(summaries.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Id},{Csv(s.File)},{s.Frames},{Csv(s.DominantClasses)},{s.MeanScore:F4},{s.MeanEntropy:F4},{s.PeakPathPerFrame:F4},{s.ExplainMs:F2}\n"))));
        File.WriteAllText(Path.Combine(output, "frames-to-review.csv"), "recording,file,frame,why,label,score,review\n" +
            string.Concat(flagged.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Recording},{Csv(f.File)},{f.Frame},{Csv(f.Reasons)},{Csv(f.Label)},{f.Score:F4},{Csv(f.Link ?? "")}\n"))));
        File.WriteAllText(Path.Combine(output, "failures.csv"), "shard,recording,reason\n" +
            string.Concat(status.FailedRecords.Select(f => $"{f.Shard},{f.Recording},{Csv(f.Reason ?? "")}\n")));
        File.WriteAllText(Path.Combine(output, "index.html"), Html(md.ToString(), flagged, tracks, plots));
        return Path.Combine(output, "index.html");
    }

    private static (int Width, int Height) FrameSize(RunFolder run)
    {
        using var capture = new OpenCvSharp.VideoCapture(run.OriginalVideo);
        return capture.IsOpened() ? (capture.FrameWidth, capture.FrameHeight) : (0, 0);
    }

    private static RecordingSummary Summarize(IGrouping<string, Row> g)
    {
        var frames = g.OrderBy(r => r.Frame).ToList();
        var classes = frames.GroupBy(r => r.Label.Length > 0 ? r.Label : r.Class.ToString(CultureInfo.InvariantCulture))
            .OrderByDescending(c => c.Count()).Take(3).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key} ({100.0 * c.Count() / frames.Count:F0}%)"));
        double travel = 0;
        int steps = 0;
        for (int i = 1; i < frames.Count; i++)
            if (Distance(frames[i - 1], frames[i]) is double d) { travel += d; steps++; }
        return new RecordingSummary(g.Key, frames[0].File, frames.Count, string.Join("; ", classes), frames.Average(r => r.Score),
            frames.Where(r => r.Entropy is not null).Select(r => r.Entropy!.Value).DefaultIfEmpty(0).Average(), steps > 0 ? travel / steps : 0,
            frames.Where(r => r.ExplainMs is not null).Select(r => r.ExplainMs!.Value).DefaultIfEmpty(0).Average());
    }

    /// <summary>The peak's move between two frames as a share of the frame's diagonal.</summary>
    private static double? Distance(Row a, Row b)
    {
        if (a.PeakX is null || b.PeakX is null || a.Width <= 0) return null;
        double dx = (a.PeakX!.Value - b.PeakX!.Value) / a.Width, dy = (a.PeakY!.Value - b.PeakY!.Value) / a.Height;
        return Math.Sqrt(dx * dx + dy * dy) / Math.Sqrt(2);
    }

    private static IEnumerable<FlaggedFrame> Flag(List<Row> rows)
    {
        if (rows.Count == 0) yield break;
        var scores = rows.Select(r => r.Score).Order().ToList();
        double low = scores[(int)(0.05 * (scores.Count - 1))];
        // Where attention usually sits for each class: the mean peak and the spread of distances from it.
        var usual = rows.Where(r => r.PeakX is not null && r.Width > 0).GroupBy(r => r.Class).Where(g => g.Count() >= 10).ToDictionary(g => g.Key, g =>
        {
            double mx = g.Average(r => r.PeakX!.Value / r.Width), my = g.Average(r => r.PeakY!.Value / r.Height);
            var d = g.Select(r => Math.Sqrt(Math.Pow(r.PeakX!.Value / r.Width - mx, 2) + Math.Pow(r.PeakY!.Value / r.Height - my, 2))).ToList();
            double mean = d.Average(), sd = Math.Sqrt(d.Average(v => (v - mean) * (v - mean)));
            return (mx, my, mean, sd);
        });
        foreach (var part in rows.GroupBy(r => r.PartFolder))
        {
            var frames = part.OrderBy(r => r.Frame).ToList();
            for (int i = 0; i < frames.Count; i++)
            {
                var r = frames[i];
                var reasons = new List<string>();
                double severity = 0;
                if (r.Score <= low && scores[^1] > scores[0])
                {
                    reasons.Add(string.Create(CultureInfo.InvariantCulture, $"low confidence ({r.Score:F3}, fleet 5th percentile {low:F3})"));
                    severity += 1 + (low - r.Score) / Math.Max(1e-9, scores[^1] - scores[0]);
                }
                if (i > 0 && Distance(frames[i - 1], r) is double jump && jump > 0.25)
                {
                    reasons.Add(string.Create(CultureInfo.InvariantCulture, $"attention jump ({jump:P0} of the diagonal)"));
                    severity += 1 + jump;
                }
                if (usual.TryGetValue(r.Class, out var u) && r.PeakX is not null && u.sd > 0)
                {
                    double d = Math.Sqrt(Math.Pow(r.PeakX!.Value / r.Width - u.mx, 2) + Math.Pow(r.PeakY!.Value / r.Height - u.my, 2));
                    double z = (d - u.mean) / u.sd;
                    if (z > 2.5)
                    {
                        reasons.Add(string.Create(CultureInfo.InvariantCulture, $"attention far from usual for this class ({z:F1} sd)"));
                        severity += z / 2.5;
                    }
                }
                if (reasons.Count > 0) yield return new FlaggedFrame(r.Recording, r.File, r.Frame, string.Join("; ", reasons), r.Score, r.Label, null, severity);
            }
        }
    }

    private static string Csv(string text) => text.Contains(',') || text.Contains('"') ? "\"" + text.Replace("\"", "\"\"") + "\"" : text;

    /// <summary>Per recording, frame by frame: the class score, the map peak's horizontal position (as a share of the
    /// frame's width) and the map's entropy, as `sacam eval` draws its plots.</summary>
    private static List<(string Title, string File)> Plot(List<Row> rows, string output)
    {
        var plots = new List<(string, string)>();
        if (rows.Count == 0) return plots;
        var byRecording = rows.GroupBy(r => r.File).Take(12).Select(g => g.OrderBy(r => r.Frame).ToList()).ToList();
        void One(string name, string title, string y, Func<Row, double?> value)
        {
            var series = byRecording.Select(g => g.Where(r => value(r) is not null).ToList())
                .Where(g => g.Count > 1).Select(g => (g[0].File, g.Select(r => (double)r.Frame).ToArray(), g.Select(r => value(r)!.Value).ToArray())).ToList();
            if (series.Count == 0) return;
            string file = $"plots/{name}.png";
            Reports.Plots.Line(Path.Combine(output, file), title, "frame", y, series);
            plots.Add((title, file));
        }
        One("score", "Class score", "score", r => r.Score);
        One("peak-x", "Where the map peaks (horizontal)", "peak x / frame width", r => r.PeakX is double x && r.Width > 0 ? x / r.Width : null);
        One("entropy", "Map entropy", "entropy", r => r.Entropy);
        return plots;
    }

    private static string Html(string markdown, IReadOnlyList<FlaggedFrame> flagged, IReadOnlyList<FlaggedTrack> tracks, IReadOnlyList<(string Title, string File)> plots)
    {
        var h = new StringBuilder("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Fleet report</title><style>body{font-family:system-ui,sans-serif;margin:24px;max-width:1200px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}pre{white-space:pre-wrap}</style></head><body>");
        h.Append("<h1>Fleet report</h1><p>Also as <a href=\"report.md\">report.md</a>, <a href=\"recordings.csv\">recordings.csv</a>, <a href=\"frames-to-review.csv\">frames-to-review.csv</a>, <a href=\"failures.csv\">failures.csv</a>.</p>");
        h.Append("<h2>Frames worth a look</h2><table id=\"flagged\"><tr><th>file</th><th>frame</th><th>why</th><th>label</th><th>score</th><th>review</th></tr>");
        foreach (var f in flagged)
            h.Append(CultureInfo.InvariantCulture, $"<tr><td>{WebUtility.HtmlEncode(f.File)}</td><td>{f.Frame}</td><td>{WebUtility.HtmlEncode(f.Reasons)}</td><td>{WebUtility.HtmlEncode(f.Label)}</td><td>{f.Score:F3}</td><td>{(f.Link is null ? "" : $"<a href=\"{WebUtility.HtmlEncode(f.Link)}\">open</a>")}</td></tr>");
        h.Append("</table>");
        if (tracks.Count > 0)
        {
            h.Append("<h2>Tracks worth a look</h2><table id=\"tracks\"><tr><th>file</th><th>track</th><th>label</th><th>frames</th><th>why</th><th>review</th></tr>");
            foreach (var t in tracks)
                h.Append(CultureInfo.InvariantCulture, $"<tr><td>{WebUtility.HtmlEncode(t.File)}</td><td>{t.Track}</td><td>{WebUtility.HtmlEncode(t.Label)}</td><td>{t.FirstFrame}-{t.LastFrame}</td><td>{WebUtility.HtmlEncode(t.Reasons)}</td><td>{(t.Link is null ? "" : $"<a href=\"{WebUtility.HtmlEncode(t.Link)}\">open</a>")}</td></tr>");
            h.Append("</table>");
        }
        foreach (var (title, file) in plots) h.Append(CultureInfo.InvariantCulture, $"<h2>{WebUtility.HtmlEncode(title)}</h2><img src=\"{file}\" alt=\"{WebUtility.HtmlEncode(title)}\">");
        h.Append("<h2>Summary</h2><pre>").Append(WebUtility.HtmlEncode(markdown)).Append("</pre></body></html>");
        return h.ToString();
    }
}
