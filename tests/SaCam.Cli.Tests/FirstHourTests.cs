using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using SaCam.Cli;
using SaCam.Core.Methods;
using SaCam.Core.Models;

namespace SaCam.Tests;

/// <summary>
/// What a newcomer meets in the first hour, checked as they meet it: the README's first command (run as written, on
/// the project's own clip and the embedded model) finds the car the generator drew and really scores SA-CAM
/// channels; `sacam methods` and `sacam models` list what exists; the README's synopses and the commands' help
/// name the same options; the install step gives a working `sacam`.
/// </summary>
[TestFixture]
public partial class FirstHourTests : TempFolderTest
{
    private static string Readme => File.ReadAllText(Path.Combine(SharedData.RepoRoot, "README.md"));

    /// <summary>The first `dotnet run ... --` line of the README, as the argument list after "--".</summary>
    internal static string[] ReadmeFirstCommand()
    {
        var line = Readme.Split('\n').First(l => l.TrimStart().StartsWith("dotnet run", StringComparison.Ordinal));
        var words = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.SkipWhile(w => w != "--").Skip(1).ToArray();
    }


    [Test]
    public void The_readme_first_command_finds_the_car_on_most_frames_and_scores_channels()
    {
        var args = ReadmeFirstCommand();
        Assert.That(args, Does.Contain("video").And.Contain("media/street_clip.mp4"), "the README's first command annotates the project's clip");
        // Inputs are the repository's; outputs go to this test's folder.
        string jsonl = Path.Combine(Dir, "frames.jsonl"), video = Path.Combine(Dir, "out.mp4");
        for (int i = 0; i < args.Length; i++)
        {
            if (i > 0 && args[i - 1] == "--jsonl") args[i] = jsonl;
            else if (i > 0 && args[i - 1] == "--out") args[i] = video;
            else if (args[i].Contains("media/")) args[i] = Regex.Replace(args[i], @"media/\S+", m => Path.Combine(SharedData.RepoRoot, m.Value));
        }
        Assert.That(args, Does.Contain(jsonl).And.Contain(video), "the README's command writes a video and JSON Lines");
        var (exit, stdout, stderr) = SacamInProcess.Run(args);
        Assert.That(exit, Is.EqualTo(0), stderr);

        var boxes = ProjectMedia.CarBoxes();
        var frames = File.ReadAllLines(jsonl).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        int onTheCar = frames.Count(f =>
        {
            var (x, y, w, h) = boxes[f.GetProperty("index").GetInt64()];
            var peak = f.GetProperty("peak");
            int px = peak.GetProperty("x").GetInt32(), py = peak.GetProperty("y").GetInt32();
            return px >= x && px < x + w && py >= y && py < y + h;
        });
        double scored = frames.Sum(f => f.GetProperty("channels_scored").GetDouble());
        TestContext.Out.WriteLine($"peak on the car in {onTheCar}/{frames.Count} frames; {scored} channels scored; {stdout.Trim()}");
        Assert.Multiple(() =>
        {
            Assert.That(frames, Has.Count.EqualTo(48));
            Assert.That(VideoFiles.CountDecodedFrames(video), Is.EqualTo(48));
            Assert.That(onTheCar, Is.GreaterThanOrEqualTo(40), "the map's peak lands on the car in most frames");
            Assert.That(scored, Is.GreaterThanOrEqualTo(4), "the automatic budget buys SA-CAM's score term channels (a fixed 40 ms bought one in 48 frames)");
            Assert.That(frames.All(f => f.GetProperty("budget_ms").GetDouble() > 0));
            Assert.That(stderr, Does.Not.Contain("warning"), "the default budget is one that buys channels");
        });
    }

