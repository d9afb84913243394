using SaCam.Imaging;

namespace SaCam.Video.Sources;

/// <summary>A folder of images, or a glob (dir/*.png), in name order, at a nominal frame rate.</summary>
public sealed class ImageFolderSource : IFrameSource
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"];
    private readonly string[] _files;

    public ImageFolderSource(string folderOrGlob, double framesPerSecond = 25)
    {
        string folder = folderOrGlob, pattern = "*";
        if (!Directory.Exists(folderOrGlob))
        {
            folder = Path.GetDirectoryName(folderOrGlob) is { Length: > 0 } d ? d : ".";
            pattern = Path.GetFileName(folderOrGlob);
            if (!Directory.Exists(folder)) throw new FrameSourceException($"Image folder '{folder}' does not exist.");
        }
        _files = Directory.GetFiles(folder, pattern)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).ToArray();
        if (_files.Length == 0) throw new FrameSourceException($"No images match '{folderOrGlob}'.");
        Description = $"images '{folderOrGlob}'";
        FramesPerSecond = framesPerSecond;
    }

    /// <summary>The image files, in the order they are delivered.</summary>
    public IReadOnlyList<string> Files => _files;

    public string Description { get; }
    public bool IsLive => false;
    public double? FramesPerSecond { get; }
    public long? FrameCount => _files.Length;

    public IObservable<VideoFrame> Frames() => CaptureLoop.Run(Description, (observer, cancellation) =>
    {
        for (int i = 0; i < _files.Length && !cancellation.IsCancellationRequested; i++)
        {
            var image = ImageFile.ReadBgr(_files[i]); // a bad file is an error event after the frames before it
            observer.OnNext(new VideoFrame(i, TimeSpan.FromSeconds(i / FramesPerSecond!.Value), image));
        }
    });
}
