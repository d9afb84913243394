using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using SaCam.Client;
using static SaCam.Tests.ServeHarness;

namespace SaCam.Tests;

/// <summary>
/// `sacam serve` when things other than the client go wrong: a method that throws on every third frame (its own
/// exception, a cancelled run, an error from TorchSharp), a model that cannot be loaded, a port in use, two servers
/// over one shared-memory folder, and the shared files of sessions that end.
/// </summary>
[TestFixture]
[NonParallelizable]
[Platform("Linux")]
public class ServeRobustnessTests : TempFolderTest
{
    private static string FlakyPluginFolder =>
        Path.Combine(SharedData.RepoRoot, "artifacts", "test-plugins", SharedData.BuildConfiguration, "SaCam.Plugin.Flaky");

    [Test]
    public void A_method_that_throws_on_every_third_frame_gives_error_results_and_the_server_serves_on()
    {
        string built = Path.Combine(FlakyPluginFolder, "SaCam.Plugin.Flaky.dll");
        if (!File.Exists(built)) Assert.Fail($"{built} is missing: build the solution.");
        // A plugin folder holds one folder per plugin; the build's test-plugin folder also holds one that is refused.
        string plugins = Path.Combine(Dir, "plugins");
        Directory.CreateDirectory(Path.Combine(plugins, "SaCam.Plugin.Flaky"));
        File.Copy(built, Path.Combine(plugins, "SaCam.Plugin.Flaky", "SaCam.Plugin.Flaky.dll"));
        const int Frames = 500;
        var (server, port, token) = StartTinyServer(Dir, "--plugins", plugins, "--method", "flaky");
        using (server)
        {
            var errors = new List<string>();
            long before = 0;
            using (var client = Attach(port, token))
            {
                for (int i = 1; i <= Frames; i++)
                {
                    SaCamResult result;
                    try { result = Explain(client, TinyFrame(i), TinySide, TinySide); }
                    catch (AssertionException) when (server.HasExited)
                    {
                        Assert.Fail($"the server ended at frame {i}: {server.Error}");
                        throw;
                    }
                    Assert.That(result.Status, Is.EqualTo(i % 3 == 0 ? 1 : 0), $"frame {i}: {result.Error}");
                    if (result.Status != 0) errors.Add(result.Error);
                    if (i == 50) before = ResidentBytes(server.Id);
                }
                Assert.That(client.State, Is.EqualTo(ClientState.Ready), client.LastError);
            }
            long after = ResidentBytes(server.Id);
            TestContext.Out.WriteLine($"{Frames} frames, {errors.Count} errors: RSS {before >> 20} -> {after >> 20} MB; kinds: {string.Join(" | ", errors.Take(3))}");
            Assert.Multiple(() =>
            {
                Assert.That(errors, Has.Count.EqualTo(Frames / 3));
                Assert.That(errors, Has.Some.Contains("FlakyMethodException: flaky: call"), "the method's own exception, named");
                Assert.That(errors, Has.Some.Contains("OperationCanceledException: flaky: call"), "a cancelled run");
                Assert.That(errors, Has.Some.Not.Contains("flaky:"), "TorchSharp's error, in its own words");
                Assert.That(after, Is.LessThan(before + (150L << 20)), "memory flat over the frames");
                Assert.That(server.HasExited, Is.False);
            });
            // Another client of the same server: its own method, its first frames explained.
            using var next = Attach(port, token);
            Assert.That(Explain(next, TinyFrame(1), TinySide, TinySide).Status, Is.Zero, next.LastError);
            Assert.That(server.Error, Does.Contain("failed (FlakyMethodException)"), "the first failure is on the server's stderr");
        }
    }

    [Test]
    public void A_model_that_cannot_be_loaded_is_an_error_and_exit_1_before_any_ready_line()
    {
        string notOnnx = Path.Combine(Dir, "notes.onnx");
        File.WriteAllText(notOnnx, "this is not a protobuf file at all, just some text that goes on for a while");
        using var server = CliProcess.Start("serve", "--model", notOnnx, "--idle-exit", "5");
        Assert.That(server.WaitForExit(TimeSpan.FromSeconds(60)), Is.True, "the server exits");
        Assert.Multiple(() =>
        {
            Assert.That(server.ExitCode, Is.EqualTo(1));
            Assert.That(server.Output, Does.Not.Contain("ready"));
            Assert.That(server.Error, Does.Contain("not a valid ONNX model").And.Not.Contain("internal error"));
        });
    }