    [Test]
    public void A_budget_that_cannot_buy_a_channel_is_said_once()
    {
        var clip = Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4");
        var jsonl = Path.Combine(Dir, "frames.jsonl");
        var (exit, _, stderr) = SacamInProcess.Run("video", clip, "--budget-ms", "1", "--max-frames", "14", "--jsonl", jsonl);
        var scored = File.ReadAllLines(jsonl).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("channels_scored").GetDouble()).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(0), stderr);
            Assert.That(Regex.Matches(stderr, "cannot buy a single channel").Count, Is.EqualTo(1), stderr);
            Assert.That(stderr, Does.Contain("a budget of 1 ms").And.Contain("omit --budget-ms"));
            Assert.That(scored.Skip(1).Sum(), Is.Zero, "after the first frame's probe nothing was bought");
        });
    }

    /// <summary>The default model has no classifier, and eval used to refuse it: deletion-insertion now explains
    /// each image's own embedding (or an exemplar), with the fast methods by default and a progress line.</summary>
    [TestCase(null)]
    [TestCase("exemplar")]
    public void Eval_runs_on_the_default_model_with_the_fast_methods(string? target)
    {
        var image = Path.Combine(SharedData.RepoRoot, "media", "street_scene.png");
        var outDir = Path.Combine(Dir, "eval");
        string[] args = ["eval", "deletion-insertion", "--images", image, "--step-pixels", "5000", "--out", outDir];
        if (target is not null) args = [.. args, "--target", "exemplar:" + Path.Combine(SharedData.RepoRoot, "media", "street_car.png")];
        var (exit, stdout, stderr) = SacamInProcess.Run(args);
        Assert.That(exit, Is.EqualTo(0), stderr);
        var csv = File.ReadAllLines(Path.Combine(outDir, "results.csv"));
        var report = File.ReadAllText(Path.Combine(outDir, "report.md"));
        Assert.Multiple(() =>
        {
            Assert.That(csv.Where(l => l.StartsWith("deletion,")).Select(l => l.Split(',')[1]), Is.EqualTo(EvalCommand.DefaultMethods.Split(',')));
            Assert.That(stderr, Does.Contain("[1/1] street_scene.png gradcam"), "a progress line per image and method");
            Assert.That(report, Does.Contain(target is null ? "projection on the image's own embedding" : "similarity to street_car.png"));
            Assert.That(stdout, Does.Contain("report written to"));
        });
    }

    [Test]
    public void Methods_lists_every_method_with_its_cost()
    {
        var (exit, stdout, stderr) = SacamInProcess.Run("methods");
        Assert.That(exit, Is.EqualTo(0), stderr);
        var lines = stdout.Split('\n');
        Assert.Multiple(() =>
        {
            foreach (var id in MethodRegistry.Ids)
                Assert.That(lines.Any(l => Regex.IsMatch(l, $@"^{Regex.Escape(id)}\s+(gradient|budgeted|perturbation)\s")), $"{id} is listed with its cost class");
            Assert.That(stdout, Does.Match(@"(?m)^scorecam\s+perturbation"));
            Assert.That(stdout, Does.Match(@"(?m)^sacam-rt\s+budgeted"));
            Assert.That(stdout, Does.Match(@"(?m)^none\s+forward"));
        });
    }

    [Test]
    public void Models_lists_the_default_and_every_architecture_with_what_the_default_cannot_do()
    {
        var (exit, stdout, stderr) = SacamInProcess.Run("models");
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.Multiple(() =>
        {
            Assert.That(stdout, Does.StartWith("default (alias resnet18-backbone)"), "the embedded model is there (the build copies it)");
            Assert.That(stdout, Does.Contain("512-d embedding").And.Contain("exemplar:IMAGE").And.Contain("cannot take --class"));
            foreach (var arch in TorchVisionZoo.Architectures.Keys)
                Assert.That(stdout, Does.Match($@"(?m)^\s+{Regex.Escape(arch)}\s+CAM layer"), arch);
        });
    }

    /// <summary>Each command's README synopsis names exactly the options its --help lists.</summary>
    [TestCase("explain")]
    [TestCase("video")]
    [TestCase("eval")]
    [TestCase("review")]
    [TestCase("serve")]
    public void The_readme_synopsis_and_the_help_name_the_same_options(string name)
    {
        var command = SacamCommands.Root().Subcommands.Single(c => c.Name == name);
        // Hidden options (test hooks) are not in --help, so not in the README either.
        var fromHelp = command.Options.Where(o => !o.Hidden).Select(o => o.Name).Where(n => n.StartsWith("--") && n != "--help").ToHashSet();
        var synopsis = Regex.Match(Readme, $@"```\r?\n(sacam {name} [^`]*)```");
        Assert.That(synopsis.Success, Is.True, $"the README has a synopsis block starting 'sacam {name} '");
        var fromReadme = Regex.Matches(synopsis.Groups[1].Value, @"--[a-z][a-z0-9-]*").Select(m => m.Value).ToHashSet();
        Assert.Multiple(() =>
        {
            Assert.That(fromHelp.Except(fromReadme), Is.Empty, "options the README synopsis lacks");
            Assert.That(fromReadme.Except(fromHelp), Is.Empty, "options the README names that the command does not have");
        });
    }

    [Test]
    public void Video_help_names_each_method_once()
    {
        var (exit, stdout, _) = SacamInProcess.Run("video", "--help");
        Assert.That(exit, Is.EqualTo(0));
        var methodLine = stdout.Split('\n').First(l => l.TrimStart().StartsWith("--method"));
        Assert.That(Regex.Matches(methodLine, "sacam-rt").Count, Is.EqualTo(2), "once as the default, once in its [default: ...]");
        Assert.That(Regex.Matches(methodLine, @"(?<![\w-])gradcam(?![\w+-])").Count, Is.EqualTo(1));
    }

    /// <summary>The one documented install step: a Release publish and a `sacam` link that runs from anywhere.</summary>
    [Test, Category("Slow")]
    [Platform("Linux")]
    public void The_install_script_gives_a_sacam_command_that_runs()
    {
        var prefix = Path.Combine(Dir, "prefix");
        var install = Run("bash", Path.Combine(SharedData.RepoRoot, "build", "install.sh"), prefix);
        Assert.That(install.Exit, Is.EqualTo(0), install.Output);
        var sacam = Path.Combine(prefix, "bin", "sacam");
        var methods = Run(sacam, "methods");
        var models = Run(sacam, "models");
        Assert.Multiple(() =>
        {
            Assert.That(install.Output, Does.Contain($"installed: {prefix}/bin/sacam"));
            Assert.That(File.Exists(Path.Combine(prefix, "lib", "sacam", "sacam.dll")), Is.True);
            Assert.That(File.Exists(Path.Combine(prefix, "lib", "sacam", "models", "resnet18-imagenet-backbone.onnx")), Is.True, "the embedded model is installed too");
            Assert.That(methods.Exit, Is.EqualTo(0), methods.Output);
            Assert.That(methods.Output, Does.Contain("sacam-rt"));
            Assert.That(models.Output, Does.StartWith("default (alias resnet18-backbone)\n"), "not MISSING");
        });
    }

    private static (int Exit, string Output) Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetTempPath() };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10))) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
