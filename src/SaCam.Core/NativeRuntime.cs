using System.Runtime.InteropServices;

namespace SaCam.Core;

/// <summary>
/// Process-wide native tuning, an explicit opt-in: a program (the CLI, the server, the benchmarks, the samples)
/// calls <see cref="Configure"/> once at start-up, before it loads a model. The library itself never calls it, so a
/// program that embeds SaCam.Core keeps its own malloc, OpenMP and libtorch settings (loading a model changes no
/// process state). What it sets and why (measured on 2-core Debian machines, see docs/benchmarks.md):
/// - glibc serves every block above 32 MB with mmap and returns it on free, so each batched forward pays page
///   faults for its activations (at batch 16, MobileNetV2 ran 24 ms/image instead of 12). Keeping freed memory in
///   the heap (no mmap, trim only above 512 MB) makes blocks reusable. Threads other than the main one get arenas of their own, whose large blocks are not
///   reused the same way (MobileNetV2 on a test-runner thread: 19.7 ms/image, 13.2 with one arena), so one arena
///   serves all threads; threads that allocated before this call keep theirs, hence SACAM's test runsettings set
///   MALLOC_ARENA_MAX=1 in the environment too.
/// - libgomp threads spin while waiting and starve the other core under contention; OMP_WAIT_POLICY=PASSIVE
///   must be in the native environment before libtorch loads.
/// - libtorch tries NNPACK for every CPU convolution and, on CPUs NNPACK does not support, prints "Could not
///   initialize NNPACK! Reason: Unsupported hardware." on each try (312 lines in a 150-frame video run); it then
///   falls back to its own kernels anyway, so NNPACK is switched off (<see cref="NnpackSwitch"/>).
/// Set SACAM_NATIVE_TUNING=0 to leave all of them alone, SACAM_NNPACK=on to leave NNPACK alone.
/// </summary>
public static class NativeRuntime
{
    private const int MallocTrimThreshold = -1; // M_TRIM_THRESHOLD
    private const int MallocMmapMax = -4;       // M_MMAP_MAX
    private const int MallocArenaMax = -8;      // M_ARENA_MAX
    private static int _configured;

    /// <summary>Tunes the process for <paramref name="profile"/>'s workload (the first call wins). Call it at the
    /// start of a program, before any model loads: OMP_WAIT_POLICY only counts before libtorch starts its threads.</summary>
    public static void Configure(NativeProfile profile = NativeProfile.Batched)
    {
        if (Interlocked.Exchange(ref _configured, 1) == 1) return;
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("SACAM_NATIVE_TUNING") == "0") return;
        profile = Environment.GetEnvironmentVariable("SACAM_NATIVE_PROFILE")?.ToLowerInvariant() switch
        {
            "batched" => NativeProfile.Batched,
            "streaming" => NativeProfile.Streaming,
            _ => profile,
        };
        Profile = profile;
        try
        {
            setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
            mallopt(MallocArenaMax, 1);
            if (profile == NativeProfile.Batched)
            {
                mallopt(MallocMmapMax, 0);
                mallopt(MallocTrimThreshold, TrimThresholdBytes());
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (e.g. musl): nothing to tune.
        }
        // SACAM_NNPACK=on leaves it to libtorch (to compare speeds, or on a machine where NNPACK starts).
        if (Environment.GetEnvironmentVariable("SACAM_NNPACK") != "on") NnpackSwitch.Disable();
    }

