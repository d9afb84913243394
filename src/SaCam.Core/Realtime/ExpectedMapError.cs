using SaCam.Core.Methods;
using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Realtime;

/// <summary>
/// How far this frame's map may be from full SA-CAM's because of the scores the frame did not measure: the map is
/// recomputed with <see cref="Draws"/> plausible score terms, and the mean 1 - Pearson between those maps and the one
/// returned is the estimate (reported as <c>expected_error</c>, the same measure the benchmarks take against full
/// SA-CAM). A plausible S keeps each cached score with the probability that it still holds (its trust: 1 when
/// measured on this frame or on a still scene, falling with the scene change since), and otherwise draws one of this
/// scene's n measured scores with probability n / (n + 1), or any value S can take. Only the score term is redrawn: A, K and Q are the frame's
/// own. Why not the confidence lambda alone: lambda says how much of the weight rests on measured scores, not how
/// much the map would move if the rest were different; on moving footage its correlation with the actual error was
/// -0.61 to 0.40 per run, this estimate's -0.04 to 0.57 (docs/realtime.md): better, still weak. The draws cost a softmax and a weighted sum at layer resolution each
/// (well under a millisecond), and use a fixed seed, so a frame's estimate repeats.
/// </summary>
internal sealed class ExpectedMapError(RealtimeSaCamOptions options)
{
    public const int Draws = 8;
    private const long Seed = 23;
    private const double MaxScore = 2;

    /// <param name="map">The frame's map at layer resolution, [h, w], before smoothing.</param>
    /// <param name="known">The K and Q part of SA per channel, [K].</param>
    /// <param name="trust">Per channel, how far its cached score holds (0 for channels never scored), [K].</param>
    /// <param name="lean">What the frame did to its SA-CAM weights before the weighted sum (its Grad-CAM share), done
    /// to each draw's weights [Draws, K] too: only the score term differs between the draws and the map.</param>
    public double Estimate(Tensor map, Tensor known, Tensor cachedScores, Tensor scoredMask, Tensor trust, Tensor live, Tensor activations,
        Func<Tensor, Tensor> lean)
    {
        using var scope = NewDisposeScope();
        var device = known.device;
        long channels = known.shape[0];
        var generator = new Generator((ulong)Seed);
        var keep = rand([Draws, channels], generator: generator).to(device) < trust.unsqueeze(0);
        // A channel not kept gets one of this scene's n measured scores with probability n / (n + 1), else any value
        // S can take (uniform in [0, 2]: S = p(U_seg) (1 + p(U_pert))): a few measured scores say little about the
        // spread of the rest, many say more.
        var measured = cachedScores.masked_select(scoredMask);
        long n = measured.numel();
        var anyValue = (rand([Draws, channels], generator: generator) * MaxScore).to(device).to_type(known.dtype);
        Tensor redrawn = anyValue;
        if (n > 0)
        {
            var pick = randint(0, n, [Draws, channels], generator: generator).to(device);
            var fromMeasured = rand([Draws, channels], generator: generator).to(device) < n / (n + 1.0);
            redrawn = where(fromMeasured, measured.take(pick), anyValue);
        }
        var s = where(keep, cachedScores.unsqueeze(0).expand(Draws, channels), redrawn);
        s = where(live.unsqueeze(0), s, zeros_like(s));
        var sa = known.unsqueeze(0) + s / s.amax([1L], keepdim: true).clamp_min(1e-12);
        var w = lean((sa / options.SaCam.Temperature).softmax(1));                             // [Draws, K]
        var maps = nn.functional.relu(w.matmul(activations[0].flatten(1).to_type(w.dtype)));   // [Draws, h*w]
        var error = 1 - RowPearson(maps, map.flatten().to_type(maps.dtype).unsqueeze(0));
        return error.mean().item<float>();
    }

    /// <summary>Pearson of each row of <paramref name="rows"/> with <paramref name="reference"/> ([1, n]); a flat
    /// row or reference counts as perfectly correlated only when both are flat.</summary>
    private static Tensor RowPearson(Tensor rows, Tensor reference)
    {
        var a = rows - rows.mean([1], keepdim: true);
        var b = reference - reference.mean([1], keepdim: true);
        var normA = (a * a).sum(1).sqrt();
        var normB = (b * b).sum(1).sqrt();
        var norms = normA * normB;
        var bothFlat = (normA < 1e-12).logical_and(normB < 1e-12);
        return where(bothFlat, ones_like(norms), (a * b).sum(1) / norms.clamp_min(1e-12));
    }
}
