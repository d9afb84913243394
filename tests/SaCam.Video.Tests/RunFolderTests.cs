using SaCam.Imaging;
using SaCam.Video.Sinks;

namespace SaCam.Tests;

/// <summary>What a run folder writes: the footage once when maps are kept (the review draws overlays from them), the
/// annotated frames as well only when something is drawn that the maps cannot redraw, or when no maps are kept.</summary>
[TestFixture]
public class RunFolderTests : TempFolderTest
{
    private static readonly RunManifest Manifest = new("video 'x.mp4'", "synthetic", "gradcam", "exact", 10, DateTime.UtcNow);
    private static readonly OverlayOptions Maps = new();

    [TestCase(true, false, new[] { RunFolder.OriginalVideoName })]
    [TestCase(true, true, new[] { RunFolder.AnnotatedVideoName, RunFolder.OriginalVideoName })]
    [TestCase(false, false, new[] { RunFolder.AnnotatedVideoName, RunFolder.OriginalVideoName })]
    public void The_footage_is_stored_once_when_the_maps_are_kept(bool keepMaps, bool annotatedVideo, string[] videos)
    {
        var folder = new RunFolder(Path.Combine(Dir, "run"));
        var sinks = folder.Create(Manifest, 10, keepMaps ? Maps : null, annotatedVideo);
        try
        {
            Assert.Multiple(() =>
            {
                Assert.That(sinks.OfType<VideoFileSink>().Select(s => Path.GetFileName(s.Path)), Is.EqualTo(videos));
                Assert.That(sinks.OfType<RunMapSink>().Count(), Is.EqualTo(keepMaps ? 1 : 0));
            });
        }
        finally
        {
            foreach (var sink in sinks) sink.Dispose();
        }
    }
}