    /// <summary>
    /// The second half of the opt-in, for a program that has called <see cref="Configure"/> and then loaded a model
    /// (the application layer calls it after each load; without Configure it does nothing). Video: with the heavy
    /// passes on ONNX Runtime, libtorch runs only small ops per frame (the head, the method's arithmetic, the map), and
    /// waking its second OpenMP thread for each cost more than it saved: Grad-CAM per frame 1.36-1.44x a forward with
    /// two libtorch threads, 1.21-1.28x with one (measured 2026-11-29). Batched work (SA-CAM's masks over 16 images)
    /// keeps them: one thread made it 5% slower.
    /// A segmenter's or detector's head runs in TorchSharp, and whether it is small enough for one thread depends on
    /// the head: the SSD's (278 nodes on 8x8 to 32x32 maps) ran its forward and backward 1.7x faster on one thread,
    /// DeepLab's (the ASPP on 33x33, then logits at 513x513) was not faster (2026-12-03). So the two counts are timed on
    /// the model's own gradient pass and the faster kept (<see cref="FasterThreadCount"/>, about four passes at load).
    /// </summary>
    public static void TuneFor(Models.IExplainableModel model)
    {
        if (Profile != NativeProfile.Streaming || model.Device.type != TorchSharp.DeviceType.CPU) return;
        if (model is Models.OnnxCnnModel { UsesFastEngine: true })
            TorchSharp.torch.set_num_threads(1);
        else if (model is Tasks.OnnxTaskModel { HasGradients: true } task)
            TorchSharp.torch.set_num_threads(FasterThreadCount(task.TimeGradientPass, TorchSharp.torch.get_num_threads()));
    }

    /// <summary>One libtorch thread or <paramref name="current"/>, whichever runs <paramref name="pass"/> faster: a warm-up,
    /// then two rounds alternating the counts, the best time of each (the minimum: a pass is only ever slowed by
    /// what else runs). Ties keep <paramref name="current"/>. Leaves libtorch at <paramref name="current"/>.</summary>
    internal static int FasterThreadCount(Func<double> pass, int current)
    {
        if (current <= 1) return current;
        pass();
        double one = double.MaxValue, many = double.MaxValue;
        try
        {
            for (int round = 0; round < 2; round++)
            {
                TorchSharp.torch.set_num_threads(1);
                one = Math.Min(one, pass());
                TorchSharp.torch.set_num_threads(current);
                many = Math.Min(many, pass());
            }
        }
        finally
        {
            TorchSharp.torch.set_num_threads(current);
        }
        return one < many ? 1 : current;
    }

    /// <summary>The profile in force (null until configured, or when tuning is off).</summary>
    public static NativeProfile? Profile { get; private set; }

    /// <summary>Free memory above this at the top of the heap goes back to the system: SACAM_MALLOC_TRIM_MB, default 512 (at 256, batch-16 passes slowed from 10.7 to 16.5 ms/image).
    /// Never trimming (the first setting) let the heap creep +14% over 2,000 frames; see docs/benchmarks.md.</summary>
    private static int TrimThresholdBytes()
    {
        var text = Environment.GetEnvironmentVariable("SACAM_MALLOC_TRIM_MB");
        int mb = int.TryParse(text, out var v) && v > 0 ? v : 512;
        return (int)Math.Min(int.MaxValue, mb * 1024L * 1024L);
    }

    /// <summary>
    /// Hands free heap pages back to the system (glibc malloc_trim: the top of the heap and whole free pages inside
    /// it). Long video runs call it every few hundred frames so that resident memory tracks what is in use rather
    /// than the high-water mark of a fragmented heap. A no-op off glibc.
    /// </summary>
    public static void ReleaseFreeMemory()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            malloc_trim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
    }

    [DllImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);

    [DllImport("libc.so.6", EntryPoint = "setenv")]
    private static extern int setenv(string name, string value, int overwrite);

    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);
}

/// <summary>Which workload the process-wide malloc settings favour.</summary>
public enum NativeProfile
{
    /// <summary>Large batched passes (full SA-CAM, Score-CAM, evaluation): freed blocks stay in the heap for reuse.</summary>
    Batched,

    /// <summary>Long video runs with small passes: glibc's default mmap for large blocks, so memory stays flat for
    /// hours; one arena and passive OpenMP waits as in Batched.</summary>
    Streaming,
}
