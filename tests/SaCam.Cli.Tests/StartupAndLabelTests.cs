using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using SaCam.Cli;
using SaCam.Core.Models;
using SaCam.Fleet;

namespace SaCam.Tests;

/// <summary>
/// Bad input that needs more than one command line (docs/bad-input.md, "Cases with their own tests"): a stop while
/// the weights download, a shard variable that is not a number, and a class name that is not a label.
/// </summary>
[TestFixture]
[Platform("Linux")]
public class StartupAndLabelTests : TempFolderTest
{
    /// <summary>The most a stop may take here, from the signal to the process gone. The README promises under a
    /// second on a quiet machine; a busy one may stall any process for seconds, so the test
    /// asserts what a wrong program could not do: stop long before the download's 30 s idle timeout would end it.</summary>
    private static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(10);

    /// <summary>A weights download through a proxy that accepts and never answers: without the start-up stop the run
    /// would wait for the 30 s idle timeout and exit 1; with it, SIGINT ends it with 130 at once.</summary>
    [Test]
    public void Sigint_during_a_weights_download_exits_130_within_a_second()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var cli = Path.Combine(SharedData.RepoRoot, "src", "SaCam.Cli", "bin", SharedData.BuildConfiguration, "net10.0", "linux-x64", "sacam.dll");
        if (!File.Exists(cli)) Assert.Fail($"{cli} is missing: build the solution.");
        // env resets SIGINT to its default: a test host started in the background ignores it, and a child inherits that.
        var start = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--default-signal=INT", "dotnet", cli, "explain", Path.Combine(SharedData.RepoRoot, "media", "street_scene.png"),
                     "--model", "torchvision:resnet18", "--method", "gradcam", "--save-map", Path.Combine(Dir, "map.npy") })
            start.ArgumentList.Add(a);
        start.Environment["SACAM_CACHE"] = Path.Combine(Dir, "cache");
        start.Environment["HTTPS_PROXY"] = start.Environment["https_proxy"] = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}";
        start.Environment.Remove("NO_PROXY");
        start.Environment.Remove("no_proxy");
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        try
        {
            // The download has begun when the proxy is asked to connect; it will never be answered.
            var accept = silent.AcceptTcpClientAsync();
            Assert.That(accept.Wait(TimeSpan.FromSeconds(120)), Is.True, "the run asks the proxy for the weights within 120 s");
            using var connection = accept.Result;
            Thread.Sleep(300);
            Assert.That(kill(process.Id, SigInt), Is.EqualTo(0), "SIGINT sent");
            var clock = Stopwatch.StartNew();
            bool exited = process.WaitForExit(TimeSpan.FromSeconds(25)); // under the download's 30 s idle timeout
            var stopped = clock.Elapsed;
            Assert.That(exited, Is.True, "the run stopped before the download's idle timeout");
            process.WaitForExit();
            Assert.Multiple(() =>
            {
                Assert.That(stopped, Is.LessThan(StopLimit), "from SIGINT to exit");
                Assert.That(process.ExitCode, Is.EqualTo(CliRunner.Stopped), stderr.Result);
                Assert.That(stderr.Result, Does.Contain("stopped during start-up"));
                Assert.That(stderr.Result + stdout.Result, Does.Not.Match(@"\n\s+at [\w.]+[.(]"), "no stack trace");
                Assert.That(File.Exists(Path.Combine(Dir, "map.npy")), Is.False, "nothing was written");
            });
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [TestCase("abc")]
    [TestCase("3x")]
    public void A_shard_variable_that_is_not_a_number_is_named(string value)
    {
        var e = Assert.Throws<FleetException>(() => ShardIndex.Resolve(null, name => name == "SLURM_ARRAY_TASK_ID" ? value : null))!;
        Assert.Multiple(() =>
        {
            Assert.That(e.Message, Does.Contain($"SLURM_ARRAY_TASK_ID is '{value}', which is not a whole number"));
            Assert.That(e.Permanent, Is.True, "a usage error (exit 2): retrying cannot help");
        });
    }

    [Test]
    public void An_empty_shard_variable_counts_as_unset()
    {
        Assert.That(ShardIndex.Resolve(4, name => name == "SLURM_ARRAY_TASK_ID" ? "" : null), Is.EqualTo(4));
    }

    /// <summary>ImageNet has no "car": the refusal lists the labels that contain it as a word, first names first,
    /// shortest first, at most five, and each suggestion is a name --class accepts.</summary>
    [NeedsSharedData]
    [Test]
    public void A_class_that_is_not_a_label_suggests_the_nearest_labels()
    {
        var labels = ClassLabels.FromFile(SharedData.ImageNetLabels);
        var e = Assert.Throws<Core.SettingException>(() => labels.Find("car", "mobilenet_v2_1.0_224"))!;
        var near = LabelSuggestions.For("car", Lines(SharedData.ImageNetLabels));
        Assert.Multiple(() =>
        {
            Assert.That(e.Message, Does.StartWith("the class 'car' is not a label of model 'mobilenet_v2_1.0_224'. Did you mean: "), "the core names the concept");
            Assert.That(Cli.CliFlags.MessageOf(e), Does.StartWith("--class 'car' is not a label"), "sacam names its flag");
            Assert.That(e.Message, Does.Contain("\"sports car\""));
            Assert.That(near, Has.Count.EqualTo(5));
            Assert.That(near, Does.Contain("sports car").And.Contain("car wheel"));
            Assert.That(near.Select(n => labels.IndexOf(n)), Has.All.Not.Null, "each suggestion is a label --class finds");
        });
    }

    [NeedsSharedData]
    [TestCase("minivn", "minivan")]
    [TestCase("tiger kat", "tiger cat")]
    [TestCase("Taxi", "taxi")]
    public void A_typo_suggests_the_label_it_misspells(string typed, string expected)
    {
        var near = LabelSuggestions.For(typed, Lines(SharedData.ImageNetLabels));
        Assert.That(near, Does.Contain(expected));
    }

    [Test]
    public void Nothing_near_gives_no_suggestion()
    {
        var labels = new ClassLabels(["cat", "dog"]);
        var e = Assert.Throws<Core.SettingException>(() => labels.Find("zeppelin", "tiny"))!;
        Assert.That(e.Message, Is.EqualTo("the class 'zeppelin' is not a label of model 'tiny'."));
    }

    private static List<string> Lines(string path) => File.ReadAllLines(path).Select(l => l.Trim()).ToList();

    private const int SigInt = 2;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
