using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace SaCam.Core.Methods;

/// <summary>
/// Channels of A whose maps are equal after min-max normalization (the same map up to a positive scale and an
/// offset). Upsampling is linear and the masks are min-max normalized, so such channels have the same heat map at
/// input resolution, the same masked and perturbed inputs, and the same scores: one forward pass serves them all.
/// Measured on MobileNetV2's last layer over the six reference cases: 8-9% of the live channels are such
/// duplicates (mostly channels with a single active cell, 83-118 an image, which share at most 49 positions), so
/// Score-CAM and SA-CAM run that many fewer perturbed images and give the same numbers.
/// </summary>
public sealed class DuplicateChannels
{
    /// <summary>
    /// Channels with a span below this are never merged. Masks are normalized with an eps of 1e-8 in the
    /// denominator, so two channels with the same normalized map but different spans get masks that differ by about
    /// 1e-8 / span; from a span of 1e-3 on that is below 1e-5, far inside float32 forward noise.
    /// </summary>
    public const double MinimumMergedSpan = 1e-3;

    private readonly long[] _representativeOf;

    private DuplicateChannels(Tensor channels, Tensor distinct, long[] representativeOf, Device device)
    {
        Channels = channels;
        Distinct = distinct;
        _representativeOf = representativeOf;
        RepresentativeOf = tensor(representativeOf, device: device);
    }

    /// <summary>The channels grouped, [n] int64, as given to <see cref="Find"/>.</summary>
    public Tensor Channels { get; }

    /// <summary>The channels to run, [m] int64: the first of each group, in the order given.</summary>
    public Tensor Distinct { get; }

    /// <summary>For each channel given, its group's position in <see cref="Distinct"/>, [n] int64: scores of the
    /// distinct channels, index_selected by this, are the scores of every channel given.</summary>
    public Tensor RepresentativeOf { get; }

    /// <summary>Groups <paramref name="channels"/> ([n] int64 indices into A's channels) of A [1, K, h, w].</summary>
    public static DuplicateChannels Find(Tensor activations, Tensor channels)
    {
        using var scope = NewDisposeScope();
        var device = activations.device;
        // On the host, in plain loops: a layer is ~1,000 maps of ~50 cells, and the tensor-op version of this took
        // ~1 ms, which sacam-rt would pay on every frame that scores.
        int cells = (int)(activations.shape[2] * activations.shape[3]);
        float[] maps = activations[0].index_select(0, channels).to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        int n = maps.Length / cells;
        var rows = new float[maps.Length];
        var mergeable = new bool[n];
        for (int i = 0; i < n; i++)
        {
            var map = maps.AsSpan(i * cells, cells);
            float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
            foreach (float v in map) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
            float span = hi - lo;
            mergeable[i] = span >= MinimumMergedSpan;
            // The same arithmetic for every channel, so channels with the same normalized map give the same bits.
            if (mergeable[i]) for (int j = 0; j < cells; j++) rows[i * cells + j] = (map[j] - lo) / span;
        }
        long[] representativeOf = new long[n];
        var distinct = new List<long>();
        var firstOfGroup = new Dictionary<Row, long>(new RowComparer(rows, cells));
        for (int i = 0; i < n; i++)
        {
            if (mergeable[i] && firstOfGroup.TryGetValue(new Row(i), out long group))
            {
                representativeOf[i] = group;
                continue;
            }
            representativeOf[i] = distinct.Count;
            if (mergeable[i]) firstOfGroup[new Row(i)] = distinct.Count;
            distinct.Add(i);
        }
        var distinctChannels = channels.index_select(0, tensor(distinct.ToArray(), device: channels.device));
        var found = new DuplicateChannels(channels, distinctChannels, representativeOf, device);
        found.Distinct.MoveToOuterDisposeScope();
        found.RepresentativeOf.MoveToOuterDisposeScope();
        return found;
    }

    /// <summary>The largest of <paramref name="values"/> ([n], one per channel given to <see cref="Find"/>) in each
    /// group: [m], aligned with <see cref="Distinct"/>. On the host: n is a layer's channel count.</summary>
    public Tensor GroupMaximum(Tensor values)
    {
        float[] perChannel = values.to(ScalarType.Float32).cpu().data<float>().ToArray();
        var best = new float[Distinct.shape[0]];
        Array.Fill(best, float.NegativeInfinity);
        for (int i = 0; i < perChannel.Length; i++)
            best[_representativeOf[i]] = Math.Max(best[_representativeOf[i]], perChannel[i]);
        return tensor(best, device: values.device).to(values.dtype);
    }

    private readonly record struct Row(int Index);

    /// <summary>Rows of one flat float array, equal when their bits are.</summary>
    private sealed class RowComparer(float[] rows, int cells) : IEqualityComparer<Row>
    {
        private ReadOnlySpan<byte> Bytes(Row row) => MemoryMarshal.AsBytes(rows.AsSpan(row.Index * cells, cells));

        public bool Equals(Row a, Row b) => Bytes(a).SequenceEqual(Bytes(b));

        public int GetHashCode(Row row)
        {
            var hash = new HashCode();
            hash.AddBytes(Bytes(row));
            return hash.ToHashCode();
        }
    }
}
