using System.CommandLine;
using System.Security.Cryptography;
using SaCam.App.Building;
using SaCam.App.Specs;
using SaCam.Client;
using SaCam.Core.Models;
using SaCam.Serve;
using SaCam.Imaging;

namespace SaCam.Cli;

/// <summary>
/// sacam serve [--port N] [--parent-pid N] [--idle-exit S] [--shm-dir DIR] [--token-env VAR] [--max-sessions N]
///   [every model option of sacam video]: the explainer for engines that cannot load it (docs/engine-protocol.md).
/// </summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1 (0: any free port; the ready line says which).", DefaultValueFactory = _ => 0 };
        port.Between(0, 65535);
        var parentPid = new Option<int?>("--parent-pid") { Description = "Exit when this process is gone (the engine that started the server)." }.AtLeast(1);
        var idleExit = new Option<int>("--idle-exit") { Description = "Exit after this many seconds without a session (0: never).", DefaultValueFactory = _ => 300 }.AtLeast(0);
        var shmDir = new Option<string?>("--shm-dir") { Description = "Folder for the shared-memory files (default: /dev/shm on Linux, else the temp folder)." };
        var tokenEnv = new Option<string>("--token-env") { Description = "Environment variable holding the session token (if unset, a token is made and printed in the ready line).", DefaultValueFactory = _ => Protocol.TokenVariable };
        var maxSessions = new Option<int>("--max-sessions") { Description = "Sessions served at once.", DefaultValueFactory = _ => 4 }.AtLeast(1);
        var loadDelay = new Option<int>("--debug-load-delay-ms") { Description = "For tests: wait this long before loading the model.", Hidden = true, DefaultValueFactory = _ => 0 }.AtLeast(0);
        var model = ModelOptions.Model();
        var labels = ModelOptions.Labels();
        var labelsOffset = ModelOptions.LabelsOffset();
        var method = new Option<string>("--method") { Description = "sacam-rt (default), none (classify only), or any method id (`sacam methods`).", DefaultValueFactory = _ => MethodSpec.Realtime };
        var budget = SpecOptions.Budget();
        var classOption = new Option<string?>("--class") { Description = "Class to explain on every frame (default: each frame's top-1)." };
        var targetOption = new Option<string?>("--target") { Description = "Instead of --class: exemplar:IMAGE, a plugin's ID:ARG, or an object target of a detector or segmenter (det:all, det:LABEL, det:K, seg:CLASS[@x,y,w,h], output:NAME[i]; with --model-card): each result then lists its objects." };
        var maxObjects = new Option<int>("--max-objects") { Description = "The most objects det:all and det:LABEL explain per frame (a result carries up to 12).", DefaultValueFactory = _ => 5 }.AtLeast(1);
        var modelCard = ModelOptions.Card();
        var layer = new Option<string?>("--layer") { Description = "Target layer." };
        var device = ModelOptions.Device();
        var engine = ModelOptions.Engine();
        var threads = ModelOptions.Threads();
        var smoothing = SpecOptions.Smoothing();
        var colorMap = new Option<string>("--colormap") { Description = "Colour map of overlays (when a client asks for them).", DefaultValueFactory = _ => "jet" }.OneOf(ColorMaps.Names);
        var plugins = PluginOptions.Create();

        var command = new Command("serve", "Serve the explainer to engines (Unity, others) on 127.0.0.1: frames through shared memory or TCP.");
        foreach (var o in new Option[] { port, parentPid, idleExit, shmDir, tokenEnv, maxSessions, loadDelay, model, labels, labelsOffset, method, budget,
                     classOption, targetOption, maxObjects, modelCard, layer, device, engine, threads, smoothing, colorMap, plugins })
            command.Options.Add(o);
        command.SetAction(parse => CliRunner.Guard(stop => Run(new ServeArgs(
            parse.GetValue(port), parse.GetValue(parentPid), parse.GetValue(idleExit), parse.GetValue(shmDir), parse.GetValue(tokenEnv)!,
            parse.GetValue(maxSessions), parse.GetValue(loadDelay),
            new StreamSpec
            {
                Model = SpecOptions.Model(parse, model, labels, labelsOffset, device, engine, threads) with { Card = parse.GetValue(modelCard) },
                Method = new MethodSpec { Id = parse.GetValue(method)!, BudgetMs = MethodSpec.ParseBudget(parse.GetValue(budget)!), Smoothing = parse.GetValue(smoothing) },
                Target = new TargetSpec { Class = parse.GetValue(classOption), Target = parse.GetValue(targetOption), MaxObjects = parse.GetValue(maxObjects) },
                Layer = parse.GetValue(layer), ColorMap = parse.GetValue(colorMap)!, Hud = false, Plugins = parse.GetValue(plugins),
            }), stop)));
        return command;
    }

    /// <summary>The server's own settings, and the stream every session explains.</summary>
    public sealed record ServeArgs(int Port, int? ParentPid, int IdleExitSeconds, string? ShmDir, string TokenEnv, int MaxSessions, int DebugLoadDelayMs,
        StreamSpec Stream);

    public static int Run(ServeArgs a, CancellationToken stop = default)
    {
        LoadedStream.Check(a.Stream); // an unknown method or colour map fails now, not per session
        string? token = Environment.GetEnvironmentVariable(a.TokenEnv);
        bool madeToken = string.IsNullOrEmpty(token);
        if (madeToken) token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_').TrimEnd('=');

        LoadedStream Load(IProgress<float> progress, CancellationToken cancellation)
        {
            progress.Report(0.05f);
            var loaded = LoadedStream.Load(a.Stream, ServerFeedback.Instance,
                new Progress<DownloadProgress>(p => { if (p.Total is long t && t > 0) progress.Report(0.05f + 0.75f * p.Received / t); }));
            progress.Report(0.85f);
            return loaded;
        }

        using var server = new ExplainerServer(new ServeOptions
        {
            Port = a.Port, ParentPid = a.ParentPid, IdleExit = TimeSpan.FromSeconds(a.IdleExitSeconds), SharedMemoryDirectory = a.ShmDir,
            Token = token!, MaxSessions = a.MaxSessions, DebugLoadDelay = TimeSpan.FromMilliseconds(a.DebugLoadDelayMs),
        }, Load);
        string ready = server.Start(stop); // loads the model first: a model that cannot load is an error, never a ready line
        Console.Out.WriteLine(madeToken ? $"{ready} token={token}" : ready);
        Console.Out.Flush();
        server.WaitForExit(stop);
        Console.Error.WriteLine($"sacam serve: exiting: {server.ExitReason}");
        return CliRunner.Ok;
    }

    /// <summary>The server's feedback: one line on stderr each (a session's client sees errors through the protocol).</summary>
    private sealed class ServerFeedback : IRunFeedback
    {
        public static readonly ServerFeedback Instance = new();
        public void Warning(string message) => Console.Error.WriteLine($"sacam serve: warning: {message}");
        public void Note(string message) => Console.Error.WriteLine($"sacam: note: {message}");
        public string NameOf(Core.Setting setting) => CliFlags.Of(setting);
    }
}
