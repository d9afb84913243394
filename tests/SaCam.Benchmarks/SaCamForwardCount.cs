using System.Globalization;
using System.Text;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Core.Tensors;
using static TorchSharp.torch;

namespace SaCam.Benchmarks;

/// <summary>
/// Issue 24's "fewer forwards without changing the map", counted before anything is built: on each reference case,
/// how many perturbed images full SA-CAM runs (two per distinct channel map), how many it would run if channels whose
/// thresholded key areas coincide shared U_seg, and how many channels a weight bound could skip at best (the bound
/// computed with the exact S of every channel, which a real skip cannot know in advance: an upper limit on the lever).
/// </summary>
public sealed class SaCamForwardCount(string sharedRoot)
{
    /// <summary>The share of the channel weights the skipped channels may take, at most, together.</summary>
    private const double SkippedWeight = 1e-3;

    public string Run()
    {
        using var model = OnnxCnnModel.Load(Path.Combine(sharedRoot, "models", "mobilenet_v2_1.0_224.onnx"));
        var engine = new CamEngine(model, CamEngine.PreferredBatchSize(model));
        var text = new StringBuilder();
        text.AppendLine("| case | live channels | distinct maps | images run now (2 per map) | distinct key areas among them | images with shared U_seg | channels a perfect bound could skip | images left after both |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var dir in Directory.GetDirectories(Path.Combine(sharedRoot, "fixtures", "reference")).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(dir);
            int cut = name.LastIndexOf("_c", StringComparison.Ordinal);
            if (cut < 0 || !int.TryParse(name[(cut + 2)..], CultureInfo.InvariantCulture, out int cls) || !File.Exists(Path.Combine(dir, "input.npy"))) continue;
            using var x = NpyFile.Read(Path.Combine(dir, "input.npy"));
            var counter = new Counter();
            using (engine.Explain(x, counter, new ClassTarget(cls))) { }
            var c = counter.Counts!;
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {c.Live} | {c.Distinct} | {2 * c.Distinct} | {c.DistinctAreas} | {c.Distinct + c.DistinctAreas} | {c.Skippable} | {c.DistinctAreas + c.Distinct - c.SkippableGroups - c.SkippableAreas} |"));
            Console.Error.WriteLine(text.ToString().Split('\n')[^2]);
        }
        text.AppendLine();
        text.AppendLine($"A channel is skippable when exp((K and Q terms + 1 - best SA) / T), the most weight it could take whatever its S, summed over the skipped channels stays within {SkippedWeight}; " +
                        "the best SA is taken from the exact result. \"images left after both\" counts one U_pert per distinct map and one U_seg per distinct key area, less what the bound skips.");
        return text.ToString();
    }

    private sealed record Counts(long Live, long Distinct, long DistinctAreas, long Skippable, long SkippableGroups, long SkippableAreas);

    /// <summary>Full SA-CAM, counting on the way (the engine hands a method its inputs; this one keeps the counts).</summary>
    private sealed class Counter : ICamMethod
    {
        private readonly SaCam.Core.Methods.SaCam _sacam = new();
        public Counts? Counts { get; private set; }
        public string Id => "sacam";
        public bool NeedsGradients => true;
        public bool RenormalizeAfterResize => false;

        public CamComputation Compute(CamInputs inputs)
        {
            var result = _sacam.Compute(inputs);
            using var scope = NewDisposeScope();
            var options = _sacam.Options;
            var live = (CamMath.ChannelSpan(inputs.Activations) > options.DeadChannelSpan).nonzero().flatten();
            var duplicates = DuplicateChannels.Find(inputs.Activations, live);
            var distinct = duplicates.Distinct.data<long>().ToArray();
            // Key areas of the distinct maps at input resolution, as U_seg thresholds them, hashed by their bits.
            var areaOf = new Dictionary<string, int>(StringComparer.Ordinal);
            var areaIndex = new int[distinct.Length];
            for (int start = 0; start < distinct.Length; start += 64)
            {
                using var chunk = NewDisposeScope();
                int n = Math.Min(64, distinct.Length - start);
                var idx = tensor(distinct.AsSpan(start, n).ToArray(), device: inputs.Activations.device);
                var h = CamMath.ChannelMasks(inputs.Activations.index_select(1, idx), inputs.InputSize);
                var bits = (h >= options.Tau).to_type(ScalarType.Byte).cpu().contiguous().data<byte>().ToArray();
                int pixels = bits.Length / n;
                for (int i = 0; i < n; i++)
                {
                    var key = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(bits.AsSpan(i * pixels, pixels)));
                    if (!areaOf.TryGetValue(key, out int area)) areaOf[key] = area = areaOf.Count;
                    areaIndex[start + i] = area;
                }
            }
            // The most weight each channel could take whatever its S (S / max S <= 1), against the exact best SA.
            var k = result.Parts["K"];
            var q = result.Parts["Q"];
            var known = options.Lambda1 * CamMath.UnitScale(k, signed: true) + options.Lambda2 * CamMath.UnitScale(q, signed: false);
            double best = result.Parts["SA"].index_select(0, live).max().item<float>();
            var bound = ((known + 1 - best) / options.Temperature).exp().index_select(0, duplicates.Distinct).data<float>().ToArray();
            var groupSize = new int[distinct.Length];
            foreach (var g in duplicates.RepresentativeOf.data<long>().ToArray()) groupSize[g]++;
            var skipped = new bool[distinct.Length];
            double spent = 0;
            foreach (int g in Enumerable.Range(0, distinct.Length).OrderBy(g => bound[g]))
            {
                double cost = bound[g] * groupSize[g];
                if (spent + cost > SkippedWeight) break;
                spent += cost;
                skipped[g] = true;
            }
            // A key area's U_seg can be skipped only when every map sharing it is skipped.
            var areasStillNeeded = Enumerable.Range(0, distinct.Length).Where(g => !skipped[g]).Select(g => areaIndex[g]).ToHashSet();
            Counts = new Counts(live.shape[0], distinct.Length, areaOf.Count,
                Enumerable.Range(0, distinct.Length).Where(g => skipped[g]).Sum(g => groupSize[g]),
                skipped.Count(s => s), areaOf.Count - areasStillNeeded.Count);
            return result;
        }
    }
}
