namespace SaCam.Tests;

/// <summary>
/// Locates ../shared (models, media, fixtures). Tests that need it fail with a clear message when it is missing,
/// unless SACAM_USER_CHECKOUT=1 says this is a user's own checkout: then they are skipped, saying why.
/// SACAM_SHARED overrides the location.
/// </summary>
public static class SharedData
{
    public static string Root
    {
        get
        {
            var explicitRoot = Environment.GetEnvironmentVariable("SACAM_SHARED");
            if (!string.IsNullOrEmpty(explicitRoot)) return Require(explicitRoot);
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared");
                if (Directory.Exists(Path.Combine(candidate, "fixtures"))) return candidate;
            }
            return Require(Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared")));
        }
    }

    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "SaCam.Realtime.sln"))) return dir.FullName;
            throw new InvalidOperationException("Cannot find SaCam.Realtime.sln above the test binaries.");
        }
    }

    /// <summary>The configuration these tests were built in: plugins and samples built beside them are found under it.</summary>
#if DEBUG
    public const string BuildConfiguration = "Debug";
#else
    public const string BuildConfiguration = "Release";
#endif

    public static string Path_(params string[] parts) => Path.Combine([Root, .. parts]);
    public static string MobileNetV2 => Path_("models", "mobilenet_v2_1.0_224.onnx");
    public static string ImageNetLabels => Path_("models", "imagenet_labels.txt");
    public static string ReferenceFixtures => Path_("fixtures", "reference");

    private static string Require(string path)
    {
        if (Directory.Exists(path)) return path;
        if (Environment.GetEnvironmentVariable("SACAM_USER_CHECKOUT") == "1")
            Assert.Ignore($"Skipped: shared data not found at '{path}' and SACAM_USER_CHECKOUT=1 says this is a user's own checkout.");
        Assert.Fail($"Shared test data not found at '{path}'. Place the shared/ folder beside the repository, set SACAM_SHARED to it, " +
                    "or set SACAM_USER_CHECKOUT=1 to skip the tests that need it.");
        return path;
    }
}
