using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;
using SaCam.TestSupport;

namespace SaCam.Tests;

/// <summary>
/// Locates ../shared (models, media, fixtures) beside the checkout; SACAM_SHARED overrides the location. A user's
/// clone has none: tests marked <see cref="NeedsSharedDataAttribute"/> are skipped there with the reason, and CI
/// (SACAM_REQUIRE_SHARED=1) fails them instead.
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string?> Found = new(Locate);

    public static bool IsPresent => Found.Value is not null;

    public static string Root => Found.Value ?? Missing();

    public const string HowToGet = "place the shared/ folder (models, media, fixtures) beside the repository, or set SACAM_SHARED to it";

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

    private static string? Locate()
    {
        var explicitRoot = Environment.GetEnvironmentVariable("SACAM_SHARED");
        if (!string.IsNullOrEmpty(explicitRoot)) return Directory.Exists(explicitRoot) ? explicitRoot : null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "fixtures"))) return candidate;
        }
        return null;
    }

    private static string Missing()
    {
        Requirement.Missing("The shared test data (../shared)", HowToGet);
        return "";
    }
}

/// <summary>The test (or every test of the fixture) reads ../shared: skipped before it starts when that is missing
/// on a user's machine, failed under CI.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, Inherited = true)]
public sealed class NeedsSharedDataAttribute : NUnitAttribute, IApplyToTest
{
    public void ApplyToTest(Test test) =>
        Requirement.SkipBeforeRun(test, Requirement.SkipReason(SharedData.IsPresent, "The shared test data (../shared)", SharedData.HowToGet));
}
