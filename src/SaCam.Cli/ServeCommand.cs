using System.CommandLine;
using System.Security.Cryptography;
using SaCam.Client;
using SaCam.Core;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Realtime;
using SaCam.Imaging;
using SaCam.Serve;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;

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
        port.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 0 or > 65535) r.AddError("--port must lie in 0..65535."); });
        var parentPid = new Option<int?>("--parent-pid") { Description = "Exit when this process is gone (the engine that started the server)." }.AtLeast(1);
        var idleExit = new Option<int>("--idle-exit") { Description = "Exit after this many seconds without a session (0: never).", DefaultValueFactory = _ => 300 }.AtLeast(0);
        var shmDir = new Option<string?>("--shm-dir") { Description = "Folder for the shared-memory files (default: /dev/shm on Linux, else the temp folder)." };
        var tokenEnv = new Option<string>("--token-env") { Description = "Environment variable holding the session token (if unset, a token is made and printed in the ready line).", DefaultValueFactory = _ => Protocol.TokenVariable };
        var maxSessions = new Option<int>("--max-sessions") { Description = "Sessions served at once.", DefaultValueFactory = _ => 4 }.AtLeast(1);
        var loadDelay = new Option<int>("--debug-load-delay-ms") { Description = "For tests: wait this long before loading the model.", Hidden = true, DefaultValueFactory = _ => 0 }.AtLeast(0);
        var model = ModelOptions.Model();
        var labels = ModelOptions.Labels();
        var labelsOffset = ModelOptions.LabelsOffset();
        var method = new Option<string>("--method") { Description = "sacam-rt (default), none (classify only), or any method id (`sacam methods`).", DefaultValueFactory = _ => "sacam-rt" };
        var budget = new Option<string>("--budget-ms") { Description = "sacam-rt: per-frame time budget in ms, or auto.", DefaultValueFactory = _ => "auto" };
        budget.Validators.Add(r =>
        {
            try { RealtimeSaCamOptions.ParseBudget(r.GetValueOrDefault<string>() ?? "auto"); }
            catch (ArgumentException e) { r.AddError($"--budget-ms: {e.Message}"); }
        });
        var classOption = new Option<string?>("--class") { Description = "Class to explain on every frame (default: each frame's top-1)." };
        var targetOption = new Option<string?>("--target") { Description = "Instead of --class: exemplar:IMAGE, or a plugin's ID:ARG." };
        var layer = new Option<string?>("--layer") { Description = "Target layer." };
        var device = ModelOptions.Device();
        var engine = ModelOptions.Engine();
        var threads = ModelOptions.Threads();
        var smoothing = new Option<double>("--smoothing") { Description = "sacam-rt: share of the previous map kept.", DefaultValueFactory = _ => 0 }
            .Within(0, 1, maxInclusive: false, "the share of the previous map kept");
        var colorMap = new Option<string>("--colormap") { Description = "Colour map of overlays (when a client asks for them).", DefaultValueFactory = _ => "jet" }.OneOf(ColorMaps.Names);
        var plugins = PluginOptions.Create();

        var command = new Command("serve", "Serve the explainer to engines (Unity, others) on 127.0.0.1: frames through shared memory or TCP.");
        foreach (var o in new Option[] { port, parentPid, idleExit, shmDir, tokenEnv, maxSessions, loadDelay, model, labels, labelsOffset, method, budget,
                     classOption, targetOption, layer, device, engine, threads, smoothing, colorMap, plugins })
            command.Options.Add(o);
        command.SetAction(parse => CliRunner.Guard(stop => Run(new ServeArgs(
            parse.GetValue(port), parse.GetValue(parentPid), parse.GetValue(idleExit), parse.GetValue(shmDir), parse.GetValue(tokenEnv)!,
            parse.GetValue(maxSessions), parse.GetValue(loadDelay), parse.GetValue(model)!, parse.GetValue(labels), parse.GetValue(labelsOffset),
            parse.GetValue(method)!, parse.GetValue(budget)!, parse.GetValue(classOption), parse.GetValue(targetOption), parse.GetValue(layer),
            parse.GetValue(device)!, parse.GetValue(engine)!, parse.GetValue(threads), parse.GetValue(smoothing), parse.GetValue(colorMap)!,
            parse.GetValue(plugins)), stop)));
        return command;
    }

    public sealed record ServeArgs(int Port, int? ParentPid, int IdleExitSeconds, string? ShmDir, string TokenEnv, int MaxSessions, int DebugLoadDelayMs,
        string Model, string? Labels, int LabelsOffset, string Method, string BudgetMs, string? Class, string? Target, string? Layer,
        string Device, string Engine, int? Threads, double Smoothing, string ColorMap, string? Plugins);

    public static int Run(ServeArgs a, CancellationToken stop = default)
    {
        if (a.Target is not null && a.Class is not null) throw new ArgumentException("Give --class or --target, not both.");
        var catalog = PluginOptions.Load(a.Plugins);
        var device = DeviceSelector.Parse(a.Device);
        var engine = ModelOptions.EngineOptions(a.Engine, a.Threads);
        var realtime = new RealtimeSaCamOptions { BudgetMs = RealtimeSaCamOptions.ParseBudget(a.BudgetMs), TemporalSmoothing = a.Smoothing };
        if (a.Method != FrameExplainer.ClassifyOnly && a.Method != "sacam-rt") catalog.CreateMethod(a.Method); // unknown ids fail now, not per session
        var colors = ColorMaps.Parse(a.ColorMap);
        string? token = Environment.GetEnvironmentVariable(a.TokenEnv);
        bool madeToken = string.IsNullOrEmpty(token);
        if (madeToken) token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_').TrimEnd('=');

        ServeModel Load(IProgress<float> progress, CancellationToken cancellation)
        {
            progress.Report(0.05f);
            var loaded = ModelCatalog.Load(a.Model, device, a.Labels, labelsOffset: a.LabelsOffset, engine: engine,
                progress: new Progress<DownloadProgress>(p => { if (p.Total is long t && t > 0) progress.Report(0.05f + 0.75f * p.Received / t); }));
            progress.Report(0.85f);
            var target = a.Target is not null ? catalog.CreateTarget(a.Target, loaded) : TargetParser.Parse(a.Class, loaded);
            EngineNotes.Report(loaded);
            return new ServeModel
            {
                Model = loaded,
                Target = target,
                Layer = a.Layer,
                CreateMethod = () => a.Method == FrameExplainer.ClassifyOnly ? null
                    : a.Method == "sacam-rt" ? new RealtimeSaCam(realtime)
                    : catalog.CreateMethod(a.Method),
                Render = new RenderOptions { Hud = false, Overlay = new OverlayOptions { ColorMap = colors, ContourLevel = 0.5, PeakMarker = true } },
                Owned = target is IDisposable d ? [d] : [],
            };
        }

        using var server = new ExplainerServer(new ServeOptions
        {
            Port = a.Port, ParentPid = a.ParentPid, IdleExit = TimeSpan.FromSeconds(a.IdleExitSeconds), SharedMemoryDirectory = a.ShmDir,
            Token = token!, MaxSessions = a.MaxSessions, DebugLoadDelay = TimeSpan.FromMilliseconds(a.DebugLoadDelayMs),
        }, Load);
        string ready = server.Start();
        Console.Out.WriteLine(madeToken ? $"{ready} token={token}" : ready);
        Console.Out.Flush();
        server.WaitForExit(stop);
        Console.Error.WriteLine($"sacam serve: exiting: {server.ExitReason}");
        return CliRunner.Ok;
    }
}
