using System.CommandLine;
using SaCam.Cli;

namespace SaCam.Tests;

/// <summary>
/// Every numeric option of every command, found by walking the command tree `sacam` runs (so an option added later
/// is covered without touching this file), given a non-number, a negative, a zero and a value past any integer:
/// the command line is refused with one line on stderr that names the option, or accepted; never an exception out
/// of the parse (that aborted the process with a .NET stack trace). The parse runs in process, as the program runs
/// it; a sample runs the real program to show the same holds end to end (exit 2, one line, no SIGABRT).
/// </summary>
[TestFixture]
public class NumericOptionsTests
{
    private static readonly string[] BadValues = ["ten", "-1", "0", "99999999999999999999", "1e400", "NaN"];

    public sealed record Case(string[] Command, string Option, Type Type)
    {
        public override string ToString() => $"{string.Join(' ', Command)} {Option}";
    }

    public static IEnumerable<TestCaseData> NumericOptions() =>
        Walk(SacamCommands.Root(), []).Select(c => new TestCaseData(c).SetName($"{string.Join('_', c.Command)}_{c.Option.TrimStart('-')}"));

    [Test]
    public void The_walk_finds_the_options_the_issue_names()
    {
        var found = Walk(SacamCommands.Root(), []).Select(c => $"{string.Join(' ', c.Command)} {c.Option}").ToList();
        Assert.That(found, Is.SupersetOf(new[]
        {
            "video --max-frames", "video --stride", "fleet work --shard", "serve --port", "eval --step-pixels", "video --labels-offset",
        }));
    }

    [TestCaseSource(nameof(NumericOptions))]
    public void Every_bad_value_is_one_line_naming_the_option(Case c)
    {
        foreach (var value in BadValues)
        {
            var args = c.Command.Concat(RequiredValues(c.Command)).Concat([c.Option, value]).ToArray();
            var (parsed, stderr) = Parse(args);
            var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Multiple(() =>
            {
                Assert.That(stderr, Does.Not.Match(@"\n\s+at [\w.]+[.(]"), $"{string.Join(' ', args)}: no stack trace");
                if (parsed) Assert.That(stderr, Is.Empty, $"{string.Join(' ', args)}: accepted silently");
                else
                {
                    Assert.That(lines, Has.Length.EqualTo(1), $"{string.Join(' ', args)}: one line on stderr");
                    Assert.That(stderr, Does.Contain(c.Option), $"{string.Join(' ', args)}: the message names the option");
                    Assert.That(stderr, Does.Not.Contain("System."), $"{string.Join(' ', args)}: no .NET type names");
                }
                if (!IsNumber(value, c.Type))
                    Assert.That(parsed, Is.False, $"{string.Join(' ', args)}: '{value}' is not a {c.Type.Name} and is refused");
            });
        }
    }

    /// <summary>The program itself, for a sample: exit 2, one line on stderr, no stack trace, no abort (134).</summary>
    [TestCase("video", "{clip}", "--max-frames", "ten")]
    [TestCase("video", "{clip}", "--stride", "ten")]
    [TestCase("video", "{clip}", "--max-frames", "-1")]
    [TestCase("serve", "--port", "ten")]
    [TestCase("serve", "--port", "99999999999")]
    [TestCase("eval", "deletion-insertion", "--images", "{dir}", "--out", "{dir}/e", "--step-pixels", "ten")]
    [TestCase("fleet", "work", "--plan", "{dir}/plan.json", "--shard", "ten")]
    public void The_program_refuses_with_one_line(params string[] template)
    {
        var dir = Directory.CreateTempSubdirectory("sacam-numeric-").FullName;
        try
        {
            var args = template.Select(a => a.Replace("{clip}", Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4")).Replace("{dir}", dir)).ToArray();
            using var run = CliProcess.Start(args);
            Assert.That(run.WaitForExit(TimeSpan.FromSeconds(120)), Is.True, "the refusal comes before anything loads; 120 s is plenty");
            var lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Multiple(() =>
            {
                Assert.That(run.ExitCode, Is.EqualTo(CliRunner.UsageError), run.Error);
                Assert.That(lines, Has.Length.EqualTo(1), run.Error);
                Assert.That(run.Error, Does.StartWith("sacam: ").And.Contain(template[^2]));
                Assert.That(run.Error + run.Output, Does.Not.Match(@"\n\s+at [\w.]+[.(]"), "no stack trace");
            });
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (bool Parsed, string Stderr) Parse(string[] args)
    {
        var stderr = new StringWriter();
        var old = Console.Error;
        Console.SetError(stderr);
        try { return (CliRunner.Parse(SacamCommands.Root(), args) is not null, stderr.ToString()); }
        finally { Console.SetError(old); }
    }

    /// <summary>Values for the command's required arguments and options, so that the option under test is the only
    /// thing wrong with the command line.</summary>
    private static IEnumerable<string> RequiredValues(string[] path)
    {
        Command command = SacamCommands.Root();
        foreach (var name in path) command = command.Subcommands.Single(s => s.Name == name);
        foreach (var argument in command.Arguments)
            for (int i = 0; i < argument.Arity.MinimumNumberOfValues; i++)
                yield return argument.GetCompletions(System.CommandLine.Completions.CompletionContext.Empty).FirstOrDefault()?.Label
                    ?? (Numeric(argument.ValueType) is null ? "x" : "1");
        foreach (var option in command.Options.Where(o => o.Required))
        {
            yield return option.Name;
            yield return Numeric(option.ValueType) is null ? "x" : "1";
        }
    }

    private static IEnumerable<Case> Walk(Command command, string[] path)
    {
        foreach (var option in command.Options)
            if (Numeric(option.ValueType) is { } type) yield return new Case(path, option.Name, type);
        foreach (var sub in command.Subcommands)
            foreach (var c in Walk(sub, [.. path, sub.Name])) yield return c;
    }

    /// <summary>The numeric type an option's value has (nullable or not), or null.</summary>
    private static Type? Numeric(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t == typeof(int) || t == typeof(long) || t == typeof(short) || t == typeof(byte) || t == typeof(uint) || t == typeof(ulong)
            || t == typeof(double) || t == typeof(float) || t == typeof(decimal) ? t : null;
    }

    private static bool IsNumber(string text, Type type)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        if (type == typeof(int)) return int.TryParse(text, inv, out _);
        if (type == typeof(long)) return long.TryParse(text, inv, out _);
        if (type == typeof(double)) return double.TryParse(text, inv, out _);
        if (type == typeof(float)) return float.TryParse(text, inv, out _);
        return true; // other types: only "no crash, one line" is asserted
    }
}
