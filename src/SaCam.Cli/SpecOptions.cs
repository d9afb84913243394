using System.CommandLine;
using SaCam.App.Specs;
using SaCam.Core.Engines;
using SaCam.Video.Pipeline;

namespace SaCam.Cli;

/// <summary>Options that several commands share and that map onto one spec field, defined once with their validation
/// (the budget, the mode, sacam-rt's smoothing), and the mapping of the model options onto a <see cref="ModelSpec"/>.</summary>
internal static class SpecOptions
{
    public static Option<string> Budget()
    {
        var budget = new Option<string>("--budget-ms") { Description = "sacam-rt: per-frame time budget in ms, or auto (2x the measured forward and backward).", DefaultValueFactory = _ => "auto" };
        budget.Validators.Add(r =>
        {
            try { MethodSpec.ParseBudget(r.GetValueOrDefault<string>() ?? "auto"); }
            catch (ArgumentException e) { r.AddError($"--budget-ms: {e.Message}"); }
        });
        return budget;
    }

    public static Option<string?> Mode()
    {
        var mode = new Option<string?>("--mode") { Description = "live (drop stale frames) or exact (every frame); default: live for cameras and streams, exact for files." };
        mode.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } m && m.ToLowerInvariant() is not ("live" or "exact")) r.AddError($"--mode '{m}' is not one of: live, exact.");
        });
        return mode;
    }

    public static PipelineMode? ParseMode(string? text) => text?.ToLowerInvariant() switch
    {
        null => null,
        "live" => PipelineMode.Live,
        "exact" => PipelineMode.Exact,
        _ => throw new ArgumentException($"--mode '{text}' is not one of: live, exact."),
    };

    public static Option<double> Smoothing() =>
        new Option<double>("--smoothing") { Description = "sacam-rt: share of the previous map kept, 0 (none) to below 1.", DefaultValueFactory = _ => 0 }
            .Within(0, 1, maxInclusive: false, "the share of the previous map kept");

    public static ModelSpec Model(ParseResult parse, Option<string> model, Option<string?> labels, Option<int> labelsOffset, Option<string> device,
        Option<string> engine, Option<int?> threads) => new()
    {
        Id = parse.GetValue(model)!,
        Labels = parse.GetValue(labels),
        LabelsOffset = parse.GetValue(labelsOffset),
        Device = DeviceName.Parse(parse.GetValue(device)),
        Engine = EngineOptions.Parse(parse.GetValue(engine) ?? "auto"),
        Threads = parse.GetValue(threads),
    };

    /// <summary>The DICOM options of a parse as a spec (null when none was given).</summary>
    public static MedicalSpec? ReadSpec(this MedicalCliOptions medical, ParseResult parse)
    {
        var spec = new MedicalSpec
        {
            Window = parse.GetValue(medical.Window), Windows = parse.GetValue(medical.Windows), Series = parse.GetValue(medical.Series),
            Masks = parse.GetValue(medical.Mask) ?? [], InputRange = parse.GetValue(medical.InputRange),
        };
        return spec.Any ? spec : null;
    }
}
