using System.CommandLine;
using SaCam.App.Evaluations;
using SaCam.App.Specs;
using SaCam.Core.Methods;

namespace SaCam.Cli;

/// <summary>
/// sacam eval deletion-insertion|sanity|pointing|temporal|road|adversarial --model ... --methods a,b,c --images DIR|--video FILE --out DIR
/// Writes DIR/report.md, DIR/results.csv and DIR/plots/*.png (see <see cref="Evaluations"/>). sacam-rt@N in --methods
/// sets its budget, sacam-rt@N~A also its smoothing (temporal).
/// </summary>
public static class EvalCommand
{
    public const string DefaultMethods = EvalSpec.DefaultMethods;

    public static Command Create()
    {
        var kind = new Argument<string>("evaluation") { Description = string.Join(" | ", EvalSpec.KindNames.Keys) };
        kind.AcceptOnlyFromAmong([.. EvalSpec.KindNames.Keys]);
        var model = ModelOptions.Model();
        var labels = ModelOptions.Labels();
        var labelsOffset = ModelOptions.LabelsOffset();
        var methods = new Option<string>("--methods")
        {
            Description = $"Comma-separated method ids; default: the fast ones ({DefaultMethods}). Add scorecam, groupcam, sacam for the perturbation methods " +
                          "(slow: hundreds to thousands of forwards per image). sacam-rt@BUDGET or sacam-rt@BUDGET~SMOOTHING for temporal.",
            DefaultValueFactory = _ => DefaultMethods,
        };
        methods.Validators.Add(r =>
        {
            if (EvalSpec.SplitMethods(r.GetValueOrDefault<string>() ?? "").Length == 0) r.AddError("--methods names no method: give comma-separated ids (see `sacam methods`).");
        });
        var targetOption = new Option<string?>("--target") { Description = "deletion-insertion, sanity, temporal: explain exemplar:IMAGE (or a plugin's ID:ARG) instead of each image's top-1 class; the way to evaluate a backbone with no classifier. pointing, deletion-insertion: det:all, det:LABEL, seg:CLASS evaluate each of a detector's or segmenter's own objects (with --model-card)." };
        var modelCard = ModelOptions.Card();
        var maxObjects = new Option<int>("--max-objects") { Description = "pointing, deletion-insertion with det:all or det:LABEL: the most objects per image.", DefaultValueFactory = _ => 5 }.AtLeast(1);
        var images = new Option<string?>("--images") { Description = "Folder (or glob) of images." };
        var video = new Option<string?>("--video") { Description = "Video file (temporal)." };
        var output = new Option<string>("--out") { Description = "Report folder.", Required = true };
        var boxes = new Option<string?>("--boxes") { Description = "pointing: folder of IMAGE.boxes.json files (default: beside the images)." };
        var stepPixels = new Option<int>("--step-pixels") { Description = "deletion-insertion: pixels per step.", DefaultValueFactory = _ => 224 }.AtLeast(1);
        var sanitySteps = new Option<int>("--sanity-steps") { Description = "sanity: cascade points.", DefaultValueFactory = _ => 8 }.AtLeast(1);
        var maxFrames = new Option<int>("--max-frames") { Description = "temporal: frames to use.", DefaultValueFactory = _ => 60 }.AtLeast(2);
        var backgrounds = new Option<string[]>("--backgrounds") { Description = "adversarial: folder (or glob) of background scenes to paste each map's core area into; repeat for more cases (Case-1, Case-2, ...).", DefaultValueFactory = _ => [] };
        var keep = new Option<double>("--keep") { Description = "adversarial: share of the map's pixels that make its core area, in (0, 1].", DefaultValueFactory = _ => 0.2 };
        var pastes = new Option<int>("--pastes") { Description = "adversarial: pasted images per image and case.", DefaultValueFactory = _ => 10 }.AtLeast(1);
        var seed = new Option<int>("--seed") { Description = "Seeds every random draw (bootstrap resamples, adversarial pastes, ROAD noise): the same seed gives the same numbers.", DefaultValueFactory = _ => 0 };
        var resamples = new Option<int>("--resamples") { Description = "Resamples of the paired bootstrap 95% intervals between methods.", DefaultValueFactory = _ => 10_000 }.AtLeast(1);
        var device = ModelOptions.Device();
        var engine = ModelOptions.Engine();
        var threads = ModelOptions.Threads();
        var command = new Command("eval", "Faithfulness and localization figures, side by side for several methods, as a report.");
        command.Arguments.Add(kind);
        foreach (var o in new Option[] { model, modelCard, labels, labelsOffset, methods, targetOption, maxObjects, images, video, output, boxes, stepPixels, sanitySteps, maxFrames, backgrounds, keep, pastes, seed, resamples, device, engine, threads }) command.Options.Add(o);
        command.SetAction(parse => CliRunner.Guard(stop => Run(new EvalSpec
        {
            Kind = EvalSpec.KindNames[parse.GetValue(kind)!],
            Model = SpecOptions.Model(parse, model, labels, labelsOffset, device, engine, threads) with { Card = parse.GetValue(modelCard) },
            Methods = EvalSpec.SplitMethods(parse.GetValue(methods)!), Target = parse.GetValue(targetOption), MaxObjects = parse.GetValue(maxObjects),
            Images = parse.GetValue(images), Video = parse.GetValue(video), Out = parse.GetValue(output)!, Boxes = parse.GetValue(boxes),
            StepPixels = parse.GetValue(stepPixels), SanitySteps = parse.GetValue(sanitySteps), MaxFrames = parse.GetValue(maxFrames),
            Backgrounds = parse.GetValue(backgrounds) ?? [], Keep = parse.GetValue(keep), Pastes = parse.GetValue(pastes),
            Seed = parse.GetValue(seed), Resamples = parse.GetValue(resamples),
        }, stop)));
        return command;
    }

    public static int Run(EvalSpec spec, CancellationToken stop = default)
    {
        var progress = new ConsoleEvaluationProgress();
        string report;
        try { report = Evaluations.Run(spec, ConsoleFeedback.Instance, progress, stop); }
        finally { progress.Finish(); }
        Console.WriteLine($"report written to {report}");
        return CliRunner.Ok;
    }

    /// <summary>An evaluation's progress as one line on stderr, result lines kept above it.</summary>
    private sealed class ConsoleEvaluationProgress : IEvaluationProgress
    {
        private readonly ConsolePerturbationProgress _line = new("");
        public void Working(string item) => _line.Restart(item);
        public void Note(string line) => _line.Note(line);
        public void Report(PerturbationProgress value) => _line.Report(value);
        public void Finish() => _line.Finish();
    }
}
