using NUnit.Framework;
using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;

namespace SaCam.TestSupport;

/// <summary>
/// What some tests need beyond the repository: the reference data in ../shared, and programs that .ci/run installs
/// (ffmpeg, chromium). On a user's machine a missing need skips the test, saying what is missing and how to get
/// it, so that `dotnet test` is green on a fresh clone. CI sets SACAM_REQUIRE_SHARED=1: there a missing need fails.
/// </summary>
public static class Requirement
{
    public const string Variable = "SACAM_REQUIRE_SHARED";

    /// <summary>True under CI (SACAM_REQUIRE_SHARED=1): nothing may be skipped for want of data or a program.</summary>
    public static bool Enforced => Environment.GetEnvironmentVariable(Variable) == "1";

    /// <summary>Skips (user checkout) or fails (CI) the running test. Call it at the start of a test or a setup,
    /// never inside Assert.Throws or Assert.Multiple: use the attributes below where a whole test depends on it.</summary>
    public static void Missing(string what, string howToGet)
    {
        if (Enforced) Assert.Fail($"{what} is missing: {howToGet}. ({Variable}=1 makes a missing need a failure.)");
        Assert.Ignore($"{what} is missing: {howToGet}.");
    }

    /// <summary>The reason a test is skipped before it starts, or null when it can run (or must, under CI).</summary>
    public static string? SkipReason(bool present, string what, string howToGet) =>
        present || Enforced ? null : $"{what} is missing: {howToGet}.";

    /// <summary>Marks a test (or a fixture) as skipped before it runs: the skip cannot be mistaken for a failure by
    /// Assert.Throws, Assert.Multiple or a test case source.</summary>
    public static void SkipBeforeRun(Test test, string? reason)
    {
        if (reason is null || test.RunState == RunState.NotRunnable) return;
        test.RunState = RunState.Ignored;
        test.Properties.Set(PropertyNames.SkipReason, reason);
    }

    public static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, program)));
}

/// <summary>The test needs programs on PATH; skipped on a machine without them (CI installs them).</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, Inherited = true)]
public sealed class NeedsProgramsAttribute(string aptPackage, params string[] programs) : NUnitAttribute, IApplyToTest
{
    public void ApplyToTest(Test test) => Requirement.SkipBeforeRun(test, Requirement.SkipReason(
        programs.All(Requirement.OnPath), string.Join(" and ", programs), $"install them with: apt-get install {aptPackage}"));
}
