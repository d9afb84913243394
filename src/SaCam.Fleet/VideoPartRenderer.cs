using System.Globalization;
using SaCam.App.Building;
using SaCam.App.Specs;
using SaCam.Video.Pipeline;
using SaCam.Video.Sources;

namespace SaCam.Fleet;

/// <summary>
/// A part through the application layer: the plan's video spec with the part's recording, frame range (exact mode)
/// and run folder, built and run exactly as `sacam video` builds and runs it. Tells a bad recording (recorded, never
/// retried) from a stop and from a failure a retry may fix.
/// </summary>
public sealed class VideoPartRenderer(IRunFeedback feedback, Action<string>? log = null) : IPartRenderer
{
    public PartResult Render(FleetPlan plan, PlannedRecording recording, ShardPart part, string runFolder, CancellationToken stop)
    {
        var spec = SpecFor(plan, recording, part, runFolder);
        VideoRunResult? result = null;
        try
        {
            using var run = VideoRun.Build(spec, feedback);
            result = run.Run(stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return new PartResult(PartOutcome.Stopped, 0);
        }
        catch (Exception e) when (e is FrameSourceException or InvalidDataException or FileNotFoundException or OpenCvSharp.OpenCVException)
        {
            return new PartResult(PartOutcome.RecordingUnreadable, 0, e.Message);
        }
        catch (ArgumentException e)
        {
            throw new FleetException($"The plan's video settings do not work: {e.Message}", permanent: true);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            return new PartResult(PartOutcome.Failed, 0, e.Message);
        }
        log?.Invoke($"{recording.Id} from frame {part.Start.ToString(CultureInfo.InvariantCulture)}: {result.Summary}");
        if (stop.IsCancellationRequested || result.Cancelled) return new PartResult(PartOutcome.Stopped, result.FramesWritten);
        if (result.Error is FrameSourceException or InvalidDataException) return new PartResult(PartOutcome.RecordingUnreadable, result.FramesWritten, result.Error.Message);
        if (result.Error is not null) return new PartResult(PartOutcome.Failed, result.FramesWritten, result.Error.Message);
        return new PartResult(PartOutcome.Done, result.FramesWritten);
    }

    /// <summary>The spec of one part: the plan's, on this recording, from the part's first frame, as many explained
    /// frames as the part holds at the plan's stride, into the part's run folder.</summary>
    public static VideoRunSpec SpecFor(FleetPlan plan, PlannedRecording recording, ShardPart part, string runFolder)
    {
        int stride = plan.Video.Frames.Stride;
        return plan.Video with
        {
            Source = recording.Path,
            Frames = new FrameSelection
            {
                Mode = PipelineMode.Exact, Stride = stride, StartFrame = part.Start,
                MaxFrames = part.Count > 0 ? (part.Count + stride - 1) / stride : null,
            },
            Outputs = new VideoOutputs { Run = runFolder },
        };
    }
}
