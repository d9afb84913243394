using System.Globalization;
using SaCam.Benchmarks;
using SaCam.Core;

// Usage: dotnet run -c Release --project tests/SaCam.Benchmarks -- [--shared DIR] [--rounds N] [--out docs/benchmarks-explainer.md]
NativeRuntime.Configure();
string shared = Arg("--shared") ?? FindShared();
int rounds = int.Parse(Arg("--rounds") ?? "3", CultureInfo.InvariantCulture);
string output = Arg("--out") ?? Path.Combine(RepoRoot(), "docs", "benchmarks.md");

var started = DateTime.UtcNow;
var body = new ExplainerBenchmark(shared, rounds).Run();
var text = $"## Explainer overhead (issue 2)\n\n" +
           $"Measured {started:yyyy-MM-dd HH:mm} UTC on {Machine.Describe()}; {rounds} rounds (x10 for the gradient family), interleaved.\n\n" + body;
MarkdownSections.Replace(output, "explainer", text);
Console.WriteLine(text);
Console.WriteLine($"written to {output}");
return 0;

string? Arg(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static string RepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "SaCam.Realtime.sln"))) return dir.FullName;
    return Directory.GetCurrentDirectory();
}

static string FindShared()
{
    var candidate = Path.GetFullPath(Path.Combine(RepoRoot(), "..", "shared"));
    if (Directory.Exists(candidate)) return candidate;
    throw new DirectoryNotFoundException($"shared data not found at {candidate}; pass --shared DIR");
}
