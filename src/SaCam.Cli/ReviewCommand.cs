using System.CommandLine;
using SaCam.Review;
using SaCam.Video.Pipeline;

namespace SaCam.Cli;

/// <summary>sacam review RUN [RUN...] [--out DIR] [--self-contained] [--serve] [--port N]</summary>
public static class ReviewCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("run") { Description = "Run folders written by `sacam video SOURCE --run DIR`; several runs of the same footage (one per method) show side by side.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--out") { Description = "Folder for the page (default: RUN/review)." };
        var selfContained = new Option<bool>("--self-contained") { Description = "Inline every frame into one index.html (refused above 64 MB)." };
        var serve = new Option<bool>("--serve") { Description = "Serve the page on 127.0.0.1 until Ctrl+C." };
        var port = new Option<int>("--port") { Description = "Port for --serve (0: any free port).", DefaultValueFactory = _ => 0 };
        var command = new Command("review", "Build a frame-by-frame review page from run folders: scrubber, side-by-side methods, timeline, PNG export.");
        command.Arguments.Add(runs);
        foreach (var o in new Option[] { output, selfContained, serve, port }) command.Options.Add(o);
        command.SetAction(parse => CliRunner.Guard(() => Run(parse.GetValue(runs)!, parse.GetValue(output), parse.GetValue(selfContained),
            parse.GetValue(serve), parse.GetValue(port))));
        return command;
    }

    public static int Run(string[] runs, string? output, bool selfContained, bool serve, int port)
    {
        string folder = output ?? Path.Combine(runs[0], "review");
        var page = ReviewBuilder.Build(runs, folder, new ReviewOptions { SelfContained = selfContained });
        foreach (var warning in page.Warnings) Console.Error.WriteLine($"sacam: warning: {warning}");
        if (page.Note is not null) Console.Error.WriteLine($"sacam: note: {page.Note}");
        Console.WriteLine($"{page.IndexPath}: {page.Frames} frames, panels {string.Join(" | ", page.Layers)}, {page.Bytes / 1e6:F1} MB");
        if (!serve) return CliRunner.Ok;
        using var server = new ReviewServer(folder, port);
        using var stop = new ManualResetEventSlim();
        using (StopSignals.Register(stop.Set))
        {
            Console.WriteLine($"serving on {server.Address} (127.0.0.1 only); Ctrl+C stops");
            stop.Wait();
        }
        return CliRunner.Ok;
    }
}