    [Test]
    public void A_port_in_use_is_one_line_naming_the_port()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        string model = TinyCnn.Save(fileName: "port-tiny.onnx");
        using var server = CliProcess.Start("serve", "--model", model, "--class", "0", "--port", port.ToString(), "--idle-exit", "5");
        Assert.That(server.WaitForExit(TimeSpan.FromSeconds(60)), Is.True, "the server exits");
        var lines = server.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Multiple(() =>
        {
            Assert.That(server.ExitCode, Is.EqualTo(1));
            Assert.That(lines, Has.Length.EqualTo(1), server.Error);
            Assert.That(server.Error, Does.Contain($"port {port} on 127.0.0.1 is in use").And.Not.Contain("SocketException"));
        });
    }

    [Test]
    public void A_slow_load_shows_loading_to_a_client_on_a_fixed_port_and_the_ready_line_waits_for_it()
    {
        int port = FreePort();
        string model = Path.Combine(Dir, "tiny.onnx");
        File.Copy(TinyCnn.Save(fileName: "slow-tiny.onnx"), model);
        const string TokenVariable = "SACAM_TEST_SLOW_LOAD_TOKEN", Token = "slow-load-token";
        Environment.SetEnvironmentVariable(TokenVariable, Token); // the child inherits it
        CliProcess server;
        try
        {
            server = CliProcess.Start("serve", "--model", model, "--class", "0", "--port", port.ToString(), "--debug-load-delay-ms", "5000",
                "--idle-exit", "60", "--token-env", TokenVariable);
        }
        finally
        {
            Environment.SetEnvironmentVariable(TokenVariable, null);
        }
        using (server)
        {
            using var client = Attach(port, Token);
            WaitFor(() => client.State == ClientState.Loading || server.HasExited, TimeSpan.FromSeconds(60), () => $"Loading (state {client.State}: {client.LastError})");
            Assert.That(client.State, Is.EqualTo(ClientState.Loading), server.Error);
            Assert.That(server.Output, Does.Not.Contain("ready"), "no ready line while the model loads");
            WaitFor(() => server.Output.Contains("SACAM-SERVE"), TimeSpan.FromSeconds(60), () => "the ready line");
            Assert.That(server.Output, Does.Contain($"ready port={port} pid="));
            WaitFor(() => client.State == ClientState.Ready, TimeSpan.FromSeconds(60), () => $"Ready (state {client.State}: {client.LastError})");
            Assert.That(Explain(client, TinyFrame(2), TinySide, TinySide).Status, Is.Zero, client.LastError);
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    [Test]
    public void A_second_server_leaves_the_first_ones_files_and_sweeps_only_dead_unclaimed_ones()
    {
        string shm = Path.Combine(Dir, "shm");
        Directory.CreateDirectory(shm);
        var (first, port, token) = StartTinyServer(Dir, "--shm-dir", shm);
        using (first)
        {
            using var client = Attach(port, token);
            var before = Explain(client, TinyFrame(3), TinySide, TinySide);
            Assert.That(before.Status, Is.Zero, client.LastError);
            string live = Directory.GetFiles(shm, "sacam-*.shm").Single();

            int deadPid = DeadPid();
            string dead = Path.Combine(shm, $"sacam-{deadPid}-{Guid.NewGuid():N}.shm");
            string claimed = Path.Combine(shm, $"sacam-{deadPid}-{Guid.NewGuid():N}.shm");
            File.WriteAllBytes(dead, new byte[4096]);
            File.WriteAllBytes(claimed, new byte[4096]);
            // A live owner whose pid is not ours to see (another PID namespace over the same /dev/shm): it holds the file
            // open, and .NET's FileStream takes the shared flock a live server holds.
            using var holder = new FileStream(claimed, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);

            var (second, _, _) = StartTinyServer(Dir, "--shm-dir", shm);
            using (second)
            {
                Assert.Multiple(() =>
                {
                    Assert.That(File.Exists(live), Is.True, "the live server's file is still there");
                    Assert.That(File.Exists(claimed), Is.True, "a file someone holds is left, whatever its pid");
                    Assert.That(File.Exists(dead), Is.False, "a dead server's file is swept");
                });
                var after = Explain(client, TinyFrame(4), TinySide, TinySide);
                Assert.That(after.Status, Is.Zero, client.LastError);
                Assert.That(after.Generation, Is.EqualTo(before.Generation), "the same session goes on");
            }
        }
    }

    private static int DeadPid()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }

    [Test]
    public void A_sessions_shared_file_goes_when_the_session_ends_and_the_server_stays()
    {
        string shm = Path.Combine(Dir, "shm");
        Directory.CreateDirectory(shm);
        var (server, port, token) = StartTinyServer(Dir, "--shm-dir", shm);
        using (server)
        {
            using (var client = Attach(port, token))
            {
                Assert.That(Explain(client, TinyFrame(5), TinySide, TinySide).Status, Is.Zero, client.LastError);
                Assert.That(Directory.GetFiles(shm, "sacam-*.shm"), Has.Length.EqualTo(1));
            }
            WaitFor(() => Directory.GetFiles(shm, "sacam-*.shm").Length == 0, TimeSpan.FromSeconds(15), () => "the session's file to go");
            Assert.That(server.HasExited, Is.False, "the server stays for the next client");
        }
    }

    [Test]
    public void A_server_stopped_while_serving_takes_its_files_with_it()
    {
        string shm = Path.Combine(Dir, "shm");
        Directory.CreateDirectory(shm);
        var (server, port, token) = StartTinyServer(Dir, "--shm-dir", shm);
        using (server)
        {
            using var client = Attach(port, token);
            Assert.That(Explain(client, TinyFrame(6), TinySide, TinySide).Status, Is.Zero, client.LastError);
            var frame = TinyFrame(7);
            for (int i = 0; i < 20; i++) client.TrySubmit(frame, TinySide, TinySide); // frames in flight
            using (var term = Process.Start("kill", ["-TERM", server.Id.ToString()])!) term.WaitForExit();
            Assert.That(server.WaitForExit(TimeSpan.FromSeconds(30)), Is.True, "the server exits on SIGTERM");
            Assert.That(Directory.GetFiles(shm, "sacam-*.shm"), Is.Empty, "no shared file left for the next server to sweep");
        }
    }
}
