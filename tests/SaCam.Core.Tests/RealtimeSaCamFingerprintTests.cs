using System.Security.Cryptography;
using SaCam.Core;
using SaCam.Core.Methods;
using SaCam.Core.Realtime;
using SaCam.Core.Targets;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>
/// A digest of everything sacam-rt returns (map, weights, S/K/Q/SA, every diagnostic, bit for bit) over frame
/// sequences that go through each of its paths: a fixed budget, a budget below a channel's cost, the automatic
/// budget, class flips, a scene cut and temporal smoothing, on a controlled clock. Explicit: a refactoring of
/// RealtimeSaCam that must not change results runs it before and after (SACAM_RT_FINGERPRINT names the file it
/// writes) and compares the two files. Not a standing assertion: floating point differs between CPUs and libtorch
/// builds.
/// </summary>
[TestFixture, Explicit("a before/after tool for refactorings of RealtimeSaCam")]
public class RealtimeSaCamFingerprintTests
{
    private sealed class ControlledClock : ITimeSource
    {
        public double NowMs { get; private set; }
        public void Advance(double ms) => NowMs += ms;
    }

    [NeedsSharedData]
    [Test]
    public void Write_the_fingerprint_of_sacam_rt_runs()
    {
        var lines = new List<string>();
        var cases = ReferenceCase.All().ToList();
        using var scope = NewDisposeScope();
        var cat = cases.First(c => c.Name == "both_c283").Load("input");
        var dog = cases.First(c => c.Name == "both_c244").Load("input");
        var other = cases.First(c => c.Name.StartsWith("ILSVRC2012_val_00000057")).Load("input");
        var drift = (cat * 0.97 + dog * 0.03).contiguous();
        var frames = new (Tensor Input, int? Class)[]
        {
            (cat, 283), (cat, 283), (drift, 283), (cat, 244), (cat, 283), (drift, null), (other, 283), (other, null), (cat, 283), (cat, 283),
        };
        var runs = new (string Name, RealtimeSaCamOptions Options, double GradientPassMs)[]
        {
            ("fixed-40", new RealtimeSaCamOptions { BudgetMs = 40 }, 0),
            ("fixed-5", new RealtimeSaCamOptions { BudgetMs = 5 }, 0),
            ("fixed-60-min1-smooth", new RealtimeSaCamOptions { BudgetMs = 60, MinChannelsPerFrame = 1, TemporalSmoothing = 0.4 }, 0),
            ("auto", new RealtimeSaCamOptions(), 10),
            ("no-shrink-no-regress", new RealtimeSaCamOptions { BudgetMs = 80, ShrinkUncertainScores = false, RegressUnscored = false }, 0),
        };
        foreach (var (name, options, gradientPassMs) in runs)
        {
            var clock = new ControlledClock();
            var engine = new CamEngine(SharedModels.MobileNetV2, clock: clock);
            engine.PerturbationBatchRun += images => clock.Advance(4.0 * images);
            using var rt = new RealtimeSaCam(options);
            var warnings = new List<string>();
            rt.Warning += text => warnings.Add(text.ToString());
            for (int i = 0; i < frames.Length; i++)
            {
                var (input, classIndex) = frames[i];
                // The automatic budget reads the forward and backward's time, which this clock only sees if told.
                using var r = gradientPassMs > 0
                    ? ExplainWithGradientCost(engine, clock, gradientPassMs, input, rt, classIndex)
                    : engine.Explain(input, rt, classIndex is int c ? new ClassTarget(c) : null);
                lines.Add($"{name} frame {i}: {Digest(r)}");
            }
            lines.Add($"{name} warnings: {string.Join(" | ", warnings)}");
        }
        var path = Environment.GetEnvironmentVariable("SACAM_RT_FINGERPRINT") ?? Path.Combine(Path.GetTempPath(), "sacam-rt-fingerprint.txt");
        File.WriteAllLines(path, lines);
        TestContext.Out.WriteLine($"fingerprint written to {path}");
    }

    private static CamResult ExplainWithGradientCost(CamEngine engine, ControlledClock clock, double ms, Tensor input, RealtimeSaCam rt, int? classIndex)
    {
        var shifted = new ShiftedMethod(rt, clock, ms);
        return engine.Explain(input, shifted, classIndex is int c ? new ClassTarget(c) : null);
    }

    /// <summary>Advances the clock by the gradient pass's cost when the engine hands the frame to the method.</summary>
    private sealed class ShiftedMethod(RealtimeSaCam inner, ControlledClock clock, double ms) : ICamMethod
    {
        public string Id => inner.Id;
        public bool NeedsGradients => inner.NeedsGradients;
        public bool RenormalizeAfterResize => inner.RenormalizeAfterResize;

        public CamComputation Compute(CamInputs inputs)
        {
            clock.Advance(ms);
            return inner.Compute(inputs);
        }
    }

    private static string Digest(CamResult r)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(Tensor t) => hash.AppendData(t.detach().cpu().contiguous().bytes);
        Add(r.Map);
        Add(r.LowResMap);
        if (r.ChannelWeights is not null) Add(r.ChannelWeights);
        foreach (var key in r.Parts.Keys.Order()) Add(r.Parts[key]);
        var diagnostics = string.Join(",", r.Diagnostics.OrderBy(d => d.Key, StringComparer.Ordinal)
            .Select(d => $"{d.Key}={BitConverter.DoubleToInt64Bits(d.Value):X16}"));
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(diagnostics));
        return Convert.ToHexString(hash.GetHashAndReset())[..24] + " " + string.Join(",", r.Diagnostics.OrderBy(d => d.Key, StringComparer.Ordinal)
            .Select(d => $"{d.Key}={d.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}"));
    }
}
