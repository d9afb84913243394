using System.Globalization;

namespace SaCam.Fleet;

/// <summary>
/// Which shard this worker does: --shard, else the engine's variable. Kubernetes Indexed Jobs set
/// JOB_COMPLETION_INDEX (0-based); Slurm arrays SLURM_ARRAY_TASK_ID (0-based here, plus SACAM_SHARD_OFFSET for
/// fleets past Slurm's MaxArraySize, submitted as several arrays); Grid Engine SGE_TASK_ID (1-based). Two sources
/// that disagree are an error: a wrong index would silently do another shard's work.
/// </summary>
public static class ShardIndex
{
    public static int Resolve(int? explicitIndex, Func<string, string?> environment)
    {
        var found = new List<(string From, int Index)>();
        if (explicitIndex is int given) found.Add(("--shard", given));
        if (Number(environment, "JOB_COMPLETION_INDEX") is int k8s) found.Add(("JOB_COMPLETION_INDEX", k8s));
        if (Number(environment, "SLURM_ARRAY_TASK_ID") is int slurm)
            found.Add(("SLURM_ARRAY_TASK_ID" + (Number(environment, "SACAM_SHARD_OFFSET") is int o and > 0 ? $" + SACAM_SHARD_OFFSET {o}" : ""),
                slurm + (Number(environment, "SACAM_SHARD_OFFSET") ?? 0)));
        if (Number(environment, "SGE_TASK_ID") is int sge) found.Add(("SGE_TASK_ID - 1", sge - 1));
        if (found.Count == 0)
            throw new FleetException("No shard index: pass --shard I, or run under an engine that sets one (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, SGE_TASK_ID).", permanent: true);
        if (found.Select(f => f.Index).Distinct().Count() > 1)
            throw new FleetException($"The shard index is ambiguous: {string.Join(", ", found.Select(f => $"{f.From} gives {f.Index}"))}.", permanent: true);
        return found[0].Index;
    }

    /// <summary>The variable's index, null when unset or empty; a value that is set but is not an index is an error
    /// naming the variable (ignoring it would say "no index is set", or let another source pick the shard).</summary>
    private static int? Number(Func<string, string?> environment, string name)
    {
        var text = environment(name);
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)) return v;
        throw new FleetException($"{name} is '{text}', which is not a whole number: unset it or set it to the shard index.", permanent: true);
    }
}
